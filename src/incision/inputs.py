"""Input documents from Python lists and JSONL / JSON / CSV / parquet / plain-text files.

Error messages name the record and the file but never quote a text: texts may hold PII.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError

# Columns of the token and document tables; a per-document field may not reuse these names.
TOKEN_COLUMNS = ("doc", "position", "token_id", "char_start", "char_end")
RESERVED_FIELDS = (*TOKEN_COLUMNS, "n_tokens", "text")
FILE_SUFFIXES = (".jsonl", ".json", ".csv", ".parquet", ".txt")


@dataclass(frozen=True)
class Document:
    """One input text and its other fields (labels, ids, spans...)."""

    text: str
    fields: dict = field(default_factory=dict)


def read_documents(source, text_field: str = "text") -> list[Document]:
    """Read and check every document of `source` before any work starts, so bad input costs nothing."""
    if isinstance(source, Document):
        source = [source]
    if isinstance(source, str) and not source.strip():
        raise InputError(f"input is the blank string {source!r}; give a list of texts or a file path")
    if isinstance(source, str | Path):
        records, where = _read_file(Path(source), text_field), f"in {source}"
    elif isinstance(source, Iterable) and not isinstance(source, bytes | dict):
        records, where = list(source), "in the input list"
    else:
        raise InputError(f"input must be a list of texts or records, or a file path, got {type(source).__name__}")
    docs = [_to_document(record, i, text_field, where) for i, record in enumerate(records)]
    if not docs:
        raise InputError(f"no texts to capture: {where.removeprefix('in ')} is empty")
    _check_field_types(docs, where)
    return docs


def _to_document(record, index: int, text_field: str, where: str) -> Document:
    label = f"record #{index} {where}"
    if isinstance(record, Document):
        record = {text_field: record.text, **record.fields}
    if isinstance(record, dict):
        if text_field not in record:
            raise InputError(f"{label} has no field {text_field!r}; its fields are {sorted(record)}")
        text, fields = record[text_field], {k: v for k, v in record.items() if k != text_field}
    else:
        text, fields = record, {}
    if text is None:
        raise InputError(f"{label} has text None; give every record a non-empty string")
    if not isinstance(text, str):
        raise InputError(f"{label} has a text of type {type(text).__name__}; texts must be strings")
    if not text.strip():
        raise InputError(f"{label} has an empty or whitespace-only text ({text!r}); remove it or give it content")
    clash = sorted(set(fields) & set(RESERVED_FIELDS))
    if clash:
        raise InputError(f"{label} has field(s) {clash} that clash with the store's own columns; rename them")
    return Document(text=text, fields={k: _clean(v) for k, v in fields.items()})


def _check_field_types(docs: list[Document], where: str) -> None:
    """A field must keep one type across records, or its table column cannot be built (checked before any work)."""
    first_seen: dict[str, dict[str, int]] = {}
    for i, doc in enumerate(docs):
        for key, value in doc.fields.items():
            if value is not None:
                first_seen.setdefault(key, {}).setdefault(_kind(value), i)
    for key, kinds in first_seen.items():
        if len(kinds) > 1:
            found = ", ".join(f"{kind} (first in record #{i})" for kind, i in kinds.items())
            raise InputError(f"field {key!r} {where} mixes value types: {found}; give it one type")


def _kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    return "number" if isinstance(value, int | float) else type(value).__name__


def _clean(value):
    """NaN (pandas' missing value) becomes None so that fields round-trip through parquet and JSON."""
    return None if isinstance(value, float) and math.isnan(value) else value


def _read_file(path: Path, text_field: str) -> list:
    shown = str(path)
    if not path.is_file():
        if path.suffix.lower() not in FILE_SUFFIXES:  # maybe a text passed by mistake: don't quote it
            raise InputError(f"got a string of {len(shown)} characters that is not an input file; "
                             "to capture one text, pass it inside a list")
        raise InputError(f"input file {shown!r} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return pq.read_table(path).to_pylist()
        except Exception as e:
            raise InputError(f"cannot read parquet file {shown!r}: {e}") from e
    if suffix not in FILE_SUFFIXES:
        raise InputError(f"unsupported input file type {suffix!r} for {shown!r}; use one of {FILE_SUFFIXES}")
    text = _decode_utf8(path.read_bytes(), shown)
    if suffix == ".txt":
        return [{text_field: line, "line": n} for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if suffix == ".csv":
        return list(csv.DictReader(io.StringIO(text, newline="")))
    if suffix == ".json":
        data = _parse_json(text, shown, None)
        if not isinstance(data, list):
            raise InputError(f"JSON file {shown!r} must hold a list of records, got {type(data).__name__}")
        return data
    return [_parse_json(line, shown, n) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def _decode_utf8(data: bytes, shown: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(
            f"input file {shown!r} is not valid UTF-8 (byte {e.start}, line {line}); re-encode it as UTF-8"
        ) from None


def _parse_json(text: str, shown: str, line: int | None):
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        where = f"line {line}" if line else f"line {e.lineno}"
        raise InputError(f"{where} of {shown!r} is not valid JSON ({e.msg}); fix or remove it") from None
