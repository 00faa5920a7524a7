"""LinearProbe: logistic (binary) or softmax (multiclass) regression on activations, fit in torch.

The probe keeps its own standardisation statistics, so it takes raw activations. Its objective is
`sum of cross-entropies + l2 / 2 * ||W||^2` (bias not penalised) on standardised inputs: the same as
scikit-learn's `LogisticRegression(C=1 / l2)` on `StandardScaler` output. Knows nothing of models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from ..errors import ConfigError, InputError, StoreError

FORMAT_VERSION = 1


@dataclass
class LinearProbe:
    """Weights over standardised activations: logits = ((x - mean) / std) @ weight.T + bias."""

    mean_D: torch.Tensor
    std_D: torch.Tensor
    weight_CD: torch.Tensor  # C = 1 for a binary probe, else one row per class
    bias_C: torch.Tensor
    label_names: list[str]
    threshold: float = 0.5  # on the positive class's probability, binary probes only
    meta: dict = field(default_factory=dict)  # model id, site, pooling...: what the probe was trained on

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
    ) -> LinearProbe:
        """Full-batch L-BFGS in float64. `y_N` holds class indices 0..C-1; `class_weight="balanced"`
        weights each class by N / (C * count), as scikit-learn does."""
        x = _check_activations(x_ND)
        y, n_classes = _check_labels(y_N, x.shape[0], label_names)
        if not l2 > 0:
            raise ConfigError(f"l2 must be positive, got {l2!r}")
        mean = x.mean(0)
        std = x.std(0, unbiased=False).clamp_min(1e-8)
        z = (x - mean) / std
        sample_weight = _sample_weights(y, n_classes, class_weight)
        n_out = 1 if n_classes == 2 else n_classes
        weight = torch.zeros(n_out, z.shape[1], dtype=torch.float64, requires_grad=True)
        bias = torch.zeros(n_out, dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.LBFGS(
            [weight, bias],
            max_iter=max_iter,
            tolerance_grad=1e-9,
            tolerance_change=1e-12,
            history_size=20,
            line_search_fn="strong_wolfe",
        )

        def loss_fn():
            optimizer.zero_grad()
            logits = z @ weight.T + bias
            if n_out == 1:
                losses = torch.nn.functional.binary_cross_entropy_with_logits(
                    logits[:, 0], y.double(), reduction="none"
                )
            else:
                losses = torch.nn.functional.cross_entropy(logits, y, reduction="none")
            loss = (losses * sample_weight).sum() + 0.5 * l2 * weight.pow(2).sum()
            loss.backward()
            return loss

        optimizer.step(loss_fn)
        names = label_names or [str(c) for c in range(n_classes)]
        return cls(
            mean_D=mean.float(),
            std_D=std.float(),
            weight_CD=weight.detach().float(),
            bias_C=bias.detach().float(),
            label_names=list(names),
            meta=dict(meta or {}),
        )

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
        proba = self.predict_proba(x_ND)
        if self.n_classes == 2:
            return (proba[:, 1] >= self.threshold).long()
        return proba.argmax(dim=1)

    # -- artifacts -----------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """A folder: cfg.json (labels, threshold, meta, format version) + weights.safetensors."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {
            "mean_D": self.mean_D,
            "std_D": self.std_D,
            "weight_CD": self.weight_CD,
            "bias_C": self.bias_C,
        }
        save_file({k: v.contiguous() for k, v in tensors.items()}, folder / "weights.safetensors")
        cfg = {
            "format_version": FORMAT_VERSION,
            "kind": "linear",
            "label_names": self.label_names,
            "threshold": self.threshold,
            "width": self.width,
            **self.meta,
        }
        (folder / "cfg.json").write_text(json.dumps(cfg, indent=1, ensure_ascii=False))
        return folder

    @classmethod
    def load(cls, folder: str | Path, expect: dict | None = None) -> LinearProbe:
        """Load a probe folder; `expect` (e.g. {"model": ..., "site": ..., "width": ...}) must match its cfg."""
        folder = Path(folder)
        try:
            cfg = json.loads((folder / "cfg.json").read_text(encoding="utf-8"))
            tensors = load_file(folder / "weights.safetensors")
        except (OSError, ValueError) as e:
            raise StoreError(f"{str(folder)!r} is not a readable probe folder ({type(e).__name__})") from None
        if cfg.get("format_version") != FORMAT_VERSION or cfg.get("kind") != "linear":
            raise StoreError(
                f"probe {str(folder)!r} has format {cfg.get('format_version')!r}/{cfg.get('kind')!r}; "
                f"this incision reads linear probes of format {FORMAT_VERSION}"
            )
        for key, value in (expect or {}).items():
            if key in cfg and cfg[key] != value:
                raise ConfigError(f"probe {str(folder)!r} was trained for {key}={cfg[key]!r}, not {value!r}")
        meta = {
            k: v
            for k, v in cfg.items()
            if k not in ("format_version", "kind", "label_names", "threshold", "width")
        }
        return cls(label_names=cfg["label_names"], threshold=cfg["threshold"], meta=meta, **tensors)

    def _check_width(self, x_ND: torch.Tensor) -> torch.Tensor:
        if x_ND.ndim != 2 or x_ND.shape[1] != self.width:
            raise InputError(f"probe takes activations of shape [N, {self.width}], got {list(x_ND.shape)}")
        return x_ND


def _check_activations(x_ND) -> torch.Tensor:
    x = torch.as_tensor(x_ND)
    if x.ndim != 2 or x.shape[0] == 0:
        raise InputError(f"activations must have shape [N, D] with N > 0, got {list(x.shape)}")
    bad = (~torch.isfinite(x)).any(dim=1).sum().item()
    if bad:
        raise InputError(f"{bad} of {x.shape[0]} activation rows hold NaN or inf; drop or recapture them")
    return x.double()


def _check_labels(y_N, n: int, label_names: list[str] | None) -> tuple[torch.Tensor, int]:
    y = torch.as_tensor(y_N)
    if y.ndim != 1 or y.shape[0] != n:
        raise InputError(f"labels must be a vector of {n} class indices, got shape {list(y.shape)}")
    if y.is_floating_point() or y.dtype == torch.bool:
        if y.is_floating_point() and not torch.equal(y, y.round()):
            raise InputError("labels must be class indices (integers), got non-integer values")
        y = y.long()
    if y.min() < 0:
        raise InputError(f"labels must be class indices >= 0, got {int(y.min())}")
    n_classes = max(int(y.max()) + 1, len(label_names or []))
    present = torch.bincount(y, minlength=n_classes)
    if (present > 0).sum() < 2:
        raise InputError(f"labels hold one class only ({int(y[0])}); a probe needs examples of at least two")
    if label_names is not None and len(label_names) != n_classes:
        raise InputError(f"{len(label_names)} label names for {n_classes} classes")
    return y, n_classes


def _sample_weights(y: torch.Tensor, n_classes: int, class_weight: str | None) -> torch.Tensor:
    if class_weight is None:
        return torch.ones(y.shape[0], dtype=torch.float64)
    if class_weight != "balanced":
        raise ConfigError(f"class_weight must be None or 'balanced', got {class_weight!r}")
    counts = torch.bincount(y, minlength=n_classes).double()
    per_class = y.shape[0] / (n_classes * counts.clamp_min(1))
    return per_class[y]
