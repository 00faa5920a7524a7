"""SparseAutoencoder against plain reference computations written out here."""

from __future__ import annotations

import pytest
import torch

from incision import ConfigError, InputError
from incision.sae import VARIANTS, SAEConfig, SparseAutoencoder, geometric_median
from incision.sae.variants import TopK, register

from .helpers import random_batch

D, F = 16, 48


def make(architecture: str = "topk", seed: int = 0, **options) -> SparseAutoencoder:
    """An SAE with every parameter random (biases too), so that no term of the map can hide."""
    sae = SparseAutoencoder(SAEConfig(d_in=D, d_sae=F, architecture=architecture, **options), seed=seed)
    g = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        sae.b_enc_F.copy_(0.3 * torch.randn(F, generator=g))
        sae.b_dec_D.copy_(torch.randn(D, generator=g))
        sae.W_enc_DF.add_(0.1 * torch.randn(D, F, generator=g))
    return sae


def reference_pre(sae, x):
    return (x - sae.b_dec_D) @ sae.W_enc_DF + sae.b_enc_F


def test_topk_forward_equals_a_plain_reference():
    sae = make("topk", k=5)
    x = random_batch(32, D)
    with torch.no_grad():
        pre = reference_pre(sae, x)
        values, indices = pre.relu().topk(5, dim=-1)
        latents = torch.zeros(32, F).scatter(-1, indices, values)
        recon = latents @ sae.W_dec_FD + sae.b_dec_D
        out = sae(x)
    torch.testing.assert_close(sae.encode(x), latents)
    torch.testing.assert_close(out.latents_BF, latents)
    torch.testing.assert_close(out.reconstruction_BD, recon)
    torch.testing.assert_close(sae.decode(latents), recon)
    assert ((out.latents_BF != 0).sum(-1) <= 5).all()
    # [B, T, D] inputs encode row by row
    torch.testing.assert_close(sae.encode(x.view(4, 8, D)), latents.view(4, 8, F))


def normalised_mse(prediction, target):
    return ((prediction - target) ** 2).sum() / ((target - target.mean(0)) ** 2).sum()


def test_topk_loss_with_dead_latents_equals_the_reference():
    sae = make("topk", k=4, aux_k=6, dead_after_tokens=100)
    dead = torch.zeros(F, dtype=torch.bool)
    dead[::3] = True  # 16 dead latents
    sae.tokens_since_fired_F[dead] = 100
    x = random_batch(20, D, seed=3)
    sae.train()
    out = sae(x)
    with torch.no_grad():
        pre = reference_pre(sae, x)
        recon = out.reconstruction_BD
        residual = x - recon
        aux_recon = torch.zeros_like(x)
        for b in range(20):  # per example: the 6 largest pre-activations among dead latents, ReLU, no bias
            dead_idx = dead.nonzero().flatten()
            top = dead_idx[pre[b, dead_idx].topk(6).indices]
            aux_recon[b] = pre[b, top].relu() @ sae.W_dec_FD[top]
        aux = normalised_mse(aux_recon, residual)
        main = normalised_mse(recon, x)
    torch.testing.assert_close(out.losses.reconstruction, main)
    torch.testing.assert_close(out.losses.aux, aux)
    torch.testing.assert_close(out.losses.total, main + aux / 32)
    torch.testing.assert_close(out.losses.fvu, main)
    sae.eval()
    assert float(sae(x).losses.aux) == 0.0  # aux is a training loss


def test_batchtopk_keeps_the_largest_of_the_whole_batch_and_thresholds_at_inference():
    sae = make("batchtopk", k=3)
    x = random_batch(10, D, seed=4)
    sae.train()
    out = sae(x)
    with torch.no_grad():
        acts = reference_pre(sae, x).relu()
        cutoff = acts.flatten().sort(descending=True).values[3 * 10 - 1]
        expected = torch.where(acts >= cutoff, acts, 0.0)
    torch.testing.assert_close(out.latents_BF, expected)
    assert int((out.latents_BF > 0).sum()) == 30
    torch.testing.assert_close(out.losses.total, normalised_mse(out.reconstruction_BD, x))
    # the threshold: a mean of per-batch minimum active values at first
    sae.record_batch(out.latents_BF)
    first = out.latents_BF[out.latents_BF > 0].min()
    torch.testing.assert_close(sae.threshold.float(), first)
    out2 = sae(random_batch(10, D, seed=5))
    sae.record_batch(out2.latents_BF)
    second = out2.latents_BF[out2.latents_BF > 0].min()
    torch.testing.assert_close(sae.threshold.float(), (first + second) / 2)
    sae.eval()
    single = x[:1]
    with torch.no_grad():
        pre = reference_pre(sae, single)
        expected = pre.relu() * (pre > sae.threshold.float())
    torch.testing.assert_close(sae.encode(single), expected)
    torch.testing.assert_close(sae.encode(x)[:1], expected)  # an example is encoded on its own


def test_relu_loss_weights_l1_by_decoder_norms():
    sae = make("relu", l1_coefficient=0.7, unit_decoder=False)
    with torch.no_grad():
        sae.W_dec_FD.mul_(torch.linspace(0.2, 3.0, F)[:, None])
    x = random_batch(12, D, seed=6)
    out = sae(x)
    with torch.no_grad():
        latents = reference_pre(sae, x).relu()
        recon = latents @ sae.W_dec_FD + sae.b_dec_D
        mse = ((recon - x) ** 2).sum(1).mean()
        l1 = sum(latents[:, i] * sae.W_dec_FD[i].norm() for i in range(F)).mean()
    torch.testing.assert_close(out.latents_BF, latents)
    torch.testing.assert_close(out.losses.total, mse + 0.7 * l1)


def test_jumprelu_loss_and_threshold_pseudo_derivative():
    eps = 0.5
    sae = make("jumprelu", l0_coefficient=0.3, jumprelu_bandwidth=eps, jumprelu_init_threshold=0.4)
    x = random_batch(12, D, seed=7)
    out = sae(x)
    theta = sae.log_threshold_F.exp().detach()
    with torch.no_grad():
        pre = reference_pre(sae, x)
        latents = pre * (pre > theta)
        recon = latents @ sae.W_dec_FD + sae.b_dec_D
        loss = ((recon - x) ** 2).sum(1).mean() + 0.3 * (pre > theta).float().sum(1).mean()
    torch.testing.assert_close(out.latents_BF, latents)
    torch.testing.assert_close(out.losses.total, loss)
    # d loss / d theta by the pseudo-derivatives, written out
    out.losses.total.backward()
    with torch.no_grad():
        grad_latents = 2 * (recon - x) @ sae.W_dec_FD.T / 12
        window = ((pre - theta).abs() < eps / 2).float()
        d_theta = (grad_latents * -(theta / eps) * window).sum(0) + 0.3 * (-(1 / eps) * window).sum(0) / 12
    torch.testing.assert_close(sae.log_threshold_F.grad, d_theta * theta)
    assert window.sum() > 0  # the test exercises the window


def test_dead_latent_counting_on_a_constructed_stream():
    sae = make("topk", k=2, dead_after_tokens=10)
    latents = torch.zeros(4, F)
    latents[0, 0] = 1.0
    latents[3, 1] = 2.0
    sae.record_batch(latents)  # latents 0 and 1 fire; everything else has waited 4 tokens
    assert sae.tokens_since_fired_F[:3].tolist() == [0, 0, 4]
    latents = torch.zeros(6, F)
    latents[5, 1] = 0.5
    sae.record_batch(latents)
    assert sae.tokens_since_fired_F[:3].tolist() == [6, 0, 10]
    dead = sae.dead_mask_F()
    assert dead.tolist() == [False, False] + [True] * (F - 2)


def test_decoder_gradient_projection_and_renormalisation():
    sae = make("topk", k=4)
    out = sae(random_batch(16, D))
    out.losses.total.backward()
    sae.project_decoder_grad_()
    torch.testing.assert_close((sae.W_dec_FD.grad * sae.W_dec_FD).sum(-1), torch.zeros(F), atol=1e-6, rtol=0)
    with torch.no_grad():
        sae.W_dec_FD.mul_(3.0)
    sae.normalise_decoder_()
    torch.testing.assert_close(sae.W_dec_FD.norm(dim=-1), torch.ones(F))


def test_geometric_median():
    x = torch.tensor([[0.0], [1.0], [2.0], [10.0], [100.0]])
    torch.testing.assert_close(
        geometric_median(x), torch.tensor([2.0], dtype=torch.float64), atol=1e-5, rtol=0
    )
    pts = random_batch(50, 5, seed=8).double()
    pts[:3] += 1000.0  # outliers move the mean, hardly the median
    median = geometric_median(pts)

    def cost(y):
        return (pts - y).norm(dim=-1).sum()

    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        assert cost(median) <= cost(median + 1e-3 * torch.randn(5, generator=g, dtype=torch.float64))
    assert (median - pts[3:].mean(0)).norm() < 1.0 < (pts.mean(0) - pts[3:].mean(0)).norm()


@pytest.mark.parametrize("method", ["mean", "geometric_median"])
def test_init_from_data_sets_b_dec_and_input_scale(method):
    sae = make("topk", normalise_activations="expected_average")
    x = random_batch(64, D, seed=9) * 7
    sae.init_from_data_(x, b_dec=method)
    scale = float(sae.input_scale)
    assert ((x * scale).pow(2).sum(-1).mean() - D).abs() < 1e-3
    expected = (x * scale).mean(0) if method == "mean" else geometric_median(x * scale).float()
    torch.testing.assert_close(sae.b_dec_D, expected, atol=1e-5, rtol=1e-5)
    out = sae(x)  # reconstructions come back in the input's units
    with torch.no_grad():
        latents = sae.variant.activate(sae, (x * scale - sae.b_dec_D) @ sae.W_enc_DF + sae.b_enc_F)
        torch.testing.assert_close(out.reconstruction_BD, (latents @ sae.W_dec_FD + sae.b_dec_D) / scale)


def test_bad_configs_and_inputs_raise_one_clear_error():
    with pytest.raises(ConfigError, match="'topkk'"):
        SAEConfig(d_in=4, d_sae=8, architecture="topkk")
    with pytest.raises(ConfigError, match="k must be at most d_sae"):
        SAEConfig(d_in=4, d_sae=8, k=9)
    with pytest.raises(ConfigError, match="normalise_activations"):
        SAEConfig(d_in=4, d_sae=8, normalise_activations="layer_norm")
    with pytest.raises(ConfigError, match="jumprelu_bandwidth"):
        SAEConfig(d_in=4, d_sae=8, architecture="jumprelu", jumprelu_bandwidth=0)
    sae = make()
    with pytest.raises(InputError, match=f"width {D}, got shape \\[3, 5\\]"):
        sae.encode(torch.zeros(3, 5))


def test_a_registered_variant_is_usable_by_name():
    @register
    class Top1(TopK):
        name = "top1_test"

        def activate(self, sae, pre_BF):
            return super().activate(sae, pre_BF) * (pre_BF == pre_BF.max(-1, keepdim=True).values)

    try:
        sae = SparseAutoencoder(SAEConfig(d_in=D, d_sae=F, architecture="top1_test", k=3))
        assert ((sae.encode(random_batch(8, D)) != 0).sum(-1) <= 1).all()
    finally:
        del VARIANTS["top1_test"]
