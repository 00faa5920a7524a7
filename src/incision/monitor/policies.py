"""What a Monitor does when a probe fires: flag it, redact the tokens (PII), block the reply, or steer.

A policy fires when its probe's score reaches `threshold`: per token for a token-level probe, on the
running pooled score for a pooled one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..core.edits import as_edit
from ..errors import ConfigError

Action = Literal["flag", "redact", "block", "steer"]
ACTIONS = ("flag", "redact", "block", "steer")
REFUSAL = "I can't help with that."


@dataclass(frozen=True)
class Policy:
    """One probe's policy."""

    action: Action
    threshold: float = 0.5  # the probe's score at which the policy fires
    edit: object = None  # steer: an `incision.core.edits` Edit (e.g. `Steer(direction, alpha=-4)`)
    message: str = REFUSAL  # block: the reply that replaces the rest of the generation

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ConfigError(f"policy action must be one of {list(ACTIONS)}, got {self.action!r}")
        if not 0.0 < self.threshold < 1.0:
            raise ConfigError(f"policy threshold must lie strictly between 0 and 1, got {self.threshold!r}")
        if (self.action == "steer") != (self.edit is not None):
            raise ConfigError("a 'steer' policy needs an edit (and only a 'steer' policy takes one)")
        if self.edit is not None:
            object.__setattr__(self, "edit", as_edit(self.edit))


def check_policies(policies: dict[str, Policy], probes: dict, token_level: set[str]) -> dict[str, Policy]:
    unknown = sorted(set(policies) - set(probes))
    if unknown:
        raise ConfigError(f"policies name probes {unknown} that the monitor lacks; it has {sorted(probes)}")
    for name, policy in policies.items():
        if policy.action == "redact" and name not in token_level:
            raise ConfigError(f"'redact' needs a token-level probe, but probe {name!r} pools its sequence")
    return dict(policies)
