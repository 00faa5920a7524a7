"""LinearProbe against scikit-learn and planted signals."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from incision import ConfigError, InputError
from incision.probes import LinearProbe, fit_probe_stream


def planted(n: int = 2000, d: int = 32, n_classes: int = 2, noise: float = 1.0, seed: int = 0):
    """Gaussian activations with class means along random directions, on a non-standard scale."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, n_classes, (n,), generator=g)
    means = torch.randn(n_classes, d, generator=g) * 0.7
    x = means[y] + noise * torch.randn(n, d, generator=g)
    scale, shift = torch.rand(d, generator=g) * 5 + 0.1, torch.randn(d, generator=g) * 10
    return x * scale + shift, y


def test_recovers_a_planted_direction():
    x, y = planted(n=4000, d=64, noise=1.0)
    probe = LinearProbe.fit(x[:3000], y[:3000])
    assert roc_auc_score(y[3000:], probe.predict_proba(x[3000:])[:, 1]) >= 0.99


@pytest.mark.parametrize("n_classes,class_weight", [(2, None), (2, "balanced"), (3, None), (4, "balanced")])
def test_probabilities_match_scikit_learn(n_classes, class_weight):
    """Full-batch L-BFGS in memory, and minibatch AdamW from an iterator of batches, against one reference."""
    x, y = planted(n=1500, d=24, n_classes=n_classes, noise=2.0, seed=n_classes)
    if class_weight:  # make it imbalanced
        keep = (y != 0) | (torch.arange(len(y)) % 4 == 0)
        x, y = x[keep], y[keep]
    l2 = 0.5
    probe = LinearProbe.fit(x, y, l2=l2, class_weight=class_weight)
    halves = [(x[::2], y[::2]), (x[1::2], y[1::2])]  # any iterable of (x, y) batches, read once per epoch
    streamed = fit_probe_stream(halves, l2s=[l2], class_weight=class_weight, epochs=200, lr=0.1).probe
    z = StandardScaler().fit_transform(x.double().numpy())
    reference = LogisticRegression(C=1 / l2, class_weight=class_weight, tol=1e-10, max_iter=10_000).fit(
        z, y.numpy()
    )
    for fitted in (probe, streamed):
        ours = fitted.predict_proba(x).double().numpy()
        np.testing.assert_allclose(ours, reference.predict_proba(z), atol=1e-3)


def test_save_load_round_trip_and_mismatch(tmp_path):
    x, y = planted(n=400, d=16)
    probe = LinearProbe.fit(x, y, label_names=["benign", "harmful"], meta={"model": "m", "site": "resid.3"})
    probe.threshold = 0.4
    loaded = LinearProbe.load(
        probe.save(tmp_path / "p"), expect={"model": "m", "site": "resid.3", "width": 16}
    )
    assert torch.equal(loaded.predict_proba(x), probe.predict_proba(x))
    assert loaded.label_names == ["benign", "harmful"] and loaded.threshold == 0.4
    with pytest.raises(ConfigError, match=r"site='resid.3', not 'resid.4'"):
        LinearProbe.load(tmp_path / "p", expect={"site": "resid.4"})
    with pytest.raises(ConfigError, match=r"width=16, not 640"):
        LinearProbe.load(tmp_path / "p", expect={"width": 640})
    with pytest.raises(InputError, match=r"shape \[N, 16\], got \[3, 15\]"):
        probe.predict(torch.zeros(3, 15))


def test_bad_inputs():
    x, y = planted(n=100, d=8)
    with pytest.raises(InputError, match="one class only"):
        LinearProbe.fit(x, torch.zeros(100, dtype=torch.long))
    with pytest.raises(InputError, match="vector of 100 class indices, got shape \\[99\\]"):
        LinearProbe.fit(x, y[:99])
    with pytest.raises(InputError, match="non-integer"):
        LinearProbe.fit(x, y.float() + 0.5)
    bad = x.clone()
    bad[3, 2], bad[7, 0] = float("nan"), float("inf")
    with pytest.raises(InputError, match="2 of 100 activation rows hold NaN or inf"):
        LinearProbe.fit(bad, y)
    with pytest.raises(ConfigError, match="class_weight"):
        LinearProbe.fit(x, y, class_weight="auto")


def test_difference_of_means_finds_the_planted_direction():
    g = torch.Generator().manual_seed(0)
    direction = torch.nn.functional.normalize(torch.randn(32, generator=g), dim=0)
    y = torch.randint(0, 2, (3000,), generator=g)
    x = torch.randn(3000, 32, generator=g) + (y[:, None] * 2 - 1) * 2.0 * direction + 5
    probe = LinearProbe.fit_diff_means(x[:2000], y[:2000], label_names=["no", "yes"])
    assert probe.meta["method"] == "diff_means"
    cosine = torch.nn.functional.cosine_similarity(probe.weight_CD[0], direction, dim=0)
    assert cosine > 0.95
    assert roc_auc_score(y[2000:], probe.predict_proba(x[2000:])[:, 1]) >= 0.99
    # calibrated: the mean predicted probability tracks the base rate
    assert abs(probe.predict_proba(x[2000:])[:, 1].mean() - y[2000:].float().mean()) < 0.05
    with pytest.raises(ConfigError, match="two classes, got 3"):
        LinearProbe.fit_diff_means(x[:30], torch.arange(30) % 3)


def test_attention_pooling_finds_the_one_token_that_matters():
    """The label lives in one marked token among 30: mean pooling dilutes it, attention finds it."""
    from incision.probes.adamw import attention_adamw
    from incision.probes.pooling import pool

    g = torch.Generator().manual_seed(0)
    n, t, d = 1200, 30, 8
    acts = torch.randn(n, t, d, generator=g)
    y = torch.randint(0, 2, (n,), generator=g)
    key = torch.randint(0, t, (n,), generator=g)
    acts[torch.arange(n), key, 0] += 4.0  # the marker that says where to look
    acts[torch.arange(n), key, 1] += (y * 2 - 1).float() * 1.5  # the label, only there
    lengths = torch.randint(key.max().item() + 1, t + 1, (n,), generator=g).clamp_min(key + 1)
    mask = torch.arange(t)[None, :] < lengths[:, None]
    mean, std = acts[mask].double().mean(0), acts[mask].double().std(0)
    z = ((acts - mean.float()) / std.float()).masked_fill(~mask[..., None], 0)
    train, test = slice(0, 900), slice(900, n)
    [(solution, query)] = attention_adamw(
        z[train], mask[train], y[train], torch.ones(900), 2, [1.0], steps=400
    )
    probe = LinearProbe.from_solution(solution, mean, std, 2, pooling="attention", query_D=query)
    attention_auroc = roc_auc_score(y[test], probe.sequence_proba(acts[test], mask[test])[:, 1])
    pooled = pool(acts, mask, "mean")
    mean_probe = LinearProbe.fit(pooled[train], y[train])
    mean_auroc = roc_auc_score(y[test], mean_probe.predict_proba(pooled[test])[:, 1])
    assert attention_auroc > 0.95 and attention_auroc > mean_auroc + 0.1


@pytest.mark.parametrize("n_classes", [2, 4])
def test_float32_solver_agrees_with_float64(n_classes):
    """Above FLOAT64_MAX_VALUES the fit runs in float32 with the preconditioned solver: same optimum."""
    from incision.probes import solvers

    x, y = planted(n=40_000, d=64, n_classes=n_classes, noise=2.0, seed=7)
    assert x.numel() > solvers.FLOAT64_MAX_VALUES
    fast = LinearProbe.fit(x, y, l2=1.0)
    mean, std = x.double().mean(0), x.double().std(0, unbiased=False)
    exact = solvers.lbfgs(
        (x.double() - mean) / std, y, n_classes, 1.0, torch.ones(len(y), dtype=torch.float64)
    )
    reference = LinearProbe.from_solution(exact, mean, std, n_classes)
    torch.testing.assert_close(fast.predict_proba(x), reference.predict_proba(x), atol=2e-3, rtol=0)
