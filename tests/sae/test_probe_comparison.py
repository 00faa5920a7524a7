"""`incision compare`: every method on every split, the raw row is a plain probe, intervals hold their
point, the plot and the CLI's files are written, and bad inputs are refused."""

from __future__ import annotations

import json
import random

import pytest

from incision import ConfigError, InputError, capture
from incision.cli import main
from incision.errors import SiteError
from incision.probes.train import ProbeConfig, train_probe
from incision.sae import SAEConfig, SparseAutoencoder, save
from incision.sae.probe_comparison import METHODS, compare_probes

from ..conftest import tiny_subject

SITE = "resid.1"
KEYWORDS = {"fruit": ["apple", "banana", "cherry", "grape"], "place": ["river", "hill", "lake", "sea"]}
FILLER = ["the", "a", "is", "on", "with", "and", "of", "to", "it", "dog", "fox"]
FAST = {"n_bootstrap": 100, "split_field": "split", "l2": 1.0}  # one penalty: fast


def records(n: int = 60, seed: int = 0) -> list[dict]:
    """Filler with one keyword of the document's class (a span); the last 16 documents are `heldout`."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        label = ("fruit", "place")[i % 2]
        words = [rng.choice(FILLER) for _ in range(rng.randint(3, 7))]
        position = rng.randint(0, len(words))
        keyword = rng.choice(KEYWORDS[label])
        words.insert(position, keyword)
        start = len(" ".join(words[:position])) + (1 if position else 0)
        span = {"start": start, "end": start + len(keyword), "label": "KEYWORD"}
        split = "heldout" if i >= n - 16 else "train"
        out.append({"text": " ".join(words), "label": label, "split": split, "spans": [span]})
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    out = tmp_path_factory.mktemp("store")
    return capture(tiny_subject("llama"), records(), SITE, out, dtype="float32", progress=False)


@pytest.fixture(scope="module")
def sae():
    return SparseAutoencoder(SAEConfig(d_in=32, d_sae=64, k=8), seed=0)


@pytest.fixture(scope="module")
def comparison(store, sae):
    return compare_probes(store, SITE, sae, ProbeConfig(**FAST))


def test_every_method_on_every_split(comparison):
    assert comparison.methods == list(METHODS)
    assert comparison.splits == ["val", "test", "heldout"]  # in distribution first
    assert {(r.method, r.split) for r in comparison.rows} == {
        (m, s) for m in METHODS for s in comparison.splits
    }
    assert comparison.metric == "auroc"
    assert [r.shifted for r in comparison.rows if r.method == "raw"] == [
        s == "heldout" for s in comparison.splits
    ]
    table = comparison.table()
    assert all(m in table for m in METHODS) and "heldout*" in table


def test_raw_row_is_a_plain_probe_and_intervals_hold_the_point(store, comparison):
    config = ProbeConfig(**FAST)
    direct = train_probe(store, SITE, config, config.prepare(store))
    for split in comparison.splits:
        assert comparison.row("raw", split).value == pytest.approx(direct.metrics[split].auroc, abs=1e-12)
    baseline = train_probe(store, SITE, ProbeConfig(method="diff_means", **FAST))
    assert comparison.row("diff_means", "heldout").value == pytest.approx(
        baseline.metrics["heldout"].auroc, abs=1e-12
    )
    for row in comparison.rows:
        assert row.low is not None and row.low - 1e-12 <= row.value <= row.high + 1e-12


def test_with_metric_rereads_the_same_probes(comparison):
    by_accuracy = comparison.with_metric("accuracy")
    assert by_accuracy.reports is comparison.reports and by_accuracy.metric == "accuracy"
    for row in by_accuracy.rows:
        assert row.value == comparison.reports[row.method].metrics[row.split].accuracy
    assert comparison.metric == "auroc"  # the original is unchanged
    with pytest.raises(ConfigError, match="'macro_f1'"):
        comparison.with_metric("macro_f1")


def test_json_and_plot(comparison, tmp_path):
    data = json.loads(json.dumps(comparison.to_dict()))
    assert len(data["rows"]) == len(METHODS) * 3 and data["metric"] == "auroc"
    assert set(data["reports"]) == set(METHODS)
    path = comparison.plot(tmp_path / "c.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000


def test_token_task_with_another_metric_and_skipped_top_k(store):
    small = SparseAutoencoder(SAEConfig(d_in=32, d_sae=16, k=4), seed=1)
    config = ProbeConfig(level="token", spans_field="spans", **FAST)
    result = compare_probes(store, SITE, small, config, methods=["raw", "sae_top8", "sae_top32"], metric="f1")
    assert result.methods == ["raw", "sae_top8"] and "sae_top32" in result.skipped
    assert result.level == "token" and {r.metric for r in result.rows} == {"f1"}
    with pytest.raises(ConfigError, match="'macro_f1'"):
        compare_probes(store, SITE, small, config, methods=["raw"], metric="macro_f1")


def test_bad_inputs(store, sae):
    wide = SparseAutoencoder(SAEConfig(d_in=48, d_sae=64, k=8), seed=0)
    with pytest.raises(InputError, match="width 48.*resid.1.*width 32"):
        compare_probes(store, SITE, wide, ProbeConfig(**FAST))
    with pytest.raises(SiteError, match="'resid.7'"):
        compare_probes(store, "resid.7", sae, ProbeConfig(**FAST))
    with pytest.raises(ConfigError, match="'sae_best'"):
        compare_probes(store, SITE, sae, ProbeConfig(**FAST), methods=["raw", "sae_best"])


def test_cli_writes_its_three_files(store, sae, tmp_path, capsys):
    save(sae, tmp_path / "sae")
    out = tmp_path / "out"
    argv = ["compare", "--store", str(store.root), "--site", SITE, "--sae", str(tmp_path / "sae")]
    argv += [
        "--out",
        str(out),
        "--split-field",
        "split",
        "--n-bootstrap",
        "50",
        "--methods",
        "raw,diff_means",
    ]
    assert main(argv) == 0
    assert {p.name for p in out.iterdir()} == {"table.txt", "comparison.json", "comparison.png"}
    assert json.loads((out / "comparison.json").read_text())["methods"] == ["raw", "diff_means"]
    assert "diff_means" in (out / "table.txt").read_text() and "diff_means" in capsys.readouterr().out
    assert main([*argv[:6], str(tmp_path / "missing"), *argv[7:]]) == 2


def test_diff_means_is_skipped_for_more_than_two_classes(sae, tmp_path):
    three = [{**r, "label": ("fruit", "place", "other")[k % 3]} for k, r in enumerate(records())]
    store3 = capture(tiny_subject("llama"), three, SITE, tmp_path / "s", dtype="float32", progress=False)
    result = compare_probes(store3, SITE, sae, ProbeConfig(**FAST), methods=["raw", "diff_means"])
    assert result.methods == ["raw"] and "3" in result.skipped["diff_means"]


def test_comparison_files_and_html_section(comparison, tmp_path):
    from incision.sae.comparison_report import comparison_html, write_comparisons

    comparisons = [comparison, comparison.with_metric("accuracy")]
    out = write_comparisons(comparisons, tmp_path / "cmp")
    names = {"table.txt", "comparison.json", "comparison-auroc.png", "comparison-accuracy.png"}
    assert names <= {p.name for p in out.iterdir()}
    assert json.loads((out / "comparison.json").read_text())["metric"] == "auroc"
    section = comparison_html(comparisons, out, "Raw vs SAE <probes>", "at resid.1 & co")
    assert section.startswith("<h2>Raw vs SAE &lt;probes&gt;</h2>\n<p>at resid.1 &amp; co</p>")
    assert section.count('src="data:image/png;base64,') == 2 and "heldout*" in section
