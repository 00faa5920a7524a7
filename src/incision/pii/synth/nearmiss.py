"""Values that are not PII but look like it or sit where it sits: order, tracking and model numbers,
prices, delivery dates, shops, stations, public figures, kinship words, greetings.

The probe must learn that a 12-digit tracking number or "大谷翔平" is not PII; these slots give it
the chance. All lists here were written for this project. Word lists: near_en.EN, near_ja.JA.
"""

from __future__ import annotations

import random
import string

from faker import Faker

UP = string.ascii_uppercase
ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes people read out


def w(text: str) -> list[str]:
    """A word list written as one '|'-separated string."""
    return text.split("|")


class Near:
    """What both languages share: card expiry dates, a clock that moves forward, web sites."""

    def __init__(self, rng: random.Random, fake: Faker):
        self.rng, self.fake = rng, fake
        self._minutes = rng.randint(8 * 60, 20 * 60)

    def exp(self) -> str:
        r = self.rng
        month, year = r.randint(1, 12), r.randint(25, 32)
        return r.choice([f"{month:02d}/{year}", f"{month:02d}/20{year}", f"{month:02d}/{year}"])

    def clock(self) -> str:
        """Transcript timestamps: each call a minute or two after the last."""
        self._minutes += self.rng.randint(0, 3)
        return f"{self._minutes // 60 % 24:02d}:{self._minutes % 60:02d}"

    def site(self) -> str:
        r = self.rng
        return f"www.{self.fake.domain_word()}{r.choice(['.com', '.co.jp', '.jp', '.shop', '.net'])}"
