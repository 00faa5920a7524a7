"""Replace PII spans in a text, leaving every other character exactly as it was.

Styles: `label` ([PHONE]), `mask` (one * per character), `hash` (a stable tag per value: the same email
gets the same tag everywhere, so conversations stay linkable without the value), `fake` (a same-type
value from faker, stable per value too, in Japanese when the value is).
"""

from __future__ import annotations

import hashlib
import random
import re
from typing import Literal

from ..errors import ConfigError
from .records import Span

Style = Literal["label", "mask", "hash", "fake"]
STYLES = ("label", "mask", "hash", "fake")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")


def scrub(text: str, spans: list[Span], style: Style = "label", salt: str = "") -> str:
    """`text` with each span replaced; `salt` keys the `hash` and `fake` styles (set a secret one so that
    tags cannot be reversed by hashing guesses)."""
    if style not in STYLES:
        raise ConfigError(f"scrub style must be one of {list(STYLES)}, got {style!r}")
    pieces, cursor = [], 0
    for span in sorted(spans):
        if span.start < cursor or span.end > len(text):
            raise ConfigError(f"span [{span.start}, {span.end}) overlaps another or runs past the text")
        pieces += [
            text[cursor : span.start],
            _replacement(text[span.start : span.end], span.label, style, salt),
        ]
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _replacement(value: str, label: str, style: str, salt: str) -> str:
    if style == "label":
        return f"[{label}]"
    if style == "mask":
        return "*" * len(value)
    digest = hashlib.sha256(f"{salt}\x00{label}\x00{value}".encode()).hexdigest()
    if style == "hash":
        return f"[{label}:{digest[:10]}]"
    return fake_value(label, japanese=bool(_JAPANESE.search(value)), seed=int(digest[:12], 16))


def fake_value(label: str, japanese: bool, seed: int) -> str:
    """A made-up value of the same type (faker, seeded so the same input always gets the same fake)."""
    from faker import Faker  # only the fake style needs it

    fake = Faker("ja_JP" if japanese else "en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    makers = {
        "PERSON": fake.name,
        "EMAIL": fake.email,
        "PHONE": fake.phone_number,
        "ADDRESS": lambda: fake.address().replace("\n", " "),
        "CREDIT_CARD": fake.credit_card_number,
        "GOV_ID": (lambda: "".join(str(rng.randrange(10)) for _ in range(12))) if japanese else fake.ssn,
        "DATE_OF_BIRTH": lambda: fake.date_of_birth(minimum_age=18, maximum_age=90).isoformat(),
        "BANK_ACCOUNT": fake.iban if not japanese else lambda: f"{rng.randrange(10**6, 10**7)}",
    }
    return makers.get(label, lambda: f"[{label}]")()
