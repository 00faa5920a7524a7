"""Shape what a model learns while it trains: keep a concept's direction out of its activations, so the
loss cannot lean on that concept (a spurious cue, say) through it, and has to use something else.

- `ablate_while_training(subject, direction)`: hooks that project the direction out during every forward
  pass, gradients included (the model never sees a component along it, and gets no gradient along it).
  A plain vector goes through `steer.ablation.ablate` (every residual write; decoders). A `Direction`, or
  several, is projected out of each of its own sites' outputs: this works for encoders too (BERT normalises
  its whole stream after each block, so there is no clean "write" to edit), and several directions per site
  let a caller add newly found ones during training.
- `DirectionPenalty`: a soft variant, a loss term on the squared projection of the pooled activations at
  one site onto the direction; the model may still use the direction, at a price.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..core.edits import Applied
from ..core.hooks import HookHandles, module_output
from ..errors import ConfigError, InputError
from ..steer.ablation import site_bases  # noqa: F401  (re-exported: callers import it from here)
from ..steer.direction import Direction, check_vector
from ..steer.edit_kinds import Ablate, ProjectOut


def ablate_while_training(subject, direction: torch.Tensor | Direction | Sequence[Direction]) -> Applied:
    """Keep `direction` projected out while the model trains (and evaluates); `with` (or `remove()`) undoes it.

    A tensor [D] is removed from every residual write (the `Ablate` edit, decoder families). A Direction (or
    a list of them) is removed, site by site, from the output of each site it names (the `ProjectOut` edit):
    the span of all the vectors given for a site, so nothing along any of them reaches the next layer."""
    if isinstance(direction, torch.Tensor):
        return Ablate(check_vector(direction, subject.d_model)).apply(subject)
    return ProjectOut(direction).apply(subject)


class DirectionPenalty:
    """`weight * mean_i (pool(h_i) . r)^2` at one site, r the unit direction, h_i text i's activations
    mean-pooled over its attention mask. Uncentred on purpose: it pulls every text's projection to zero,
    which removes any difference along r between texts.

        with penalty.attach():
            out = model(**batch)
            loss = task_loss(out) + penalty(batch["attention_mask"])
    """

    def __init__(
        self, subject, direction: torch.Tensor | Direction, site: str | None = None, weight: float = 1.0
    ):
        if isinstance(direction, Direction):
            direction.check_subject(subject)
            site = subject.resolve(site).name if site is not None else None
            vector = direction.vector(site)
            site = site or direction.sites[0]
        elif site is None:
            raise ConfigError("a DirectionPenalty from a plain vector needs site=, e.g. site='resid.-1'")
        else:
            vector = direction
        if not weight >= 0:
            raise ConfigError(f"weight must be a number >= 0, got {weight!r}")
        vector = check_vector(vector, subject.d_model)
        self.site = subject.resolve(site)
        self.r_D, self.weight = vector / vector.norm(), float(weight)
        self._acts: torch.Tensor | None = None

    def attach(self) -> HookHandles:
        """A hook that keeps the site's output (with its graph) for the next call; `with` removes it."""

        def keep(_module, _inputs, output):
            self._acts = module_output(output)

        return HookHandles([self.site.module.register_forward_hook(keep)])

    def __call__(self, attention_mask: torch.Tensor) -> torch.Tensor:
        """The penalty on the last forward pass, a scalar with gradients."""
        acts, self._acts = self._acts, None
        if acts is None:
            raise ConfigError(
                "no forward pass ran under penalty.attach() since the last call; run the model first"
            )
        if attention_mask.shape != acts.shape[:2]:
            raise InputError(
                f"attention_mask has shape {list(attention_mask.shape)}, the activations {list(acts.shape[:2])}"
            )
        mask = attention_mask.to(device=acts.device, dtype=torch.float32).unsqueeze(-1)
        pooled = (acts.float() * mask).sum(1) / mask.sum(1).clamp_min(1.0)
        return self.weight * (pooled @ self.r_D.to(acts.device)).pow(2).mean()
