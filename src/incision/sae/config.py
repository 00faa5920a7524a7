"""SAEConfig: the shape and the variant of a sparse autoencoder (how it is trained lives in SAETrainConfig)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Literal

from ..configs import check_choices
from ..errors import ConfigError
from .variants import VARIANTS

if TYPE_CHECKING:
    from .model import SparseAutoencoder


@dataclass
class SAEConfig:
    """One sparse autoencoder. Saved in every artifact's cfg.json, so a folder rebuilds its own model."""

    d_in: int = field(metadata={"help": "width of the activations it reads"})
    d_sae: int = field(metadata={"help": "number of latents (dictionary size)"})
    architecture: str = field(
        default="topk", metadata={"help": "variant: topk, batchtopk, relu (L1) or jumprelu"}
    )
    k: int = field(
        default=32, metadata={"help": "active latents per example (topk), on average per example (batchtopk)"}
    )
    l1_coefficient: float = field(
        default=5.0, metadata={"help": "weight of the L1 penalty, sum_i f_i * ||W_dec_i|| (relu)"}
    )
    l0_coefficient: float = field(default=1.0, metadata={"help": "weight of the L0 penalty (jumprelu)"})
    jumprelu_bandwidth: float = field(
        default=0.05, metadata={"help": "width of the pseudo-derivative's window around the threshold"}
    )
    jumprelu_init_threshold: float = field(
        default=0.01, metadata={"help": "initial threshold of every latent (jumprelu)"}
    )
    batchtopk_threshold_rate: float = field(
        default=0.01,
        metadata={"help": "weight of each batch in the running inference threshold (batchtopk)"},
    )
    dead_after_tokens: int = field(
        default=10_000_000, metadata={"help": "a latent that has not fired for this many tokens is dead"}
    )
    aux_k: int = field(
        default=512, metadata={"help": "dead latents that reconstruct the residual in the aux loss (topk)"}
    )
    aux_coefficient: float = field(
        default=1 / 32, metadata={"help": "weight of the auxiliary-k loss (topk, batchtopk; 0 turns it off)"}
    )
    normalise_activations: Literal["none", "expected_average"] = field(
        default="none",
        metadata={"help": "expected_average: inputs scaled by one factor so that E||x||^2 = d_in"},
    )
    unit_decoder: bool = field(
        default=True,
        metadata={"help": "keep decoder rows at unit norm (gradient projected, rows renormalised per step)"},
    )

    def __post_init__(self) -> None:
        check_choices(self)
        if self.architecture not in VARIANTS:
            raise ConfigError(f"architecture must be one of {sorted(VARIANTS)}, got {self.architecture!r}")
        for name in ("d_in", "d_sae", "k", "dead_after_tokens", "aux_k"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if VARIANTS[self.architecture].uses_k and self.k > self.d_sae:
            raise ConfigError(f"k must be at most d_sae ({self.d_sae}), got {self.k}")
        for name in ("l1_coefficient", "l0_coefficient", "aux_coefficient"):
            if not _number(getattr(self, name)) or getattr(self, name) < 0:
                raise ConfigError(f"{name} must be a number >= 0, got {getattr(self, name)!r}")
        for name in ("jumprelu_bandwidth", "jumprelu_init_threshold"):
            if not _number(getattr(self, name)) or getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be a positive number, got {getattr(self, name)!r}")
        rate = self.batchtopk_threshold_rate
        if not _number(rate) or not 0 < rate <= 1:
            raise ConfigError(f"batchtopk_threshold_rate must be in (0, 1], got {rate!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> SAEConfig:
        """Rebuild from `to_dict` output; an unknown key is an error (a config from a newer incision)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"SAE config has unknown fields {unknown}; it was written by a newer incision")
        return cls(**values)


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def check_width(sae: SparseAutoencoder | SAEConfig, width: int, where: str) -> None:
    """The SAE must read activations as wide as the site it is trained on or applied to; `where` names it."""
    d_in = (sae if isinstance(sae, SAEConfig) else sae.cfg).d_in
    if d_in != width:
        raise ConfigError(f"the SAE reads width {d_in}, but {where} has width {width}; use d_in={width}")
