"""LEACE concept erasure (Belrose et al. 2023, "LEACE: Perfect linear concept erasure in closed form").

With Σ_xx the covariance of x, Σ_xz its cross-covariance with the concept z, W = (Σ_xx^{1/2})⁺ the
whitening map and P the orthogonal projection onto colsp(W Σ_xz), the eraser

    r(x) = x - W⁺ P W (x - μ)

makes Cov(r(x), z) = 0 (for one-hot z: equal class-conditional means, so no linear probe beats a constant)
with the least expected squared edit of any affine map that does so. W⁺ P W has rank <= K, so it is stored
as proj_left_DK = W⁺ U and proj_right_DK = W U for an orthonormal basis U of colsp(W Σ_xz).

A folder holds cfg.json (format_version, kind "leace", width, rank, provenance, meta) and eraser.safetensors
(mean [width], proj_left [width, rank], proj_right [width, rank]).
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch.nn import functional as F

from ..artifacts import (
    CFG,
    Provenance,
    check_format,
    check_provenance,
    read_json,
    read_provenance,
    read_tensors,
    save_folder,
)
from ..errors import ConfigError, InputError, StoreError

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: a provenance block in cfg.json (1, without it, still loads)
KIND = "leace"
NOUN = "LEACE eraser"
TENSORS = "eraser.safetensors"


class LeaceEraser:
    """r(x) = x - ((x - mean_D) @ proj_right_DK) @ proj_left_DK.T, applied to the last axis of x."""

    def __init__(
        self,
        mean_D: torch.Tensor,
        proj_left_DK: torch.Tensor,
        proj_right_DK: torch.Tensor,
        meta: dict | None = None,
    ):
        D = mean_D.shape[0] if mean_D.ndim == 1 else -1
        if D < 0 or proj_left_DK.shape != proj_right_DK.shape or proj_left_DK.shape[:1] != (D,):
            raise ConfigError(
                f"an eraser needs mean [D] and two projections [D, K], got shapes {list(mean_D.shape)}, "
                f"{list(proj_left_DK.shape)} and {list(proj_right_DK.shape)}"
            )
        self.mean_D, self.proj_left_DK, self.proj_right_DK = mean_D, proj_left_DK, proj_right_DK
        self.meta = dict(meta or {})

    @property
    def width(self) -> int:
        return self.mean_D.shape[0]

    @property
    def rank(self) -> int:
        return self.proj_left_DK.shape[1]

    @classmethod
    def fit(
        cls,
        x_ND: torch.Tensor,
        z,
        num_classes: int | None = None,
        meta: dict | None = None,
        dtype=torch.float32,
    ) -> LeaceEraser:
        """Fit on one batch in memory; see LeaceFitter for data that arrives in batches."""
        return LeaceFitter(num_classes).update(x_ND, z).eraser(meta=meta, dtype=dtype)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 0 or x.shape[-1] != self.width:
            raise InputError(f"this eraser reads width {self.width}, got shape {list(x.shape)}")
        if not x.is_floating_point():
            raise InputError(f"this eraser reads float activations, got dtype {x.dtype}")
        # half precision would lose the small edits; compute in float32 at least and hand back x's dtype
        work = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
        mean, left, right = (
            t.to(x.device, work) for t in (self.mean_D, self.proj_left_DK, self.proj_right_DK)
        )
        x_work = x.to(work)
        return (x_work - ((x_work - mean) @ right) @ left.T).to(x.dtype)

    @property
    def provenance(self) -> Provenance:
        """The model and site it was fitted at (from `meta`) and its width."""
        return Provenance.from_meta(self.meta, self.width)

    def save(self, folder: str | Path) -> Path:
        """A folder, written atomically (see the module docstring)."""
        tensors = {"mean": self.mean_D, "proj_left": self.proj_left_DK, "proj_right": self.proj_right_DK}
        cfg = {
            "format_version": FORMAT_VERSION,
            "kind": KIND,
            "width": self.width,
            "rank": self.rank,
            "provenance": self.provenance.to_dict(),
            "meta": self.meta,
        }
        return save_folder(folder, cfg, tensors, TENSORS)

    @classmethod
    def load(cls, folder: str | Path, expect: Provenance | dict | None = None, subject=None) -> LeaceEraser:
        """Load an eraser folder; `expect` (a Provenance or a dict of its fields) and a `subject` must match
        what it was fitted on (see `artifacts.check_provenance`)."""
        folder = Path(folder)
        cfg = read_json(folder, NOUN)
        check_format(cfg, folder, NOUN, FORMAT_VERSION, kind=KIND)
        width, rank, meta = cfg.get("width"), cfg.get("rank"), cfg.get("meta", {})
        if not all(isinstance(v, int) and v >= 0 for v in (width, rank)) or not isinstance(meta, dict):
            raise StoreError(
                f"{str(folder / CFG)!r} has width {width!r}, rank {rank!r} or meta of a bad type"
            )
        tensors = read_tensors(folder, NOUN, TENSORS)
        shapes = {"mean": [width], "proj_left": [width, rank], "proj_right": [width, rank]}
        if set(tensors) != set(shapes):
            raise StoreError(
                f"{str(folder / TENSORS)!r} holds tensors {sorted(tensors)}, expected {sorted(shapes)}"
            )
        for key, shape in shapes.items():
            if list(tensors[key].shape) != shape:
                raise StoreError(
                    f"{str(folder / TENSORS)!r} has {key} of shape {list(tensors[key].shape)}, expected {shape}"
                )
            if not tensors[key].is_floating_point() or not torch.isfinite(tensors[key]).all():
                raise StoreError(f"{str(folder / TENSORS)!r} has a non-float or non-finite {key}")
        eraser = cls(tensors["mean"], tensors["proj_left"], tensors["proj_right"], meta=meta)
        what = f"LEACE eraser {str(folder)!r}"
        check_provenance(read_provenance(cfg, what, eraser.provenance), what, expect, subject)
        return eraser


class LeaceFitter:
    """Streams (x, z) batches into float64 moments, so the store may be larger than memory.

    x is shifted by the first batch's mean before its moments are summed, which keeps Σ_xx accurate when
    activations sit far from the origin. z: int class ids [N] (one-hot; K from num_classes or grown to the
    largest id seen) or float [N] / [N, K] for a continuous concept.
    """

    def __init__(
        self, num_classes: int | None = None, eig_rtol: float | None = None, rank_rtol: float = 1e-6
    ):
        if num_classes is not None and num_classes < 2:
            raise ConfigError(f"num_classes must be at least 2 to have a concept to erase, got {num_classes}")
        self.num_classes, self.eig_rtol, self.rank_rtol = num_classes, eig_rtol, rank_rtol
        self.n, self.classes = 0, None  # classes: int labels or float z, fixed by the first batch
        self.shift_D = self.sum_x_D = self.sum_z_K = self.xx_DD = self.xz_DK = None

    def update(self, x_ND: torch.Tensor, z) -> LeaceFitter:
        if x_ND.ndim != 2 or not x_ND.is_floating_point():
            raise InputError(f"x must be a float tensor [N, D], got {x_ND.dtype} of shape {list(x_ND.shape)}")
        if self.shift_D is not None and x_ND.shape[1] != self.shift_D.shape[0]:
            raise InputError(f"this fitter reads width {self.shift_D.shape[0]}, got shape {list(x_ND.shape)}")
        x_ND = x_ND.detach().to("cpu", torch.float64)
        if not torch.isfinite(x_ND).all():
            raise InputError(f"x holds {int((~x_ND.isfinite()).sum())} NaN or inf values; clean it first")
        z_NK = self._labels(z, x_ND.shape[0])
        if self.shift_D is None:
            D, f64 = x_ND.shape[1], torch.float64
            self.shift_D = x_ND.mean(0) if len(x_ND) else torch.zeros(D, dtype=f64)
            self.sum_x_D, self.xx_DD = torch.zeros(D, dtype=f64), torch.zeros(D, D, dtype=f64)
            self.sum_z_K, self.xz_DK = torch.zeros(0, dtype=f64), torch.zeros(D, 0, dtype=f64)
        K = max(z_NK.shape[1], self.sum_z_K.shape[0])
        if not self.classes and self.sum_z_K.shape[0] not in (0, z_NK.shape[1]):
            raise InputError(f"z has {z_NK.shape[1]} columns, earlier batches had {self.sum_z_K.shape[0]}")
        # class ids beyond those seen so far add zero columns to the sums (and to batches lacking them)
        self.sum_z_K = F.pad(self.sum_z_K, (0, K - self.sum_z_K.shape[0]))
        self.xz_DK = F.pad(self.xz_DK, (0, K - self.xz_DK.shape[1]))
        z_NK = F.pad(z_NK, (0, K - z_NK.shape[1]))
        xc_ND = x_ND - self.shift_D
        self.n += x_ND.shape[0]
        self.sum_x_D += xc_ND.sum(0)
        self.sum_z_K += z_NK.sum(0)
        self.xx_DD += xc_ND.T @ xc_ND
        self.xz_DK += xc_ND.T @ z_NK
        return self

    def _labels(self, z, n: int) -> torch.Tensor:
        z = torch.as_tensor(z).detach().cpu()
        if z.shape[:1] != (n,) or z.ndim > 2:
            raise InputError(f"z must be [N] or [N, K] with N = {n} rows of x, got shape {list(z.shape)}")
        classes = not z.is_floating_point()
        if self.classes is not None and classes != self.classes:
            raise InputError(
                f"z is {z.dtype} here, but earlier batches were {'float' if classes else 'ints'}"
            )
        self.classes = classes
        if not classes:
            z = (z[:, None] if z.ndim == 1 else z).to(torch.float64)
            if not torch.isfinite(z).all():
                raise InputError("z holds NaN or inf values; clean it first")
            return z
        if z.ndim != 1:
            raise InputError(f"integer labels must be class ids [N], got shape {list(z.shape)}")
        z, limit = z.long(), self.num_classes
        if n and (int(z.min()) < 0 or (limit is not None and int(z.max()) >= limit)):
            raise InputError(f"class ids must lie in [0, {limit or 'K'}), got {int(z.min())}..{int(z.max())}")
        return F.one_hot(z, max(int(z.max()) + 1 if n else 1, limit or 0)).to(torch.float64)

    def eraser(self, meta: dict | None = None, dtype: torch.dtype = torch.float32) -> LeaceEraser:
        if self.n < 2:
            raise InputError(f"LEACE needs at least 2 examples to estimate covariances, got {self.n}")
        if self.classes and int((self.sum_z_K > 0).sum()) < 2:
            raise InputError(
                f"the labels hold a single class ({int(self.sum_z_K.argmax())}); nothing to erase"
            )
        m_D = self.sum_x_D / self.n
        sigma_xx_DD = self.xx_DD / self.n - torch.outer(m_D, m_D)
        sigma_xz_DK = self.xz_DK / self.n - torch.outer(m_D, self.sum_z_K / self.n)
        # W = (Σ_xx^{1/2})⁺ and W⁺ = Σ_xx^{1/2} on the eigenvalues above pinv's default cutoff; a larger
        # cutoff would drop real low-variance directions and leave the concept readable there
        L_D, V_DD = torch.linalg.eigh((sigma_xx_DD + sigma_xx_DD.T) / 2)
        rtol = self.eig_rtol if self.eig_rtol is not None else len(L_D) * torch.finfo(torch.float64).eps
        keep_D = L_D.gt(rtol * float(L_D.max().clamp_min(0)))
        V_DE, L_E = V_DD[:, keep_D], L_D[keep_D]
        W_DD, W_pinv_DD = (V_DE * L_E.rsqrt()) @ V_DE.T, (V_DE * L_E.sqrt()) @ V_DE.T
        # orthonormal basis of colsp(W Σ_xz); for one-hot z its rank is <= K - 1 (the columns sum to zero)
        U_DK, S_K, _ = torch.linalg.svd(W_DD @ sigma_xz_DK, full_matrices=False)
        U_DK = U_DK[:, S_K.gt(self.rank_rtol * float(S_K.max())) & S_K.gt(0)]
        if U_DK.shape[1] == 0:
            log.warning("x and z are uncorrelated; the LEACE eraser is the identity")
        log.debug(
            "LEACE on %d rows: whitened rank %d, concept rank %d", self.n, int(keep_D.sum()), U_DK.shape[1]
        )
        tensors = (self.shift_D + m_D, W_pinv_DD @ U_DK, W_DD @ U_DK)
        return LeaceEraser(*(t.to(dtype).contiguous() for t in tensors), meta=meta)
