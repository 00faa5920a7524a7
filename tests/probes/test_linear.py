"""LinearProbe against scikit-learn and planted signals."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from incision import ConfigError, InputError
from incision.probes import LinearProbe


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
    x, y = planted(n=1500, d=24, n_classes=n_classes, noise=2.0, seed=n_classes)
    if class_weight:  # make it imbalanced
        keep = (y != 0) | (torch.arange(len(y)) % 4 == 0)
        x, y = x[keep], y[keep]
    l2 = 0.5
    probe = LinearProbe.fit(x, y, l2=l2, class_weight=class_weight)
    z = StandardScaler().fit_transform(x.double().numpy())
    reference = LogisticRegression(C=1 / l2, class_weight=class_weight, tol=1e-10, max_iter=10_000).fit(
        z, y.numpy()
    )
    ours = probe.predict_proba(x).double().numpy()
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
