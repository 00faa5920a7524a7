"""Direction: one vector per site of a model, the thing that is steered along, ablated or erased.

Vectors keep their norm (a difference of means is in the activations' own units, which is what makes
`alpha = 1` a meaningful steering strength); ablation and orthogonalisation use the unit vector. A
direction is a folder: cfg.json (format version, sites, width, how it was made) + direction.safetensors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..errors import ConfigError, InputError, StoreError

FORMAT_VERSION = 1


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

    def check_subject(self, subject) -> None:
        """Its width must be the subject's and its sites must exist there (SiteError lists them)."""
        if self.width != subject.d_model:
            raise ConfigError(
                f"this direction has width {self.width}, but {subject.name!r} has width {subject.d_model}"
            )
        for site in self.sites:
            subject.resolve(site)

    # -- artifacts -----------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        save_file({s: v.contiguous() for s, v in self.vectors.items()}, folder / "direction.safetensors")
        cfg = {
            "format_version": FORMAT_VERSION,
            "kind": "direction",
            "sites": self.sites,
            "width": self.width,
        }
        (folder / "cfg.json").write_text(json.dumps({**cfg, "meta": self.meta}, indent=1, ensure_ascii=False))
        return folder

    @classmethod
    def load(cls, folder: str | Path, subject=None) -> Direction:
        """Load a direction folder; with a `subject`, check that it fits that model."""
        folder = Path(folder)
        try:
            cfg = json.loads((folder / "cfg.json").read_text(encoding="utf-8"))
            tensors = load_file(folder / "direction.safetensors")
        except (OSError, ValueError, SafetensorError) as e:
            raise StoreError(
                f"{str(folder)!r} is not a readable direction folder ({type(e).__name__})"
            ) from None
        if not isinstance(cfg, dict) or (cfg.get("format_version"), cfg.get("kind")) != (
            FORMAT_VERSION,
            "direction",
        ):
            raise StoreError(f"{str(folder)!r} is not a direction folder of format {FORMAT_VERSION}")
        if sorted(tensors) != sorted(cfg.get("sites", [])):
            raise StoreError(
                f"direction {str(folder)!r}: cfg.json names sites {cfg.get('sites')}, the weights hold {sorted(tensors)}"
            )
        direction = cls({s: tensors[s] for s in cfg["sites"]}, cfg.get("meta") or {})
        if subject is not None:
            direction.check_subject(subject)
        return direction
