"""Per-feature mean and standard deviation, from rows seen batch by batch: the one standardisation of probes.

The state is a row count, a mean and the summed squared deviations from it (M2), in float64. A batch adds
its own (count, mean, M2), taken around its own mean, so large offsets never cancel; two states combine
exactly (Chan et al.'s pairwise update), so partial statistics of threads and of processes merge into those
of all their rows. In-memory data, a stream of batches and a process group all go through `update`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..reduce import Reducer

STD_FLOOR = 1e-8  # a constant feature's standard deviation: it standardises to 0


@dataclass
class Standardizer:
    """Statistics of the rows seen so far (`Standardizer.empty(width)` before the first `update`)."""

    count: float  # rows seen
    mean_D: torch.Tensor  # float64
    m2_D: torch.Tensor  # float64: sum over the rows of (x - mean)^2

    @classmethod
    def empty(cls, width: int, device: torch.device | str | None = None) -> Standardizer:
        zeros_D = torch.zeros(width, dtype=torch.float64, device=device)
        return cls(0.0, zeros_D, zeros_D.clone())

    @classmethod
    def of(cls, x_ND: torch.Tensor) -> Standardizer:
        """The statistics of the rows of `x_ND`, taken at once (see `update`)."""
        return cls.empty(x_ND.shape[-1], x_ND.device).update(x_ND)

    def update(self, x_BD: torch.Tensor) -> Standardizer:
        """Add the rows of `x_BD` (float64 stays float64, other floats are read as float32); returns self."""
        x = x_BD.detach()
        x = x if x.dtype in (torch.float32, torch.float64) else x.float()
        if x.shape[0] == 0:
            return self
        shift_D = x.mean(0)
        deviation_BD = x - shift_D
        first_D = deviation_BD.sum(0).double()  # ~0: what rounding left of the batch mean
        second_D = deviation_BD.square_().sum(0).double()
        n = x.shape[0]
        batch = Standardizer(float(n), shift_D.double() + first_D / n, second_D - first_D.square() / n)
        return self._absorb(batch)

    def merge(self, other: Standardizer) -> Standardizer:
        """The statistics of both sets of rows (a new object)."""
        return Standardizer(self.count, self.mean_D, self.m2_D)._absorb(other)

    def reduce(self, reducer: Reducer) -> Standardizer:
        """The statistics of every process's rows (a new object; `self` for `LOCAL`)."""
        if reducer.size == 1:
            return self
        count = reducer.sum(torch.tensor(self.count, dtype=torch.float64, device=self.mean_D.device))
        mean_D = reducer.sum(self.count * self.mean_D) / count
        m2_D = reducer.sum(self.m2_D + self.count * (self.mean_D - mean_D).square())
        return Standardizer(float(count), mean_D, m2_D)

    @property
    def std_D(self) -> torch.Tensor:
        """Population standard deviation (as scikit-learn's StandardScaler), at least `STD_FLOOR`."""
        return (self.m2_D / self.count).sqrt().clamp_min(STD_FLOOR)

    def finite(self) -> bool:
        """Whether the statistics are finite (NaN or inf in any row makes its feature's statistics so)."""
        return bool(torch.isfinite(self.mean_D).all() and torch.isfinite(self.m2_D).all())

    def _absorb(self, other: Standardizer) -> Standardizer:
        if other.count == 0:
            return self
        if self.count == 0:
            self.count, self.mean_D, self.m2_D = other.count, other.mean_D, other.m2_D
            return self
        count = self.count + other.count
        delta_D = other.mean_D - self.mean_D
        self.mean_D = self.mean_D + delta_D * (other.count / count)
        self.m2_D = self.m2_D + other.m2_D + delta_D.square() * (self.count * other.count / count)
        self.count = count
        return self
