"""A probe on the real embedded Gemma, on a bundled task: far better than chance, also on held-out phrasings."""

from __future__ import annotations

import pytest

from incision import capture
from incision.datasets import load_task
from incision.probes.train import ProbeConfig, train_probe


@pytest.mark.embedded
def test_harmful_probe_on_gemma_beats_chance(gemma_subject, tmp_path):
    records = []
    for lang in ("en", "ja"):  # a balanced slice of each split keeps this test to seconds
        for split, n in (("train", 160), ("heldout", 60)):
            rows = load_task("harmful", split=split, lang=lang)
            for label in ("harmful", "benign"):  # every third example spreads the slice over templates
                records += [r for r in rows if r["label"] == label][::3][: n // 2]
    assert {r["label"] for r in records} == {"harmful", "benign"}
    store = capture(gemma_subject, records, "resid.9", tmp_path / "s", progress=False)
    report = train_probe(store, "resid.9", ProbeConfig(split_field="split", n_bootstrap=200))
    assert report.probe.label_names == ["benign", "harmful"]
    assert report.metrics["test"].auroc > 0.85
    # phrasings never seen in training: still far from chance, and the interval says so
    assert report.metrics["heldout"].auroc > 0.8 and report.metrics["heldout"].ci["auroc"].low > 0.7
