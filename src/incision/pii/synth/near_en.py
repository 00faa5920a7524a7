"""English near-miss values (see nearmiss.py); the word lists are in tables/near_en.json."""

from __future__ import annotations

from .common import date_en, digits, group, old_date, recent_date
from .nearmiss import ALNUM as _ALNUM
from .nearmiss import UP as _UP
from .nearmiss import Near
from .places import us_cities


class NearEn(Near):
    """English near-miss values for one message."""

    TABLE = "near_en"

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
            self.rng.choice(us_cities())[0]
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
