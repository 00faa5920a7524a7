"""What a probe learns from, read from a store: examples, labels and document-level splits.

`prepare` works out once, for any site, which rows are examples and which documents fall in which split;
`features` then reads one site's activations for them. Splits are by document, so no document has tokens
on both sides. The specials a tokenizer adds (empty character spans) are left out by default: Gemma's BOS
activation is ~1e5 and would swamp any pooled vector.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..core.store import ActivationStore
from ..core.tokens import store_text_mask
from ..errors import ConfigError, InputError
from .labels import BACKGROUND, encode_labels, span_label_names, token_labels_from_spans
from .pooling import pad_segments, pool_segments

POOL_BYTES = 256 << 20  # float32 activations read at once when pooling documents
Transform = Callable[[torch.Tensor], torch.Tensor]  # token rows [n, width] -> features [n, width']
TRAIN_SPLITS, VAL_SPLITS, TEST_SPLITS = ("train",), ("val", "validation", "dev"), ("test",)


@dataclass
class ProbeData:
    """Examples (documents or tokens), their labels, and their splits: train, val, test and any extra."""

    level: str  # "sequence" or "token"
    label_names: list[str]
    y_N: np.ndarray
    splits: dict[str, np.ndarray]  # split name -> example indices
    rows_R: np.ndarray  # store rows read: the tokens (token level) or each document's tokens, in order
    lengths: list[int]  # sequence level: tokens of each document in rows_R

    def indices(self, split: str) -> np.ndarray:
        return self.splits[split]

    def subset(self, split: str) -> ProbeData:
        """The examples of one split alone, as data whose only split is `split`: reading its features
        reads no row of any other split."""
        idx = self.indices(split)
        if self.level == "token":
            return ProbeData(
                self.level,
                self.label_names,
                self.y_N[idx],
                {split: np.arange(len(idx))},
                self.rows_R[idx],
                [],
            )
        bounds = np.cumsum([0, *self.lengths])
        rows = [self.rows_R[bounds[i] : bounds[i + 1]] for i in idx]
        return ProbeData(
            self.level,
            self.label_names,
            self.y_N[idx],
            {split: np.arange(len(idx))},
            np.concatenate(rows) if rows else self.rows_R[:0],
            [self.lengths[i] for i in idx],
        )


def prepare(
    store: ActivationStore,
    level: str = "sequence",
    label_field: str = "label",
    spans_field: str | None = None,
    split_field: str | None = None,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    include_special: bool = False,
    seed: int = 0,
) -> ProbeData:
    """Labels from a document field (sequence level), or per token from a token-table column or
    character spans (token level); splits from `split_field` or drawn at random, stratified by label."""
    y_N, names, rows, lengths, doc_of_example, strata = _examples(
        store, level, label_field, spans_field, include_special
    )
    doc_splits = _split_documents(store, split_field, strata, val_fraction, test_fraction, seed)
    splits = {name: np.flatnonzero(np.isin(doc_of_example, docs)) for name, docs in doc_splits.items()}
    data = ProbeData(level, names, y_N, splits, rows, lengths)
    _check_splits(data, split_field)
    return data


def evaluation_data(
    store: ActivationStore,
    label_names: list[str],
    level: str = "sequence",
    label_field: str = "label",
    spans_field: str | None = None,
    include_special: bool = False,
    where: tuple[str, str] | None = None,
) -> ProbeData:
    """Every example (or those of documents whose field `where[0]` equals `where[1]`) as one split,
    "eval", labelled with a trained probe's label names."""
    y_N, names, rows, lengths, doc_of_example, _ = _examples(
        store, level, label_field, spans_field, include_special, label_names
    )
    docs = np.arange(store.n_docs)
    if where is not None:
        values = np.array([str(v) for v in _doc_column(store, where[0])], dtype=object)
        docs = np.flatnonzero(values == where[1])
        if len(docs) == 0:
            distinct = sorted(set(values))
            shown = distinct if len(distinct) <= 20 else f"{len(distinct)} distinct values"
            raise InputError(f"no document has {where[0]}={where[1]!r}; the field holds {shown}")
    return ProbeData(
        level, names, y_N, {"eval": np.flatnonzero(np.isin(doc_of_example, docs))}, rows, lengths
    )


def _examples(store, level, label_field, spans_field, include_special, label_names=None):
    """(labels, label names, store rows, tokens per document, document of each example, strata)."""
    if level not in ("sequence", "token"):
        raise ConfigError(f"level must be 'sequence' or 'token', got {level!r}")
    if not store.complete:
        raise InputError(
            f"store {str(store.root)!r} is incomplete; finish its capture before training probes"
        )
    tokens = store.tokens
    doc_T = tokens["doc"].to_numpy()
    rows = np.flatnonzero(_usable_tokens(tokens, include_special))
    if level == "sequence":
        y_N, names = encode_labels(_doc_column(store, label_field), label_field, label_names)
        lengths = np.bincount(doc_T[rows], minlength=store.n_docs).tolist()
        if 0 in lengths:
            raise InputError(
                f"document {lengths.index(0)} has no token that carries text; drop it or give it text"
            )
        return y_N, names, rows, lengths, np.arange(store.n_docs), y_N
    y_all, names = _token_labels(store, tokens, label_field, spans_field, label_names)
    y_N = y_all[rows]
    return y_N, names, rows, [], doc_T[rows], _document_strata(doc_T[rows], y_N, store.n_docs, names)


def features(
    store: ActivationStore,
    site: str,
    data: ProbeData,
    pooling: str | None,
    transform: Transform | None = None,
) -> torch.Tensor:
    """Float32 [examples, width] features of one site: token rows, or documents pooled (read a chunk of
    documents at a time, so a store's tokens need not fit in memory at once). `transform` (e.g. an SAE's
    encoder) maps each batch of token rows before pooling."""
    transform = transform or _identity
    if data.level == "token":
        acts = store.gather(site, data.rows_R, torch.float32)
        check_finite(acts, site)
        return transform(acts).float()
    bounds = np.cumsum([0, *data.lengths])
    chunk_rows = max(1, POOL_BYTES // (4 * store.width(site)))
    pooled, first, n_bad = [], 0, 0
    while first < len(data.lengths):
        last = max(first + 1, int(np.searchsorted(bounds, bounds[first] + chunk_rows, side="right")) - 1)
        acts = store.gather(site, data.rows_R[bounds[first] : bounds[last]], torch.float32)
        n_bad += int((~torch.isfinite(acts)).any(dim=1).sum())
        if not n_bad:
            pooled.append(pool_segments(transform(acts).float(), data.lengths[first:last], pooling))
        first = last
    check_finite(None, site, n_bad)
    return torch.cat(pooled) if pooled else transform(torch.zeros(0, store.width(site))).float()


def padded_sequences(
    store: ActivationStore, site: str, data: ProbeData, transform: Transform | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Every document's tokens (mapped by `transform`, if given) as one padded batch [docs, longest, width]
    and its mask."""
    acts = store.gather(site, data.rows_R, torch.float32)
    check_finite(acts, site)
    return pad_segments((transform or _identity)(acts).float(), data.lengths)


def _identity(acts: torch.Tensor) -> torch.Tensor:
    return acts


def check_finite(acts: torch.Tensor | None, site: str, bad: int = 0) -> None:
    """Refuse activations with NaN or inf rows (`bad` of them counted already when `acts` is None)."""
    if acts is not None:
        bad = int((~torch.isfinite(acts)).any(dim=1).sum())
    if bad:
        raise InputError(
            f"site {site} has {bad} token rows holding NaN or inf; recapture it (in bfloat16 or float32)"
        )


def _usable_tokens(tokens, include_special: bool) -> np.ndarray:
    """Token rows that carry text (`tokens.text_mask`); every row with `include_special`."""
    if include_special:
        return np.ones(tokens.num_rows, dtype=bool)
    return store_text_mask(tokens)


def _doc_column(store: ActivationStore, field: str) -> list:
    documents = store.documents
    if field == "text":  # a label or split made of texts would put them (maybe PII) into error messages
        raise InputError(
            "field 'text' holds the documents' texts; name the field that holds labels or splits"
        )
    if field not in documents.column_names:
        fields = [c for c in documents.column_names if c not in ("doc", "n_tokens", "text")]
        raise InputError(f"the store's documents have no field {field!r}; their fields are {fields}")
    return documents[field].to_pylist()


def _token_labels(store, tokens, label_field, spans_field, label_names) -> tuple[np.ndarray, list[str]]:
    if spans_field is None:
        if label_field not in tokens.column_names:
            raise InputError(
                f"the token table has no column {label_field!r}; give a scalar document field, or "
                f"character spans with spans_field"
            )
        return _encode_token_column(tokens[label_field], label_field, label_names)
    spans_per_doc = _doc_column(store, spans_field)
    found = span_label_names(spans_per_doc, spans_field)
    names = list(label_names) if label_names is not None else found
    unknown = sorted(set(found) - set(names))
    if unknown:
        raise InputError(f"spans in {spans_field!r} carry label {unknown[0]!r}, which is not one of {names}")
    index = {name: k for k, name in enumerate(names)}
    starts, ends = tokens["char_start"].to_numpy(), tokens["char_end"].to_numpy()
    texts = store.documents["text"].to_pylist() if "text" in store.documents.column_names else None
    bounds = np.cumsum([0, *store.documents["n_tokens"].to_pylist()])
    labels = np.empty(len(starts), dtype=np.int64)
    for doc, spans in enumerate(spans_per_doc):
        if spans is not None and not isinstance(spans, list):
            raise InputError(f"field {spans_field!r} of document {doc} must be a list of spans")
        a, b = bounds[doc], bounds[doc + 1]
        length = len(texts[doc]) if texts else int(ends[a:b].max(initial=0))
        where = f"document {doc}, field {spans_field!r}"
        labels[a:b] = token_labels_from_spans(starts[a:b], ends[a:b], spans, index, length, where)
    return labels, names


def _encode_token_column(column, field: str, label_names) -> tuple[np.ndarray, list[str]]:
    """Class indices of a token column, encoded once per distinct value (stores have millions of rows)."""
    if column.null_count:
        first = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
        raise InputError(
            f"label column {field!r} is missing for {column.null_count} of {len(column)} tokens "
            f"(first: token row {first}); label every token or drop the unlabelled documents"
        )
    encoded = column.combine_chunks().dictionary_encode()
    distinct_y, names = encode_labels(encoded.dictionary.to_pylist(), field, label_names)
    return distinct_y[encoded.indices.to_numpy()], names


def _document_strata(doc_N: np.ndarray, y_N: np.ndarray, n_docs: int, names: list[str]) -> np.ndarray:
    """A document's most frequent non-background token label (background if it has none)."""
    background = names.index(BACKGROUND) if BACKGROUND in names else -1
    counts = np.zeros((n_docs, len(names)), dtype=np.int64)
    np.add.at(counts, (doc_N, y_N), 1)
    if background >= 0:
        counts[:, background] = 0
    strata = counts.argmax(1)
    strata[counts.sum(1) == 0] = max(background, 0)
    return strata


def _split_documents(
    store, split_field: str | None, strata_D: np.ndarray, val: float, test: float, seed: int
) -> dict[str, np.ndarray]:
    """Documents named "train" (all of them, without a split field) are drawn into train, val and test,
    stratified; documents named val or test go there; any other name is an extra evaluation set."""
    if not (0 < val < 1 and 0 <= test < 1 and val + test < 1):
        raise ConfigError(f"val_fraction {val} and test_fraction {test} must be fractions summing below 1")
    names = ["train"] * len(strata_D)
    if split_field is not None:
        names = [_canonical_split(str(v)) for v in _doc_column(store, split_field)]
    groups: dict[str, list[int]] = {}
    for doc, name in enumerate(names):
        groups.setdefault(name, []).append(doc)
    pool = np.array(groups.pop("train", []), dtype=np.int64)
    fractions = {"val": 0.0 if "val" in groups else val, "test": 0.0 if "test" in groups else test}
    drawn: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    rng = np.random.default_rng(seed)
    for stratum in np.unique(strata_D[pool]):
        members = rng.permutation(pool[strata_D[pool] == stratum]).tolist()
        n_val, n_test = (_share(len(members), fractions[k]) for k in ("val", "test"))
        drawn["val"] += members[:n_val]
        drawn["test"] += members[n_val : n_val + n_test]
        drawn["train"] += members[n_val + n_test :]
    for key, docs in drawn.items():
        groups[key] = groups.get(key, []) + docs
    return {k: np.sort(np.array(v, dtype=np.int64)) for k, v in groups.items() if v or k != "test"}


def _canonical_split(name: str) -> str:
    name = name.strip().lower()
    if name in VAL_SPLITS:
        return "val"
    return "train" if name in TRAIN_SPLITS else "test" if name in TEST_SPLITS else name


def _share(n: int, fraction: float) -> int:
    """At least one of a class in each drawn split when there are enough to go round."""
    if fraction == 0:
        return 0
    return max(1, round(n * fraction)) if n >= 3 else 0


def _check_splits(data: ProbeData, split_field: str | None) -> None:
    if len(np.unique(data.y_N)) < 2:
        raise InputError(
            f"labels hold one class only ({data.label_names[int(data.y_N[0])]!r}); "
            "a probe needs examples of at least two"
        )
    for split in ("train", "val"):
        present = np.unique(data.y_N[data.splits.get(split, np.array([], dtype=np.int64))])
        if len(present) < 2 or (split == "train" and len(present) < len(np.unique(data.y_N))):
            counts = np.bincount(data.y_N, minlength=len(data.label_names))
            shown = ", ".join(f"{c} {n}" for n, c in zip(data.label_names, counts.tolist(), strict=True))
            raise InputError(
                f"too few examples for a {split} split with every class ({shown}); "
                "a probe needs at least 3 documents of each class"
                + (f" and both classes in each value of {split_field!r}" if split_field else "")
            )
