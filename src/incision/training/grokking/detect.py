"""Naming the phases of a grokking run, and a detector that sees the circuit forming from the past alone.

The detector reads the excluded loss: the training loss once the key frequencies the logits use *now* are
taken out of them. A model that only memorises keeps its training loss near 0 without them; once the
Fourier circuit carries part of the training predictions, removing it costs real loss. The detector fires
when, after memorisation, that cost stays above `threshold` nats for `patience` looks in a row. It is
reported at the last look of the streak: the step at which a user watching the run would know.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .progress import Look


@dataclass
class CircuitDetector:
    """Feed it each look as it comes (`update`); `fired_at` is the step it fired, or None."""

    threshold: float = 1.0
    """nats of training loss the key frequencies must carry"""
    patience: int = 3
    """looks in a row"""
    memorised_acc: float = 0.99
    """training accuracy that counts as memorised (the detector waits for it)"""
    fired_at: int | None = None
    _streak: int = 0
    _memorised: bool = False

    def update(self, look: Look) -> bool:
        """True at the look where it fires (and only there)."""
        if self.fired_at is not None:
            return False
        self._memorised = self._memorised or look.train_acc >= self.memorised_acc
        carried = self._memorised and look.excluded_loss_now > self.threshold
        self._streak = self._streak + 1 if carried else 0
        if self._streak >= self.patience:
            self.fired_at = look.step
            return True
        return False

    def describe(self) -> str:
        return (
            f"after memorisation, the training loss without the current key frequencies stays above "
            f"{self.threshold:g} nats for {self.patience} looks"
        )


@dataclass
class Phases:
    memorised: int | None
    """first step with training accuracy >= the detector's `memorised_acc`"""
    detected: int | None
    grokked: int | None
    """first step with test accuracy >= `grokked_acc`: the jump"""
    generalised: int | None
    """first step with test accuracy >= 0.9"""
    lead_steps: int | None
    lead_seconds: float | None
    """training time between the detector firing and the jump"""
    rule: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def phases(looks: list[Look], detector: CircuitDetector, grokked_acc: float = 0.5) -> Phases:
    """The run's milestones; `detector` must have seen the looks (or is replayed over them here)."""
    if detector.fired_at is None:
        for look in looks:
            detector.update(look)

    def first(condition) -> Look | None:
        return next((look for look in looks if condition(look)), None)

    memorised = first(lambda look: look.train_acc >= detector.memorised_acc)
    detected = first(lambda look: look.step == detector.fired_at) if detector.fired_at is not None else None
    grokked = first(lambda look: look.test_acc >= grokked_acc)
    generalised = first(lambda look: look.test_acc >= 0.9)
    both = detected is not None and grokked is not None
    return Phases(
        memorised=memorised.step if memorised else None,
        detected=detected.step if detected else None,
        grokked=grokked.step if grokked else None,
        generalised=generalised.step if generalised else None,
        lead_steps=grokked.step - detected.step if both else None,
        lead_seconds=grokked.seconds - detected.seconds if both else None,
        rule={
            "description": detector.describe(),
            "threshold": detector.threshold,
            "patience": detector.patience,
            "memorised_acc": detector.memorised_acc,
            "grokked_acc": grokked_acc,
        },
    )
