"""Values that are not PII but look like it or sit where it sits: order, tracking and model numbers,
prices, delivery dates, shops, stations, public figures, kinship words, greetings.

The probe must learn that a 12-digit tracking number or "大谷翔平" is not PII; these slots give it
the chance. The word lists (written for this project) are in tables/near_en.json and near_ja.json; a
slot that is neither a method nor a word list is unknown.
"""

from __future__ import annotations

import random
import string
from collections.abc import Mapping

from faker import Faker

from .tables import lists

UP = string.ascii_uppercase
ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes people read out


class Near:
    """What both languages share: card expiry dates, a clock that moves forward, web sites."""

    TABLE = ""  # the table of the language's word lists

    def __init__(self, rng: random.Random, fake: Faker):
        self.rng, self.fake = rng, fake
        self._minutes = rng.randint(8 * 60, 20 * 60)

    @classmethod
    def word_lists(cls) -> Mapping[str, tuple[str, ...]]:
        """Word lists by slot name: {kin}, {celeb}, {hi}, ..."""
        return lists(cls.TABLE, "words")

    def pick(self, key: str) -> str:
        return self.rng.choice(self.word_lists()[key])

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
