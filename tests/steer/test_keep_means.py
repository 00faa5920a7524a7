"""Keeping the residual writes' means: the means are those of the writes' outputs over real tokens only,
the adjusted direction is orthogonal to every one of them, and the adjusted edit keeps the stream's
mean component where plain ablation removes part of it."""

from __future__ import annotations

import pytest
import torch

from incision import InputError
from incision.steer.ablation import ablate
from incision.steer.keep_means import keep_means, orthogonal_to_means, write_means
from incision.steer.orthogonalize import orthogonalize
from incision.steer.writers import residual_writes

from ..conftest import tiny_subject

TEXTS = ["a short one", "a somewhat longer text than the first one here", "mid length text", "x y"]


def test_write_means_skip_padding_and_match_the_embedding_oracle():
    subject = tiny_subject("llama")
    one_by_one = write_means(subject, TEXTS, batch_size=1)
    padded = write_means(subject, TEXTS, batch_size=4)
    assert one_by_one.shape == (len(residual_writes(subject)), subject.d_model)
    torch.testing.assert_close(padded, one_by_one, atol=1e-5, rtol=1e-4)
    ids = [subject.tokenizer(t, return_tensors="pt")["input_ids"][0] for t in TEXTS]
    with torch.no_grad():
        oracle = subject.model.get_input_embeddings()(torch.cat(ids)).mean(0)
    torch.testing.assert_close(one_by_one[0], oracle, atol=1e-5, rtol=1e-4)


def test_adjusted_direction_is_orthogonal_to_every_mean_and_keeps_the_rest():
    g = torch.Generator().manual_seed(0)
    means, r = torch.randn(5, 32, generator=g), torch.randn(32, generator=g)
    kept, record = orthogonal_to_means(r, means)
    assert float((means @ kept).abs().max()) < 1e-4 * float(means.norm(dim=1).max() * kept.norm())
    assert record["kept_write_means"] == 5
    assert record["cosine_to_original"] == pytest.approx(float(kept.norm() / r.norm()), abs=1e-5)
    outside = r - means.T @ torch.linalg.lstsq(means.T, r).solution  # already orthogonal: unchanged
    torch.testing.assert_close(orthogonal_to_means(outside, means)[0], outside, atol=1e-5, rtol=1e-5)


def test_a_direction_inside_the_means_span_is_refused():
    means = torch.randn(3, 16, generator=torch.Generator().manual_seed(1))
    with pytest.raises(InputError, match="span of the residual writes' means"):
        orthogonal_to_means(means[0] - 2 * means[2], means)
    with pytest.raises(InputError, match=r"shape \[n, 16\]"):
        orthogonal_to_means(torch.ones(16), torch.ones(3, 8))
    with pytest.raises(InputError, match="non-empty"):
        write_means(tiny_subject("llama"), ["fine", ""])


def test_keeping_means_leaves_the_write_means_untouched_where_plain_ablation_moves_them():
    subject = tiny_subject("llama")
    means = write_means(subject, TEXTS)
    r = means[0] + 0.5 * torch.randn(subject.d_model, generator=torch.Generator().manual_seed(2))
    kept, _ = keep_means(subject, r, TEXTS)
    with ablate(subject, kept):
        after_kept = write_means(subject, TEXTS)
    with ablate(subject, r):
        after_plain = write_means(subject, TEXTS)
    # the embedding write sees no edit upstream: its mean moves only by the ablated component itself
    torch.testing.assert_close(after_kept[0], means[0], atol=1e-5, rtol=1e-4)
    assert float((after_plain[0] - means[0]).norm()) > 1e-2 * float(means[0].norm())
    orthogonalize(subject, kept)  # the adjusted direction is still an exact weight edit for Llama
    torch.testing.assert_close(write_means(subject, TEXTS)[0], means[0], atol=1e-5, rtol=1e-4)
