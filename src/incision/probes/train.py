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
from ..core.store import ActivationStore
from ..errors import ConfigError
from ..reduce import LOCAL, Reducer, local_rows, process_reducer
from . import adamw, solvers
from .data import ProbeData, Transform, features, padded_sequences, prepare
from .fitting import ProbeFit, choose_penalty, fit_probe
from .linear import LinearProbe, check_l2, sample_weights
from .metrics import choose_threshold, evaluate
from .standardizer import Standardizer
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
    `incision.sae.probe_features`). Under torch distributed, the processes share the training (and
    validation) rows of the logistic solvers and each ends with the same report."""
    config = config or ProbeConfig()
    data = data or config.prepare(store)
    reducer = process_reducer()
    if _streams(store, site, data, config):
        if transform is not None:
            raise ConfigError(
                f"a feature transform needs the in-memory solver, but solver {config.solver!r} streams "
                f"these {len(data.rows_R)} token rows; set solver='lbfgs' (and memory_gb) or use fewer rows"
            )
        fitted, proba = _fit_streamed(store, site, data, config, reducer)
    elif config.pooling_or_none == "attention":
        fitted, proba = _fit_attention(store, site, data, config, transform)
    else:
        fitted, proba = _fit_in_memory(store, site, data, config, transform, reducer)
    probe, losses, chosen = fitted.probe, fitted.val_loss_by_l2, fitted.l2
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
    bytes_per_value = 24 if solvers.fits_in_float64(n_values) else 12
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


def _fit_in_memory(store, site: str, data: ProbeData, config: ProbeConfig, transform, reducer: Reducer):
    train, val = data.indices("train"), data.indices("val")
    y = torch.from_numpy(data.y_N)
    x = features(store, site, data, config.pooling_or_none, transform)
    if config.method == "diff_means":
        probe = LinearProbe.fit_diff_means(
            x[train], y[train], data.label_names, class_weight=_class_weight(config)
        )
        probe.pooling = config.pooling_or_none
        return ProbeFit(probe, None, {}), _evaluated(data, probe.predict_proba(x).double())
    # every process computes the features whole and fits on its share of the training and validation rows;
    # the float32 solver (above FLOAT64_MAX_VALUES training values) runs in one process: each fits them all
    if not solvers.fits_in_float64(len(train) * x.shape[1]):
        reducer = LOCAL
    train, val = train[local_rows(len(train), reducer)], val[local_rows(len(val), reducer)]
    l2s = [config.l2] if config.l2 else list(L2_GRID)
    options = {"class_weight": _class_weight(config), "label_names": data.label_names, "reducer": reducer}
    fitted = fit_probe(x[train], y[train], l2s, val=(x[val], y[val]), **options)
    fitted.probe.pooling = config.pooling_or_none
    return fitted, _evaluated(data, fitted.probe.predict_proba(x).double())  # what the probe says later


def _fit_attention(store, site: str, data: ProbeData, config: ProbeConfig, transform=None):
    train, val = data.indices("train"), data.indices("val")
    acts, mask = padded_sequences(store, site, data, transform)
    statistics = Standardizer.of(acts[train][mask[train]])
    mean, std = statistics.mean_D, statistics.std_D
    z = ((acts - mean.float()) / std.float()).masked_fill(~mask[..., None], 0.0)
    y = torch.from_numpy(data.y_N)
    n_classes = len(data.label_names)
    weights = _weights(data, config).float()
    l2s = [config.l2] if config.l2 else list(L2_GRID)
    steps = max(300, config.epochs * -(-len(train) // ATTENTION_BATCH))
    fitted = adamw.attention_adamw(
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
    probes = [
        LinearProbe.from_solution(
            solution, mean, std, data.label_names, pooling="attention", query_D=query.float()
        )
        for solution, query in fitted
    ]
    val_logits = [
        ([probe.logits(probe.pool(acts[val], mask[val])) for probe in probes], y[val], weights[val])
    ]
    choice = choose_penalty(l2s, val_logits)
    best = probes[choice.index]
    fit = ProbeFit(best, choice.l2, choice.val_loss_by_l2)
    return fit, _evaluated(data, best.sequence_proba(acts, mask).double())


def _fit_streamed(store, site: str, data: ProbeData, config: ProbeConfig, reducer: Reducer):
    l2s = [config.l2] if config.l2 else list(L2_GRID)
    fitted = fit_streaming(
        store,
        site,
        data,
        l2s,
        _class_weight(config),
        config.epochs,
        config.batch_size,
        config.lr,
        config.seed,
        reducer,
    )
    evaluated = {s: idx for s, idx in data.splits.items() if s != "train"}
    return fitted, {
        s: predict_rows(store, site, data.rows_R[idx], fitted.probe) for s, idx in evaluated.items()
    }


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
