"""Synthetic EN/JA customer messages with exact PII spans, deterministic per (langs, n, seed, split).

Each record draws from its own random stream, seeded from (seed, split, lang, index), so a record
does not depend on the records before it, and the English records are the same with or without
Japanese. Faker instances are seeded per record; the shared `random` module is never used.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

from faker import Faker
from tqdm.auto import tqdm

from ...configs import check_choices
from ...errors import ConfigError
from ..records import LANGS, check_record, write_records
from .builder import Piece, parse, render, slots_of
from .forms import Form, forms, render_form
from .noise import add_noise
from .slots import PII_SLOTS, Message
from .tables import lists

log = logging.getLogger(__name__)
SPLITS = ("train", "shifted")


@dataclass
class SynthConfig:
    """What `incision pii synth` makes. Every field is also an option of the command."""

    lang: str = field(
        default="en,ja", metadata={"help": "comma-separated languages (en, ja); n is split evenly"}
    )
    n: int = field(default=5000, metadata={"help": "number of records"})
    seed: int = field(default=0, metadata={"help": "random seed; the same seed gives the same file"})
    split: Literal["train", "shifted"] = field(
        default="train", metadata={"help": "train, or shifted: styles and templates train never uses"}
    )
    pii_free: float = field(default=0.35, metadata={"help": "share of texts drawn from PII-free templates"})

    def __post_init__(self):
        check_choices(self)
        bad = [x for x in self.langs if x not in LANGS]
        if bad or not self.langs or len(set(self.langs)) < len(self.langs):
            raise ConfigError(f"lang must be a comma-separated list of {list(LANGS)}, got {self.lang!r}")
        if self.n < 0:
            raise ConfigError(f"n must be zero or more, got {self.n}")
        if not 0.0 <= self.pii_free <= 1.0:
            raise ConfigError(f"pii_free must be between 0 and 1, got {self.pii_free}")

    @property
    def langs(self) -> tuple[str, ...]:
        return tuple(x.strip() for x in self.lang.split(",") if x.strip())


@dataclass(frozen=True)
class Template:
    id: str
    lang: str
    split: str
    style: str
    body: str | Form
    labels: frozenset[str]  # labels its slots can produce; empty for PII-free (near-miss) templates

    @property
    def pii(self) -> bool:
        return bool(self.labels)

    @property
    def weight(self) -> float:
        """Cards, IDs, birth dates and accounts are rarer in traffic than names; drawn twice as often."""
        return 2.0 if self.labels & RARE else 1.0


RARE = frozenset({"CREDIT_CARD", "GOV_ID", "DATE_OF_BIRTH", "BANK_ACCOUNT"})


def _labels(body: str | Form) -> frozenset[str]:
    bodies = [body] if isinstance(body, str) else [f.split("=", 1)[1] for f in body.fields]
    names = [s[3:] if s[:3] in ("en_", "ja_") else s for b in bodies for s in slots_of(parse(b))]
    labels = {PII_SLOTS[s] for s in names if s in PII_SLOTS}
    if any(s.startswith("sig") for s in names):
        labels |= {"PERSON", "PHONE", "EMAIL", "ADDRESS"}
    return frozenset(labels)


@cache
def templates() -> tuple[Template, ...]:
    """Every template of every language and split (tables/templates_{lang}.json, then the forms);
    train and shifted share no style and no template."""
    out = []
    for lang in ("en", "ja"):
        for split in SPLITS:
            for style, bodies in lists(f"templates_{lang}", split).items():
                out += [
                    Template(f"{lang}.{style}.{k:02d}", lang, split, style, b, _labels(b))
                    for k, b in enumerate(bodies)
                ]
            form_style = "form" if split == "train" else "form_alt"
            out += [
                Template(f"{lang}.{form_style}.{name}", lang, split, form_style, f, _labels(f))
                for name, f in forms(lang, split).items()
            ]
    return tuple(out)


@cache
def _pool(lang: str, split: str, pii: bool) -> tuple[tuple[str, ...], tuple[float, ...], dict]:
    """Styles with their weights (their templates' total weight: a template is drawn as often in a
    small style as in a big one) and each style's templates, for PII or PII-free texts."""
    by_style: dict[str, list[Template]] = {}
    for t in templates():
        if t.lang == lang and t.split == split and t.pii == pii:
            by_style.setdefault(t.style, []).append(t)
    styles = tuple(by_style)
    return styles, tuple(sum(t.weight for t in by_style[s]) for s in styles), by_style


def _record_seed(seed: int, split: str, lang: str, k: int) -> int:
    digest = hashlib.sha256(f"{seed}|{split}|{lang}|{k}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def draw(lang: str, k: int, config: SynthConfig, fakers: dict[str, Faker]) -> tuple[Template, list[Piece]]:
    """Record `k` of language `lang` as pieces: a template drawn, filled and made noisy."""
    seed = _record_seed(config.seed, config.split, lang, k)
    rng = random.Random(seed)
    fakers["en"].seed_instance(seed)
    fakers["ja"].seed_instance(seed ^ 0x5A5A)
    pii = rng.random() >= config.pii_free
    styles, weights, by_style = _pool(lang, config.split, pii)
    candidates = by_style[rng.choices(styles, weights=weights)[0]]
    template = rng.choices(candidates, weights=[t.weight for t in candidates])[0]
    msg = Message(lang, rng, fakers)
    if isinstance(template.body, Form):
        pieces = render_form(msg, template.body, config.split)
    else:
        pieces = msg.fill(template.body)
    return template, add_noise(pieces, lang, rng)


def make_record(lang: str, k: int, config: SynthConfig, fakers: dict[str, Faker]) -> dict:
    """Record `k` of language `lang`, its spans taken from the pieces as they were joined, checked."""
    template, pieces = draw(lang, k, config, fakers)
    text, spans = render(pieces)
    record_id = f"{config.split}-{lang}-s{config.seed}-{k:06d}"
    record = {"id": record_id, "lang": lang, "text": text, "spans": spans}
    record |= {"style": template.style, "template": template.id}
    return check_record(record, record_id)


def iter_records(config: SynthConfig, progress: bool = False) -> Iterator[dict]:
    """Records one by one, languages interleaved (en, ja, en, ...), so any prefix is balanced."""
    fakers = {"en": Faker("en_US"), "ja": Faker("ja_JP")}
    langs = config.langs
    for i in tqdm(range(config.n), desc=f"synth {config.split}", unit="text", disable=not progress):
        yield make_record(langs[i % len(langs)], i // len(langs), config, fakers)


def synthesize(
    langs: tuple[str, ...] | str = ("en", "ja"),
    n: int = 5000,
    seed: int = 0,
    split: str = "train",
    *,
    pii_free: float = 0.35,
    progress: bool = False,
) -> list[dict]:
    """`n` records `{"id", "lang", "text", "spans", "style", "template"}`, split evenly between `langs`."""
    lang = langs if isinstance(langs, str) else ",".join(langs)
    config = SynthConfig(lang=lang, n=n, seed=seed, split=split, pii_free=pii_free)  # type: ignore[arg-type]
    return list(iter_records(config, progress))


def write_synth(config: SynthConfig, out: str | Path, progress: bool = False) -> Path:
    """The records of `config` written as JSONL to `out`, streamed (so `n` can be large)."""
    path = write_records(iter_records(config, progress), out)
    log.info("wrote %d %s records to %s", config.n, config.split, path)
    return path
