"""Slots: the names templates use, each with its label, resolved per message.

A slot name is a method of the message's PII maker (labelled, see PII_SLOTS), a composite (a
signature: several labelled pieces), or a near-miss (a method or a word list of the near-miss
maker, never labelled). `en_x` / `ja_x` take slot `x` from the other language, for mixed texts.
"""

from __future__ import annotations

import random

from faker import Faker

from .builder import Piece, expand, parse
from .near_en import NearEn
from .near_ja import NearJa
from .values_en import EnPii
from .values_ja import JaPii

_PERSON = (
    "name name2 first last first2 last2 staff staff_full jname sei mei sei2 kana kana2 sei_kana romaji "
    "foreign card_holder"
)
_GROUPS = {
    "PERSON": _PERSON,
    "EMAIL": "email email2 email_biz",
    "PHONE": "phone phone2 tel fax phone_intl",
    "ADDRESS": "addr addr_block zip zip_plain addr_jp addr_romaji",
    "CREDIT_CARD": "card",
    "GOV_ID": "ssn dl passport govid mynumber license",
    "DATE_OF_BIRTH": "dob",
    "BANK_ACCOUNT": "acct iban yucho",
}
PII_SLOTS = {name: label for label, names in _GROUPS.items() for name in names.split()}


class Message:
    """Everything one message draws from: its random stream, its people, its value makers."""

    def __init__(self, lang: str, rng: random.Random, fakers: dict[str, Faker]):
        self.lang, self.rng = lang, rng
        zen = lang == "ja" and rng.random() < 0.12  # this writer types digits full width
        self.ja = JaPii(rng, fakers["ja"], zen=zen)
        self.en = EnPii(rng, fakers["en"], ja=self.ja)
        self.pii = self.en if lang == "en" else self.ja
        self.near = NearEn(rng, fakers["en"]) if lang == "en" else NearJa(rng, fakers["ja"], zen=zen)
        self.words = self.near.word_lists()

    def resolve(self, name: str) -> list[Piece]:
        from .forms import COMPOSITES  # forms expand templates through this class

        if name in COMPOSITES:
            return COMPOSITES[name](self)
        if name == "kin2":  # not PII, but must fit person 2 (my mom, Susan)
            return [(self.pii.kin(2), None)]
        maker, slot = self.pii, name
        if name[:3] in ("en_", "ja_"):
            maker, slot = (self.en if name[:2] == "en" else self.ja), name[3:]
        if slot in PII_SLOTS:
            return [(getattr(maker, slot)(), PII_SLOTS[slot])]
        if hasattr(self.near, name):
            return [(getattr(self.near, name)(), None)]
        return [(self.rng.choice(self.words[name]), None)]

    def fill(self, template: str) -> list[Piece]:
        return expand(parse(template), self.rng, self.resolve, [])


def known_slot(lang: str, name: str) -> bool:
    """Whether a template of `lang` may use slot `name` (checked for every template by the tests)."""
    from .forms import COMPOSITES

    if name in COMPOSITES or name == "kin2":
        return True
    pii, near = (EnPii, NearEn) if lang == "en" else (JaPii, NearJa)
    if name[:3] in ("en_", "ja_"):
        pii, name = (EnPii if name[:2] == "en" else JaPii), name[3:]
        return name in PII_SLOTS and hasattr(pii, name)
    if name in PII_SLOTS:
        return hasattr(pii, name)
    return hasattr(near, name) or name in near.word_lists()
