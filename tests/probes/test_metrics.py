"""incision.probes.metrics against scikit-learn, reference loops and synthetic data with known answers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from incision import ConfigError, InputError
from incision.probes import metrics as M
from incision.probes.metrics import bootstrap as B
from incision.probes.metrics import ranking as R


def binary_data(n: int = 600, seed: int = 0, decimals: int | None = None, positive_rate: float = 0.4):
    """Labels and noisy positive-class probabilities; rounding them to `decimals` makes many ties."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < positive_rate).astype(np.int64)
    p = 1 / (1 + np.exp(-(1.2 * (2 * y - 1) + rng.normal(size=n))))
    return y, (np.round(p, decimals) if decimals is not None else p)


def multiclass_data(n: int = 900, n_classes: int = 4, seed: int = 0, decimals: int | None = 2):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    logits = rng.normal(size=(n, n_classes))
    logits[np.arange(n), y] += 1.0
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    if decimals is not None:  # ties within each column; renormalise so that rows still sum to 1
        proba[:, :-1] = np.floor(proba[:, :-1] * 10**decimals) / 10**decimals
        proba[:, -1] = np.clip(1 - proba[:, :-1].sum(1), 0, 1)
    return y, proba


# ---------------------------------------------------------------------------------------------------
# Ranking metrics against scikit-learn


@pytest.mark.parametrize("decimals", [None, 2, 1])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auroc_and_average_precision_match_scikit_learn(decimals, weighted, seed):
    from sklearn.metrics import average_precision_score, roc_auc_score

    y, p = binary_data(n=500, seed=seed, decimals=decimals)
    w = None
    if weighted:
        w = np.random.default_rng(seed + 10).exponential(size=len(y))
        w[::7] = 0.0  # zero weights must not create thresholds of their own
    assert M.auroc(y, p, w) == pytest.approx(roc_auc_score(y, p, sample_weight=w), abs=1e-12)
    assert M.average_precision(y, p, w) == pytest.approx(
        average_precision_score(y, p, sample_weight=w), abs=1e-12
    )


def test_integer_weights_equal_repeated_examples():
    from sklearn.metrics import average_precision_score, roc_auc_score

    y, p = binary_data(n=300, decimals=1)
    w = np.random.default_rng(3).integers(0, 4, len(y))
    y_rep, p_rep = np.repeat(y, w), np.repeat(p, w)
    assert M.auroc(y, p, w) == pytest.approx(roc_auc_score(y_rep, p_rep), abs=1e-12)
    assert M.average_precision(y, p, w) == pytest.approx(average_precision_score(y_rep, p_rep), abs=1e-12)


def test_scores_need_not_be_probabilities():
    from sklearn.metrics import roc_auc_score

    y, p = binary_data(n=200, decimals=2)
    logits = np.log(p + 1e-3) * 7 - 3
    assert M.auroc(y, logits) == pytest.approx(roc_auc_score(y, logits), abs=1e-12)


def test_ranking_metrics_with_one_class():
    assert math.isnan(M.auroc([1, 1, 1], [0.2, 0.5, 0.9]))
    assert math.isnan(M.auroc([0, 0], [0.2, 0.5]))
    assert math.isnan(M.average_precision([0, 0], [0.2, 0.5]))
    assert M.average_precision([1, 1], [0.2, 0.5]) == 1.0


def test_extreme_rankings():
    assert M.auroc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert M.auroc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]) == 0.0
    assert M.auroc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5  # all tied: every pair counts 1/2
    assert M.average_precision([0, 1, 0, 1], [0.5] * 4) == 0.5


def test_accepts_torch_tensors_lists_and_bools():
    y, p = binary_data(n=200, decimals=2)
    expected = M.auroc(y, p)
    assert M.auroc(torch.tensor(y), torch.tensor(p, dtype=torch.float64)) == expected
    assert M.auroc(torch.tensor(y).bool(), torch.tensor(p).to(torch.bfloat16)) == pytest.approx(
        expected, abs=0.02
    )
    assert M.auroc(y.astype(bool).tolist(), p.tolist()) == expected
    y3, proba = multiclass_data(n=100)
    a = M.multiclass_metrics(y3, proba, list("abcd"), n_bootstrap=0)
    b = M.multiclass_metrics(torch.tensor(y3), torch.tensor(proba), list("abcd"), n_bootstrap=0)
    assert a == b


# ---------------------------------------------------------------------------------------------------
# Threshold metrics


@pytest.mark.parametrize("threshold", [0.5, 0.3, 0.71, 0.0, 1.0, 2.0])
def test_binary_threshold_metrics_match_scikit_learn(threshold):
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_score, recall_score

    y, p = binary_data(n=700, seed=4, decimals=2)  # rounded: the threshold lands exactly on tied scores
    m = M.binary_metrics(y, p, threshold=threshold, n_bootstrap=0)
    pred = (p >= threshold).astype(int)
    assert m.f1 == pytest.approx(f1_score(y, pred, zero_division=0), abs=1e-12)
    assert m.accuracy == pytest.approx(accuracy_score(y, pred), abs=1e-12)
    assert m.precision == pytest.approx(precision_score(y, pred, zero_division=0), abs=1e-12)
    assert m.recall == pytest.approx(recall_score(y, pred, zero_division=0), abs=1e-12)
    assert m.confusion == confusion_matrix(y, pred, labels=[0, 1]).tolist()
    assert (m.n, m.n_positive, m.threshold) == (len(y), int(y.sum()), threshold)


def test_binary_ranking_metrics_in_report_match_functions():
    y, p = binary_data(n=400, decimals=2)
    m = M.binary_metrics(y, p, n_bootstrap=0)
    assert m.auroc == pytest.approx(M.auroc(y, p), abs=1e-15)
    assert m.auprc == pytest.approx(M.average_precision(y, p), abs=1e-15)
    assert m.ece == M.expected_calibration_error(y, p)
    assert m.ci == {}


@pytest.mark.parametrize("n_classes,decimals", [(3, None), (4, 2), (6, 1)])
def test_multiclass_metrics_match_scikit_learn(n_classes, decimals):
    from sklearn.metrics import (
        accuracy_score,
        average_precision_score,
        confusion_matrix,
        f1_score,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    y, proba = multiclass_data(n=1200, n_classes=n_classes, seed=n_classes, decimals=decimals)
    names = [f"class{c}" for c in range(n_classes)]
    m = M.multiclass_metrics(y, proba, names, n_bootstrap=0)
    pred, labels = proba.argmax(1), list(range(n_classes))
    assert m.accuracy == pytest.approx(accuracy_score(y, pred), abs=1e-12)
    assert m.macro_f1 == pytest.approx(f1_score(y, pred, average="macro", labels=labels), abs=1e-12)
    assert m.macro_auroc == pytest.approx(
        roc_auc_score(y, proba, multi_class="ovr", average="macro"), abs=1e-12
    )
    assert m.confusion == confusion_matrix(y, pred, labels=labels).tolist()
    f1s = f1_score(y, pred, average=None, labels=labels, zero_division=0)
    precisions = precision_score(y, pred, average=None, labels=labels, zero_division=0)
    recalls = recall_score(y, pred, average=None, labels=labels, zero_division=0)
    for c, name in enumerate(names):
        k = m.per_class[name]
        assert k.f1 == pytest.approx(f1s[c], abs=1e-12)
        assert k.precision == pytest.approx(precisions[c], abs=1e-12)
        assert k.recall == pytest.approx(recalls[c], abs=1e-12)
        assert k.auroc == pytest.approx(roc_auc_score(y == c, proba[:, c]), abs=1e-12)
        assert k.auprc == pytest.approx(average_precision_score(y == c, proba[:, c]), abs=1e-12)
        assert k.support == int(np.sum(y == c))


def test_multiclass_with_a_class_never_seen_nor_predicted():
    from sklearn.metrics import f1_score, roc_auc_score

    y, proba = multiclass_data(n=300, n_classes=3, decimals=None)
    keep = y != 2
    y, proba = y[keep], proba[keep]
    proba[:, 2] = 0.0  # never predicted either
    proba /= proba.sum(1, keepdims=True)
    m = M.multiclass_metrics(y, proba, ["a", "b", "c"], n_bootstrap=50)
    assert math.isnan(m.per_class["c"].auroc) and m.per_class["c"].support == 0
    # The macro AUROC averages the classes where AUROC is defined; macro F1 counts the empty class as 0.
    assert m.macro_auroc == pytest.approx(np.mean([roc_auc_score(y == c, proba[:, c]) for c in (0, 1)]))
    assert m.macro_f1 == pytest.approx(
        f1_score(y, proba.argmax(1), average="macro", labels=[0, 1, 2], zero_division=0)
    )
    assert not math.isnan(m.ci["macro_auroc"].low)


def test_evaluate_dispatches_on_the_number_of_classes():
    y, p = binary_data(n=300, decimals=2)
    proba = np.stack([1 - p, p], 1)
    binary = M.evaluate(y, proba, ["no", "yes"], threshold=0.4, n_bootstrap=20, seed=3)
    assert binary == M.binary_metrics(y, p, threshold=0.4, n_bootstrap=20, seed=3)
    assert binary.headline == binary.auroc and M.BinaryMetrics.headline_name == "auroc"
    y3, proba3 = multiclass_data(n=300, n_classes=3)
    multi = M.evaluate(y3, proba3, ["a", "b", "c"], n_bootstrap=20)
    assert isinstance(multi, M.MulticlassMetrics)
    assert multi.headline == multi.macro_auroc and M.MulticlassMetrics.headline_name == "macro_auroc"


# ---------------------------------------------------------------------------------------------------
# Calibration


def reference_ece(correct, confidence, n_bins):
    """The textbook loop: bins [lo, hi), the last one closed."""
    edges = np.linspace(0, 1, n_bins + 1)
    total = 0.0
    for b in range(n_bins):
        last = b == n_bins - 1
        in_bin = (confidence >= edges[b]) & (
            (confidence <= edges[b + 1]) if last else (confidence < edges[b + 1])
        )
        if in_bin.any():
            total += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return total


@pytest.mark.parametrize("n_bins", [1, 10, 15])
def test_binary_ece_matches_a_reference_loop(n_bins):
    y, p = binary_data(n=2000, seed=5)
    p[:5] = [0.0, 1.0, 0.5, 1 / 3, 0.2]  # edges included
    expected = reference_ece(y.astype(float), p, n_bins)
    assert M.expected_calibration_error(y, p, n_bins=n_bins) == pytest.approx(expected, abs=1e-12)


def test_multiclass_ece_uses_top_label_confidence():
    y, proba = multiclass_data(n=2000, n_classes=5, decimals=None)
    m = M.multiclass_metrics(y, proba, list("abcde"), n_bootstrap=0)
    expected = reference_ece((proba.argmax(1) == y).astype(float), proba.max(1), M.ECE_BINS)
    assert m.ece == pytest.approx(expected, abs=1e-12)


def test_ece_is_small_when_calibrated_and_large_when_not():
    rng = np.random.default_rng(0)
    p = rng.random(50_000)
    y = (rng.random(50_000) < p).astype(int)  # y ~ Bernoulli(p): calibrated by construction
    assert M.expected_calibration_error(y, p) < 0.02
    overconfident = np.where(p > 0.5, 1 - (1 - p) ** 3, p**3)
    assert M.expected_calibration_error(y, overconfident) > 0.1
    assert M.expected_calibration_error(y, np.full_like(p, 0.9)) == pytest.approx(0.9 - y.mean(), abs=1e-12)


# ---------------------------------------------------------------------------------------------------
# Bootstrap


@pytest.mark.parametrize("decimals", [None, 1])
def test_one_weighted_count_replicate_equals_metrics_on_the_resampled_data(decimals):
    from sklearn.metrics import accuracy_score, average_precision_score, f1_score, roc_auc_score

    y, p = binary_data(n=400, seed=6, decimals=decimals)
    r = R._rank(y, p)
    n_above = r.n_above(0.5)
    counts = B._bootstrap_counts(np.random.default_rng(0), len(y), np.empty((5, len(y)), np.int64))
    assert (counts.sum(1) == len(y)).all()
    reps = B._binary_replicates(r, n_above, counts, R._Scratch())
    for i in range(len(counts)):
        at = np.repeat(np.arange(len(y)), counts[i])  # the explicit resample, in sorted positions
        y_i, p_i = r.y_N[at], p[r.order_N][at]
        assert reps["auroc"][i] == pytest.approx(roc_auc_score(y_i, p_i), abs=1e-12)
        assert reps["auprc"][i] == pytest.approx(average_precision_score(y_i, p_i), abs=1e-12)
        assert reps["f1"][i] == pytest.approx(f1_score(y_i, p_i >= 0.5), abs=1e-12)
        assert reps["accuracy"][i] == pytest.approx(accuracy_score(y_i, p_i >= 0.5), abs=1e-12)


def test_one_multiclass_replicate_equals_metrics_on_the_resampled_data():
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    y, proba = multiclass_data(n=500, n_classes=4, seed=7)
    counts = B._bootstrap_counts(np.random.default_rng(1), len(y), np.empty((3, len(y)), np.int64))
    m = M.multiclass_metrics(y, proba, list("abcd"), n_bootstrap=0)
    assert m.ci == {}
    ranks = [R._rank((y == c).astype(int), proba[:, c]) for c in range(4)]
    reps = B._multiclass_replicates(y * 4 + proba.argmax(1), ranks, counts, R._Scratch())
    for i in range(len(counts)):
        at = np.repeat(np.arange(len(y)), counts[i])
        y_i, proba_i = y[at], proba[at]
        assert reps["accuracy"][i] == pytest.approx(accuracy_score(y_i, proba_i.argmax(1)), abs=1e-12)
        assert reps["macro_f1"][i] == pytest.approx(
            f1_score(y_i, proba_i.argmax(1), average="macro"), abs=1e-12
        )
        expected = roc_auc_score(y_i, proba_i, multi_class="ovr", average="macro")
        assert reps["macro_auroc"][i] == pytest.approx(expected, abs=1e-12)


def test_bootstrap_intervals_contain_the_estimate_and_shrink_with_n():
    widths = []
    for n in (1000, 16_000):
        y, p = binary_data(n=n, seed=8, decimals=3)
        m = M.binary_metrics(y, p, n_bootstrap=300)
        for key in ("auroc", "auprc", "f1", "accuracy"):
            assert m.ci[key].low <= getattr(m, key) <= m.ci[key].high, key
        widths.append({k: v.high - v.low for k, v in m.ci.items()})
    for key in widths[0]:  # 16x the data: about 4x narrower
        assert 2.5 < widths[0][key] / widths[1][key] < 6.5, key


def test_bootstrap_width_is_about_the_standard_error():
    """The accuracy CI of n coin flips with success rate q should be about +-1.96 sqrt(q(1-q)/n)."""
    rng = np.random.default_rng(9)
    y = rng.integers(0, 2, 4000)
    p = np.where(rng.random(4000) < 0.8, y, 1 - y) * 0.6 + 0.2  # right 80% of the time
    m = M.binary_metrics(y, p, n_bootstrap=1000)
    expected = 2 * 1.96 * math.sqrt(m.accuracy * (1 - m.accuracy) / 4000)
    assert m.ci["accuracy"].high - m.ci["accuracy"].low == pytest.approx(expected, rel=0.15)


def test_bootstrap_is_deterministic_by_seed():
    y, p = binary_data(n=500, decimals=2)
    a = M.binary_metrics(y, p, n_bootstrap=200, seed=1)
    assert a == M.binary_metrics(y, p, n_bootstrap=200, seed=1)
    assert a.ci != M.binary_metrics(y, p, n_bootstrap=200, seed=2).ci
    y3, proba = multiclass_data(n=300, n_classes=3)
    b = M.multiclass_metrics(y3, proba, list("abc"), n_bootstrap=100, seed=1)
    assert b == M.multiclass_metrics(y3, proba, list("abc"), n_bootstrap=100, seed=1)


def test_bootstrap_does_not_depend_on_chunking(monkeypatch):
    y, p = binary_data(n=500, decimals=2)
    a = M.binary_metrics(y, p, n_bootstrap=100)
    monkeypatch.setattr(B, "_CHUNK_CELLS", 1700)  # 3 replicates a chunk, the last one short
    assert M.binary_metrics(y, p, n_bootstrap=100) == a


def test_replicates_without_both_classes_are_skipped():
    y, p = [0, 0, 0, 0, 0, 0, 0, 1], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.9]
    m = M.binary_metrics(y, p, n_bootstrap=400)
    # About 1/3 of resamples lack the positive ((7/8)^8 = 0.34); the others all rank it first.
    assert m.ci["auroc"] == M.Interval(1.0, 1.0)
    assert m.ci["auprc"] == M.Interval(1.0, 1.0)
    one_class = M.binary_metrics([0, 0, 0], [0.1, 0.2, 0.3], n_bootstrap=50)
    assert math.isnan(one_class.auroc) and math.isnan(one_class.ci["auroc"].low)
    assert one_class.ci["accuracy"] == M.Interval(1.0, 1.0)


def test_confidence_level_widens_the_interval():
    y, p = binary_data(n=1000, decimals=2)
    narrow = M.binary_metrics(y, p, n_bootstrap=300, confidence=0.5).ci["auroc"]
    wide = M.binary_metrics(y, p, n_bootstrap=300, confidence=0.99).ci["auroc"]
    assert wide.low < narrow.low < narrow.high < wide.high


# ---------------------------------------------------------------------------------------------------
# Thresholds


def brute_force(y, p, score):
    candidates = np.unique(p)
    values = [score(y, (p >= t).astype(int)) for t in candidates]
    return candidates, np.array(values)


@pytest.mark.parametrize("seed,decimals", [(0, None), (1, 2), (2, 1)])
def test_choose_threshold_maximises_f1_and_accuracy(seed, decimals):
    from sklearn.metrics import accuracy_score, f1_score

    y, p = binary_data(n=300, seed=seed, decimals=decimals, positive_rate=0.3)
    for criterion, score in (("f1", f1_score), ("accuracy", accuracy_score)):
        candidates, values = brute_force(y, p, score)
        t = M.choose_threshold(y, p, criterion)
        assert score(y, p >= t) == pytest.approx(values.max(), abs=1e-12)
        assert t == candidates[np.flatnonzero(values == values.max()).max()]  # the highest best threshold


def test_choose_threshold_for_accuracy_can_predict_no_positive():
    y, p = [0, 0, 0, 0, 1], [0.1, 0.2, 0.9, 0.8, 0.7]  # calling nothing gets 4/5, any threshold less
    t = M.choose_threshold(y, p, "accuracy")
    assert t > 0.9 and not np.any(np.asarray(p) >= t)
    y, p = [0, 0, 0, 1], [0.1, 0.2, 0.9, 0.3]  # 3/4 either way: the tie goes to the highest threshold
    assert M.choose_threshold(y, p, "accuracy") > 0.9
    assert M.choose_threshold([0, 0], [0.1, 0.2], "accuracy") > 0.2


@pytest.mark.parametrize("target", [0.5, 0.9, 0.95, 1.0])
@pytest.mark.parametrize("decimals", [None, 2])
def test_choose_threshold_reaches_the_recall_target_at_the_highest_threshold(target, decimals):
    y, p = binary_data(n=400, seed=3, decimals=decimals)
    t = M.choose_threshold(y, p, ("recall", target))
    recall = lambda t: np.sum((p >= t) & (y == 1)) / y.sum()  # noqa: E731
    assert recall(t) >= target
    higher = np.unique(p)[np.unique(p) > t]
    assert not higher.size or recall(higher.min()) < target


def test_choose_threshold_recall_target_is_met_exactly():
    y = np.array([1] * 20 + [0] * 20)
    p = np.linspace(1, 0, 40)
    t = M.choose_threshold(y, p, ("recall", 0.95))  # 19/20 positives is exactly 0.95
    assert t == p[18]


# ---------------------------------------------------------------------------------------------------
# Results


def test_to_dict_is_strict_json_and_summary_names_the_numbers():
    y, p = binary_data(n=300, decimals=2)
    m = M.binary_metrics(y, p, n_bootstrap=50)
    d = json.loads(json.dumps(m.to_dict(), allow_nan=False))
    assert d["auroc"] == m.auroc and d["ci"]["auroc"] == {
        "low": m.ci["auroc"].low,
        "high": m.ci["auroc"].high,
    }
    assert d["confusion"] == m.confusion and "headline_name" not in d
    line = M.summary(m)
    assert f"AUROC {m.auroc:.3f} [{m.ci['auroc'].low:.3f}, {m.ci['auroc'].high:.3f}]" in line
    assert "\n" not in line and f"n={m.n}" in line
    one_class = M.binary_metrics([0, 0], [0.1, 0.2], n_bootstrap=5).to_dict()
    assert one_class["auroc"] is None and json.dumps(one_class, allow_nan=False)
    y3, proba = multiclass_data(n=200, n_classes=3)
    mm = M.multiclass_metrics(y3, proba, ["x", "y", "z"], n_bootstrap=20)
    d3 = json.loads(json.dumps(mm.to_dict(), allow_nan=False))
    assert d3["per_class"]["y"]["support"] == mm.per_class["y"].support
    assert "macro AUROC" in M.summary(mm) and "3 classes" in M.summary(mm)


# ---------------------------------------------------------------------------------------------------
# Bad input


GOOD_Y, GOOD_P = [0, 1, 1, 0], [0.1, 0.8, 0.6, 0.3]
BINARY_FUNCTIONS = [
    M.auroc,
    M.average_precision,
    M.expected_calibration_error,
    M.choose_threshold,
    lambda y, p: M.binary_metrics(y, p, n_bootstrap=5),
]


@pytest.mark.parametrize("fn", BINARY_FUNCTIONS)
@pytest.mark.parametrize(
    "y,p,fragment",
    [
        ([0, 1, 1], GOOD_P, "has 3 examples but"),
        (GOOD_Y, [0.1, float("nan"), 0.6, 0.3], "NaN"),
        ([0, 1, 2, 0], GOOD_P, "got 2"),
        ([0, 1, -1, 0], GOOD_P, "got -1"),
        ([0, 1, 0.5, 0], GOOD_P, "got 0.5"),
        ([0, 1, float("nan"), 0], GOOD_P, "got nan"),
        ([], [], "non-empty"),
        ([[0, 1]], [[0.1, 0.2]], "non-empty vector"),
        (["a", "b", "a", "b"], GOOD_P, "real numbers"),
        (GOOD_Y, "abcd", "non-empty vector"),
    ],
)
def test_bad_binary_input_raises(fn, y, p, fragment):
    with pytest.raises(InputError, match=fragment):
        fn(y, p)


@pytest.mark.parametrize(
    "fn",
    [M.expected_calibration_error, M.choose_threshold, lambda y, p: M.binary_metrics(y, p, n_bootstrap=5)],
)
@pytest.mark.parametrize("bad", [1.5, -0.1, float("inf")])
def test_probabilities_outside_the_unit_interval_raise(fn, bad):
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        fn(GOOD_Y, [0.1, bad, 0.6, 0.3])


def test_bad_weights_raise():
    with pytest.raises(InputError, match="-1"):
        M.auroc(GOOD_Y, GOOD_P, [1, -1, 1, 1])
    with pytest.raises(InputError, match="has 4 examples but weight_N has 3"):
        M.average_precision(GOOD_Y, GOOD_P, [1, 1, 1])
    with pytest.raises(InputError, match="NaN"):
        M.auroc(GOOD_Y, GOOD_P, [1, float("nan"), 1, 1])


@pytest.mark.parametrize(
    "y,proba,names,fragment",
    [
        ([0, 1, 2], np.full((3, 3), 1 / 3), ["a", "b"], "2 label names for 3"),
        ([0, 1], np.full((3, 3), 1 / 3), list("abc"), "has 2 examples but proba_NC has 3"),
        ([0, 3, 1], np.full((3, 3), 1 / 3), list("abc"), "class indices 0..2, got 3"),
        ([0, 1, 2], np.full((3, 3), 0.5), list("abc"), "sum to 1"),
        ([0, 1, 2], [[1.2, -0.2, 0.0]] * 3, list("abc"), r"\[0, 1\]"),
        ([0, 1, 2], [[np.nan, 0.5, 0.5]] * 3, list("abc"), "NaN"),
        ([0, 1, 2], np.full(3, 1 / 3), list("abc"), "2-D"),
        ([0, 0, 0], np.ones((3, 1)), ["a"], "C >= 2"),
        ([], np.zeros((0, 3)), list("abc"), "non-empty"),
        ([0, 1], [[0.5, 0.5], [1.0]], ["a", "b"], "ragged"),
        ([0, 1, 2], np.full((3, 3), 1 / 3), ["a", "b", "a"], "distinct"),
    ],
)
def test_bad_multiclass_input_raises(y, proba, names, fragment):
    for fn in (M.multiclass_metrics, M.evaluate):
        with pytest.raises(InputError, match=fragment):
            fn(y, proba, names, n_bootstrap=5)


def test_bad_options_raise():
    y, p = binary_data(n=50)
    y3, proba = multiclass_data(n=50, n_classes=3)
    for call in (
        lambda: M.binary_metrics(y, p, n_bootstrap=-1),
        lambda: M.binary_metrics(y, p, n_bootstrap=10.5),
        lambda: M.binary_metrics(y, p, confidence=1.0),
        lambda: M.binary_metrics(y, p, threshold=float("nan")),
        lambda: M.multiclass_metrics(y3, proba, list("abc"), confidence=0),
        lambda: M.expected_calibration_error(y, p, n_bins=0),
        lambda: M.choose_threshold(y, p, "precision"),
        lambda: M.choose_threshold(y, p, ("recall", 1.5)),
    ):
        with pytest.raises(ConfigError):
            call()
    with pytest.raises(InputError, match="no positive"):
        M.choose_threshold([0, 0], [0.1, 0.2], "f1")


def test_public_api_is_importable_from_the_package():
    from incision.probes.metrics import (  # noqa: F401
        BinaryMetrics,
        ClassMetrics,
        Interval,
        MulticlassMetrics,
        auroc,
        average_precision,
        binary_metrics,
        choose_threshold,
        evaluate,
        expected_calibration_error,
        multiclass_metrics,
        summary,
    )

    assert all(hasattr(M, name) for name in M.__all__)
