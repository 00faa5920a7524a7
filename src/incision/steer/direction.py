"""Direction: one vector per site of a model, the thing that is steered along, ablated or erased.

Vectors keep their norm (a difference of means is in the activations' own units, which is what makes
`alpha = 1` a meaningful steering strength); ablation and orthogonalisation use the unit vector. A
direction is a folder: cfg.json (format version, sites, width, how it was made) + direction.safetensors.
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

FORMAT_VERSION = 2  # 2: a provenance block in cfg.json (1, without it, still loads)
KIND = "direction"
TENSORS = "direction.safetensors"


def check_vector(vector, width: int | None = None, what: str = "direction") -> torch.Tensor:
    """A finite, non-zero 1-D float tensor of `width` (when given), as float32; else a one-sentence error."""
    if not isinstance(vector, torch.Tensor):
        raise InputError(f"{what} must be a tensor, got {type(vector).__name__}")
    if vector.ndim != 1 or (width is not None and vector.shape[0] != width):
        raise InputError(f"{what} must have shape [{width or 'D'}], got {list(vector.shape)}")
    vector = vector.detach().to(torch.float32)
    if not bool(torch.isfinite(vector).all()):
        raise InputError(f"{what} holds NaN or inf; recompute it from finite activations")
    if float(vector.norm()) == 0.0:
        raise InputError(f"{what} is the zero vector; there is nothing to steer along or remove")
    return vector


def unit(vector: torch.Tensor) -> torch.Tensor:
    return vector / vector.norm()


@dataclass
class Direction:
    """Vectors [D] by site name (canonical, e.g. "resid.6"), and how they were made (`meta`)."""

    vectors: dict[str, torch.Tensor]
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.vectors, dict) or not self.vectors:
            raise InputError("a Direction needs at least one site -> vector entry")
        first = next(iter(self.vectors.values()))
        width = first.shape[0] if isinstance(first, torch.Tensor) and first.ndim == 1 else None
        self.vectors = {
            site: check_vector(v, width, f"direction at site {site!r}") for site, v in self.vectors.items()
        }

    @property
    def sites(self) -> list[str]:
        return list(self.vectors)

    @property
    def width(self) -> int:
        return next(iter(self.vectors.values())).shape[0]

    def vector(self, site: str | None = None) -> torch.Tensor:
        """The vector at `site` (optional when the direction has one site)."""
        if site is None:
            if len(self.vectors) != 1:
                raise ConfigError(f"this direction has sites {self.sites}; name the one to use")
            return next(iter(self.vectors.values()))
        if site not in self.vectors:
            raise ConfigError(f"this direction has no vector for site {site!r}; it has {self.sites}")
        return self.vectors[site]

    def unit(self, site: str | None = None) -> torch.Tensor:
        return unit(self.vector(site))

    @property
    def provenance(self) -> Provenance:
        """The model (from `meta`) and width; the site when there is one."""
        return Provenance.from_meta(self.meta, self.width, self.sites[0] if len(self.sites) == 1 else None)

    def check_subject(self, subject, what: str = "this direction") -> None:
        """It must fit the subject: the model it was made from (see `artifacts.check_provenance`), its
        width, and sites that exist there (SiteError lists them)."""
        check_provenance(self.provenance, what, subject=subject)
        for site in self.sites:
            subject.resolve(site)

    # -- artifacts -----------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """A folder, written atomically: cfg.json (format version, sites, width, provenance, meta) +
        direction.safetensors (one vector per site)."""
        cfg = {
            "format_version": FORMAT_VERSION,
            "kind": KIND,
            "sites": self.sites,
            "width": self.width,
            "provenance": self.provenance.to_dict(),
            "meta": self.meta,
        }
        return save_folder(folder, cfg, self.vectors, TENSORS)

    @classmethod
    def load(cls, folder: str | Path, expect: Provenance | dict | None = None, subject=None) -> Direction:
        """Load a direction folder; `expect` (a Provenance or a dict of its fields) must match it, and with a
        `subject`, the direction must fit that model (`check_subject`)."""
        folder = Path(folder)
        cfg = read_json(folder, "direction")
        check_format(cfg, folder, "direction", FORMAT_VERSION, kind=KIND)
        tensors = read_tensors(folder, "direction", TENSORS)
        if sorted(tensors) != sorted(cfg.get("sites", [])):
            raise StoreError(
                f"direction {str(folder)!r}: cfg.json names sites {cfg.get('sites')}, the weights hold {sorted(tensors)}"
            )
        direction = cls({s: tensors[s] for s in cfg["sites"]}, cfg.get("meta") or {})
        what = f"direction {str(folder)!r}"
        check_provenance(read_provenance(cfg, what, direction.provenance), what, expect)
        if subject is not None:
            direction.check_subject(subject, what)
        return direction
