"""Japanese near-miss values (see nearmiss.py); the word lists are in tables/near_ja.json."""

from __future__ import annotations

import random

from faker import Faker

from .common import date_ja, digits, group, old_date, recent_date, zen_digits
from .nearmiss import ALNUM as _ALNUM
from .nearmiss import UP as _UP
from .nearmiss import Near


class NearJa(Near):
    """Japanese near-miss values for one message; digits go full width with the message's `zen`."""

    TABLE = "near_ja"

    def __init__(self, rng: random.Random, fake: Faker, zen: bool = False):
        super().__init__(rng, fake)
        self.zen = zen

    def _z(self, text: str) -> str:
        return zen_digits(text) if self.zen else text

    def order(self) -> str:
        r = self.rng
        d = recent_date(r)
        return self._z(
            r.choice(
                [
                    f"{d:%Y%m%d}{digits(r, 5)}",
                    f"ORD-{d:%Y%m%d}-{digits(r, 4)}",
                    f"{digits(r, 3)}-{digits(r, 7)}-{digits(r, 7)}",
                    digits(r, 5),
                    f"R-{d:%Y-%m}-{digits(r, 4)}",
                    f"D{d:%y%m%d}-{digits(r, 4)}",
                    digits(r, 10),
                ]
            )
        )

    def sku(self) -> str:
        r = self.rng
        return r.choice(
            [
                f"{r.choice(_UP)}{r.choice(_UP)}-{digits(r, 4)}",
                f"{r.choice(_UP)}{r.choice(_UP)}-{digits(r, 4)}-{r.choice(['BK', 'WH', 'NV'])}",
                f"SKU{digits(r, 5)}",
                f"49{digits(r, 11)}",
            ]
        )

    def tracking(self) -> str:
        r = self.rng
        number = digits(r, 12, "123456789")
        return self._z(
            r.choice(
                [
                    group(number, (4, 4, 4), "-"),
                    number,
                    group(number, (4, 4, 4), " "),
                    f"{r.choice(_UP)}{r.choice(_UP)}{digits(r, 9)}JP",
                ]
            )
        )

    def invoice(self) -> str:
        r = self.rng
        return r.choice(
            [f"INV-{recent_date(r):%Y-%m}-{digits(r, 3)}", f"No.{digits(r, 6)}", f"R-{digits(r, 5)}"]
        )

    def ticket(self) -> str:
        r = self.rng
        return self._z(
            r.choice(
                [f"#{r.choice(_UP)}-{digits(r, 5)}", f"{recent_date(r):%y%m%d}-{digits(r, 4)}", digits(r, 8)]
            )
        )

    def price(self) -> str:
        r = self.rng
        yen = r.choice([r.randint(1, 99) * 10 + 9, r.randint(10, 300) * 100 - 20, r.randint(3, 150) * 100])
        value = f"{yen:,}"
        text = r.choice(
            [f"{value}円", f"{value}円", f"¥{value}", f"￥{value}", f"{value}円（税込）", f"税込{value}円"]
        )
        return self._z(text)

    def price2(self) -> str:
        return self.price()

    def qty(self) -> str:
        return self._z(self.rng.choice(["1", "2", "3", "5", "10"]))

    def date(self) -> str:
        r = self.rng
        return self._z(date_ja(recent_date(r), r, with_year=r.random() < 0.5))

    def date2(self) -> str:
        return self.date()

    def olddate(self) -> str:
        return self._z(date_ja(old_date(self.rng), self.rng, era=self.rng.random() < 0.2))

    def model(self) -> str:
        r = self.rng
        return r.choice(
            [
                f"KJ-{r.randint(43, 75)}X{digits(r, 2)}L",
                f"NP-{r.choice(_UP)}{r.choice(_UP)}{digits(r, 2)}-W",
                f"SR-{r.choice(_UP)}{r.choice(_UP)}{digits(r, 3)}",
                f"MC-SR{digits(r, 3)}K",
                f"KX-PD{digits(r, 3)}DL",
                f"{r.choice(_UP)}{r.choice(_UP)}-{digits(r, 3)}-{digits(r, 4)}",
            ]
        )

    def member(self) -> str:
        r = self.rng
        return self._z(r.choice([digits(r, 8), f"M-{digits(r, 8)}", digits(r, 10)]))

    def points(self) -> str:
        return self._z(f"{self.rng.randint(1, 60) * 50:,}")

    def last4(self) -> str:
        return self._z(digits(self.rng, 4))

    def branch_no(self) -> str:
        return self._z(digits(self.rng, 3))

    def giftcode(self) -> str:
        r = self.rng
        return "".join(r.choice(_ALNUM) for _ in range(16))

    def age(self) -> str:
        return self._z(str(self.rng.randint(18, 90)))

    def company(self) -> str:
        return self.pick("company") if self.rng.random() < 0.5 else self.fake.company()

    def shop(self) -> str:
        return self.pick("shop")

    def biz(self) -> str:
        return self.fake.company()
