"""PII records: `{"id", "lang", "text", "spans": [{"start", "end", "label"}]}`, offsets in code points.

The one format for synthetic data, gold files, predictions and evaluation. Readers check every record
and name the offending line; they never quote a text (it is PII by construction).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..core.tokens import clean_text  # re-exported: the PII readers' users take it from here
from ..errors import InputError

PII_LABELS = (
    "PERSON",
    "EMAIL",
    "PHONE",
    "ADDRESS",
    "CREDIT_CARD",
    "GOV_ID",
    "DATE_OF_BIRTH",
    "BANK_ACCOUNT",
)
LANGS = ("en", "ja")


@dataclass(frozen=True, order=True)
class Span:
    """Characters [start, end) of a text are PII of type `label`."""

    start: int
    end: int
    label: str

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "label": self.label}


def check_spans(text: str, spans: object, where: str) -> list[Span]:
    """Spans of one text as sorted `Span`s: integer offsets inside the text, known labels, no overlaps."""
    if not isinstance(spans, list):
        raise InputError(f"{where}: 'spans' must be a list, got {type(spans).__name__}")
    checked = []
    for k, span in enumerate(spans):
        if not isinstance(span, dict) or not {"start", "end", "label"} <= set(span):
            raise InputError(f"{where}, span {k}: must be an object with start, end and label")
        start, end, label = span["start"], span["end"], span["label"]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
            raise InputError(f"{where}, span {k}: offsets must be integers, got {start!r} and {end!r}")
        if not 0 <= start < end <= len(text):
            raise InputError(
                f"{where}, span {k}: [{start}, {end}) is empty or outside the text's {len(text)} characters"
            )
        if label not in PII_LABELS:
            raise InputError(f"{where}, span {k}: label {label!r} is not one of {list(PII_LABELS)}")
        checked.append(Span(start, end, label))
    checked.sort()
    for a, b in zip(checked, checked[1:], strict=False):
        if b.start < a.end:
            raise InputError(f"{where}: spans [{a.start}, {a.end}) and [{b.start}, {b.end}) overlap")
    return checked


def check_record(record: object, where: str) -> dict:
    """A record with its spans checked (and sorted); `lang` must be one of LANGS when present."""
    if not isinstance(record, dict):
        raise InputError(f"{where}: a record must be a JSON object, got {type(record).__name__}")
    text = record.get("text")
    if not isinstance(text, str):
        raise InputError(f"{where}: 'text' must be a string, got {type(text).__name__}")
    lang = record.get("lang")
    if lang is not None and lang not in LANGS:
        raise InputError(f"{where}: lang {lang!r} is not one of {list(LANGS)}")
    spans = check_spans(text, record.get("spans", []), where)
    return {**record, "spans": [s.to_dict() for s in spans]}


def parse_json_line(line: str, where: str) -> object:
    """One JSON value from one line; the error names `where` (file and line), never the text."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as e:
        raise InputError(f"{where} is not valid JSON ({e.msg}, column {e.colno})") from None


def read_records(path: str | Path) -> list[dict]:
    """Every record of a JSONL file, checked; an error names the file and line. Lines end at "\n" only
    (JSON keeps U+2028 and friends raw inside strings); lone surrogates become U+FFFD."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").split("\n")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read records from {str(path)!r} ({type(e).__name__})") from None
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path.name} line {number}"
        record = check_record(parse_json_line(line, where), where)
        records.append({**record, "text": clean_text(record["text"])})
    return records


def write_records(records: Iterable[dict], path: str | Path) -> Path:
    """JSONL, one record a line, UTF-8 with non-ASCII characters kept as they are."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path
