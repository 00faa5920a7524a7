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

import pyarrow as pa

from ..errors import InputError

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
        path = _as_path(source)
        if path is None:  # most likely a text passed by mistake: never quoted
            raise InputError(
                f"got a string of {len(source)} characters that is not an input file; "
                "to capture one text, pass it inside a list"
            )
        records, where = _read_file(path, text_field), f"in {path}"
    elif isinstance(source, Iterable) and not isinstance(source, bytes | dict):
        records, where = list(source), "in the input list"
    else:
        raise InputError(
            f"input must be a list of texts or records, or a file path, got {type(source).__name__}"
        )
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
    check_text(text, label)
    clash = sorted(set(fields) & set(RESERVED_FIELDS))
    if clash:
        raise InputError(f"{label} has field(s) {clash} that clash with the store's own columns; rename them")
    return Document(text=text, fields={k: _clean(v) for k, v in fields.items()})


def check_text(text, label: str) -> None:
    """The one check of a text wherever texts enter: a string with something besides whitespace (the text
    is never quoted, only its length)."""
    if text is None:
        raise InputError(f"{label} has text None; give every record a non-empty string")
    if not isinstance(text, str):
        raise InputError(f"{label} has a text of type {type(text).__name__}; texts must be strings")
    if not text.strip():
        raise InputError(
            f"{label} has an empty or whitespace-only text ({len(text)} characters); remove it or give it content"
        )


def _check_field_types(docs: list[Document], where: str) -> None:
    """A field must keep one type across records, or its table column cannot be built (checked before any work)."""
    values: dict[str, list[tuple[int, object]]] = {}
    for i, doc in enumerate(docs):
        for key, value in doc.fields.items():
            if value is not None:
                values.setdefault(key, []).append((i, value))
    for key, items in values.items():
        first_seen: dict[str, int] = {}
        for i, value in items:
            first_seen.setdefault(_kind(value), i)
        if len(first_seen) > 1:
            found = ", ".join(f"{kind} (first in record #{i})" for kind, i in first_seen.items())
            raise InputError(f"field {key!r} {where} mixes value types: {found}; give it one type")
        if next(iter(first_seen)) in ("list", "dict"):
            try:  # their elements must agree too (pyarrow's message would quote values: not passed on)
                pa.array([value for _, value in items])
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                raise InputError(
                    f"field {key!r} {where} holds {next(iter(first_seen))}s whose elements differ in type "
                    "across records; give them one structure"
                ) from None


def _kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    return "number" if isinstance(value, int | float) else type(value).__name__


def _clean(value):
    """NaN (pandas' missing value) becomes None so that fields round-trip through parquet and JSON."""
    return None if isinstance(value, float) and math.isnan(value) else value


def _as_path(source: str | Path) -> Path | None:
    """A Path as given; a string only when it names a file or looks like a file name."""
    if isinstance(source, Path):
        return source
    if "\n" in source or "\0" in source or len(source) > 4096:
        return None
    path = Path(source)
    try:
        return path if path.is_file() or path.suffix.lower() in FILE_SUFFIXES else None
    except (OSError, ValueError):  # e.g. a name too long for the file system
        return None


def _read_file(path: Path, text_field: str) -> list:
    shown = str(path)
    if not path.is_file():
        kind = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise InputError(f"input file {shown!r} {kind}")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return pq.read_table(path).to_pylist()
        except Exception as e:
            raise InputError(
                f"cannot read parquet file {shown!r} ({type(e).__name__}); is it a parquet file?"
            ) from e
    if suffix not in FILE_SUFFIXES:
        raise InputError(f"unsupported input file type {suffix!r} for {shown!r}; use one of {FILE_SUFFIXES}")
    text = _decode_utf8(path.read_bytes(), shown)
    if suffix == ".txt":
        return [{text_field: line, "line": n} for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if suffix == ".csv":
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        for n, row in enumerate(rows, 2):
            if None in row:  # DictReader files surplus values under the key None
                raise InputError(f"line {n} of {shown!r} has more values than its header has columns")
        return rows
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
