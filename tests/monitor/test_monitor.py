"""Monitor: probes read inside one forward pass score exactly what offline probes score, the model's own
outputs are untouched, edits apply to what probes read, and bad input is a clear error."""

from __future__ import annotations

import pytest
import torch

from incision import InputError
from incision.monitor import Monitor
from incision.probes.linear import LinearProbe
from incision.steer.ablation import ablate

from ..conftest import tiny_subject

TEXTS = ["the quick brown fox", "a much longer sentence that pads the others in the batch", "hi"]


def probe(subject, site: str, classes: int, pooling: str | None, seed: int) -> LinearProbe:
    """A probe fitted to random data at `site` (its scores are arbitrary but fixed)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(200, subject.d_model, generator=g) * 3 + 1
    y = torch.randint(0, classes, (200,), generator=g)
    fitted = LinearProbe.fit(x, y, label_names=[f"c{i}" for i in range(classes)])
    fitted.pooling = pooling
    fitted.meta = {"site": site, "model": subject.name}
    return fitted


@pytest.fixture(scope="module")
def subject():
    return tiny_subject("llama")


@pytest.fixture(scope="module")
def probes(subject):
    return {
        "tokens": probe(subject, "resid.1", 3, None, 0),
        "mean": probe(subject, "resid.0", 2, "mean", 1),
        "last": probe(subject, "resid.1", 2, "last", 2),
        "max": probe(subject, "resid.1", 2, "max", 3),
    }


def assert_equals_offline(readings, probes, subject, texts=TEXTS, **capture_options):
    for name, p in probes.items():
        offline = p.score(subject, texts, **capture_options)
        for reading, expected in zip(readings, offline, strict=True):
            got = reading.probes[name]
            if p.pooling is None:
                assert reading.starts == expected.starts and reading.ends == expected.ends
                torch.testing.assert_close(got.token_proba_TC, expected.proba_TC, atol=1e-5, rtol=1e-4)
            else:
                torch.testing.assert_close(got.proba_C, torch.tensor(expected.proba), atol=1e-5, rtol=1e-4)


def test_scores_equal_offline_probe_scores(subject, probes):
    readings = Monitor(subject, probes).score(TEXTS)
    assert len(readings) == len(TEXTS)
    assert_equals_offline(readings, probes, subject)
    tokens = readings[0].probes["tokens"]
    assert tokens.score == pytest.approx(max(tokens.token_scores))  # a token probe pools by its top token


def test_model_outputs_are_the_plain_forward_and_hooks_are_removed(subject, probes):
    monitor = Monitor(subject, probes)
    ids = torch.randint(4, 100, (2, 9), generator=torch.Generator().manual_seed(5))
    mask = torch.ones_like(ids)
    with torch.no_grad():
        plain = subject.model(input_ids=ids, attention_mask=mask).logits
    result = monitor.forward(ids, mask)
    assert torch.equal(result.output.logits, plain)
    assert set(result.token_logits) == set(probes) and set(result.pooled_logits) == {"mean", "last", "max"}
    assert all(not m._forward_hooks for m in subject.model.modules())


def test_edits_apply_to_what_probes_read(subject, probes):
    v = torch.randn(subject.d_model, generator=torch.Generator().manual_seed(6))
    readings = Monitor(subject, probes, edits=[lambda: ablate(subject, v)]).score(TEXTS)
    with ablate(subject, v):
        assert_equals_offline(readings, probes, subject)
    assert all(not m._forward_hooks for m in subject.model.modules())


def test_bad_input_is_a_clear_error(subject, probes):
    with pytest.raises(InputError, match="at least one probe"):
        Monitor(subject, {})
    monitor = Monitor(subject, probes)
    with pytest.raises(InputError, match="text 1 has a text of type int"):
        monitor.score(["fine", 3])
    with pytest.raises(InputError, match="text 0 has an empty or whitespace-only text"):
        monitor.score(["  ", "fine"])
    with pytest.raises(InputError, match="no texts"):
        monitor.score([])
    with pytest.raises(InputError, match="more than the model's context"):
        next(Monitor(subject, {"tokens": probes["tokens"]}).stream("word " * (subject.context_length + 5)))


def test_long_texts_are_split_into_windows_as_offline_scoring_splits_them(subject, probes):
    """Texts longer than the window are scored window by window, stitched in order, and pooled over every
    window's tokens: the same as `probe.score`, which captures with the same windows."""
    texts = ["word " * 40, "short one", "the quick brown fox jumps over the lazy dog " * 5]
    monitor = Monitor(subject, probes, window=12, batch_tokens=40)  # several windows and several passes
    readings = monitor.score(texts)
    assert [len(r.token_ids) for r in readings] == [int(subject.encode(t).text_mask.sum()) for t in texts]
    assert_equals_offline(readings, probes, subject, texts, window=12)
    assert all(not m._forward_hooks for m in subject.model.modules())


def test_the_forward_pass_comes_from_the_backend(subject, probes):
    """The Monitor's one dependence on how passes run is its backend: a backend that delegates to
    `forward.run` gives the same scores, and every pass goes through it."""
    from incision.core import forward

    class Recording:
        def __init__(self):
            self.calls = []

        def run(self, subject, ids_BT, mask_BT=None, reads=None, edits=(), until="logits", **kwargs):
            self.calls.append((tuple(ids_BT.shape), sorted(reads), until))
            return forward.run(subject, ids_BT, mask_BT, reads, edits, until, **kwargs)

    backend = Recording()
    readings = Monitor(subject, probes, backend=backend).score(TEXTS)
    assert_equals_offline(readings, probes, subject)
    assert backend.calls == [((len(TEXTS), backend.calls[0][0][1]), ["resid.0", "resid.1"], "sites")]
