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


def policy_from_config(name: str, spec, edit_of) -> Policy:
    """A policy from its config, `{action, threshold, message}`; a steer policy's edit is `edit_of(config)` of
    its `edit` (or of its direction, alpha and positions, the older form)."""
    if not isinstance(spec, dict):
        raise ConfigError(
            f"policy {name!r} must be a table like {{action: flag, threshold: 0.5}}, got {spec!r}"
        )
    spec = dict(spec)
    if spec.get("action") == "steer":
        edit = spec.pop("edit", None) or {
            key: spec.pop(key) for key in ("direction", "alpha", "positions") if key in spec
        }
        if not edit:
            raise ConfigError(f"steer policy {name!r} needs an edit, or a direction folder and an alpha")
        spec["edit"] = edit_of(edit)
    try:
        return Policy(**spec)
    except TypeError:
        raise ConfigError(
            f"policy {name!r} has unknown settings {sorted(spec)}; use action, threshold, message, "
            "and for steer an edit (or direction and alpha)"
        ) from None


def check_policies(policies: dict[str, Policy], probes: dict, token_level: set[str]) -> dict[str, Policy]:
    unknown = sorted(set(policies) - set(probes))
    if unknown:
        raise ConfigError(f"policies name probes {unknown} that the monitor lacks; it has {sorted(probes)}")
    for name, policy in policies.items():
        if policy.action == "redact" and name not in token_level:
            raise ConfigError(f"'redact' needs a token-level probe, but probe {name!r} pools its sequence")
    return dict(policies)


@dataclass
class Step:
    """What one generated token's scores did: the actions taken, the probe that blocked (the generation ends)
    and the probe whose redaction replaces the token's text."""

    actions: list[tuple[str, str]]  # (probe, action)
    blocked: str | None = None
    redact: str | None = None


class PolicyRun:
    """One generation's policies, step by step. `prompt(scores)` after the prompt's pass, `token(scores)`
    after each generated token's; `edits()` are the steer policies' edits that shape the next pass (entered
    around it only). The Hugging Face stream and the vLLM engine both run their generations through it."""

    def __init__(self, policies: dict[str, Policy], token_level: set[str]):
        self.policies, self.token_level, self.steering = policies, token_level, []

    def edits(self) -> list:
        return [self.policies[name].edit for name in self.steering]

    def prompt(self, scores: dict[str, float]) -> str | None:
        """The probe that blocks the prompt (token-level probes see only its last token, so they don't)."""
        blocked = next(iter(self._firing("block", scores, skip=self.token_level)), None)
        if blocked is None:
            self.steering = self._firing("steer", scores)
        return blocked

    def token(self, scores: dict[str, float]) -> Step:
        if not self.policies:
            return Step([])
        actions = [(name, "steer") for name in self.steering]  # the edits that shaped this token's pass
        self.steering = self._firing("steer", scores)
        actions += [(name, "flag") for name in self._firing("flag", scores)]
        if blocked := next(iter(self._firing("block", scores)), None):
            return Step(actions + [(blocked, "block")], blocked=blocked)
        redact = next(iter(self._firing("redact", scores)), None)
        if redact is not None:
            actions.append((redact, "redact"))
        return Step(actions, redact=redact)

    def _firing(self, action: str, scores: dict[str, float], skip=()) -> list[str]:
        return [
            name
            for name, p in self.policies.items()
            if p.action == action and name not in skip and scores[name] >= p.threshold
        ]
