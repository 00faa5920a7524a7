"""The edit kinds (`incision.core.edits` has the shape they share): each is applied to a subject as a context
manager, undone on exit, and read from / written to a config that names its artifacts by folder.

| kind | what it does | config |
|---|---|---|
| `steer` | adds alpha x the direction at its sites (`steering.steer`) | direction, alpha, positions |
| `ablate` | projects the direction out of every residual write (`ablation.ablate`) | direction, site |
| `keep_means_ablate` | the same, the direction first made orthogonal to the writes' means (`keep_means`) | direction, site |
| `project_out` | projects directions out of the sites they name (`ablation.ablate_at_sites`) | directions |
| `erase` | LEACE erasure at the eraser's site (`erase.erase`) | eraser, site |
| `clamp_feature` | holds an SAE feature at a value (`features.clamp_feature`) | sae, site, feature, value, positions |
| `orthogonalize` | rewrites the weights so no write has a component along the direction, restored on exit | direction, site |
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import torch

from ..core.edits import Applied, register
from ..errors import ConfigError
from .ablation import ablate, ablate_at_sites
from .direction import Direction


def _folder(folder: str | Path | None, what: str, kind: str) -> str:
    """The folder a config names an artifact by; an edit made from an in-memory artifact has none."""
    if folder is None:
        raise ConfigError(
            f"the {kind} edit's {what} has no folder; save it and give folder=... to write the edit as a config"
        )
    return str(folder)


def _take(config: dict, kind: str, required: Sequence[str], optional: Sequence[str] = ()) -> dict:
    """The config's settings, checked: every required key present, no unknown key."""
    missing = [k for k in required if k not in config]
    unknown = sorted(set(config) - set(required) - set(optional))
    if missing or unknown:
        raise ConfigError(
            f"a {kind!r} edit takes {list(required)} (and optionally {list(optional)}); "
            f"missing {missing}, unknown {unknown}"
        )
    return config


def _vector(direction: Direction | torch.Tensor, site: str | None) -> torch.Tensor:
    return direction.vector(site) if isinstance(direction, Direction) else direction


def _hooks(subject, handles) -> Applied:
    return Applied(subject, handles.remove, handles)


@register
@dataclass
class Steer:
    """Add `alpha` x the direction's vector at each of its sites, on `positions` (all, prompt, generated)."""

    kind: ClassVar[str] = "steer"
    direction: Direction
    alpha: float
    positions: str = "all"
    folder: str | Path | None = None  # where `direction` is saved (for to_config)

    def apply(self, subject) -> Applied:
        from .steering import steer

        return _hooks(subject, steer(subject, self.direction, self.alpha, self.positions))

    def to_config(self) -> dict:
        folder = _folder(self.folder, "direction", self.kind)
        return {
            "kind": self.kind,
            "direction": folder,
            "alpha": float(self.alpha),
            "positions": self.positions,
        }

    @classmethod
    def from_config(cls, config: dict, subject=None) -> Steer:
        c = _take(config, cls.kind, ("direction", "alpha"), ("positions",))
        direction = Direction.load(c["direction"], subject=subject)
        return cls(direction, float(c["alpha"]), c.get("positions", "all"), c["direction"])


@register
@dataclass
class Ablate:
    """Project the direction (at `site`, or its only site) out of every residual write."""

    kind: ClassVar[str] = "ablate"
    direction: Direction | torch.Tensor
    site: str | None = None
    folder: str | Path | None = None

    def apply(self, subject) -> Applied:
        return _hooks(subject, ablate(subject, self.vector(subject)))

    def vector(self, subject) -> torch.Tensor:
        return _vector(self.direction, self.site)

    def to_config(self) -> dict:
        return {
            "kind": self.kind,
            "direction": _folder(self.folder, "direction", self.kind),
            "site": self.site,
        }

    @classmethod
    def from_config(cls, config: dict, subject=None):
        c = _take(config, cls.kind, ("direction",), ("site",))
        return cls(Direction.load(c["direction"], subject=subject), c.get("site"), c["direction"])


@register
@dataclass
class KeepMeansAblate(Ablate):
    """`Ablate` with the direction first made orthogonal to the residual writes' means on `texts` (default:
    the bundled neutral text), so the stream's constant part stays; computed once per model."""

    kind: ClassVar[str] = "keep_means_ablate"
    texts: list[str] | None = None
    _vectors: dict = field(default_factory=dict, repr=False)

    def vector(self, subject) -> torch.Tensor:
        from .keep_means import keep_means

        if id(subject.model) not in self._vectors:
            self._vectors[id(subject.model)] = keep_means(
                subject, _vector(self.direction, self.site), self.texts
            )[0]
        return self._vectors[id(subject.model)]

    def to_config(self) -> dict:
        if self.texts is not None:  # texts are the user's data: they are not written into configs
            raise ConfigError(
                "a keep_means_ablate edit calibrated on given texts has no config; use the default"
            )
        return super().to_config()


@register
@dataclass
class ProjectOut:
    """Project every vector of `directions` out of the output of the site it names (encoders too)."""

    kind: ClassVar[str] = "project_out"
    directions: Direction | list[Direction]
    folders: list[str] | None = None

    def apply(self, subject) -> Applied:
        return _hooks(subject, ablate_at_sites(subject, self.directions))

    def to_config(self) -> dict:
        folders = self.folders or [_folder(None, "directions", self.kind)]
        return {"kind": self.kind, "directions": [str(f) for f in folders]}

    @classmethod
    def from_config(cls, config: dict, subject=None) -> ProjectOut:
        folders = list(_take(config, cls.kind, ("directions",))["directions"])
        return cls([Direction.load(f, subject=subject) for f in folders], folders)


@register
@dataclass
class Erase:
    """LEACE erasure of the eraser's concept at `site` (default: the site it was fitted at)."""

    kind: ClassVar[str] = "erase"
    eraser: object  # a LeaceEraser
    site: str | None = None
    folder: str | Path | None = None

    def apply(self, subject) -> Applied:
        from .erase import erase

        return _hooks(subject, erase(subject, self.eraser, self.site))

    def to_config(self) -> dict:
        return {"kind": self.kind, "eraser": _folder(self.folder, "eraser", self.kind), "site": self.site}

    @classmethod
    def from_config(cls, config: dict, subject=None) -> Erase:
        from .leace import LeaceEraser

        c = _take(config, cls.kind, ("eraser",), ("site",))
        return cls(LeaceEraser.load(c["eraser"]), c.get("site"), c["eraser"])


@register
@dataclass
class ClampFeature:
    """Hold `feature` of the SAE at `value` at `site` (its reconstruction error stays in the stream)."""

    kind: ClassVar[str] = "clamp_feature"
    sae: object  # a SparseAutoencoder
    site: str
    feature: int
    value: float
    positions: str = "all"
    folder: str | Path | None = None

    def apply(self, subject) -> Applied:
        from .features import clamp_feature

        handle = clamp_feature(subject, self.sae, self.site, self.feature, self.value, self.positions)
        return _hooks(subject, handle)

    def to_config(self) -> dict:
        folder = _folder(self.folder, "SAE", self.kind)
        return {"kind": self.kind, "sae": folder, "site": self.site, "feature": self.feature,
                "value": float(self.value), "positions": self.positions}  # fmt: skip

    @classmethod
    def from_config(cls, config: dict, subject=None) -> ClampFeature:
        from ..sae.formats import load

        c = _take(config, cls.kind, ("sae", "site", "feature", "value"), ("positions",))
        sae = load(c["sae"])
        return cls(sae, c["site"], int(c["feature"]), float(c["value"]), c.get("positions", "all"), c["sae"])


@register
@dataclass
class Orthogonalize(Ablate):
    """The ablation baked into the weights (`orthogonalize`), in memory: the weights it rewrites are kept
    and put back on exit (a tied output head is tied again), so the model leaves the block as it came."""

    kind: ClassVar[str] = "orthogonalize"

    def apply(self, subject) -> Applied:
        from .orthogonalize import orthogonalize, restore, snapshot

        saved = snapshot(subject)
        try:
            record = orthogonalize(subject, self.vector(subject))
        except BaseException:
            restore(subject, saved)
            raise
        return Applied(subject, lambda: restore(subject, saved), record)
