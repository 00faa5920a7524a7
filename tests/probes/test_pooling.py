"""Pooling against per-sequence references: padding never reaches the result."""

from __future__ import annotations

import pytest
import torch

from incision import ConfigError, InputError
from incision.probes.pooling import pad_segments, pool, pool_segments


def ragged(seed: int = 0, lengths=(5, 1, 9, 3), d: int = 6) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, d, generator=g) * 3 + 1 for n in lengths]


def reference(seq: torch.Tensor, how: str, query: torch.Tensor | None = None) -> torch.Tensor:
    if how == "mean":
        return seq.mean(0)
    if how == "max":
        return seq.max(0).values
    if how == "last":
        return seq[-1]
    weights = torch.softmax(seq @ query, dim=0)
    return (weights[:, None] * seq).sum(0)


@pytest.mark.parametrize("how", ["mean", "max", "last", "attention"])
def test_pooling_ignores_padding(how):
    seqs = ragged()
    acts, mask = pad_segments(torch.cat(seqs), [len(s) for s in seqs])
    poisoned = acts.clone()
    poisoned[~mask] = float("nan")  # whatever padding holds must not matter
    query = torch.randn(acts.shape[2])
    logits = poisoned @ query if how == "attention" else None
    got = pool(poisoned, mask, how, logits)
    expected = torch.stack([reference(s, how, query) for s in seqs])
    torch.testing.assert_close(got, expected)
    # left padding too: the mask, not the position, decides
    flipped = pool(poisoned.flip(1), mask.flip(1), how, None if logits is None else logits.flip(1))
    if how != "last":
        torch.testing.assert_close(flipped, expected)


@pytest.mark.parametrize("how", ["mean", "max", "last"])
def test_segment_pooling_equals_padded_pooling(how):
    seqs = ragged(seed=1, lengths=(4, 7, 1, 2, 6))
    rows = torch.cat(seqs)
    lengths = [len(s) for s in seqs]
    torch.testing.assert_close(pool_segments(rows, lengths, how), pool(*pad_segments(rows, lengths), how))


def test_pooling_errors():
    acts, mask = pad_segments(torch.ones(3, 2), [2, 1])
    with pytest.raises(InputError, match=r"mask \[B, T\], got \[2, 2, 2\] and \[2, 3\]"):
        pool(acts, torch.ones(2, 3, dtype=torch.bool), "mean")
    empty = mask.clone()
    empty[1] = False
    with pytest.raises(InputError, match="sequence 1 of the batch has no tokens"):
        pool(acts, empty, "mean")
    with pytest.raises(ConfigError, match="pooling must be one of"):
        pool(acts, mask, "median")
    with pytest.raises(ConfigError, match="learned"):
        pool_segments(torch.ones(3, 2), [2, 1], "attention")
    with pytest.raises(InputError, match="sum to 4, but there are 3 rows"):
        pool_segments(torch.ones(3, 2), [2, 2], "mean")
