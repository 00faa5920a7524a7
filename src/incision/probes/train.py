"""Train one probe on one site of a store: penalty and threshold chosen on validation, metrics reported.

The solver follows the data's size: full-batch L-BFGS when the features fit in `memory_gb`, minibatch
AdamW streamed from the store when they do not (token-level probes on big stores). Attention pooling is
learned with AdamW; the difference-of-means baseline needs no solver.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch

from ..configs import check_choices
from ..distributed.ddp import shard_bounds, world
from ..errors import ConfigError
from ..store import ActivationStore
from . import fit as solvers
from .data import ProbeData, Transform, features, padded_sequences, prepare
from .linear import LinearProbe, check_l2, sample_weights, standardisation
from .metrics import choose_threshold, evaluate
from .streaming import fit_streaming, predict_rows

log = logging.getLogger(__name__)

L2_GRID = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0)
ATTENTION_BATCH = 64  # documents per step of attention pooling


@dataclass
class ProbeConfig:
    """How probes are trained from a store. Every field is also an option of `incision probe train`."""

    level: Literal["sequence", "token"] = field(
        default="sequence", metadata={"help": "one label per document, or per token"}
    )
    pooling: Literal["mean", "max", "last", "attention"] = field(
        default="mean", metadata={"help": "how a document's tokens are pooled (sequence level)"}
    )
    label_field: str = field(
        default="label", metadata={"help": "document field (or token column) with labels"}
    )
    spans_field: str | None = field(
        default=None, metadata={"help": "document field of character spans that label tokens (token level)"}
    )
    split_field: str | None = field(
        default=None,
        metadata={
            "help": "document field naming splits: train (drawn into train/val/test), val, test, others"
        },
    )
    method: Literal["logistic", "diff_means"] = field(
        default="logistic",
        metadata={"help": "logistic/softmax regression, or the difference-of-means baseline"},
    )
    l2: float | None = field(
        default=None, metadata={"help": "L2 penalty (scikit-learn's 1/C); default: chosen on validation"}
    )
    class_weight: Literal["none", "balanced"] = field(
        default="none", metadata={"help": "'balanced' weights classes by inverse frequency"}
    )
    val_fraction: float = field(
        default=0.2, metadata={"help": "share of training documents held for validation"}
    )
    test_fraction: float = field(default=0.2, metadata={"help": "share of training documents held for test"})
    threshold: Literal["f1", "accuracy", "recall95"] = field(
        default="f1", metadata={"help": "what the decision threshold maximises on validation (binary)"}
    )
    solver: Literal["auto", "lbfgs", "adamw"] = field(
        default="auto", metadata={"help": "auto: L-BFGS if features fit in memory_gb, else streamed AdamW"}
    )
    memory_gb: float = field(default=4.0, metadata={"help": "memory the in-memory solver may use"})
    epochs: int = field(default=4, metadata={"help": "passes over the data (AdamW)"})
    batch_size: int = field(default=4096, metadata={"help": "examples per AdamW step"})
    lr: float = field(default=0.01, metadata={"help": "AdamW learning rate"})
    include_special: bool = field(
        default=False, metadata={"help": "use the tokenizer's added special tokens (BOS...) too"}
    )
    n_bootstrap: int = field(default=1000, metadata={"help": "bootstrap resamples for confidence intervals"})
    seed: int = field(default=0, metadata={"help": "seed of splits and minibatches"})

    def __post_init__(self) -> None:
        check_choices(self)
        if self.l2 is not None:
            check_l2(self.l2)
        if self.method == "diff_means" and self.pooling == "attention":
            raise ConfigError(
                "attention pooling is learned; the difference-of-means probe takes mean, max or last"
            )
        for name in ("epochs", "batch_size"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not self.memory_gb > 0 or not self.lr > 0:
            raise ConfigError(f"memory_gb and lr must be positive, got {self.memory_gb!r} and {self.lr!r}")

    @property
    def pooling_or_none(self) -> str | None:
        return self.pooling if self.level == "sequence" else None

    def prepare(self, store: ActivationStore) -> ProbeData:
        return prepare(
            store,
            level=self.level,
            label_field=self.label_field,
            spans_field=self.spans_field,
            split_field=self.split_field,
            val_fraction=self.val_fraction,
            test_fraction=self.test_fraction,
            include_special=self.include_special,
            seed=self.seed,
        )


@dataclass
class ProbeReport:
    """A trained probe with how it was chosen and how it scores on each split."""

    site: str
    probe: LinearProbe
    l2: float | None
    val_loss_by_l2: dict[float, float]
    metrics: dict  # split name -> BinaryMetrics | MulticlassMetrics
    n_examples: dict[str, int]

    def headline(self, split: str = "val") -> float:
        return float(self.metrics[split].headline)

    def to_dict(self) -> dict:
        return {
            "site": self.site,
            "l2": self.l2,
            "threshold": self.probe.threshold,
            "val_loss_by_l2": {str(k): v for k, v in self.val_loss_by_l2.items()},
            "n_examples": self.n_examples,
            "metrics": {name: m.to_dict() for name, m in self.metrics.items()},
        }


def train_probe(
    store: ActivationStore,
    site: str,
    config: ProbeConfig | None = None,
    data: ProbeData | None = None,
    transform: Transform | None = None,
) -> ProbeReport:
    """Train a probe on `site` of `store`, choose its penalty and threshold on validation, and evaluate it.
    `transform` maps each batch of token activations [n, width] to the features the probe reads (before
    pooling), e.g. an SAE's latents; it must be fitted already, on training rows only (see
    `incision.sae.probe_features`)."""
    config = config or ProbeConfig()
    data = data or config.prepare(store)
    if _streams(store, site, data, config):
        if transform is not None:
            raise ConfigError(
                f"a feature transform needs the in-memory solver, but solver {config.solver!r} streams "
                f"these {len(data.rows_R)} token rows; set solver='lbfgs' (and memory_gb) or use fewer rows"
            )
        probe, losses, proba = _fit_streamed(store, site, data, config)
    elif config.pooling_or_none == "attention":
        probe, losses, proba = _fit_attention(store, site, data, config, transform)
    else:
        probe, losses, proba = _fit_in_memory(store, site, data, config, transform)
    chosen = min(losses, key=losses.get) if losses else None
    probe.meta.update(_meta(store, site, data, config), l2=chosen)
    if len(data.label_names) == 2:
        criterion = ("recall", 0.95) if config.threshold == "recall95" else config.threshold
        probe.threshold = float(
            choose_threshold(data.y_N[data.indices("val")], proba["val"][:, 1], criterion)
        )
    metrics = {
        split: evaluate(
            data.y_N[data.indices(split)],
            p,
            data.label_names,
            threshold=probe.threshold,
            n_bootstrap=config.n_bootstrap,
            seed=config.seed,
        )
        for split, p in proba.items()
    }
    counts = {split: len(idx) for split, idx in data.splits.items()}
    return ProbeReport(site, probe, chosen, losses, metrics, counts)


def _streams(store, site: str, data: ProbeData, config: ProbeConfig) -> bool:
    """Whether the features are streamed: asked for, or (auto) more than `memory_gb` in memory. The
    in-memory solver holds about 24 bytes per value in float64 (x, z and z[train]), 12 in float32."""
    if data.level == "sequence" or config.method != "logistic":
        if config.solver == "adamw":
            raise ConfigError(
                "streamed AdamW trains token-level logistic probes; use solver 'auto' or 'lbfgs' here"
            )
        return False
    n_values = len(data.rows_R) * store.width(site)
    bytes_per_value = 24 if n_values <= solvers.FLOAT64_MAX_VALUES else 12
    return config.solver == "adamw" or (
        config.solver == "auto" and n_values * bytes_per_value > config.memory_gb * 2**30
    )


def _evaluated(data: ProbeData, proba) -> dict[str, np.ndarray]:
    """Probabilities of the examples of every split but train, as float64 numpy arrays."""
    return {
        split: np.asarray(proba[idx], dtype=np.float64)
        for split, idx in data.splits.items()
        if split != "train"
    }


def _weights(data: ProbeData, config: ProbeConfig) -> torch.Tensor:
    """Per-example weights for every example, balanced (if asked) by the training split's counts."""
    y = torch.from_numpy(data.y_N)
    train = torch.from_numpy(data.y_N[data.indices("train")])
    return sample_weights(y, len(data.label_names), _class_weight(config), counted=train)


def _fit_in_memory(store, site: str, data: ProbeData, config: ProbeConfig, transform=None):
    train, val = data.indices("train"), data.indices("val")
    n_classes = len(data.label_names)
    y = torch.from_numpy(data.y_N)
    x = features(store, site, data, config.pooling_or_none, transform)
    if config.method == "diff_means":
        probe = LinearProbe.fit_diff_means(
            x[train], y[train], data.label_names, class_weight=_class_weight(config)
        )
        probe.pooling = config.pooling_or_none
        return probe, {}, _evaluated(data, probe.predict_proba(x).double())
    dtype = torch.float64 if x.numel() <= solvers.FLOAT64_MAX_VALUES else torch.float32
    mean, std = standardisation(x[train].to(dtype))
    z = (x.to(dtype) - mean) / std
    weights = _weights(data, config)
    # under torch distributed (float64 fits), each process fits on its share of the training rows; the
    # rest (features, validation, metrics) is computed whole by every process
    rank, size = world()
    sharded = size > 1 and dtype == torch.float64
    fit_rows = train[slice(*shard_bounds(len(train), rank, size))] if sharded else train
    losses, solutions, solution = {}, {}, None
    for l2 in [config.l2] if config.l2 else sorted(L2_GRID, reverse=True):  # strong to weak: warm starts
        solution = solvers.lbfgs(
            z[fit_rows], y[fit_rows], n_classes, l2, weights[fit_rows], init=solution, sharded=sharded
        )
        logits = z[val] @ solution.weight_CD.T.to(z.dtype) + solution.bias_C.to(z.dtype)
        losses[l2] = float(solvers.weighted_loss(logits, y[val], weights[val]) / weights[val].sum())
        solutions[l2] = solution
    best = solutions[min(losses, key=losses.get)]
    probe = LinearProbe.from_solution(best, mean, std, data.label_names, pooling=config.pooling_or_none)
    return probe, losses, _evaluated(data, probe.predict_proba(x).double())  # what the probe says later


def _fit_attention(store, site: str, data: ProbeData, config: ProbeConfig, transform=None):
    train, val = data.indices("train"), data.indices("val")
    acts, mask = padded_sequences(store, site, data, transform)
    mean, std = standardisation(acts[train][mask[train]].double())
    z = ((acts - mean.float()) / std.float()).masked_fill(~mask[..., None], 0.0)
    y = torch.from_numpy(data.y_N)
    n_classes = len(data.label_names)
    weights = _weights(data, config).float()
    l2s = [config.l2] if config.l2 else list(L2_GRID)
    steps = max(300, config.epochs * -(-len(train) // ATTENTION_BATCH))
    fitted = solvers.attention_adamw(
        z[train],
        mask[train],
        y[train],
        weights[train],
        n_classes,
        l2s,
        steps,
        ATTENTION_BATCH,
        config.lr,
        config.seed,
    )
    losses, probes = {}, {}
    for l2, (solution, query) in zip(l2s, fitted, strict=True):
        probe = LinearProbe.from_solution(
            solution, mean, std, data.label_names, pooling="attention", query_D=query.float()
        )
        logits = probe.logits(probe.pool(acts[val], mask[val]))
        losses[l2] = float(solvers.weighted_loss(logits, y[val], weights[val]) / weights[val].sum())
        probes[l2] = probe
    best = probes[min(losses, key=losses.get)]
    return best, losses, _evaluated(data, best.sequence_proba(acts, mask).double())


def _fit_streamed(store, site: str, data: ProbeData, config: ProbeConfig):
    l2s = [config.l2] if config.l2 else list(L2_GRID)
    probe, losses = fit_streaming(
        store,
        site,
        data,
        l2s,
        _class_weight(config),
        config.epochs,
        config.batch_size,
        config.lr,
        config.seed,
    )
    evaluated = {s: idx for s, idx in data.splits.items() if s != "train"}
    return (
        probe,
        losses,
        {s: predict_rows(store, site, data.rows_R[idx], probe) for s, idx in evaluated.items()},
    )


def _class_weight(config: ProbeConfig) -> str | None:
    return None if config.class_weight == "none" else config.class_weight


def _meta(store: ActivationStore, site: str, data: ProbeData, config: ProbeConfig) -> dict:
    return {
        "model": store.model["name"],
        "model_config_sha256": store.manifest["settings"]["model"]["config_sha256"],
        "site": site,
        "level": data.level,
        "label_field": config.label_field,
        "spans_field": config.spans_field,
        "include_special": config.include_special,
        "method": config.method,
        "n_train": int(len(data.indices("train"))),
    }


def report_rows(reports: list[ProbeReport], split: str = "val") -> list[dict]:
    """One flat row per report, for tables: site, headline, and the split's main numbers."""
    rows = []
    for r in reports:
        m = r.metrics[split].to_dict()
        rows.append(
            {"site": r.site, "headline": r.headline(split), **{k: v for k, v in m.items() if np.isscalar(v)}}
        )
    return rows
