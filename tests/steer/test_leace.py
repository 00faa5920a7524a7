"""LEACE against oracles: chance-level probes, equal class means, least-squares optimality, streaming, storage."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file, save_file
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from incision.errors import ConfigError, InputError, StoreError
from incision.steer.leace import LeaceEraser, LeaceFitter

N, D = 4000, 16


def planted(classes: int = 2, n: int = N, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Correlated anisotropic Gaussian nuisance plus one random mean per class, far from the origin."""
    g = torch.Generator().manual_seed(seed)
    mix_DD = torch.randn(D, D, generator=g) * torch.logspace(-1, 0.5, D)[:, None]
    means_CD = torch.randn(classes, D, generator=g) * 0.7
    z_N = torch.randint(0, classes, (n,), generator=g)
    x_ND = torch.randn(n, D, generator=g) @ mix_DD + means_CD[z_N] + 5.0
    return x_ND, z_N


def auroc(x_ND: torch.Tensor, z_N: torch.Tensor) -> float:
    """Held-out AUROC (one-vs-rest macro for k classes) of a logistic probe trained on the first half."""
    x, z, half = x_ND.double().numpy(), z_N.numpy(), len(z_N) // 2
    probe = LogisticRegression(max_iter=2000).fit(x[:half], z[:half])
    scores = probe.predict_proba(x[half:])
    if scores.shape[1] == 2:
        return roc_auc_score(z[half:], scores[:, 1])
    return roc_auc_score(z[half:], scores, multi_class="ovr")


def class_means(x_ND: torch.Tensor, z_N: torch.Tensor) -> torch.Tensor:
    return torch.stack([x_ND[z_N == c].double().mean(0) for c in z_N.unique()])


def moments(x_ND: torch.Tensor, z_N: torch.Tensor):
    """Empirical mean, covariance and cross-covariance with one-hot z, in float64."""
    x = x_ND.double()
    z = torch.nn.functional.one_hot(z_N).double()
    xc = x - x.mean(0)
    return x.mean(0), xc.T @ xc / len(x), xc.T @ (z - z.mean(0)) / len(x)


@pytest.mark.parametrize("classes", [2, 3])
def test_a_fresh_probe_is_at_chance_after_erasure(classes):
    x, z = planted(classes)
    half = N // 2
    assert auroc(x, z) > 0.9
    eraser = LeaceEraser.fit(x[:half], z[:half])  # fitted on the probe's training half only
    assert eraser.rank == classes - 1
    assert abs(auroc(eraser(x), z) - 0.5) < 0.05


@pytest.mark.parametrize("classes", [2, 3, 5])
def test_erased_class_means_are_equal(classes):
    x, z = planted(classes)
    scale = float(x.std(0).max())
    assert float((class_means(x, z) - class_means(x, z)[0]).abs().max()) > 0.2 * scale
    for dtype, tol in [(torch.float32, 1e-5), (torch.float64, 1e-10)]:
        erased = LeaceEraser.fit(x, z, dtype=dtype)(x.to(dtype))
        means = class_means(erased, z)
        assert float((means - means[0]).abs().max()) < tol * scale
        # the pooled mean is kept: erasure moves each class onto it rather than somewhere else
        torch.testing.assert_close(means[0], x.double().mean(0), atol=tol * 10 * scale, rtol=0)


def test_continuous_concept_has_no_cross_covariance_left():
    x, _ = planted()
    g = torch.Generator().manual_seed(1)
    z_NK = x[:, :3] @ torch.randn(3, 2, generator=g) + torch.randn(N, 2, generator=g)
    erased = LeaceEraser.fit(x, z_NK, dtype=torch.float64)(x.double())
    assert erased.shape == x.shape
    zc = z_NK.double() - z_NK.double().mean(0)
    cross = (erased - erased.mean(0)).T @ zc / N
    before = (x.double() - x.double().mean(0)).T @ zc / N
    assert float(before.abs().max()) > 0.1
    assert float(cross.abs().max()) < 1e-10 * float(before.abs().max())


@pytest.mark.parametrize("classes", [2, 3])
def test_leace_edits_less_than_any_other_affine_eraser(classes):
    """Theorem: among affine maps r with Cov(r(x), z) = 0, LEACE has the least E|r(x) - x|^2.

    Every r(x) = x - C (B^T C)^-1 B^T (x - mean), with C a basis of colsp(Σ_xz) and any B, meets the
    constraint; B = C is the orthogonal projection along the difference of means. On the fitting data the
    empirical distribution is the population, so the inequality holds exactly, not just in expectation.
    """
    x, z = planted(classes)
    mean_D, _, sigma_xz_DK = moments(x, z)
    C_DR = torch.linalg.svd(sigma_xz_DK, full_matrices=False)[0][:, : classes - 1]
    xc = x.double() - mean_D
    leace_edit = float(
        (LeaceEraser.fit(x, z, dtype=torch.float64)(x.double()) - x.double()).pow(2).sum(1).mean()
    )
    g = torch.Generator().manual_seed(2)
    candidates = [C_DR] + [torch.randn(D, classes - 1, generator=g, dtype=torch.float64) for _ in range(20)]
    z_NK = torch.nn.functional.one_hot(z).double()
    edits = []
    for B_DR in candidates:
        edit_ND = (xc @ B_DR) @ torch.linalg.inv(B_DR.T @ C_DR).T @ C_DR.T
        assert float(((xc - edit_ND).T @ z_NK).abs().max()) < 1e-6 * N  # each candidate is a valid eraser
        edits.append(float(edit_ND.pow(2).sum(1).mean()))
    assert leace_edit <= min(edits) * (1 + 1e-9)
    # correlated nuisance makes the orthogonal projection strictly worse, so the test can tell them apart
    assert leace_edit < 0.8 * edits[0]


def test_eraser_is_an_oblique_projection_onto_the_concept_directions():
    x, z = planted(3)
    mean_D, sigma_xx_DD, sigma_xz_DK = moments(x, z)
    eraser = LeaceEraser.fit(x, z, dtype=torch.float64)
    xd = x.double()
    once = eraser(xd)
    torch.testing.assert_close(eraser(once), once, atol=1e-10, rtol=0)  # idempotent
    # every edit lies in colsp(Σ_xz)
    Q_DK = torch.linalg.svd(sigma_xz_DK, full_matrices=False)[0][:, :2]
    edit = xd - once
    torch.testing.assert_close(edit @ Q_DK @ Q_DK.T, edit, atol=1e-9, rtol=0)
    # directions v with (W v) ⊥ W Σ_xz, i.e. v^T Σ_xx^-1 Σ_xz = 0, are left untouched
    A_DK = torch.linalg.solve(sigma_xx_DD, sigma_xz_DK)
    V_DM = torch.linalg.svd(A_DK.T, full_matrices=True)[2][2:].T  # null space of A^T: D - 2 directions
    points = mean_D + torch.randn(50, D - 2, dtype=torch.float64) @ V_DM.T
    torch.testing.assert_close(eraser(points), points, atol=1e-9, rtol=0)
    # while a point off the mean along the concept direction is moved
    assert float((eraser(mean_D + Q_DK[:, 0]) - mean_D - Q_DK[:, 0]).abs().max()) > 0.1


def test_streaming_fit_equals_one_shot_and_grows_classes():
    x, z = planted(3)
    order = torch.argsort((z == 2).int(), stable=True)  # class 2 appears only in later batches
    x, z = x[order], z[order]
    fitter = LeaceFitter()
    for start, stop in [(0, 7), (7, 1000), (1000, 1000), (1000, 2900), (2900, N)]:
        fitter.update(x[start:stop], z[start:stop])
    assert fitter.n == N and fitter.sum_z_K.shape == (3,)
    streamed = fitter.eraser(dtype=torch.float64)
    one_shot = LeaceEraser.fit(x, z, num_classes=3, dtype=torch.float64)
    assert streamed.rank == one_shot.rank == 2
    torch.testing.assert_close(streamed(x.double()), one_shot(x.double()), atol=1e-10, rtol=0)
    torch.testing.assert_close(streamed.mean_D, one_shot.mean_D, atol=1e-10, rtol=0)


def test_keeps_shape_dtype_and_accepts_leading_axes():
    x, z = planted()
    eraser = LeaceEraser.fit(x, z)
    x_BTD = x[:24].reshape(2, 3, 4, D)
    reference = eraser(x_BTD.double())
    for dtype in (torch.float32, torch.float16, torch.bfloat16, torch.float64):
        out = eraser(x_BTD.to(dtype))
        assert out.shape == x_BTD.shape and out.dtype == dtype
        tol = {torch.float16: 2e-2, torch.bfloat16: 1e-1}.get(dtype, 1e-5)
        torch.testing.assert_close(out.double(), reference, atol=tol * 10, rtol=tol)


def test_save_load_round_trip_is_exact(tmp_path):
    x, z = planted(3)
    eraser = LeaceEraser.fit(x, z, meta={"model": "tiny", "site": "resid.3", "labels": ["a", "b", "c"]})
    folder = eraser.save(tmp_path / "eraser")
    cfg = json.loads((folder / "cfg.json").read_text())
    provenance = {"model": "tiny", "config_sha256": None, "site": "resid.3", "width": D}
    assert cfg == {"format_version": 2, "kind": "leace", "width": D, "rank": 2, "provenance": provenance,
                   "meta": eraser.meta}  # fmt: skip
    loaded = LeaceEraser.load(folder)
    for name in ("mean_D", "proj_left_DK", "proj_right_DK"):
        assert torch.equal(getattr(loaded, name), getattr(eraser, name))
    assert loaded.meta == eraser.meta
    assert torch.equal(loaded(x), eraser(x))


def test_broken_or_foreign_folders_are_refused(tmp_path):
    x, z = planted()
    good = LeaceEraser.fit(x, z).save(tmp_path / "good")

    def copy(name: str):
        folder = tmp_path / name
        folder.mkdir()
        for f in good.iterdir():
            (folder / f.name).write_bytes(f.read_bytes())
        return folder

    pickled = copy("pickled")
    torch.save({"w": torch.ones(2)}, pickled / "eraser.pt")
    no_cfg = copy("no_cfg")
    (no_cfg / "cfg.json").unlink()
    garbled = copy("garbled")
    (garbled / "cfg.json").write_text("{not json")
    foreign = copy("foreign")
    (foreign / "cfg.json").write_text(json.dumps({"format_version": 1, "kind": "sae", "width": D, "rank": 1}))
    reshaped = copy("reshaped")
    tensors = load_file(reshaped / "eraser.safetensors")
    save_file({**tensors, "proj_left": torch.zeros(D, 3)}, reshaped / "eraser.safetensors")
    no_tensors = copy("no_tensors")
    (no_tensors / "eraser.safetensors").unlink()
    cases = [
        (pickled, "pickled"),
        (no_cfg, "cfg.json"),
        (garbled, "cfg.json"),
        (foreign, "not a LEACE"),
        (reshaped, r"proj_left of shape \[16, 3\], expected \[16, 1\]"),
        (no_tensors, "eraser.safetensors"),
        (tmp_path / "absent", "not a folder"),
    ]
    for folder, message in cases:
        with pytest.raises(StoreError, match=message) as info:
            LeaceEraser.load(folder)
        assert folder.name in str(info.value)


def test_bad_inputs_are_named():
    x, z = planted()
    eraser = LeaceEraser.fit(x, z)
    with pytest.raises(InputError, match=r"this eraser reads width 16, got shape \[3, 5\]"):
        eraser(torch.zeros(3, 5))
    with pytest.raises(InputError, match="float"):
        eraser(torch.zeros(3, D, dtype=torch.long))
    bad = x.clone()
    bad[5, 3] = float("nan")
    bad[6, 0] = float("inf")
    with pytest.raises(InputError, match="2 NaN or inf"):
        LeaceEraser.fit(bad, z)
    with pytest.raises(InputError, match=r"single class \(1\)"):
        LeaceEraser.fit(x, torch.ones(N, dtype=torch.long))
    with pytest.raises(InputError, match="at least 2 examples.*got 1"):
        LeaceEraser.fit(x[:1], z[:1])
    with pytest.raises(InputError, match=rf"N = {N} rows of x, got shape \[{N - 1}\]"):
        LeaceEraser.fit(x, z[:-1])
    with pytest.raises(InputError, match=r"\[0, 2\), got 0..2"):
        LeaceEraser.fit(x, z * 2, num_classes=2)
    with pytest.raises(InputError, match="width 16, got shape"):
        LeaceFitter().update(x, z).update(x[:, :4], z)
    with pytest.raises(InputError, match="earlier batches"):
        LeaceFitter().update(x, z).update(x, z.double())
    with pytest.raises(ConfigError, match="got 1"):
        LeaceFitter(num_classes=1)


def test_matches_eleutherai_concept_erasure():
    ce = pytest.importorskip("concept_erasure")
    for classes in (2, 3):
        x, z = planted(classes)
        one_hot = torch.nn.functional.one_hot(z).double()
        theirs = ce.LeaceFitter(
            D, classes, dtype=torch.float64, shrinkage=False, constrain_cov_trace=False, svd_tol=1e-8
        )
        theirs.update(x.double(), one_hot)
        expected = theirs.eraser(x.double())
        torch.testing.assert_close(
            LeaceEraser.fit(x, z, dtype=torch.float64)(x.double()), expected, atol=1e-9, rtol=0
        )
        ours32 = LeaceEraser.fit(x, z)(x)
        assert float((ours32.double() - expected).abs().max()) < 1e-4 * float(x.abs().max())
        # the continuous case too
        z_NK = x[:, :2] + torch.randn(N, 2)
        theirs = ce.LeaceFitter(
            D, 2, dtype=torch.float64, shrinkage=False, constrain_cov_trace=False, svd_tol=1e-8
        )
        theirs.update(x.double(), z_NK.double())
        torch.testing.assert_close(
            LeaceEraser.fit(x, z_NK, dtype=torch.float64)(x.double()),
            theirs.eraser(x.double()),
            atol=1e-9,
            rtol=0,
        )
