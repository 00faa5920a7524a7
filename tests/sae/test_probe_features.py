"""SAE probes: feature maps with oracles (identity SAE == raw probe, x_hat == decode(encode(x))), top-k
selection of planted latents, and selection that never sees validation or test rows."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from incision import ConfigError, InputError
from incision.probes.data import ProbeData
from incision.probes.train import ProbeConfig, train_probe
from incision.sae import SAEConfig, SparseAutoencoder
from incision.sae.probe_features import (
    FeatureMap,
    FeatureSpec,
    fit_feature_map,
    select_latents,
    train_sae_probe,
    train_sae_probes,
)

SITE = "resid.0"
FAST = {"n_bootstrap": 0}


class ArrayStore:
    """The part of an ActivationStore that probes read, over one in-memory tensor; records rows read."""

    def __init__(self, acts_TD: torch.Tensor):
        self.acts = acts_TD.float()
        self.read: list[np.ndarray] = []
        self.model = {"name": "synthetic"}
        self.manifest = {"settings": {"model": {"config_sha256": "0"}}}

    def width(self, site: str) -> int:
        return self.acts.shape[1]

    def gather(self, site: str, rows, dtype=torch.float32) -> torch.Tensor:
        rows = np.asarray(rows)
        self.read.append(rows)
        return self.acts[torch.from_numpy(rows)].to(dtype)


def token_data(y_N: np.ndarray, fractions=(0.5, 0.25)) -> ProbeData:
    """Token-level data over rows 0..N-1, split in order: train, val, test."""
    n = len(y_N)
    a, b = int(n * fractions[0]), int(n * (fractions[0] + fractions[1]))
    splits = {"train": np.arange(a), "val": np.arange(a, b), "test": np.arange(b, n)}
    return ProbeData("token", ["no", "yes"], y_N, splits, np.arange(n), [])


def identity_sae(d: int) -> SparseAutoencoder:
    """ReLU SAE with W_enc = W_dec = I and zero biases: on nonnegative data, latents == x."""
    sae = SparseAutoencoder(SAEConfig(d_in=d, d_sae=d, architecture="relu"))
    with torch.no_grad():
        sae.W_enc_DF.copy_(torch.eye(d))
        sae.W_dec_FD.copy_(torch.eye(d))
        sae.b_enc_F.zero_()
        sae.b_dec_D.zero_()
    return sae


def linear_task(n: int = 240, d: int = 5, seed: int = 0):
    """Nonnegative activations, labels from a noisy linear rule."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, d, generator=g) * 3
    score = x @ torch.linspace(1, -1, d) + 0.5 * torch.randn(n, generator=g)
    return x, (score > score.median()).long().numpy()


@pytest.mark.parametrize("level", ["token", "sequence"])
def test_identity_sae_dense_probe_equals_raw_probe(level):
    x, y = linear_task()
    store = ArrayStore(x)
    if level == "token":
        data, config = token_data(y), ProbeConfig(level="token", **FAST)
    else:  # 60 documents of 4 tokens each, labelled by the first token's label
        docs = np.arange(60)
        splits = {"train": docs[:30], "val": docs[30:45], "test": docs[45:]}
        data = ProbeData("sequence", ["no", "yes"], y[::4].copy(), splits, np.arange(240), [4] * 60)
        config = ProbeConfig(level="sequence", pooling="mean", **FAST)
    raw = train_probe(store, SITE, config, data)
    dense = train_sae_probe(store, SITE, identity_sae(5), "sae_dense", config, data)
    assert dense.report.l2 == raw.l2
    torch.testing.assert_close(dense.report.probe.weight_CD, raw.probe.weight_CD, atol=1e-5, rtol=1e-4)
    for split in ("val", "test"):
        assert dense.report.metrics[split].auroc == pytest.approx(raw.metrics[split].auroc, abs=1e-9)
    probe_x = x if level == "token" else x.reshape(60, 4, 5).mean(1)
    torch.testing.assert_close(
        dense.report.probe.predict_proba(dense.features(probe_x)),
        raw.probe.predict_proba(probe_x),
        atol=1e-5,
        rtol=0,
    )
    assert dense.report.probe.meta["features"] == "sae_dense"


def test_topk_selection_picks_planted_latents():
    g = torch.Generator().manual_seed(1)
    y = torch.arange(400) % 2
    latents = torch.rand(400, 20, generator=g) * 0.1
    for latent, gap in ((11, 3.0), (3, 2.0), (17, 1.0)):
        latents[:, latent] += gap * y
    chosen = select_latents(latents, y, 3)
    assert chosen.latents_K.tolist() == [11, 3, 17]
    assert chosen.scores_K.tolist() == pytest.approx([3.0, 2.0, 1.0], abs=0.05)
    # multiclass: max over one-vs-rest finds a latent that fires for class 2 alone
    y3 = torch.arange(300) % 3
    latents3 = torch.rand(300, 10, generator=g) * 0.1
    latents3[:, 7] += 2.0 * (y3 == 2)
    assert select_latents(latents3, y3, 1).latents_K.tolist() == [7]
    # through a store and an (identity) SAE: the planted coordinate is the selected latent
    x = torch.rand(400, 20, generator=g) * 0.1
    x[:, 5] += 1.0 * y
    fmap = fit_feature_map(
        FeatureSpec("sae_topk", 1), identity_sae(20), ArrayStore(x), SITE, token_data(y.numpy())
    )
    assert fmap.selection.latents_K.tolist() == [5] and fmap.width == 1
    torch.testing.assert_close(fmap(x), x[:, [5]])


def test_selection_never_sees_validation_or_test_rows():
    """Latent 0 is informative on training rows; latent 5 only on validation/test rows, and more strongly:
    selection over all rows would pick 5."""
    g = torch.Generator().manual_seed(2)
    n, train_n = 400, 200
    y = (torch.arange(n) % 2).long()
    x = torch.rand(n, 6, generator=g) * 0.2
    x[:, 0] += 0.6 * y
    x[train_n:, 5] += 3.0 * y[train_n:]
    x[:train_n, 5] = torch.rand(train_n, generator=g) * 3.0  # unrelated to the label on training rows
    data = token_data(y.numpy())
    assert select_latents(x, y, 1).latents_K.tolist() == [5]  # what a leak would choose
    store = ArrayStore(x)
    fmap = fit_feature_map(FeatureSpec("sae_topk", 1), identity_sae(6), store, SITE, data)
    assert fmap.selection.latents_K.tolist() == [0]
    read = np.concatenate(store.read)
    assert set(read.tolist()) <= set(data.indices("train").tolist())
    # and the probe trained on it is evaluated on the same splits as a raw probe
    report = train_sae_probe(
        store, SITE, identity_sae(6), "sae_top1", ProbeConfig(level="token", **FAST), data
    )
    assert report.report.probe.meta["latents"] == [0]
    assert report.report.n_examples == {"train": 200, "val": 100, "test": 100}


def test_reconstruction_features_are_decode_of_encode():
    sae = SparseAutoencoder(SAEConfig(d_in=6, d_sae=24, k=3), seed=3)
    with torch.no_grad():
        sae.b_dec_D.copy_(torch.randn(6))
    x = torch.randn(50, 6)
    fmap = FeatureMap(FeatureSpec("reconstruction"), sae)
    with torch.no_grad():
        torch.testing.assert_close(fmap(x), sae.decode(sae.encode(x)))
    assert fmap.width == 6
    dense = FeatureMap(FeatureSpec("sae_dense"), sae)
    assert dense(x).shape == (50, 24) and not dense(x).requires_grad
    assert torch.equal(FeatureMap(FeatureSpec("raw"))(x), x)


def test_every_standard_space_trains_on_shared_splits():
    x, y = linear_task(n=240, d=6, seed=4)
    sae = SparseAutoencoder(SAEConfig(d_in=6, d_sae=16, k=4), seed=0)
    reports = train_sae_probes(
        ArrayStore(x), SITE, sae, config=ProbeConfig(level="token", **FAST), data=token_data(y)
    )
    assert list(reports) == ["raw", "sae_dense", "sae_top1", "sae_top8", "reconstruction"]  # top32 > d_sae
    widths = {name: r.report.probe.width for name, r in reports.items()}
    assert widths == {"raw": 6, "sae_dense": 16, "sae_top1": 1, "sae_top8": 8, "reconstruction": 6}
    assert len({tuple(r.report.n_examples.items()) for r in reports.values()}) == 1
    assert reports["raw"].report.metrics["test"].auroc > 0.8


def test_specs_and_bad_input():
    assert FeatureSpec.parse("sae_top32") == FeatureSpec("sae_topk", 32)
    assert [FeatureSpec.parse(n).name for n in ("raw", "sae_dense", "sae_top8", "reconstruction")] == [
        "raw",
        "sae_dense",
        "sae_top8",
        "reconstruction",
    ]
    with pytest.raises(ConfigError, match="'sae_sparse'"):
        FeatureSpec.parse("sae_sparse")
    with pytest.raises(ConfigError, match="k=4"):
        FeatureSpec("sae_dense", 4)
    with pytest.raises(ConfigError, match="positive integer"):
        FeatureSpec("sae_topk", 0)
    with pytest.raises(ConfigError, match="needs an SAE"):
        FeatureMap(FeatureSpec("sae_dense"))
    x, y = linear_task()
    with pytest.raises(InputError, match="width 5"):
        train_sae_probe(
            ArrayStore(x), SITE, identity_sae(7), "sae_dense", ProbeConfig(level="token"), token_data(y)
        )
    with pytest.raises(ConfigError, match="in-memory solver"):
        config = ProbeConfig(level="token", solver="adamw", **FAST)
        train_sae_probe(ArrayStore(x), SITE, identity_sae(5), "sae_dense", config, token_data(y))
    with pytest.raises(ConfigError, match="between 1 and the 5"):
        select_latents(x, y, 6)
