"""Steering with an SAE: along a feature's decoder direction, or by clamping the feature's activation.

Clamping encodes the site's output, sets one latent to `value` and adds the change of the reconstruction,
x + (value - a_f) * W_dec[f] / s: the SAE's reconstruction error stays in the stream, so only the one
feature moves (the usual way to intervene on an SAE feature without paying its reconstruction loss).
"""

from __future__ import annotations

import torch

from ..core.hooks import add_replace_hook
from ..errors import ConfigError
from ..sae.config import check_width
from ..sae.model import SparseAutoencoder
from .direction import Direction
from .positions import PositionTracker
from .steering import POSITIONS, Steering


def feature_direction(sae: SparseAutoencoder, feature: int, site: str) -> Direction:
    """The decoder row of `feature` in the activations' units (a unit of the latent), at `site`."""
    f = _check_feature(sae, feature)
    with torch.no_grad():
        vector = (sae.W_dec_FD[f] / sae.input_scale).float()
    return Direction({site: vector}, {"method": "sae_feature", "feature": f, **sae.meta})


def clamp_feature(
    subject,
    sae: SparseAutoencoder,
    site: str,
    feature: int,
    value: float,
    positions: str = "all",
    prompt_length: int | None = None,
) -> Steering:
    """Hold `feature` of `sae` at `value` at `site` (on `positions`); a handle and a context manager."""
    if positions not in POSITIONS:
        raise ConfigError(f"positions must be one of {list(POSITIONS)}, got {positions!r}")
    f = _check_feature(sae, feature)
    name = subject.resolve(site).name
    check_width(sae, subject.d_model, f"site {name!r} of {subject.name!r}")
    tracker = PositionTracker(prompt_length)

    def clamp(x_BTD: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            active_BT = sae.encode(x_BTD)[..., f]
            row_D = (sae.W_dec_FD[f] / sae.input_scale).to(x_BTD.dtype)
        change_BT = (float(value) - active_BT).to(x_BTD.dtype)
        where_T = tracker.mask(positions, x_BTD.device)
        if where_T is not None:
            change_BT = change_BT * where_T.to(x_BTD.dtype)
        return x_BTD + change_BT.unsqueeze(-1) * row_D

    handles = tracker.track(subject.model)
    try:
        handles.handles += add_replace_hook(subject.resolve(name).module, clamp).handles
    except BaseException:
        handles.remove()
        raise
    return Steering(handles, tracker, {})


def _check_feature(sae: SparseAutoencoder, feature) -> int:
    if not isinstance(feature, int) or isinstance(feature, bool) or not 0 <= feature < sae.cfg.d_sae:
        raise ConfigError(f"feature must be an integer in [0, {sae.cfg.d_sae}), got {feature!r}")
    return feature
