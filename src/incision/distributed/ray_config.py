"""`RayConfig`: the cluster side of a Ray capture (imports no Ray, so the CLI can list its options)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ConfigError


@dataclass
class RayConfig:
    """Where a Ray capture runs. Every field is an option of `incision capture --ray`."""

    address: str | None = field(
        default=None,
        metadata={
            "help": "Ray cluster to join, e.g. 'auto' or 'ray://head:10001' (default: start a local one)"
        },
    )
    workers: int = field(
        default=2, metadata={"help": "actors in the pool, each holding its own copy of the model"}
    )
    worker_cpus: float = field(
        default=1.0, metadata={"help": "CPUs per worker (its torch threads, rounded down)"}
    )
    worker_gpus: float = field(
        default=0.0, metadata={"help": "GPUs per worker (e.g. 4 for a 70B model in bf16)"}
    )

    def __post_init__(self) -> None:
        if not isinstance(self.workers, int) or self.workers < 1:
            raise ConfigError(f"workers must be a positive integer, got {self.workers!r}")
        for name in ("worker_cpus", "worker_gpus"):
            if not isinstance(getattr(self, name), int | float) or getattr(self, name) < 0:
                raise ConfigError(f"{name} must be a non-negative number, got {getattr(self, name)!r}")
        if self.worker_cpus < 1 and self.worker_gpus == 0:
            raise ConfigError(f"worker_cpus must be at least 1 for a CPU worker, got {self.worker_cpus!r}")
