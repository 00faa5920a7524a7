"""SAE training batches from a store and from a live model: specials left out, shuffled, width checked."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from incision import ConfigError, InputError, capture
from incision.sae import SAEConfig, SAETrainConfig, train_sae
from incision.sae.sources import SourceConfig, holdout_docs, live_batches, store_batches, training_rows

from ..conftest import TEXTS, tiny_subject

SAE = SAEConfig(d_in=32, d_sae=64, k=4)


@pytest.fixture(scope="module")
def subject():
    return tiny_subject("llama")


@pytest.fixture(scope="module")
def store(subject, tmp_path_factory):
    texts = TEXTS * 3
    out = tmp_path_factory.mktemp("sources") / "store"
    return capture(subject, texts, ["resid.1", "resid.2"], out, dtype="float32", progress=False)


def _text_rows(store) -> np.ndarray:
    tokens = store.tokens
    return np.flatnonzero(tokens["char_end"].to_numpy() > tokens["char_start"].to_numpy())


def _sorted(rows_ND: torch.Tensor) -> torch.Tensor:
    return rows_ND[np.lexsort(rows_ND.T.numpy()[::-1])]


def test_store_batches_hold_every_text_token_once_shuffled_without_specials(store):
    cfg = SourceConfig(read_tokens=10, shuffle_seed=3)
    batches = list(store_batches(store, "resid.1", SAE, cfg))
    assert all(b.shape[0] <= 10 for b in batches)
    got = torch.cat(batches)
    expected = store.gather("resid.1", _text_rows(store))
    assert len(got) == len(expected) == store.n_tokens - store.n_docs  # each document's BOS left out
    torch.testing.assert_close(_sorted(got), _sorted(expected), rtol=0, atol=0)
    assert not torch.equal(got, expected)  # shuffled
    bos = store.gather("resid.1", np.flatnonzero(store.tokens["position"].to_numpy() == 0))
    assert bos.norm(dim=-1).min() > 0 and not (torch.cdist(got, bos).min(0).values == 0).any()
    again = torch.cat(list(store_batches(store, "resid.1", SAE, cfg)))
    assert torch.equal(got, again)  # the same seed gives the same stream: resume replays it


def test_store_batches_epochs_reshuffle_and_include_special(store):
    two = list(store_batches(store, "resid.1", SAE, SourceConfig(epochs=2, read_tokens=1000)))
    assert len(two) == 2 and len(two[0]) == len(two[1]) and not torch.equal(two[0], two[1])
    torch.testing.assert_close(_sorted(two[0]), _sorted(two[1]), rtol=0, atol=0)
    everything = torch.cat(list(store_batches(store, "resid.1", SAE, SourceConfig(include_special=True))))
    assert len(everything) == store.n_tokens


def test_store_batches_leave_out_held_out_documents(store):
    held = holdout_docs(store.n_docs, 3, seed=0)
    assert len(held) == 3 and len(set(held.tolist())) == 3
    rows = training_rows(store, exclude_docs=held)
    docs = store.tokens["doc"].to_numpy()
    assert not np.isin(docs[rows], held).any()
    assert set(rows.tolist()) == set(_text_rows(store).tolist()) - set(np.flatnonzero(np.isin(docs, held)))
    got = torch.cat(list(store_batches(store, "resid.2", SAE, exclude_docs=held)))
    assert len(got) == len(rows)
    with pytest.raises(ConfigError, match="cannot hold out 12 of 12 documents"):
        holdout_docs(12, 12)


def test_iter_batches_reads_only_the_rows_asked_for(store):
    rows = np.array([5, 1, 9, 2])
    ordered = torch.cat(list(store.iter_batches("resid.1", 3, rows=rows)))
    torch.testing.assert_close(ordered, store.gather("resid.1", rows))
    shuffled = torch.cat(list(store.iter_batches("resid.1", 3, shuffle=True, seed=0, rows=rows)))
    torch.testing.assert_close(_sorted(shuffled), _sorted(ordered))


def test_sources_check_the_width_and_refuse_empty_input(store, subject):
    wide = SAEConfig(d_in=48, d_sae=64, k=4)
    with pytest.raises(
        ConfigError, match="the SAE reads width 48, but site 'resid.1' of store .* has width 32"
    ):
        store_batches(store, "resid.1", wide)  # at once, not when the trainer asks for a batch
    with pytest.raises(ConfigError, match="the SAE reads width 48, but site 'resid.1' of 'tiny-llama'"):
        live_batches(subject, TEXTS, "resid.1", wide)
    with pytest.raises(InputError, match="no token rows to train on"):
        store_batches(store, "resid.1", SAE, exclude_docs=range(store.n_docs))
    with pytest.raises(ConfigError, match="read_tokens must be a positive integer, got 0"):
        SourceConfig(read_tokens=0)


def test_live_batches_match_the_store(subject, store):
    texts = TEXTS * 3
    cfg = SourceConfig(
        read_tokens=8, shuffle_tokens=16, shuffle_seed=1, window=store.manifest["settings"]["window"]
    )
    batches = list(live_batches(subject, texts, "resid.1", SAE, cfg))
    assert all(b.shape[0] <= 8 and b.dtype == torch.float32 and not b.is_inference() for b in batches)
    live = torch.cat(batches)
    stored = store.gather("resid.1", _text_rows(store))
    assert live.shape == stored.shape
    # the same rows (batches padded differently may differ in the last bits), in another order
    distance = torch.cdist(live, stored)
    assert distance.min(1).values.max() < 1e-4 and distance.min(0).values.max() < 1e-4
    assert not torch.allclose(live, stored)
    again = torch.cat(list(live_batches(subject, texts, "resid.1", SAE, cfg)))
    assert torch.equal(live, again)


def test_live_capture_trains_an_sae(subject):
    cfg = SAETrainConfig(batch_size=16, total_tokens=64, warmup_steps=1, log_every=2, progress=False)
    source = live_batches(subject, TEXTS * 3, "resid.2", SAE, SourceConfig(read_tokens=10, epochs=2))
    result = train_sae(SAE, source, cfg)
    assert result.steps == 4 and np.isfinite(result.metrics["fvu"])
