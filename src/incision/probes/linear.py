"""LinearProbe: logistic (binary) or softmax (multiclass) regression on activations, fit in torch.

The probe keeps its own standardisation statistics, so it takes raw activations. Its objective is
`sum of cross-entropies + l2 / 2 * ||W||^2` (bias not penalised) on standardised inputs: the same as
scikit-learn's `LogisticRegression(C=1 / l2)` on `StandardScaler` output. A probe with a `pooling`
scores sequences (pooled token activations); without one it scores each token. Knows nothing of models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..artifacts import (
    Provenance,
    check_format,
    check_provenance,
    read_json,
    read_provenance,
    read_tensors,
    save_folder,
)
from ..errors import ConfigError, InputError, StoreError
from ..reduce import LOCAL, Reducer
from . import solvers
from .pooling import check_pooling, pool

FORMAT_VERSION = 2  # 2: a provenance block in cfg.json (1, without it, still loads)
KIND = "linear"
TENSORS = "weights.safetensors"
_OWN_KEYS = ("format_version", "kind", "label_names", "threshold", "pooling", "width", "provenance")


@dataclass
class LinearProbe:
    """Weights over standardised activations: logits = ((x - mean) / std) @ weight.T + bias."""

    mean_D: torch.Tensor
    std_D: torch.Tensor
    weight_CD: torch.Tensor  # C = 1 for a binary probe, else one row per class
    bias_C: torch.Tensor
    label_names: list[str]
    threshold: float = 0.5  # on the positive class's probability, binary probes only
    pooling: str | None = None  # None: token-level; else how a sequence's tokens are pooled
    query_D: torch.Tensor | None = None  # attention pooling's query, over standardised activations
    meta: dict = field(default_factory=dict)  # model id, site, method...: what the probe was trained on

    def __post_init__(self) -> None:
        check_pooling(self.pooling)
        if (self.pooling == "attention") != (self.query_D is not None):
            raise ConfigError("attention pooling needs a query vector, and only attention pooling has one")

    @property
    def n_classes(self) -> int:
        return len(self.label_names)

    @property
    def width(self) -> int:
        return self.mean_D.shape[0]

    @classmethod
    def fit(
        cls,
        x_ND: torch.Tensor,
        y_N,
        l2: float = 1.0,
        class_weight: str | None = None,
        label_names: list[str] | None = None,
        max_iter: int = 500,
        meta: dict | None = None,
        reducer: Reducer | None = None,
    ) -> LinearProbe:
        """Full-batch L-BFGS: `incision.probes.fitting.fit_probe` with one penalty (float64 up to
        `solvers.FLOAT64_MAX_VALUES` values, float32 above). `y_N` holds class indices 0..C-1;
        `class_weight="balanced"` weights each class by N / (C * count), as scikit-learn does. Under torch
        distributed (or with a `reducer`), each process passes its own rows and gets the probe of them all."""
        from .fitting import fit_probe  # the fitting driver builds LinearProbes, so it imports this module

        options = {"class_weight": class_weight, "label_names": label_names, "max_iter": max_iter}
        return fit_probe(x_ND, y_N, [l2], meta=meta, reducer=reducer, **options).probe

    @classmethod
    def from_solution(cls, solution, mean_D, std_D, labels, **fields) -> LinearProbe:
        names = [str(c) for c in range(labels)] if isinstance(labels, int) else list(labels)
        fields["meta"] = dict(fields.get("meta") or {})
        return cls(
            mean_D=mean_D.float(),
            std_D=std_D.float(),
            weight_CD=solution.weight_CD.float(),
            bias_C=solution.bias_C.float(),
            label_names=names,
            **fields,
        )

    @classmethod
    def fit_diff_means(
        cls,
        x_ND: torch.Tensor,
        y_N,
        label_names: list[str] | None = None,
        class_weight: str | None = None,
        meta=None,
    ) -> LinearProbe:
        """The simple baseline: project on the difference of the class means, scaled and shifted by a
        one-dimensional logistic fit so that its outputs are probabilities. Binary labels only.

        The calibration sees cross-fitted projections (each half projected on the other half's direction):
        in-sample projections separate better than new data will, and would make it overconfident."""
        x = check_activations(x_ND)
        y, counts_C = check_labels(y_N, x.shape[0], label_names)
        if len(counts_C) != 2:
            raise ConfigError(f"a difference-of-means probe separates two classes, got {len(counts_C)}")
        direction, midpoint = diff_means_direction(x, y)
        projection = _cross_fitted_projection(x, y)[:, None]
        scale = projection.std().clamp_min(1e-12)
        weights = class_weights(counts_C, class_weight)[y]
        calibration = solvers.lbfgs(projection / scale, y, 2, 1e-6, weights)
        weight = direction[None, :] * calibration.weight_CD[0, 0] / scale
        solution = solvers.Solution(weight, calibration.bias_C - weight @ midpoint)
        meta = {"method": "diff_means", **(meta or {})}
        ones = torch.ones_like(midpoint)
        return cls.from_solution(solution, torch.zeros_like(midpoint), ones, label_names or 2, meta=meta)

    def logits(self, x_ND: torch.Tensor) -> torch.Tensor:
        """[N, C] logits ([N, 1] for a binary probe)."""
        x = self._check_width(x_ND)
        z = (x.float() - self.mean_D) / self.std_D
        return z @ self.weight_CD.T + self.bias_C

    def predict_proba(self, x_ND: torch.Tensor) -> torch.Tensor:
        """[N, C] class probabilities (binary probes too: column 1 is the positive class)."""
        logits = self.logits(x_ND)
        if logits.shape[1] == 1:
            p = torch.sigmoid(logits[:, 0])
            return torch.stack([1 - p, p], dim=1)
        return torch.softmax(logits, dim=1)

    def predict(self, x_ND: torch.Tensor) -> torch.Tensor:
        """Class indices; a binary probe says 1 where the positive probability reaches `threshold`."""
        return self.predict_from_proba(self.predict_proba(x_ND))

    def predict_from_proba(self, proba_NC: torch.Tensor) -> torch.Tensor:
        if self.n_classes == 2:  # in float64, as the threshold was chosen
            return (proba_NC[:, 1].double() >= self.threshold).long()
        return proba_NC.argmax(dim=1)

    def pool(self, acts_BTD: torch.Tensor, mask_BT: torch.Tensor) -> torch.Tensor:
        """[B, D] pooled raw activations of padded sequences, the way this probe pools them."""
        if self.pooling is None:
            raise ConfigError("this probe is token-level (no pooling); score tokens with predict_proba")
        self._check_width(acts_BTD.reshape(-1, acts_BTD.shape[-1]))
        acts = acts_BTD.float()
        attention = None
        if self.pooling == "attention":
            attention = ((acts - self.mean_D) / self.std_D) @ self.query_D
        return pool(acts, mask_BT, self.pooling, attention)

    def sequence_proba(self, acts_BTD: torch.Tensor, mask_BT: torch.Tensor) -> torch.Tensor:
        """[B, C] class probabilities of padded sequences."""
        return self.predict_proba(self.pool(acts_BTD, mask_BT))

    def score(self, subject, texts, **options):
        """Run `subject` over `texts` with a hook at this probe's site and score them, without a store:
        one score per text for a pooled probe, per-token scores with character offsets otherwise."""
        from .live import score_texts  # imports the model side only when asked to

        return score_texts(self, subject, texts, **options)

    # -- artifacts -----------------------------------------------------------------------------
    @property
    def provenance(self) -> Provenance:
        """The model, site and width this probe reads (from `meta`)."""
        return Provenance.from_meta(self.meta, self.width)

    def save(self, folder: str | Path) -> Path:
        """A folder, written atomically: cfg.json (labels, threshold, meta, provenance, format version) +
        weights.safetensors."""
        tensors = {
            "mean_D": self.mean_D,
            "std_D": self.std_D,
            "weight_CD": self.weight_CD,
            "bias_C": self.bias_C,
        }
        if self.query_D is not None:
            tensors["query_D"] = self.query_D
        own = {
            "format_version": FORMAT_VERSION,
            "kind": KIND,
            "label_names": self.label_names,
            "threshold": self.threshold,
            "pooling": self.pooling,
            "width": self.width,
            "provenance": self.provenance.to_dict(),
        }
        meta = {k: v for k, v in self.meta.items() if k not in own}  # the artifact's own keys win
        return save_folder(folder, {**own, **meta}, tensors, TENSORS)

    @classmethod
    def load(cls, folder: str | Path, expect: Provenance | dict | None = None, subject=None) -> LinearProbe:
        """Load a probe folder; `expect` (a Provenance, or a dict such as {"model": ..., "site": ...,
        "width": ...}) must match it, and so must a `subject` (see `artifacts.check_provenance`)."""
        folder = Path(folder)
        cfg, tensors = _read_folder(folder)
        meta = {k: v for k, v in cfg.items() if k not in _OWN_KEYS}
        probe = cls(
            label_names=cfg["label_names"],
            threshold=cfg["threshold"],
            pooling=cfg.get("pooling"),
            meta=meta,
            **tensors,
        )
        what = f"probe {str(folder)!r}"
        check_provenance(read_provenance(cfg, what, probe.provenance), what, expect, subject)
        return probe

    def _check_width(self, x_ND: torch.Tensor) -> torch.Tensor:
        if x_ND.ndim != 2 or x_ND.shape[1] != self.width:
            raise InputError(f"probe takes activations of shape [N, {self.width}], got {list(x_ND.shape)}")
        return x_ND


def _read_folder(folder: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    """cfg.json and the tensors of a probe folder, checked against each other."""
    cfg = read_json(folder, "probe")
    check_format(cfg, folder, "probe", FORMAT_VERSION, kind=KIND)
    tensors = read_tensors(folder, "probe", TENSORS)
    missing = sorted({"label_names", "threshold", "width"} - set(cfg))
    missing += sorted({"mean_D", "std_D", "weight_CD", "bias_C"} - set(tensors))
    if missing:
        raise StoreError(f"probe {str(folder)!r} lacks {missing}; save it again with LinearProbe.save")
    n_out = 1 if len(cfg["label_names"]) == 2 else len(cfg["label_names"])
    shapes = {"mean_D": [cfg["width"]], "std_D": [cfg["width"]], "weight_CD": [n_out, cfg["width"]]}
    for name, shape in shapes.items():
        if list(tensors[name].shape) != shape:
            raise StoreError(
                f"probe {str(folder)!r} has {name} of shape {list(tensors[name].shape)}, expected {shape}"
            )
    return cfg, tensors


def _cross_fitted_projection(x: torch.Tensor, y: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Each example projected on the direction of the other half (halves stratified by class)."""
    fold = torch.zeros(len(y), dtype=torch.bool)
    generator = torch.Generator().manual_seed(seed)
    for c in (0, 1):
        members = (y == c).nonzero().flatten()
        fold[members[torch.randperm(len(members), generator=generator)[: len(members) // 2]]] = True
    projection = torch.empty(len(y), dtype=x.dtype)
    for held in (fold, ~fold):
        if (y[~held] == 0).all() or (y[~held] == 1).all():  # too few to cross-fit: fall back to in-sample
            direction, midpoint = diff_means_direction(x, y)
            return (x - midpoint) @ direction
        direction, midpoint = diff_means_direction(x[~held], y[~held])
        projection[held] = (x[held] - midpoint) @ direction
    return projection


def check_activations(x_ND, where: str = "") -> torch.Tensor:
    """Float64 [N, D] activations, all finite; `where` (e.g. "at site resid.3") goes into errors."""
    x = torch.as_tensor(x_ND)
    where = f" {where}" if where else ""
    if x.ndim != 2 or x.shape[0] == 0:
        raise InputError(f"activations{where} must have shape [N, D] with N > 0, got {list(x.shape)}")
    bad = (~torch.isfinite(x)).any(dim=1).sum().item()
    if bad:
        raise InputError(
            f"{bad} of {x.shape[0]} activation rows{where} hold NaN or inf; drop or recapture them"
        )
    return x.double()


def check_l2(l2: float) -> None:
    if not (isinstance(l2, int | float) and l2 > 0):
        raise ConfigError(f"l2 must be a positive number, got {l2!r}")


def check_labels(
    y_N, n: int, label_names: list[str] | None, reducer: Reducer = LOCAL, one_class_ok: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Class indices as int64 and each class's row count (float64) over every process's rows; unless
    `one_class_ok` (one batch of a stream), they must hold two classes and `label_names` must name them all."""
    y = torch.as_tensor(y_N)
    if y.ndim != 1 or y.shape[0] != n:
        raise InputError(f"labels must be a vector of {n} class indices, got shape {list(y.shape)}")
    if y.is_floating_point() or y.dtype == torch.bool:
        if y.is_floating_point() and not torch.equal(y, y.round()):
            raise InputError("labels must be class indices (integers), got non-integer values")
        y = y.long()
    if len(y) and y.min() < 0:
        raise InputError(f"labels must be class indices >= 0, got {int(y.min())}")
    y = y.long()
    top = int(reducer.max(y.max() if len(y) else torch.tensor(-1)))
    counts_C = reducer.sum(torch.bincount(y, minlength=max(top + 1, len(label_names or []))).double())
    if not one_class_ok:
        check_classes(counts_C, label_names)
    return y, counts_C


def check_classes(counts_C: torch.Tensor, label_names: list[str] | None) -> None:
    """Rows of at least two classes, and a name for every class when names are given."""
    present = counts_C.nonzero().flatten().tolist()
    if len(present) < 2:
        which = f" ({present[0]})" if present else ""
        raise InputError(f"labels hold one class only{which}; a probe needs examples of at least two")
    if label_names is not None and len(label_names) != len(counts_C):
        raise InputError(f"{len(label_names)} label names for {len(counts_C)} classes")


def class_weights(counts_C: torch.Tensor, class_weight: str | None) -> torch.Tensor:
    """Per-class weights (float64): ones, or "balanced": class c weighs n / (C * count_c), as scikit-learn,
    with the counts of the training rows (validation and test rows must not move them)."""
    if class_weight is None:
        return torch.ones(len(counts_C), dtype=torch.float64)
    if class_weight != "balanced":
        raise ConfigError(f"class_weight must be None or 'balanced', got {class_weight!r}")
    return counts_C.sum() / (len(counts_C) * counts_C.double().clamp_min(1))


def sample_weights(
    y: torch.Tensor, n_classes: int, class_weight: str | None, counted: torch.Tensor | None = None
) -> torch.Tensor:
    """Per-example weights of `class_weights` over the counts of `counted` (default `y`): pass the training
    labels so that validation and test examples do not move the training weights."""
    counted = y if counted is None else counted
    return class_weights(torch.bincount(counted, minlength=n_classes).double(), class_weight)[y]


def diff_means_direction(x_ND: torch.Tensor, y_N: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit direction from the negative class mean to the positive one, and their midpoint."""
    positive, negative = x_ND[y_N == 1].mean(0), x_ND[y_N == 0].mean(0)
    direction = positive - negative
    norm = direction.norm()
    if not norm > 0:
        raise ConfigError("the two classes have the same mean activation; there is no direction to take")
    return direction / norm, (positive + negative) / 2
