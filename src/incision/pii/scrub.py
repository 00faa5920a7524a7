"""Replace PII spans in a text, leaving every other character exactly as it was.

Styles: `label` ([PHONE]), `mask` (one * per character), `hash` (a stable tag per value: the same email
gets the same tag everywhere, so conversations stay linkable without the value), `fake` (a same-type
value from faker, stable per value too, in Japanese when the text is). `hash` and `fake` are keyed by a
secret salt: without one, a tag could be reversed by hashing guesses (every mobile number in minutes).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
import unicodedata
from typing import Literal, get_args

from ..errors import ConfigError, InputError
from .records import Span

Style = Literal["label", "mask", "hash", "fake"]
STYLES = get_args(Style)
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
_DIGIT_LABELS = frozenset({"PHONE", "CREDIT_CARD", "GOV_ID", "BANK_ACCOUNT"})


def scrub(text: str, spans: list[Span], style: Style = "label", salt: str = "") -> str:
    """`text` with each span replaced; `salt` is the secret that keys the `hash` and `fake` styles."""
    if style not in STYLES:
        raise ConfigError(f"scrub style must be one of {list(STYLES)}, got {style!r}")
    if style in ("hash", "fake") and not salt:
        raise ConfigError(f"scrub style {style!r} needs a secret salt: without one its tags can be reversed")
    japanese = bool(_JAPANESE.search(text))  # fakes follow the message's language, not the value's
    pieces, cursor = [], 0
    for span in sorted(spans):
        if not cursor <= span.start < span.end <= len(text):
            raise InputError(
                f"span [{span.start}, {span.end}) is empty, overlaps another or runs past the text's "
                f"{len(text)} characters"
            )
        value = text[span.start : span.end]
        pieces += [text[cursor : span.start], _replacement(value, span.label, style, salt, japanese)]
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def canonical(value: str, label: str) -> str:
    """One form per value, so that "Anna@X.com" and "anna@x.com", or "090-1234-5678" typed full width
    or without hyphens, get one tag."""
    value = unicodedata.normalize("NFKC", value).casefold()
    if label in _DIGIT_LABELS:
        return "".join(c for c in value if c.isalnum())
    return " ".join(value.split())


def _replacement(value: str, label: str, style: str, salt: str, japanese: bool) -> str:
    if style == "label":
        return f"[{label}]"
    if style == "mask":
        return "*" * len(value)
    key = canonical(value, label)
    digest = hashlib.sha256(f"{salt}\x00{key}".encode("utf-8", "surrogatepass")).hexdigest()
    if style == "hash":
        return f"[{label}:{digest[:10]}]"
    seed = int(digest[:12], 16)
    for attempt in range(100):  # a real value can be in faker's pools: never hand it back as a fake
        fake = fake_value(label, japanese, seed + attempt)
        if canonical(fake, label) != key:
            return fake
    return f"[{label}]"


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
        # from the seed alone, not from today's date, so the fake is the same on every day
        "DATE_OF_BIRTH": lambda: (dt.date(1935, 1, 1) + dt.timedelta(days=rng.randrange(26000))).isoformat(),
        "BANK_ACCOUNT": fake.iban if not japanese else lambda: f"{rng.randrange(10**6, 10**7)}",
    }
    return makers.get(label, lambda: f"[{label}]")()
