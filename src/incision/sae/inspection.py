"""What an SAE's features respond to: top-activating contexts, activation histograms, promoted tokens and
search by example text. Model-aware (reads stores, runs models), so not imported by `incision.sae`;
`incision.sae.dashboard` renders the records here as one HTML file.

Like the SAE sources, everything here leaves out the special tokens the tokenizer adds (empty character
spans): they were not trained on, and Gemma's BOS activation (~1e5) would top every feature.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..core.capture import iter_activations
from ..core.store import ActivationStore
from ..core.tokens import text_mask
from ..errors import ConfigError, InputError
from .config import check_width
from .model import SparseAutoencoder
from .sources import training_rows

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TopActivation:
    """One of a feature's highest activations: where it is, and the tokens around it with the feature's
    activation on each (0 on special tokens) for highlighting; `tokens[center]` is the token itself."""

    feature: int
    value: float
    doc: int
    position: int
    row: int  # global row of the store
    tokens: list[str]
    acts: list[float]
    center: int


@dataclass(frozen=True)
class FeatureHistogram:
    """Nonzero activations of one feature binned (`counts[i]` in [edges[i], edges[i+1])), and how often it
    fires: `n_fired / n_tokens` text tokens."""

    feature: int
    counts: np.ndarray
    edges: np.ndarray
    n_fired: int
    n_tokens: int

    @property
    def frequency(self) -> float:
        return self.n_fired / self.n_tokens if self.n_tokens else 0.0


@dataclass(frozen=True)
class PromotedTokens:
    """The tokens a feature's decoder direction pushes up and down through the unembedding, with their
    logit contributions (largest first for `promoted`, most negative first for `suppressed`)."""

    feature: int
    promoted: list[tuple[str, float]]
    suppressed: list[tuple[str, float]]


@dataclass(frozen=True)
class FeatureMatch:
    """A feature active on a searched text: its largest activation and the token it sits on."""

    feature: int
    value: float
    position: int
    token: str


def top_activations(
    sae: SparseAutoencoder,
    store: ActivationStore,
    site: str,
    features: Sequence[int],
    k: int = 20,
    context: int = 8,
    batch_tokens: int = 4096,
    tokenizer=None,
) -> dict[int, list[TopActivation]]:
    """The `k` highest positive activations of each feature over a store's text tokens (largest first),
    each with `context` tokens either side in its document. Token strings come from the store's document
    texts and character spans, or from `tokenizer` where the store kept no text (and for specials)."""
    feats = _features(sae, features)
    if k < 1 or context < 0:
        raise ConfigError(f"k must be >= 1 and context >= 0, got k={k!r}, context={context!r}")
    best_vals = torch.full((0, len(feats)), -torch.inf)
    best_rows = torch.zeros((0, len(feats)), dtype=torch.long)
    for rows, acts_BF in _feature_stream(sae, store, site, feats, batch_tokens):
        vals = torch.cat([best_vals, acts_BF])
        idx = torch.cat([best_rows, torch.from_numpy(rows)[:, None].expand(-1, len(feats))])
        best_vals, order = vals.topk(min(k, len(vals)), dim=0)
        best_rows = idx.gather(0, order)
    strings = _TokenStrings(store, tokenizer)
    out = {}
    for j, f in enumerate(feats):
        keep = best_vals[:, j] > 0  # a feature that fires fewer than k times lists only where it fired
        out[f] = [
            _record(sae, store, site, f, float(v), int(r), context, strings)
            for v, r in zip(best_vals[keep, j], best_rows[keep, j], strict=True)
        ]
    log.info("top activations of %d features over %d store tokens", len(feats), store.n_tokens)
    return out


def activation_histogram(
    sae: SparseAutoencoder,
    store: ActivationStore,
    site: str,
    features: Sequence[int],
    bins: int = 30,
    batch_tokens: int = 4096,
) -> dict[int, FeatureHistogram]:
    """Per feature, a `bins`-bin histogram (numpy edges) of its nonzero activations over the store's text
    tokens, and its firing frequency."""
    feats = _features(sae, features)
    if bins < 1:
        raise ConfigError(f"bins must be >= 1, got {bins!r}")
    values: list[list[np.ndarray]] = [[] for _ in feats]
    n_tokens = 0
    for _, acts_BF in _feature_stream(sae, store, site, feats, batch_tokens):
        n_tokens += acts_BF.shape[0]
        for j in range(len(feats)):
            col = acts_BF[:, j]
            values[j].append(col[col != 0].numpy())
    out = {}
    for j, f in enumerate(feats):
        fired = np.concatenate(values[j]) if values[j] else np.zeros(0, np.float32)
        counts, edges = np.histogram(fired, bins=bins)
        out[f] = FeatureHistogram(f, counts, edges, int(fired.size), n_tokens)
    return out


def promoted_tokens(sae: SparseAutoencoder, subject, features: Sequence[int], k: int = 10) -> dict:
    """For a causal LM, the `k` tokens each feature's decoder direction promotes and suppresses most:
    (W_dec[f] / input_scale * g) @ W_U^T, with g the final norm's gain where the model has one.

    An approximation (the direct path only, "logit lens"): it ignores the later blocks and the norm's
    division by the residual's scale, which changes magnitudes but not the ranking. It is meaningful for
    residual-stream sites (and for sublayer outputs, which add into the residual stream)."""
    feats = _features(sae, features)
    head = subject.model.get_output_embeddings()
    if head is None or getattr(head, "weight", None) is None:
        raise InputError(f"{subject.name!r} has no unembedding (not a causal LM): no promoted tokens")
    W_U_VD = head.weight.detach()
    check_width(sae, W_U_VD.shape[1], f"the unembedding of {subject.name!r}")
    with torch.no_grad():
        dirs_FD = sae.W_dec_FD[feats].detach().float() / float(sae.input_scale)
        gain = final_norm_gain(subject.model)
        if gain is not None:
            dirs_FD = dirs_FD * gain.to(dirs_FD.device)
        logits_FV = dirs_FD.to(W_U_VD.device) @ W_U_VD.float().T
    k = min(k, logits_FV.shape[1])
    top = logits_FV.topk(k, dim=1)
    bottom = (-logits_FV).topk(k, dim=1)
    names = _ids_to_tokens(subject.tokenizer)
    return {
        f: PromotedTokens(
            f,
            [(names(int(i)), float(v)) for v, i in zip(top.values[j], top.indices[j], strict=True)],
            [(names(int(i)), -float(v)) for v, i in zip(bottom.values[j], bottom.indices[j], strict=True)],
        )
        for j, f in enumerate(feats)
    }


def final_norm_gain(model) -> torch.Tensor | None:
    """The elementwise gain of the norm before the unembedding (Llama/Qwen/Mistral/Gemma `model.norm`,
    GPT-2 `ln_f`, GPT-NeoX `final_layer_norm`); Gemma's RMSNorm scales by 1 + weight. None when absent."""
    base = getattr(model, model.base_model_prefix, model) if hasattr(model, "base_model_prefix") else model
    for name in ("norm", "ln_f", "final_layer_norm", "final_layernorm"):
        norm = getattr(base, name, None)
        weight = getattr(norm, "weight", None)
        if isinstance(weight, torch.Tensor):
            gain = weight.detach().float()
            return 1.0 + gain if "gemma" in type(norm).__name__.lower() else gain
    return None


def search_features(sae: SparseAutoencoder, subject, site: str, text: str, k: int = 10) -> list[FeatureMatch]:
    """The `k` features most active on `text` (their maximum over its text tokens), captured live."""
    name = subject.expand_sites(site)
    if len(name) != 1:
        raise ConfigError(f"search_features takes one site, got {site!r}")
    check_width(sae, subject.d_model, f"site {name[0]!r} of {subject.name!r}")
    acts, encs = [], []
    for chunk in iter_activations(subject, [text], name[0]):
        acts.append(chunk.acts[name[0]])
        encs.extend(chunk.encodings)
    enc = encs[0]
    carries_text = enc.text_mask
    if not carries_text.any():
        raise InputError("the text holds no tokens to search with (specials left out); give some text")
    positions = np.flatnonzero(carries_text)
    with torch.no_grad():
        x = torch.cat(acts)[torch.from_numpy(positions)].to(sae.device, sae.dtype)
        latents_NF = sae.encode(x).float().cpu()
    best, where = latents_NF.max(dim=0)
    top = best.topk(min(k, len(best)))
    return [
        FeatureMatch(int(f), float(v), int(positions[where[f]]), _span(text, enc, int(positions[where[f]])))
        for v, f in zip(top.values, top.indices, strict=True)
    ]


# -- helpers ----------------------------------------------------------------------------------------------
def firing_counts(
    sae: SparseAutoencoder, store: ActivationStore, site: str, batch_tokens: int = 4096
) -> np.ndarray:
    """How many of the store's text tokens each feature fires on (a nonzero activation), [d_sae]."""
    counts = np.zeros(sae.cfg.d_sae, dtype=np.int64)
    for _, acts_BF in _feature_stream(sae, store, site, list(range(sae.cfg.d_sae)), batch_tokens):
        counts += (acts_BF != 0).sum(0).numpy()
    return counts


def most_frequent(counts: np.ndarray, n: int) -> list[int]:
    """The `n` features with the highest counts, ties to the lower id."""
    return [int(f) for f in np.lexsort((np.arange(len(counts)), -counts))[:n]]


def _features(sae: SparseAutoencoder, features: Sequence[int]) -> list[int]:
    feats = [int(f) for f in features]
    bad = [f for f in feats if not 0 <= f < sae.cfg.d_sae]
    if not feats or bad:
        raise ConfigError(f"features must be a non-empty list in [0, {sae.cfg.d_sae}), got bad {bad!r}")
    return feats


def _feature_stream(
    sae: SparseAutoencoder, store: ActivationStore, site: str, feats: list[int], batch_tokens: int
) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
    """(global rows, float32 activations [rows, len(feats)]) over the store's text tokens, in order."""
    check_width(sae, store.width(site), f"site {site!r} of store {str(store.root)!r}")
    rows = training_rows(store)
    if len(rows) == 0:
        raise InputError(f"store {str(store.root)!r} has no text tokens to inspect; capture some text")
    index = torch.tensor(feats, device=sae.device)
    for start in range(0, len(rows), batch_tokens):
        part = rows[start : start + batch_tokens]
        batch = store.gather(site, part)
        with torch.no_grad():
            acts = sae.encode(batch.to(sae.device, sae.dtype)).index_select(1, index)
        yield part, acts.float().cpu()


def _record(sae, store, site, feature, value, row, context, strings) -> TopActivation:
    doc, position = strings.doc[row], strings.position[row]
    first = row - min(position, context)
    last = min(row + context, strings.doc_end[doc] - 1)
    rows = np.arange(first, last + 1)
    with torch.no_grad():
        acts = sae.encode(store.gather(site, rows).to(sae.device, sae.dtype))[:, feature].float().cpu()
    acts = torch.where(torch.from_numpy(strings.special[rows]), 0.0, acts)
    return TopActivation(
        feature, value, int(doc), int(position), row, [strings(r) for r in rows], acts.tolist(), row - first
    )


class _TokenStrings:
    """Token strings of store rows: the text each covers, else the tokenizer's name for its id."""

    def __init__(self, store: ActivationStore, tokenizer=None):
        tokens = store.tokens
        self.doc = tokens["doc"].to_numpy()
        self.position = tokens["position"].to_numpy()
        self.ids = tokens["token_id"].to_numpy()
        self.starts = tokens["char_start"].to_numpy()
        self.ends = tokens["char_end"].to_numpy()
        self.special = ~text_mask(self.starts, self.ends)
        self.doc_end = np.searchsorted(self.doc, np.arange(store.n_docs), side="right")
        docs = store.documents
        self.texts = docs["text"].to_pylist() if "text" in docs.column_names else None
        self.names = _ids_to_tokens(tokenizer) if tokenizer is not None else None
        if self.texts is None and self.names is None:
            raise InputError("the store kept no document text; pass the subject's tokenizer to name tokens")

    def __call__(self, row: int) -> str:
        if self.texts is not None and not self.special[row]:
            return self.texts[self.doc[row]][self.starts[row] : self.ends[row]]
        return self.names(int(self.ids[row])) if self.names else ""


def _ids_to_tokens(tokenizer):
    def name(token_id: int) -> str:
        if hasattr(tokenizer, "convert_ids_to_tokens"):
            return str(tokenizer.convert_ids_to_tokens(token_id))
        return tokenizer.decode([token_id])

    return name


def _span(text: str, enc, position: int) -> str:
    return text[enc.starts[position] : enc.ends[position]]
