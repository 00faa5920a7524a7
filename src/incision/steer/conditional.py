"""Probe-conditioned interventions: steer only at the tokens where a probe fires, and stop `generate()` once
a probe fires on the newest token.

A `ProbeGate` reads the probe's site on every forward pass (one matrix-vector product per token) and keeps
the [B, T] mask of where the probe fires; `steer(..., gate=gate)` steers there only. The probe's site must
run no later than the steering site, so the mask is known when the steering hook runs; at the same site the
probe reads the output before it is steered.
"""

from __future__ import annotations

import torch
from transformers import StoppingCriteria

from ..core.hooks import HookHandles, add_output_hooks
from ..errors import ConfigError
from ..probes.linear import LinearProbe
from ..probes.live import check_compatible


class ProbeGate:
    """Where a binary token-level probe's positive probability reaches `threshold` (default: the probe's)."""

    def __init__(self, probe: LinearProbe, threshold: float | None = None):
        if probe.n_classes != 2 or probe.pooling is not None:
            raise ConfigError("a gate needs a binary token-level probe (pooling None)")
        self.probe = probe
        self.threshold = probe.threshold if threshold is None else float(threshold)
        self.fired_BT: torch.Tensor | None = None
        self.proba_BT: torch.Tensor | None = None

    def install(self, subject) -> HookHandles:
        """Read the probe's site on every forward pass (checked against the subject's model and width)."""
        self.site = subject.resolve(check_compatible(self.probe, subject)).name
        return add_output_hooks({self.site: subject.resolve(self.site).module}, self._read)

    def _read(self, _site: str, x_BTD: torch.Tensor) -> None:
        with torch.no_grad():
            proba = self.probe.predict_proba(x_BTD.reshape(-1, x_BTD.shape[-1]).float())[:, 1]
        self.proba_BT = proba.reshape(x_BTD.shape[:-1])
        self.fired_BT = self.proba_BT.double() >= self.threshold

    def __call__(self, _x_BTD: torch.Tensor) -> torch.Tensor:
        if self.fired_BT is None:
            raise ConfigError(f"the gate's probe site {self.site} has not run before the steering site")
        return self.fired_BT.to(_x_BTD.device)


def check_order(subject, gate_site: str, steer_site: str) -> None:
    """The gate's site must run no later than the steering site in the forward pass."""
    order = subject.sites
    if order.index(gate_site) > order.index(subject.resolve(steer_site).name):
        raise ConfigError(
            f"the probe reads {gate_site}, which runs after the steering site {steer_site}; steer at or after it"
        )


class StopWhenProbeFires(StoppingCriteria):
    """Pass in `generate(..., stopping_criteria=[...])`: a row is finished once the gate fired on the newest
    token the model has read (the gate must be installed, e.g. by `steer` or `gate.install`)."""

    def __init__(self, gate: ProbeGate):
        self.gate = gate

    def __call__(self, input_ids: torch.LongTensor, scores=None, **kwargs) -> torch.BoolTensor:
        fired = self.gate.fired_BT
        if fired is None:
            return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        return fired[:, -1].to(input_ids.device)
