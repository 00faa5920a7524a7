"""The token and document tables of one shard, built from encodings and the documents' fields."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ...errors import InputError
from ..inputs import Document
from ..tokens import Encoding

_SCALARS = (str, int, float, bool, type(None))


def shard_tables(
    docs: list[Document], start: int, encodings: list[Encoding], keep_text: bool
) -> tuple[pa.Table, pa.Table]:
    """Tokens (one row per token, scalar fields repeated) and documents (one row each, all fields) of the
    shard whose documents `docs` are numbered from `start`."""
    doc_ids = np.arange(start, start + len(encodings))
    lengths = [len(e) for e in encodings]
    tokens = {
        "doc": pa.array(np.repeat(doc_ids, lengths), pa.int64()),
        "position": pa.array(np.concatenate([np.arange(n) for n in lengths]), pa.int32()),
        "token_id": pa.array(np.concatenate([e.ids for e in encodings]), pa.int32()),
        "char_start": pa.array(np.concatenate([e.starts for e in encodings]), pa.int32()),
        "char_end": pa.array(np.concatenate([e.ends for e in encodings]), pa.int32()),
    }
    fields = [d.fields for d in docs]
    keys = list(dict.fromkeys(k for f in fields for k in f))
    for key in keys:
        if all(isinstance(f.get(key), _SCALARS) for f in fields):
            tokens[key] = _column(
                key, [fields[d].get(key) for d in np.repeat(np.arange(len(fields)), lengths)]
            )
    documents = {"doc": pa.array(doc_ids, pa.int64()), "n_tokens": pa.array(lengths, pa.int64())}
    if keep_text:
        documents["text"] = pa.array([d.text for d in docs], pa.string())
    for key in keys:
        documents[key] = _column(key, [f.get(key) for f in fields])
    return pa.table(tokens), pa.table(documents)


def _column(key: str, values: list) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # pyarrow's message quotes the value, which may be PII
        raise InputError(
            f"field {key!r} has values of mixed structure across records; give it one type"
        ) from None
