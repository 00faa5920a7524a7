"""English near-miss values and word lists (see nearmiss.py)."""

from __future__ import annotations

from .common import date_en, digits, group, old_date, recent_date
from .nearmiss import ALNUM as _ALNUM
from .nearmiss import UP as _UP
from .nearmiss import Near
from .nearmiss import w as _w
from .places import CITIES

EN = {
    "company": _w(
        "Target|Walmart|Best Buy|Costco|Etsy|eBay|Amazon|Home Depot|IKEA|Wayfair|Kohl's|Macy's|Nordstrom"
    ),
    "shop": _w(
        "Northwind Outfitters|Bluebird Home|Maple & Pine|Cascade Gear|Lumen Lighting Co.|Harbor Tea Co.|"
        "Little Acorn Kids|Driftwood Supply|Peak Cycle Works|Copper Kettle Kitchen"
    ),
    "handle": _w(  # brand accounts on social media (customers' own handles are left out: ambiguous)
        "NorthwindHelp|BluebirdHome|MaplePineCo|CascadeGearSupport|LumenLighting|HarborTeaCo|AcornKidsShop|"
        "DriftwoodSupply|PeakCycleWorks|CopperKettleHQ"
    ),
    "store": _w(
        "the Union Square store|your downtown location|the mall store|the Elm Street location|"
        "your outlet store|the store on 5th Ave|your airport kiosk|the Westfield location"
    ),
    "station": _w(
        "Penn Station|Union Station|Grand Central|30th Street Station|South Station|the Amtrak station"
    ),
    "venue": _w(
        "Madison Square Garden|the Hilton downtown|Central Park|JFK|LAX|Terminal 4|the convention center|"
        "Fenway Park|the public library|Disneyland"
    ),
    "celeb": _w(
        "Taylor Swift|Elon Musk|Oprah Winfrey|LeBron James|Beyoncé|Tom Hanks|Barack Obama|Serena Williams|"
        "Jeff Bezos|Steve Jobs|Marie Kondo|Gordon Ramsay|Stephen King|Keanu Reeves|Lady Gaga|Shohei Ohtani|"
        "Harry Potter|Mickey Mouse|Bob Ross|Dolly Parton|Ina Garten"
    ),
    "brand": _w(
        "Ralph Lauren|Calvin Klein|Tommy Hilfiger|Michael Kors|Kate Spade|Tory Burch|Dr. Martens|"
        "Ben & Jerry's|Levi's|Martha Stewart|Paul Smith|Marc Jacobs|Hugo Boss|Vera Wang|Mrs. Meyer's|"
        "Jimmy Choo|Tom Ford|Betty Crocker|Dr. Bronner's|Ray-Ban"
    ),
    "kin": _w(
        "my mom|my dad|my wife|my husband|my son|my daughter|my grandma|my sister|my brother|"
        "my mother-in-law|my kids|my partner|my boyfriend|my girlfriend|my aunt|my roommate|my neighbor|"
        "my boss"
    ),
    "item": _w(
        "blue hoodie|12-cup coffee maker|queen duvet cover|standing desk|phone case|yoga mat|"
        'ceramic mug set|LED desk lamp|cast iron skillet|leather wallet|27" monitor|bluetooth speaker|'
        "gift basket|linen shirt|stroller|air fryer|bath towel set|area rug|backpack|office chair|"
        "rice cooker|winter coat|baby monitor|espresso machine|denim jacket|desk organizer"
    ),
    "wear": _w("hoodie|linen shirt|winter coat|denim jacket|rain jacket|sweater|chinos|dress|sneakers|boots"),
    "appliance": _w(
        'coffee maker|air fryer|bluetooth speaker|27" monitor|rice cooker|baby monitor|espresso machine|'
        "robot vacuum|electric kettle|hair dryer|space heater"
    ),
    "color": _w("black|navy|white|olive|charcoal|red|beige|sage green|dusty pink|grey"),
    "size": _w("S|M|L|XL|XXL|small|medium|large|size 8|size 10|32x30|one size"),
    "coupon": _w("SAVE20|WELCOME10|FREESHIP|SPRING15|VIP2024|THANKYOU|BF30|HOLIDAY25"),
    "bank": _w("Chase|Bank of America|Wells Fargo|Citi|Capital One|US Bank|PNC|TD Bank|Ally|Navy Federal"),
    "carrier": _w("UPS|FedEx|USPS|DHL|OnTrac|Amazon Logistics|the mailman|the courier"),
    "day": _w(
        "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|tomorrow|today|this weekend|next week|"
        "next Tuesday|on Friday"
    ),
    "pastday": _w("yesterday|last Friday|on Monday|over the weekend|last Thursday|this morning"),
    "time": _w("2:30 pm|10am|14:00|noon|9:15 AM|6pm|5pm|8:45|midnight|11:30"),
    "timewin": _w(
        "between 9am and 12pm|after 5|in the morning|before noon|between 2 and 4 pm|any time after 6pm|"
        "on the weekend"
    ),
    "title": _w(
        "Office Manager|Purchasing Manager|Owner|Account Manager|Operations Lead|Buyer|Founder & CEO|"
        "Customer Success|Procurement Specialist|Store Manager"
    ),
    "msg": _w(
        "Please call me back.|Item arrived damaged, photos attached.|Where is my package?|"
        "I want to cancel my order.|The coupon did not apply at checkout.|"
        "Need to change my delivery address.|Wrong size, need an exchange."
    ),
    "hi": _w(
        "Hi,|Hello,|Hi there,|Hey,|Good morning,|Dear Customer Service,|Hello team,|Hi support,|"
        "To whom it may concern,|Hey guys,|Greetings,|Good afternoon,"
    ),
    "bye": _w(
        "Thanks,|Thank you,|Best,|Regards,|Best regards,|Cheers,|Thanks so much,|Sincerely,|Thx,|"
        "Many thanks,|Kind regards,|Appreciate it,"
    ),
}


class NearEn(Near):
    """English near-miss values for one message."""

    def pick(self, key: str) -> str:
        return self.rng.choice(EN[key])

    def order(self) -> str:
        r = self.rng
        return r.choice(
            [
                f"{digits(r, 3, '1')}-{digits(r, 7)}-{digits(r, 7)}",
                f"ORD-{r.randint(2023, 2026)}-{digits(r, 6)}",
                digits(r, 5),
                f"W{digits(r, 9)}",
                f"{digits(r, 3)}-{digits(r, 7)}",
                f"SO-{digits(r, 5)}",
                f"{digits(r, 4)}-{digits(r, 4)}",
                f"{r.choice(_UP)}{r.choice(_UP)}{digits(r, 8)}",
                digits(r, 10),
            ]
        )

    def sku(self) -> str:
        r = self.rng
        return r.choice(
            [
                f"SKU-{r.choice(['TSH', 'MUG', 'BAG'])}-{r.choice(['BLK', 'WHT', 'NVY'])}-{r.choice('SML')}",
                "B0" + "".join(r.choice(_ALNUM) for _ in range(8)),
                f"{digits(r, 4)}-{digits(r, 2)}",
                f"{r.choice(_UP)}{r.choice(_UP)}-{digits(r, 4)}-{r.choice(['BLU', 'RED', 'GRY'])}",
                digits(r, 12),
            ]
        )

    def tracking(self) -> str:
        r = self.rng
        return r.choice(
            [
                "1Z" + "".join(r.choice(_ALNUM) for _ in range(6)) + digits(r, 10),
                group(digits(r, 22, "9"), (4,) * 6, " "),
                group(digits(r, 12), (4, 4, 4), " "),
                digits(r, 12),
                f"JD{digits(r, 12)}",
                digits(r, 20, "9"),
                f"LX{digits(r, 9)}US",
                f"TBA{digits(r, 12)}",
            ]
        )

    def invoice(self) -> str:
        r = self.rng
        return r.choice(
            [f"INV-{digits(r, 5)}", f"{r.randint(2023, 2026)}-{digits(r, 4)}", f"#{digits(r, 6)}"]
        )

    def ticket(self) -> str:
        r = self.rng
        return r.choice(
            [
                f"{digits(r, 8)}",
                f"{digits(r, 3)}-{digits(r, 3)}",
                f"CS-{digits(r, 5)}",
                f"{digits(r, 3)}-{digits(r, 4)}",
                f"RMA{digits(r, 6)}",
                f"{digits(r, 2)}-{digits(r, 7)}",
            ]
        )

    def price(self) -> str:
        r = self.rng
        cents = r.choice([".99", ".00", ".95", ".49", "", f".{r.randint(0, 99):02d}"])
        value = r.choice([r.randint(3, 99), r.randint(100, 999), r.randint(1000, 3999)])
        return r.choice(["$", "$", "$", "USD ", "€", "£"]) + f"{value:,}{cents}"

    def price2(self) -> str:
        return self.price()

    def qty(self) -> str:
        return self.rng.choice(["2", "3", "two", "three", "1", "4", "6", "10", "a dozen"])

    def date(self) -> str:
        return date_en(recent_date(self.rng), self.rng, with_year=self.rng.random() < 0.6)

    def date2(self) -> str:
        return self.date()

    def olddate(self) -> str:
        return date_en(old_date(self.rng), self.rng)

    def model(self) -> str:
        r = self.rng
        return r.choice(
            [
                f"WH-{digits(r, 4)}XM{r.randint(2, 6)}",
                f"KDL-{r.randint(32, 75)}W{digits(r, 3)}B",
                f"SM-G{digits(r, 3)}U",
                f"A{digits(r, 4)}",
                f"{r.choice(_UP)}{r.choice(_UP)}-{digits(r, 3)}-{digits(r, 4)}",
                f"{digits(r, 3)}-{digits(r, 4)}",
                f"XPS {r.randint(13, 17)} {digits(r, 4)}",
                f"DCS-{digits(r, 4)}LH",
            ]
        )

    def member(self) -> str:
        return digits(self.rng, self.rng.choice([8, 9, 10]))

    def points(self) -> str:
        return f"{self.rng.randint(1, 40) * 50:,}"

    def last4(self) -> str:
        return digits(self.rng, 4)

    def swift(self) -> str:
        return self.fake.swift()

    def routing(self) -> str:
        return self.fake.aba()

    def giftcode(self) -> str:
        r = self.rng
        return "-".join("".join(r.choice(_ALNUM) for _ in range(4)) for _ in range(r.choice([3, 4])))

    def age(self) -> str:
        return str(self.rng.randint(18, 90))

    def city(self) -> str:
        return (
            self.rng.choice(CITIES)[0]
            if self.rng.random() < 0.85
            else self.rng.choice(["NYC", "LA", "the Bay Area"])
        )

    def company(self) -> str:
        return self.pick("company") if self.rng.random() < 0.6 else self.fake.company()

    def shop(self) -> str:
        return self.pick("shop")

    def biz(self) -> str:
        """The customer's own company (a signature, a B2B form): never a famous retailer."""
        return self.fake.company()
