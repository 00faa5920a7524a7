"""Labels for probes: class indices from field values, and token labels from character spans.

A token is labelled by the span its characters fall in: the span its character range overlaps most.
Tokens that cover no characters (the specials a tokenizer adds) and tokens outside every span get the
background label. Byte-level pieces of one character all map to that character, so they share its label.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

BACKGROUND = "none"
MAX_CLASSES = 256


def encode_labels(
    values: list, field: str, label_names: list[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Class indices of `values` (str, bool or int, one kind), and the label names in index order.

    Names default to the sorted distinct values, so for "benign"/"harmful" or False/True the second
    one is the positive class of a binary probe.
    """
    missing = [i for i, v in enumerate(values) if v is None]
    if missing:
        raise InputError(
            f"label field {field!r} is missing for {len(missing)} of {len(values)} examples "
            f"(first: example {missing[0]}); label every example or drop the unlabelled ones"
        )
    kinds = {_kind(v) for v in values}
    if len(kinds) != 1 or not kinds <= {"str", "bool", "int"}:
        shown = sorted(k for k in kinds)
        raise InputError(
            f"label field {field!r} must hold strings, booleans or integers of one kind, got {shown}"
        )
    distinct = set(values)
    if len(distinct) > MAX_CLASSES:  # not a categorical label (maybe a text field): never list its values
        raise InputError(
            f"label field {field!r} has {len(distinct)} distinct values; a probe takes at most {MAX_CLASSES} classes"
        )
    as_text = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
    if label_names is None:
        label_names = [str(v).lower() if isinstance(v, bool) else str(v) for v in sorted(distinct)]
    index = {name: k for k, name in enumerate(label_names)}
    unknown = sorted(set(as_text) - set(index))
    if unknown:
        raise InputError(f"label field {field!r} holds {unknown[0]!r}, which is not one of {label_names}")
    return np.array([index[t] for t in as_text], dtype=np.int64), list(label_names)


def span_label_names(spans_per_doc: list, field: str) -> list[str]:
    """The background label, then every span label in sorted order."""
    labels = {
        str(span.get("label")) for spans in spans_per_doc for span in (spans or []) if isinstance(span, dict)
    }
    return [BACKGROUND, *sorted(labels - {BACKGROUND})]


def token_labels_from_spans(
    starts_N: np.ndarray,
    ends_N: np.ndarray,
    spans: list[dict] | None,
    label_index: dict[str, int],
    text_length: int,
    where: str,
) -> np.ndarray:
    """Label of each token of one document from its character spans (code point offsets)."""
    if BACKGROUND not in label_index:
        raise InputError(f"span labels need the background label {BACKGROUND!r} among the label names")
    starts, ends = np.asarray(starts_N), np.asarray(ends_N)
    labels = np.full(len(starts), label_index[BACKGROUND], dtype=np.int64)
    best_overlap = np.zeros(len(starts), dtype=np.int64)
    for k, span in enumerate(spans or []):
        start, end, label = _check_span(span, text_length, f"{where}, span {k}")
        overlap = np.minimum(ends, end) - np.maximum(starts, start)
        better = overlap > best_overlap
        labels[better] = label_index[label]
        best_overlap[better] = overlap[better]
    return labels


def _check_span(span, text_length: int, where: str) -> tuple[int, int, str]:
    if not isinstance(span, dict) or not {"start", "end", "label"} <= set(span):
        raise InputError(f"{where} must be an object with start, end and label")
    start, end, label = span["start"], span["end"], span["label"]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
        raise InputError(f"{where} has non-integer offsets start={start!r}, end={end!r}")
    if not 0 <= start < end <= text_length:
        raise InputError(
            f"{where} runs from {start} to {end}, outside the text's {text_length} characters or empty"
        )
    if not isinstance(label, str) or not label:
        raise InputError(f"{where} has label {label!r}; labels must be non-empty strings")
    return start, end, label


def _kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | np.integer):
        return "int"
    if isinstance(value, str):
        return "str"
    return type(value).__name__
