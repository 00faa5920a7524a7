"""English PII values: names, e-mails, phones, US/UK/Canadian addresses, cards, IDs, birth dates, accounts.

Every method returns the value alone (no "Mr.", no "Tel:"), so the template's text around it stays
outside the span. People are kept per message, so a signature's e-mail matches the name above it.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from faker import Faker

from .common import birth_date, card_number, date_en, digits, group, iban
from .places import ca_cities, uk_areas, uk_cities, us_cities
from .tables import strings


def _words(key: str) -> tuple[str, ...]:
    return strings("values_en", key)


@dataclass
class PersonEn:
    first: str
    last: str
    middle: str
    female: bool
    email: str | None = None


class EnPii:
    """English PII values for one message; `rng` and `fake` are seeded by the caller for this message."""

    def __init__(self, rng: random.Random, fake: Faker, ja=None):
        self.rng, self.fake, self.ja = rng, fake, ja  # ja: a JaPii for Japanese names/addresses in English
        self.people: dict[int, PersonEn] = {}
        self.kin_words: dict[int, str] = {}

    # -- people ---------------------------------------------------------------------------------------
    def person(self, k: int = 1) -> PersonEn:
        if k not in self.people:
            r, f = self.rng, self.fake
            female = r.random() < 0.5
            if self.ja is not None and r.random() < 0.08:  # Japanese customers writing in English
                first, last = self.ja.romaji_parts(k + 100)
                female = self.ja.person(k + 100).sex == "f"
            elif female:
                first, last = f.first_name_female(), f.last_name()
            else:
                first, last = f.first_name_male(), f.last_name()
            self.people[k] = PersonEn(first, last, r.choice(string.ascii_uppercase), female)
        return self.people[k]

    def _full(self, p: PersonEn) -> str:
        r = self.rng.random()
        if r < 0.68:
            return f"{p.first} {p.last}"
        if r < 0.76:
            return f"{p.first} {p.middle}. {p.last}"
        if r < 0.82:
            return f"{p.last}, {p.first}"
        if r < 0.87:
            return f"{p.first[0]}. {p.last}"
        if r < 0.95:
            return f"{p.first} {p.last}".lower()
        return f"{p.first} {p.last}".upper()

    def name(self) -> str:
        return self._full(self.person(1))

    def name2(self) -> str:
        return self._full(self.person(2))

    def first(self) -> str:
        return self.person(1).first

    def last(self) -> str:
        return self.person(1).last

    def first2(self) -> str:
        return self.person(2).first

    def last2(self) -> str:
        return self.person(2).last

    def kin(self, k: int = 2) -> str:
        """A kinship word that fits person k ("my mom" for a woman), for "{kin2}, {name2}"."""
        if k not in self.kin_words:  # the same word every time the message names them
            self.kin_words[k] = self.rng.choice(_words("kin_f" if self.person(k).female else "kin_m"))
        return self.kin_words[k]

    def staff(self) -> str:
        return self.person(9).first

    def staff_full(self) -> str:
        p = self.person(9)
        return self.rng.choice([f"{p.first} {p.last}", f"{p.first} {p.last[0]}.", p.first])

    def card_holder(self) -> str:
        p = self.person(1)
        return self.rng.choice(
            [f"{p.first} {p.last}".upper(), f"{p.first} {p.middle} {p.last}".upper(), f"{p.first} {p.last}"]
        )

    def jname(self) -> str:
        """A Japanese name in romaji, as a Japanese customer signs an English mail."""
        first, last = self.ja.romaji_parts(1)
        return self.rng.choice([f"{first} {last}", f"{last} {first}", f"{last.upper()} {first}"])

    # -- e-mail ---------------------------------------------------------------------------------------
    def _local(self, p: PersonEn) -> str:
        r = self.rng
        first, last = (x.lower().replace("'", "").replace(" ", "") for x in (p.first, p.last))
        year = str(r.randint(1960, 2006))
        return r.choice(
            [
                f"{first}.{last}",
                f"{first}{last}",
                f"{first[0]}{last}",
                f"{first}_{last}",
                f"{last}.{first}",
                f"{first}{r.randint(1, 99)}",
                f"{first}.{last}{year[2:]}",
                f"{first[0]}.{last}{r.randint(1, 9)}",
                f"{last}{first[0]}",
                f"{first}{year}",
                f"{first}-{last}",
                f"{r.choice(['its', 'the', 'hey', 'real'])}{first}",
            ]
        )

    def email(self, k: int = 1) -> str:
        p = self.person(k)
        if p.email is None:
            r = self.rng
            domain = r.choice(_words("free_mail")) if r.random() < 0.75 else self.fake.domain_name()
            p.email = f"{self._local(p)}@{domain}"
            if r.random() < 0.04:
                p.email = p.email.upper() if r.random() < 0.5 else p.email.capitalize()
        return p.email

    def email2(self) -> str:
        return self.email(2)

    def email_biz(self) -> str:
        r = self.rng
        local = r.choice(["support", "orders", "help", "info", "returns", "billing", "sales", "hello"])
        if r.random() < 0.4:
            local = self._local(self.person(9))
        return f"{local}@{self.fake.domain_name()}"

    # -- phones ---------------------------------------------------------------------------------------
    def _us_number(self) -> tuple[str, str, str]:
        r = self.rng
        area = r.choice(["800", "888", "877"]) if r.random() < 0.05 else str(r.randint(201, 989))
        return area, str(r.randint(201, 999)), f"{r.randint(0, 9999):04d}"

    def phone(self, ext: float = 0.04) -> str:
        r = self.rng
        if r.random() < 0.06:
            return self.phone_intl()
        a, e, n = self._us_number()
        text = r.choice(
            [
                f"({a}) {e}-{n}",
                f"{a}-{e}-{n}",
                f"{a}.{e}.{n}",
                f"{a} {e} {n}",
                f"+1 {a}-{e}-{n}",
                f"+1 ({a}) {e}-{n}",
                f"1-{a}-{e}-{n}",
                f"{a}{e}{n}",
                f"+1{a}{e}{n}",
                f"({a}){e}-{n}",
                f"{a}-{e}-{n}",
                f"({a}) {e}-{n}",
                f"+1.{a}.{e}.{n}",
                f"{a}/{e}-{n}",
            ]
        )
        if r.random() < ext:
            text += r.choice([" ext. ", " ext ", " x", " x ", " Ext. ", " extension ", ", ext. "]) + str(
                r.randint(1, 9999)
            )
        return text

    def phone2(self) -> str:
        return self.phone()

    def tel(self) -> str:
        """A business line, often with an extension."""
        return self.phone(ext=0.35)

    def fax(self) -> str:
        return self.phone(ext=0.0)

    def phone_intl(self) -> str:
        r = self.rng
        return r.choice(
            [
                f"+44 20 {r.randint(7000, 8999)} {r.randint(0, 9999):04d}",
                f"+44 7{r.randint(100, 999)} {r.randint(100000, 999999)}",
                f"07{r.randint(100, 999)} {r.randint(100000, 999999)}",
                f"+1 416-{r.randint(200, 999)}-{r.randint(0, 9999):04d}",
                f"+81 90-{r.randint(1000, 9999)}-{r.randint(0, 9999):04d}",
                f"+81 3-{r.randint(3000, 6999)}-{r.randint(0, 9999):04d}",
                f"+61 4{r.randint(10, 99)} {r.randint(100, 999)} {r.randint(100, 999)}",
            ]
        )

    # -- addresses ------------------------------------------------------------------------------------
    def street(self) -> str:
        r = self.rng
        number = str(r.choice([r.randint(1, 99), r.randint(100, 999), r.randint(1000, 19999)]))
        if r.random() < 0.1:  # faker's invented names ("Kennedy Light") add variety in small doses
            name = self.fake.street_name()
        else:
            name = f"{r.choice(_words('streets'))} {r.choice(_words('street_suffixes'))}"
            if r.random() < 0.12:
                name = f"{r.choice(['N', 'S', 'E', 'W', 'N.', 'West', 'East'])} {name}"
        if r.random() < 0.35:
            unit = r.choice(_words("units")).format(
                n=r.randint(1, 450), f=r.randint(2, 30), l=r.choice("ABCDEF")
            )
            return f"{number} {name}{r.choice([' ', ', '])}{unit}"  # the city line follows after ", "
        return f"{number} {name}"

    def _zip(self) -> str:
        r = self.rng
        code = f"{r.randint(1001, 99950):05d}"
        return code + (f"-{r.randint(0, 9999):04d}" if r.random() < 0.15 else "")

    def _city_line(self) -> str:
        r = self.rng
        city, state = r.choice(us_cities())
        return r.choice(
            [
                f"{city}, {state} {self._zip()}",
                f"{city} {state} {self._zip()}",
                f"{city}, {state}, {self._zip()}",
            ]
        )

    def addr(self) -> str:
        """One line: street, city, state, ZIP (sometimes the street alone, a PO box, UK or Canada)."""
        r = self.rng
        x = r.random()
        if x < 0.07:
            return self._foreign()
        if x < 0.12:
            return f"{r.choice(['P.O. Box', 'PO Box', 'PO BOX'])} {r.randint(10, 9999)}, {self._city_line()}"
        if x < 0.25:
            return self.street()
        street = self.street()
        return f"{street}{', ' if r.random() < 0.8 or not street[-1].isalpha() else ' '}{self._city_line()}"

    def addr_block(self) -> str:
        """Several lines, as on an envelope; one span, newlines inside."""
        r = self.rng
        street = self.street()
        if ", " in street and r.random() < 0.5:
            street = street.replace(", ", "\n", 1)
        return f"{street}\n{self._city_line()}" + ("\nUSA" if r.random() < 0.1 else "")

    def _foreign(self) -> str:
        r = self.rng
        if r.random() < 0.5:  # UK: "221 Oak Road, Leeds LS1 4AB"
            letters = "ABDEFGHJLNPQRSTUWXYZ"
            post = f"{r.choice(uk_areas())} {r.randint(1, 9)}{r.choice(letters)}{r.choice(letters)}"
            streets = _words("streets")
            street = (
                f"{r.randint(1, 240)} {r.choice(streets)} {r.choice(['Road', 'Street', 'Lane', 'Gardens'])}"
            )
            return f"{street}, {r.choice(uk_cities())} {post}"
        city, prov, first = r.choice(ca_cities())  # Canada: "12 Elm St, Toronto, ON M5H 2N4"
        letters = "ABCEGHJKLMNPRSTVXY"
        l1, l2 = r.choice(letters), r.choice(letters)
        post = f"{first}{r.randint(1, 9)}{l1} {r.randint(1, 9)}{l2}{r.randint(0, 9)}"
        street = f"{r.randint(1, 3000)} {r.choice(_words('streets'))} {r.choice(['St', 'Ave', 'Blvd'])}"
        return f"{street}, {city}, {prov} {post}"

    def zip(self) -> str:
        return self._zip()

    def addr_jp(self) -> str:
        """A Japanese address in an English mail: kanji as the customer pasted it, or romanised."""
        return self.ja.addr_romaji() if self.rng.random() < 0.6 else self.ja.addr()

    # -- cards, IDs, accounts -------------------------------------------------------------------------
    def card(self) -> str:
        return card_number(self.rng, jcb=0.1)

    def ssn(self) -> str:
        r = self.rng
        area = r.randint(1, 898)
        area += area == 666  # never issued
        parts = (f"{area:03d}", f"{r.randint(1, 99):02d}", f"{r.randint(1, 9999):04d}")
        return r.choice(["-", "-", "-", " ", ""]).join(parts)

    def dl(self) -> str:
        r = self.rng
        letter = r.choice(string.ascii_uppercase)
        return r.choice(
            [
                f"{letter}{digits(r, 7)}",
                f"{digits(r, 3)} {digits(r, 3)} {digits(r, 3)}",
                f"{letter}{digits(r, 3)}-{digits(r, 4)}-{digits(r, 4)}",
                digits(r, 8),
                f"{letter}{digits(r, 3)}-{digits(r, 3)}-{digits(r, 2)}-{digits(r, 3)}-0",
                f"{letter}{digits(r, 12)}",
                f"{letter}{letter}{digits(r, 6)}",
            ]
        )

    def passport(self) -> str:
        r = self.rng
        return r.choice([digits(r, 9, "123456789"), f"{r.choice('ACEHKMNPRSX')}{digits(r, 8)}"])

    def govid(self) -> str:
        return self.rng.choice([self.ssn, self.ssn, self.dl, self.passport])()

    def dob(self) -> str:
        return date_en(birth_date(self.rng), self.rng)

    def acct(self) -> str:
        r = self.rng
        return r.choice([digits(r, 10), digits(r, 12), digits(r, 9), "0000" + digits(r, 8), digits(r, 11)])

    def iban(self) -> str:
        r = self.rng
        bank = "".join(r.choice(string.ascii_uppercase) for _ in range(4))
        country, bban = r.choice(
            [
                ("DE", digits(r, 18)),
                ("GB", bank + digits(r, 14)),
                ("NL", bank + digits(r, 10)),
                ("FR", digits(r, 23)),
                ("ES", digits(r, 20)),
                ("IE", bank + digits(r, 14)),
            ]
        )
        value = iban(country, bban)
        return group(value, (4,) * 9, " ") if r.random() < 0.6 else value
