"""Probes trained from a real store of a tiny model: sweeps, splits, token labels, solvers, bad input."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from incision import ConfigError, InputError, capture
from incision.probes import LinearProbe, fit_probe_stream
from incision.probes.data import features
from incision.probes.evaluate import evaluate_probe
from incision.probes.metrics import BinaryMetrics, MulticlassMetrics
from incision.probes.sweep import sweep
from incision.probes.train import L2_GRID, ProbeConfig, train_probe

from ..conftest import tiny_subject

KEYWORDS = {
    "fruit": ["apple", "banana", "cherry", "grape", "lemon", "mango"],
    "place": ["river", "hill", "lake", "sea"],
}
FILLER = ["the", "a", "is", "on", "with", "and", "of", "to", "for", "it", "dog", "fox"]


def planted_records(n: int = 120, seed: int = 0, classes=("fruit", "place")) -> list[dict]:
    """Filler words with one keyword whose class is the document's label; the keyword is a span."""
    rng = random.Random(seed)
    records = []
    for i in range(n):
        label = classes[i % len(classes)]
        words = [rng.choice(FILLER) for _ in range(rng.randint(3, 10))]
        position = rng.randint(0, len(words))
        keyword = rng.choice(KEYWORDS.get(label, ["quick", "brown", "lazy"]))
        words.insert(position, keyword)
        start = len(" ".join(words[:position])) + (1 if position else 0)
        records.append(
            {
                "text": " ".join(words),
                "label": label,
                "split": "heldout" if i >= n - 20 else "train",
                "spans": [{"start": start, "end": start + len(keyword), "label": "KEYWORD"}],
            }
        )
    return records


@pytest.fixture(scope="module")
def subject():
    return tiny_subject("llama")


@pytest.fixture(scope="module")
def store(subject, tmp_path_factory):
    out = tmp_path_factory.mktemp("store")
    return capture(subject, planted_records(), "resid.*", out, dtype="float32", progress=False)


FAST = {"n_bootstrap": 50}


def test_sweep_trains_every_site_and_saves_the_best(store, tmp_path):
    report = sweep(
        store, "resid.*", ProbeConfig(split_field="split", **FAST), out=tmp_path / "p", progress=False
    )
    assert [r.site for r in report.reports] == ["resid.0", "resid.1", "resid.2"]
    best_val = max(r.headline("val") for r in report.reports)
    assert report.best.headline("val") == best_val
    assert set(report.best.metrics) == {"val", "test", "heldout"}
    assert report.best.metrics["heldout"].n == 20
    assert (tmp_path / "p" / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((tmp_path / "p" / "report.json").read_text())
    assert saved["best_site"] == report.best.site and len(saved["sites"]) == 3
    loaded = LinearProbe.load(tmp_path / "p", expect={"model": "tiny-llama", "site": report.best.site})
    assert loaded.pooling == "mean" and loaded.threshold == report.best.probe.threshold
    lines = report.table().splitlines()
    assert lines[0].split() == ["site", "val", "heldout", "test"]
    assert [line.split()[0] for line in lines[1:]] == ["resid.0", "resid.1", "resid.2"]
    assert sum("<- best" in line for line in lines) == 1 and report.best.site in next(
        line for line in lines if "<- best" in line
    )


def test_splits_are_by_document_and_stratified(store):
    data = ProbeConfig(split_field="split").prepare(store)
    assert data.level == "sequence" and data.label_names == ["fruit", "place"]
    parts = [set(data.indices(s).tolist()) for s in ("train", "val", "test", "heldout")]
    assert sum(len(p) for p in parts) == store.n_docs and len(set().union(*parts)) == store.n_docs
    assert data.indices("heldout").tolist() == list(range(100, 120))
    for split in ("val", "test"):  # stratified: both classes, in proportion
        assert abs(data.y_N[data.indices(split)].mean() - 0.5) < 0.1


@pytest.mark.parametrize("pooling", ["mean", "max", "last", "attention"])
def test_every_pooling_learns_the_planted_task(store, pooling):
    report = train_probe(store, "resid.2", ProbeConfig(pooling=pooling, **FAST))
    assert isinstance(report.metrics["val"], BinaryMetrics)
    assert report.headline("test") > 0.8, pooling


def test_penalty_chosen_on_validation_loss(store):
    report = train_probe(store, "resid.1", ProbeConfig(**FAST))
    losses = report.val_loss_by_l2
    assert len(losses) == 7 and report.l2 == min(losses, key=losses.get) == report.probe.meta["l2"]
    fixed = train_probe(store, "resid.1", ProbeConfig(l2=3.0, **FAST))
    assert fixed.l2 == 3.0 and list(fixed.val_loss_by_l2) == [3.0]


def test_diff_means_baseline(store):
    report = train_probe(store, "resid.2", ProbeConfig(method="diff_means", **FAST))
    assert report.probe.meta["method"] == "diff_means" and report.headline("test") > 0.8


def test_token_level_labels_from_spans(store):
    config = ProbeConfig(level="token", spans_field="spans", **FAST)
    data = config.prepare(store)
    assert data.label_names == ["none", "KEYWORD"]
    keyword_tokens = int(data.y_N.sum())
    assert 120 <= keyword_tokens < len(data.y_N) // 2  # every keyword has at least one token
    report = train_probe(store, "resid.2", config, data)
    assert report.headline("val") > 0.9
    assert report.probe.pooling is None and report.probe.meta["spans_field"] == "spans"


def test_streamed_adamw_agrees_with_lbfgs(store):
    base = {"level": "token", "spans_field": "spans", "l2": 1.0, **FAST}
    exact = train_probe(store, "resid.2", ProbeConfig(solver="lbfgs", **base))
    streamed = train_probe(
        store, "resid.2", ProbeConfig(solver="adamw", epochs=30, batch_size=256, lr=0.02, **base)
    )
    assert abs(streamed.headline("val") - exact.headline("val")) < 0.03
    x = features(store, "resid.2", ProbeConfig(**base).prepare(store), None)
    p_exact, p_streamed = exact.probe.predict_proba(x)[:, 1], streamed.probe.predict_proba(x)[:, 1]
    assert np.corrcoef(p_exact.numpy(), p_streamed.numpy())[0, 1] > 0.95


def test_a_probe_from_batches_in_memory_equals_the_store_path(store):
    """The oracle for `fit_probe_stream`: the rows the store path reads, in its order, handed over as tensors
    give the same penalty, the same validation losses and the same probe."""
    config = ProbeConfig(level="token", spans_field="spans", solver="adamw", epochs=3, batch_size=128, **FAST)
    data = config.prepare(store)
    report = train_probe(store, "resid.2", config, data)
    x, y = features(store, "resid.2", data, None), torch.from_numpy(data.y_N)
    train, val = data.indices("train"), data.indices("val")

    def batches(epoch: int):  # the store path's seeded shuffle and its sorted minibatches
        order = np.random.default_rng([config.seed, epoch]).permutation(len(train))
        for start in range(0, len(train), config.batch_size):
            rows = train[np.sort(order[start : start + config.batch_size])]
            yield x[rows], y[rows]

    options = {"label_names": data.label_names, "epochs": config.epochs, "lr": config.lr}
    fitted = fit_probe_stream(batches, [(x[val], y[val])], L2_GRID, **options)
    assert fitted.l2 == report.l2 == min(report.val_loss_by_l2, key=report.val_loss_by_l2.get)
    np.testing.assert_allclose(
        list(fitted.val_loss_by_l2.values()), list(report.val_loss_by_l2.values()), rtol=1e-5
    )
    for name in ("mean_D", "std_D", "weight_CD", "bias_C"):
        torch.testing.assert_close(
            getattr(fitted.probe, name), getattr(report.probe, name), rtol=1e-5, atol=1e-6
        )
    with pytest.raises(ConfigError, match="one-shot iterator"):
        fit_probe_stream(iter([(x[train], y[train])]))
    with pytest.raises(ConfigError, match="choosing among 7 penalties needs validation rows"):
        fit_probe_stream([(x[train], y[train])], l2s=L2_GRID)


def test_multiclass_has_per_class_figures(subject, tmp_path):
    records = planted_records(150, classes=("fruit", "place", "other"))
    store = capture(subject, records, "resid.1", tmp_path / "s", progress=False)
    report = train_probe(store, "resid.1", ProbeConfig(**FAST))
    metrics = report.metrics["val"]
    assert isinstance(metrics, MulticlassMetrics) and set(metrics.per_class) == {"fruit", "other", "place"}
    assert report.probe.n_classes == 3 and metrics.macro_auroc > 0.8


def test_evaluate_saved_probe_on_a_store(store, tmp_path):
    report = train_probe(store, "resid.2", ProbeConfig(split_field="split", **FAST))
    probe = LinearProbe.load(report.probe.save(tmp_path / "p"))
    heldout = evaluate_probe(probe, store, where=("split", "heldout"), n_bootstrap=50)
    assert heldout.n == 20
    assert heldout.auroc == pytest.approx(report.metrics["heldout"].auroc)
    assert evaluate_probe(probe, store, n_bootstrap=50).n == store.n_docs
    with pytest.raises(InputError, match="no document has split='nope'"):
        evaluate_probe(probe, store, where=("split", "nope"))


def test_live_scores_equal_store_scores(subject, store):
    """The oracle for scoring live: the same probe applied to the stored activations."""
    texts = [r["text"] for r in planted_records()[:12]]
    sequence = train_probe(store, "resid.1", ProbeConfig(**FAST)).probe
    data = ProbeConfig().prepare(store)
    stored = sequence.predict_proba(features(store, "resid.1", data, "mean"))[:12]
    live = sequence.score(subject, texts)
    torch.testing.assert_close(torch.tensor([s.proba for s in live]), stored, atol=1e-4, rtol=0)
    assert [s.label for s in live] == [sequence.label_names[int(p[1] >= sequence.threshold)] for p in stored]

    token = train_probe(store, "resid.1", ProbeConfig(level="token", spans_field="spans", **FAST)).probe
    live_tokens = token.score(subject, texts, batch_tokens=64)  # other batches, same scores
    doc, start, end = (store.tokens[c].to_numpy() for c in ("doc", "char_start", "char_end"))
    for k, result in enumerate(live_tokens):
        rows = np.flatnonzero((doc == k) & (end > start))
        assert result.starts == start[rows].tolist() and result.ends == end[rows].tolist()
        stored_doc = token.predict_proba(store.gather("resid.1", rows, torch.float32))
        torch.testing.assert_close(result.proba_TC, stored_doc, atol=1e-4, rtol=0)


def test_live_scoring_refuses_another_model(store):
    probe = train_probe(store, "resid.1", ProbeConfig(**FAST)).probe
    with pytest.raises(ConfigError, match="trained on model 'tiny-llama', not 'tiny-gpt2'"):
        probe.score(tiny_subject("gpt2"), ["hello"])


def test_bad_labels_and_too_few_examples(subject, tmp_path):
    records = planted_records(12)
    one_class = [{**r, "label": "fruit"} for r in records]
    store = capture(subject, one_class, "resid.0", tmp_path / "one", progress=False)
    with pytest.raises(InputError, match="one class only \\('fruit'\\)"):
        train_probe(store, "resid.0")
    missing = [{**r, "label": None if i == 3 else r["label"]} for i, r in enumerate(records)]
    store = capture(subject, missing, "resid.0", tmp_path / "missing", progress=False)
    with pytest.raises(InputError, match="'label' is missing for 1 of 12 examples \\(first: example 3\\)"):
        train_probe(store, "resid.0")
    with pytest.raises(
        InputError, match="no field 'verdict'; their fields are \\['label', 'split', 'spans'\\]"
    ):
        train_probe(store, "resid.0", ProbeConfig(label_field="verdict"))
    listed = [{**r, "label": [r["label"]]} for r in records]
    store = capture(subject, listed, "resid.0", tmp_path / "listed", progress=False)
    with pytest.raises(InputError, match="strings, booleans or integers of one kind, got \\['list'\\]"):
        train_probe(store, "resid.0")
    store = capture(subject, records[:4], "resid.0", tmp_path / "few", progress=False)
    with pytest.raises(InputError, match="too few examples for a val split .*2 fruit, 2 place"):
        train_probe(store, "resid.0")


def test_nan_activations_name_the_site_and_count(tmp_path):
    subject = tiny_subject("llama")
    records = planted_records(20)
    poisoned = subject.tokenizer("dog", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        subject.model.get_input_embeddings().weight[poisoned] = float("nan")
    store = capture(subject, records, "resid.0", tmp_path / "s", dtype="float32", progress=False)
    data = ProbeConfig().prepare(store)
    acts = store.gather("resid.0", data.rows_R)
    expected = int((~torch.isfinite(acts)).any(1).sum())
    assert expected > 0
    with pytest.raises(InputError, match=f"site resid.0 has {expected} token rows holding NaN or inf"):
        train_probe(store, "resid.0")


def test_config_errors():
    with pytest.raises(ConfigError, match="l2 must be a positive number, got -1"):
        ProbeConfig(l2=-1)
    with pytest.raises(ConfigError, match="attention pooling is learned"):
        ProbeConfig(method="diff_means", pooling="attention")
    with pytest.raises(ConfigError, match="epochs must be a positive integer, got 0"):
        ProbeConfig(epochs=0)


def test_auroc_of_reports_matches_scikit_learn(store):
    report = train_probe(store, "resid.2", ProbeConfig(**FAST))
    data = ProbeConfig().prepare(store)
    proba = report.probe.predict_proba(features(store, "resid.2", data, "mean"))[:, 1].numpy()
    test = data.indices("test")
    assert report.metrics["test"].auroc == pytest.approx(roc_auc_score(data.y_N[test], proba[test]))


def test_sweep_without_bootstrap(store, tmp_path):
    report = sweep(store, "resid.0,resid.2", ProbeConfig(n_bootstrap=0), out=tmp_path / "p", progress=False)
    assert [r.site for r in report.reports] == ["resid.0", "resid.2"] and report.plot.is_file()
    assert "[" not in report.table()


def test_load_refuses_another_subject(store, tmp_path):
    from incision import SiteError

    probe = train_probe(store, "resid.2", ProbeConfig(**FAST)).probe
    probe.save(tmp_path / "p")
    assert LinearProbe.load(tmp_path / "p", subject=tiny_subject("llama")).meta["site"] == "resid.2"
    with pytest.raises(ConfigError, match="trained on model 'tiny-llama', not 'tiny-gpt2'"):
        LinearProbe.load(tmp_path / "p", subject=tiny_subject("gpt2"))
    renamed = tiny_subject("llama")
    renamed.name = "./models/llama-copy"  # the same model from another folder: its config hash says so
    assert LinearProbe.load(tmp_path / "p", subject=renamed).meta["model"] == "tiny-llama"
    probe.meta.update(model="tiny-gpt2", site="resid.7")
    del probe.meta["model_config_sha256"]
    probe.save(tmp_path / "q")
    with pytest.raises(SiteError, match="resid.7"):
        LinearProbe.load(tmp_path / "q", subject=tiny_subject("gpt2"))


@pytest.mark.parametrize(
    "field,value", [("method", "diffmeans"), ("solver", "LBFGS"), ("threshold", "F1"), ("level", "tokens")]
)
def test_config_refuses_unknown_choices(field, value):
    with pytest.raises(ConfigError, match=f"{field} must be one of .*, got '{value}'"):
        ProbeConfig(**{field: value})


def test_balanced_weights_come_from_the_training_split(store):
    """The oracle: LinearProbe.fit on exactly the training documents, same penalty, same weights."""
    config = ProbeConfig(class_weight="balanced", l2=1.0, val_fraction=0.3, split_field="split", **FAST)
    data = config.prepare(store)
    data.y_N[data.indices("heldout")] = 0  # unbalance the documents outside train: must not matter
    report = train_probe(store, "resid.1", config, data)
    x = features(store, "resid.1", data, "mean")
    train = data.indices("train")
    reference = LinearProbe.fit(x[train], torch.from_numpy(data.y_N[train]), l2=1.0, class_weight="balanced")
    torch.testing.assert_close(report.probe.predict_proba(x), reference.predict_proba(x), atol=1e-4, rtol=0)


def test_reported_confusion_is_what_the_probe_predicts(store):
    for threshold in ("f1", "accuracy", "recall95"):
        report = train_probe(store, "resid.0", ProbeConfig(threshold=threshold, **FAST))
        data = ProbeConfig().prepare(store)
        test = data.indices("test")
        predicted = report.probe.predict(features(store, "resid.0", data, "mean")[test]).numpy()
        y = data.y_N[test]
        confusion = [[int(((y == t) & (predicted == p)).sum()) for p in (0, 1)] for t in (0, 1)]
        assert report.metrics["test"].confusion == confusion, threshold


def test_many_shards_read_like_one(subject, tmp_path):
    records = planted_records(40)
    one = capture(subject, records, "resid.1", tmp_path / "one", dtype="float32", progress=False)
    many = capture(
        subject, records, "resid.1", tmp_path / "many", dtype="float32", shard_tokens=50, progress=False
    )
    assert len(many.shards) > 5
    for level, extra in (("sequence", {}), ("token", {"spans_field": "spans"})):
        config = ProbeConfig(level=level, **extra)
        a, b = config.prepare(one), config.prepare(many)
        assert np.array_equal(a.y_N, b.y_N) and np.array_equal(a.rows_R, b.rows_R)
        pooling = "max" if level == "sequence" else None
        torch.testing.assert_close(
            features(one, "resid.1", a, pooling), features(many, "resid.1", b, pooling)
        )


def test_streamed_probe_evaluates_extra_splits_and_refuses_nan(store, tmp_path):
    config = ProbeConfig(
        level="token", spans_field="spans", split_field="split", solver="adamw", epochs=2, **FAST
    )
    report = train_probe(store, "resid.2", config)
    assert set(report.metrics) == {"val", "test", "heldout"}
    probe = LinearProbe.load(report.probe.save(tmp_path / "p"))
    heldout = evaluate_probe(probe, store, where=("split", "heldout"), n_bootstrap=0)
    assert heldout.n == report.metrics["heldout"].n and heldout.auroc == pytest.approx(
        report.metrics["heldout"].auroc
    )


def test_text_is_never_a_label_and_labels_are_categorical(store):
    with pytest.raises(InputError, match="field 'text' holds the documents' texts"):
        train_probe(store, "resid.0", ProbeConfig(label_field="text"))
    with pytest.raises(InputError, match="field 'text' holds the documents' texts"):
        evaluate_probe(train_probe(store, "resid.0", ProbeConfig(**FAST)).probe, store, where=("text", "x"))


def test_free_text_labels_are_refused_without_quoting_them(subject, tmp_path):
    records = [{"text": f"note {i}", "comment": f"private remark number {i}"} for i in range(300)]
    store = capture(subject, records, "resid.0", tmp_path / "s", progress=False)
    with pytest.raises(InputError, match="'comment' has 300 distinct values") as error:
        train_probe(store, "resid.0", ProbeConfig(label_field="comment"))
    assert "private remark" not in str(error.value)


def test_split_names_are_normalised(subject, tmp_path):
    records = [{**r, "split": " Train" if r["split"] == "train" else "HELDOUT"} for r in planted_records(60)]
    store = capture(subject, records, "resid.0", tmp_path / "s", progress=False)
    data = ProbeConfig(split_field="split").prepare(store)
    assert set(data.splits) == {"train", "val", "test", "heldout"} and len(data.indices("heldout")) == 20
