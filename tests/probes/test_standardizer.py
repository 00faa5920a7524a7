"""Standardizer: batch by batch, merged, or all at once, the statistics of all the rows."""

from __future__ import annotations

import functools

import torch

from incision.probes import solvers
from incision.probes.standardizer import Standardizer


def offset_rows(n: int = 3000, d: int = 16, seed: int = 0) -> torch.Tensor:
    """float64 rows with offsets of 1e4 standard deviations in some features, and a constant feature."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64) * torch.logspace(-2, 1, d, dtype=torch.float64)
    x[:, : d // 2] += 1e4 * x[:, : d // 2].std(0)
    x[:, -1] = 7.0
    return x


def test_batches_and_merged_parts_give_the_statistics_of_all_rows():
    x = offset_rows()
    mean, std = x.mean(0), x.std(0, unbiased=False)
    streamed = Standardizer.empty(x.shape[1])
    for batch in x.split(250):
        streamed.update(batch)
    parts = [Standardizer.of(part) for part in x.tensor_split(7)]
    for statistics in (streamed, functools.reduce(Standardizer.merge, parts), Standardizer.of(x)):
        assert statistics.count == len(x)
        torch.testing.assert_close(statistics.mean_D, mean, rtol=1e-12, atol=0)
        torch.testing.assert_close(statistics.std_D[:-1], std[:-1], rtol=1e-9, atol=0)
        assert float(statistics.std_D[-1]) == 1e-8  # a constant feature standardises to 0


def test_float32_rows_in_chunks_over_threads():
    """The in-memory pass of big fits: float32 rows, no float64 copy, each feature's mean within a
    thousandth of a standard deviation even 1e4 standard deviations from 0."""
    x = offset_rows(n=40_000)
    statistics = solvers.statistics(x.float())
    reference = Standardizer.of(x.float().double())
    assert statistics.count == len(x)
    error = (statistics.mean_D - reference.mean_D).abs() / reference.std_D
    assert float(error[:-1].max()) < 1e-3
    torch.testing.assert_close(statistics.std_D[:-1], reference.std_D[:-1], rtol=1e-4, atol=0)
    bad = x.float()
    bad[5, 3] = float("nan")
    assert Standardizer.of(x).finite() and not solvers.statistics(bad).finite()
