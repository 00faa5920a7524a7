"""SAE probes: the same probe machinery on raw activations, SAE latents (all, or k selected) or reconstructions.

A `FeatureSpec` names a feature space: `raw`, `sae_dense` (every latent), `sae_top{k}` (k latents chosen on
the training split by the absolute difference of class means of their activations, the max over
one-vs-rest for multiclass, as Kantamneni et al. 2025 do) or `reconstruction` (decode of encode). A fitted
`FeatureMap` is a callable on token-activation batches, handed to `train_probe` as its `transform`, so the
probe sees the same splits, solver, penalty grid, threshold and metrics as a raw probe. Selection reads the
training split's rows only (`ProbeData.subset("train")`): validation and test rows are never seen.
Sequence-level probes encode each token, then pool the latents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch

from ..errors import ConfigError, InputError
from ..probes.data import ProbeData, features
from ..probes.train import ProbeConfig, ProbeReport, train_probe
from .model import SparseAutoencoder

KINDS = ("raw", "sae_dense", "sae_topk", "reconstruction")
ENCODE_ROWS = 8192  # token rows encoded at once
_TOPK_NAME = re.compile(r"sae_top(\d+)")


@dataclass(frozen=True)
class FeatureSpec:
    """Which features a probe reads. `name` is its short form: raw, sae_dense, sae_top8, reconstruction."""

    kind: Literal["raw", "sae_dense", "sae_topk", "reconstruction"] = field(
        default="raw", metadata={"help": "raw activations, all SAE latents, k selected latents, or x_hat"}
    )
    k: int | None = field(default=None, metadata={"help": "latents kept (sae_topk only)"})

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"feature kind must be one of {list(KINDS)}, got {self.kind!r}")
        if self.kind == "sae_topk":
            if not isinstance(self.k, int) or isinstance(self.k, bool) or self.k < 1:
                raise ConfigError(f"sae_topk needs k, a positive integer, got {self.k!r}")
        elif self.k is not None:
            raise ConfigError(f"k selects latents for sae_topk only, not for {self.kind!r}; got k={self.k!r}")

    @property
    def name(self) -> str:
        return f"sae_top{self.k}" if self.kind == "sae_topk" else self.kind

    @classmethod
    def parse(cls, name: str) -> FeatureSpec:
        """`raw`, `sae_dense`, `reconstruction` or `sae_top{k}` (e.g. `sae_top32`)."""
        match = _TOPK_NAME.fullmatch(name)
        if match:
            return cls("sae_topk", int(match.group(1)))
        if name not in ("raw", "sae_dense", "reconstruction"):
            raise ConfigError(
                f"feature space {name!r} is unknown; use raw, sae_dense, reconstruction or sae_top<k>"
            )
        return cls(name)  # type: ignore[arg-type]


STANDARD_SPECS = tuple(
    FeatureSpec.parse(n) for n in ("raw", "sae_dense", "sae_top1", "sae_top8", "sae_top32", "reconstruction")
)


@dataclass
class LatentSelection:
    """Latents ranked by how far their class means differ on the training rows, best first."""

    latents_K: torch.Tensor  # latent indices
    scores_K: torch.Tensor  # |mean(class) - mean(rest)|, max over classes


@dataclass
class FeatureMap:
    """A fitted map from token activations [n, d_in] to probe features; call it on batches."""

    spec: FeatureSpec
    sae: SparseAutoencoder | None = None
    selection: LatentSelection | None = None

    def __post_init__(self) -> None:
        if self.spec.kind != "raw" and self.sae is None:
            raise ConfigError(f"feature space {self.spec.name!r} needs an SAE")
        if self.spec.kind == "sae_topk" and self.selection is None:
            raise ConfigError(
                f"feature space {self.spec.name!r} needs its latents selected (fit_feature_map)"
            )

    @property
    def width(self) -> int | None:
        """Features per example (None for raw: the site's width)."""
        if self.spec.kind == "raw":
            return None
        if self.spec.kind == "sae_topk":
            return len(self.selection.latents_K)
        return self.sae.cfg.d_sae if self.spec.kind == "sae_dense" else self.sae.cfg.d_in

    @torch.no_grad()
    def __call__(self, x_ND: torch.Tensor) -> torch.Tensor:
        if self.spec.kind == "raw":
            return x_ND
        chunks = [self._map(x_ND[i : i + ENCODE_ROWS]) for i in range(0, x_ND.shape[0], ENCODE_ROWS)]
        return torch.cat(chunks) if chunks else self._map(x_ND)

    def _map(self, x_ND: torch.Tensor) -> torch.Tensor:
        latents = self.sae.encode(x_ND)
        if self.spec.kind == "reconstruction":
            return self.sae.decode(latents).float().cpu()
        if self.spec.kind == "sae_topk":
            latents = latents[:, self.selection.latents_K.to(latents.device)]
        return latents.float().cpu()

    def meta(self) -> dict:
        """What a probe trained on these features records (its inputs are these features, not raw ones)."""
        out: dict = {"features": self.spec.name}
        if self.sae is not None:
            out["sae"] = {k: self.sae.meta.get(k) for k in ("model", "site", "path") if k in self.sae.meta}
            out["sae"].update(d_in=self.sae.cfg.d_in, d_sae=self.sae.cfg.d_sae)
        if self.selection is not None:
            out["latents"] = self.selection.latents_K.tolist()
        return out


def select_latents(latents_NF: torch.Tensor, y_N, k: int) -> LatentSelection:
    """The k latents whose mean activation differs most between a class and the rest (binary: between the
    two classes), ties to the lower index. Give it training rows only."""
    latents = torch.as_tensor(latents_NF).double()
    y = torch.as_tensor(np.asarray(y_N)).long()
    if latents.ndim != 2 or latents.shape[0] != y.shape[0] or latents.shape[0] == 0:
        raise InputError(f"latents must be [N, d_sae] with one label per row, got {list(latents.shape)}")
    if not 1 <= k <= latents.shape[1]:
        raise ConfigError(f"k must be between 1 and the {latents.shape[1]} latents, got {k}")
    classes = torch.unique(y)
    if len(classes) < 2:
        raise InputError(f"the training rows hold one class only ({int(classes[0])}); cannot rank latents")
    scores = torch.zeros(latents.shape[1], dtype=torch.float64)
    for c in classes if len(classes) > 2 else classes[1:]:
        inside = y == c
        gap = (latents[inside].mean(0) - latents[~inside].mean(0)).abs()
        scores = torch.maximum(scores, gap)
    order = torch.from_numpy(np.argsort(-scores.numpy(), kind="stable")[:k].copy())
    return LatentSelection(order, scores[order].float())


def fit_feature_map(
    spec: FeatureSpec,
    sae: SparseAutoencoder | None,
    store=None,
    site: str | None = None,
    data: ProbeData | None = None,
    pooling: str | None = None,
) -> FeatureMap:
    """A `FeatureMap` for `spec`; for sae_topk the latents are selected from the training split of `data`
    (its pooled latents at sequence level), read from `store` at `site` alone."""
    if spec.kind != "sae_topk":
        return FeatureMap(spec, sae)
    if sae is None or store is None or site is None or data is None:
        raise ConfigError(f"feature space {spec.name!r} needs an SAE, a store, a site and probe data")
    dense = FeatureMap(FeatureSpec("sae_dense"), sae)
    train = data.subset("train")
    latents = features(store, site, train, pooling, dense)
    return FeatureMap(spec, sae, select_latents(latents, train.y_N, spec.k))


@dataclass
class SAEProbeReport:
    """A probe trained on one feature space, with the map that makes its features."""

    features: FeatureMap
    report: ProbeReport

    def to_dict(self) -> dict:
        return {**self.features.meta(), **self.report.to_dict()}


def train_sae_probe(
    store,
    site: str,
    sae: SparseAutoencoder | None,
    spec: FeatureSpec | str = "sae_dense",
    config: ProbeConfig | None = None,
    data: ProbeData | None = None,
) -> SAEProbeReport:
    """`train_probe` on the features of `spec` (same config, same splits as a raw probe given the same
    `data`); for sae_topk the latents are chosen on the training split first."""
    spec = FeatureSpec.parse(spec) if isinstance(spec, str) else spec
    config = config or ProbeConfig()
    data = data or config.prepare(store)
    if sae is not None and store.width(site) != sae.cfg.d_in:
        raise InputError(f"the SAE reads width {sae.cfg.d_in}, but site {site} has width {store.width(site)}")
    feature_map = fit_feature_map(spec, sae, store, site, data, config.pooling_or_none)
    report = train_probe(store, site, config, data, None if spec.kind == "raw" else feature_map)
    report.probe.meta.update(feature_map.meta())
    return SAEProbeReport(feature_map, report)


def train_sae_probes(
    store,
    site: str,
    sae: SparseAutoencoder,
    specs=STANDARD_SPECS,
    config: ProbeConfig | None = None,
    data: ProbeData | None = None,
) -> dict[str, SAEProbeReport]:
    """One probe per feature space (default: raw, sae_dense, sae_top1/8/32, reconstruction), on shared splits.
    A top-k larger than the SAE's width is skipped."""
    config = config or ProbeConfig()
    data = data or config.prepare(store)
    out = {}
    for spec in specs:
        spec = FeatureSpec.parse(spec) if isinstance(spec, str) else spec
        if spec.kind == "sae_topk" and spec.k > sae.cfg.d_sae:
            continue
        out[spec.name] = train_sae_probe(store, site, sae, spec, config, data)
    return out
