"""SAE folders: our SAELens-compatible format, folders written by SAELens and by sparsify, and bad files."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from incision import ConfigError, StoreError
from incision.sae import SAEConfig, SparseAutoencoder, load, load_sparsify, save

from .helpers import random_batch

D, F = 16, 40
ARCHITECTURES = ["topk", "batchtopk", "relu", "jumprelu"]
SAELENS_NAME = {"topk": "topk", "batchtopk": "jumprelu", "relu": "standard", "jumprelu": "jumprelu"}


def trained_like(architecture: str, normalise: bool = False) -> SparseAutoencoder:
    """An SAE in eval mode with random biases, thresholds and (optionally) an input scale."""
    cfg = SAEConfig(
        d_in=D,
        d_sae=F,
        architecture=architecture,
        k=5,
        normalise_activations="expected_average" if normalise else "none",
        jumprelu_init_threshold=0.5,
    )
    sae = SparseAutoencoder(cfg, seed=1, meta={"model": "tiny-gpt2", "site": "resid.1"})
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        sae.b_enc_F.copy_(0.3 * torch.randn(F, generator=g))
        sae.W_enc_DF.add_(0.1 * torch.randn(D, F, generator=g))
        if architecture == "jumprelu":
            sae.log_threshold_F.add_(0.2 * torch.randn(F, generator=g))
    sae.init_from_data_(random_batch(200, D, seed=3) * 5, b_dec="mean")
    if architecture == "batchtopk":
        sae.threshold.fill_(0.7)
    return sae.eval()


def saelens_reference(folder, x):
    """What SAELens computes from the folder's files: its encode (by architecture) and decode."""
    cfg = json.loads((folder / "cfg.json").read_text())
    with safe_open(folder / "sae_weights.safetensors", framework="pt") as f:
        w = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    pre = (x - w["b_dec"]) @ w["W_enc"] + w["b_enc"]
    if cfg["architecture"] == "topk":
        values, indices = pre.topk(cfg["k"], dim=-1)
        latents = torch.zeros_like(pre).scatter(-1, indices, values.relu())
    elif cfg["architecture"] == "jumprelu":
        latents = pre.relu() * (pre > w["threshold"])
    else:
        latents = pre.relu()
    return latents, latents @ w["W_dec"] + w["b_dec"]


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("normalise", [False, True])
def test_round_trip_and_saelens_semantics(tmp_path, architecture, normalise):
    sae = trained_like(architecture, normalise)
    x = random_batch(30, D, seed=4) * 5
    save(sae, tmp_path)
    loaded = load(tmp_path)
    assert loaded.cfg == sae.cfg and loaded.meta == sae.meta and not loaded.training
    with torch.no_grad():
        torch.testing.assert_close(loaded.encode(x), sae.encode(x))
        torch.testing.assert_close(loaded(x).reconstruction_BD, sae(x).reconstruction_BD)
        for name, value in sae.state_dict().items():
            if name not in ("tokens_since_fired_F", "threshold_updates"):  # training state, not saved
                torch.testing.assert_close(loaded.state_dict()[name], value, msg=name)
        latents, recon = saelens_reference(tmp_path, x)  # the input scale is folded into the weights
        torch.testing.assert_close(latents, sae.encode(x), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(recon, sae.decode(sae.encode(x)), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_saelens_key_names_shapes_and_cfg_fields(tmp_path, architecture):
    save(trained_like(architecture), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfg.json", "sae_weights.safetensors"]
    with safe_open(tmp_path / "sae_weights.safetensors", framework="pt") as f:
        shapes = {k: list(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118
    expected = {"W_enc": [D, F], "b_enc": [F], "W_dec": [F, D], "b_dec": [D]}
    if SAELENS_NAME[architecture] == "jumprelu":
        expected["threshold"] = [F]
    assert shapes == expected
    cfg = json.loads((tmp_path / "cfg.json").read_text())
    assert cfg["architecture"] == SAELENS_NAME[architecture]
    assert (cfg["d_in"], cfg["d_sae"], cfg["dtype"], cfg["device"]) == (D, F, "float32", "cpu")
    assert cfg["apply_b_dec_to_input"] is True and cfg["normalize_activations"] == "none"
    assert cfg["reshape_activations"] == "none"
    assert cfg["metadata"]["hook_name"] == "resid.1" and cfg["metadata"]["model_name"] == "tiny-gpt2"
    assert cfg["metadata"]["sae_lens_version"].startswith("6.")
    assert cfg["format_version"] == 2 and cfg["provenance"]["site"] == "resid.1"
    assert cfg["incision"]["sae"]["architecture"] == architecture and cfg["incision"]["sae"]["k"] == 5
    if architecture == "topk":
        assert cfg["k"] == 5 and cfg["rescale_acts_by_decoder_norm"] is False


def write_saelens_folder(folder, cfg: dict, tensors: dict):
    folder.mkdir(parents=True, exist_ok=True)
    base = {"d_in": D, "d_sae": F, "dtype": "float32", "device": "cpu", "normalize_activations": "none"}
    (folder / "cfg.json").write_text(
        json.dumps({**base, **cfg, "metadata": {"hook_name": "blocks.1.hook_resid_post"}})
    )
    save_file(tensors, folder / "sae_weights.safetensors")


def random_weights(seed=0, threshold=False):
    g = torch.Generator().manual_seed(seed)
    w = {
        "W_enc": torch.randn(D, F, generator=g) / 4,
        "b_enc": torch.randn(F, generator=g) / 4,
        "W_dec": torch.randn(F, D, generator=g),
        "b_dec": torch.randn(D, generator=g),
    }
    if threshold:
        w["threshold"] = torch.rand(F, generator=g)
    return w


def test_folders_written_by_saelens_load_with_its_semantics(tmp_path):
    x = random_batch(20, D, seed=6)
    # jumprelu that does not subtract b_dec before encoding
    w = random_weights(1, threshold=True)
    write_saelens_folder(tmp_path / "j", {"architecture": "jumprelu", "apply_b_dec_to_input": False}, w)
    sae = load(tmp_path / "j")
    pre = x @ w["W_enc"] + w["b_enc"]
    latents = pre.relu() * (pre > w["threshold"])
    torch.testing.assert_close(sae.encode(x), latents, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(sae.decode(latents), latents @ w["W_dec"] + w["b_dec"])
    assert sae.meta == {"source": "saelens", "site": "blocks.1.hook_resid_post"}
    # topk choosing by pre-activation x decoder norm
    w = random_weights(2)
    write_saelens_folder(
        tmp_path / "t", {"architecture": "topk", "k": 3, "rescale_acts_by_decoder_norm": True}, w
    )
    sae = load(tmp_path / "t")
    norms = w["W_dec"].norm(dim=-1)
    pre = ((x - w["b_dec"]) @ w["W_enc"] + w["b_enc"]) * norms
    values, indices = pre.topk(3, dim=-1)
    latents = torch.zeros_like(pre).scatter(-1, indices, values.relu())
    with torch.no_grad():
        torch.testing.assert_close(sae(x).reconstruction_BD, (latents / norms) @ w["W_dec"] + w["b_dec"])
    # standard (ReLU)
    w = random_weights(3)
    write_saelens_folder(tmp_path / "s", {"architecture": "standard"}, w)
    sae = load(tmp_path / "s")
    assert sae.cfg.architecture == "relu"
    torch.testing.assert_close(sae.encode(x), ((x - w["b_dec"]) @ w["W_enc"] + w["b_enc"]).relu())


def sparsify_reference(w, k, x):
    """sparsify's SparseCoder: topk(relu((x - b_dec) @ encoder.weight.T + bias)), decoded from W_dec's rows."""
    pre = torch.relu((x - w["b_dec"]) @ w["encoder.weight"].T + w["encoder.bias"])
    values, indices = pre.topk(k, dim=-1)
    recon = torch.stack([values[b] @ w["W_dec"][indices[b]] for b in range(x.shape[0])]) + w["b_dec"]
    return torch.zeros_like(pre).scatter(-1, indices, values), recon


def test_sparsify_folder_loads_as_the_equivalent_sae(tmp_path):
    sae = trained_like("topk")
    run = tmp_path / "run"
    folder = run / "layers.3"
    folder.mkdir(parents=True)
    cfg = {"activation": "topk", "expansion_factor": 32, "normalize_decoder": True, "num_latents": F, "k": 5,
           "multi_topk": False, "skip_connection": False, "transcode": False, "d_in": D}  # fmt: skip
    (folder / "cfg.json").write_text(json.dumps(cfg))
    (run / "config.json").write_text(json.dumps({"model": "EleutherAI/pythia-70m"}))
    with torch.no_grad():
        w = {
            "encoder.weight": sae.W_enc_DF.T,
            "encoder.bias": sae.b_enc_F,
            "W_dec": sae.W_dec_FD,
            "b_dec": sae.b_dec_D,
        }
        save_file({k: v.contiguous() for k, v in w.items()}, folder / "sae.safetensors")
        loaded = load_sparsify(folder)
        x = random_batch(25, D, seed=7)
        torch.testing.assert_close(loaded.encode(x), sae.encode(x))
        torch.testing.assert_close(loaded(x).reconstruction_BD, sae(x).reconstruction_BD)
        latents, recon = sparsify_reference(w, 5, x)
        torch.testing.assert_close(loaded.encode(x), latents)
        torch.testing.assert_close(loaded(x).reconstruction_BD, recon, atol=1e-5, rtol=1e-5)
    assert loaded.meta == {"source": "sparsify", "hookpoint": "layers.3", "model": "EleutherAI/pythia-70m"}
    with pytest.raises(StoreError, match=r"pass one of its hookpoint folders: \['layers.3'\]"):
        load_sparsify(run)
    (folder / "cfg.json").write_text(json.dumps({**cfg, "activation": "groupmax"}))
    with pytest.raises(ConfigError, match="'groupmax'"):
        load_sparsify(folder)
    (folder / "cfg.json").write_text(json.dumps({**cfg, "transcode": True}))
    with pytest.raises(ConfigError, match="transcode=true"):
        load_sparsify(folder)


def test_broken_and_pickled_folders_raise_one_clear_error(tmp_path):
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "sae_weights.pt").write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(StoreError, match="never unpickles"):
        load(pickled)
    save(trained_like("topk"), tmp_path / "ok")
    broken = tmp_path / "ok"
    (broken / "sae_weights.safetensors").write_bytes(b"not a safetensors file at all")
    with pytest.raises(StoreError, match="not a readable safetensors file"):
        load(broken)
    (broken / "cfg.json").write_text("{truncated")
    with pytest.raises(StoreError, match="not readable JSON"):
        load(broken)
    w = random_weights()
    w["W_dec"] = w["W_dec"][:, :5].contiguous()
    write_saelens_folder(tmp_path / "shape", {"architecture": "standard"}, w)
    with pytest.raises(StoreError, match=r"W_dec of shape \[40, 5\], expected \[40, 16\]"):
        load(tmp_path / "shape")
    write_saelens_folder(tmp_path / "gated", {"architecture": "gated"}, random_weights())
    with pytest.raises(ConfigError, match="'gated'"):
        load(tmp_path / "gated")
    with pytest.raises(StoreError, match="does not exist"):
        load(tmp_path / "nowhere")


def test_round_trip_with_the_real_sae_lens(tmp_path):
    sae_lens = pytest.importorskip("sae_lens")
    x = random_batch(10, D, seed=8) * 5
    for architecture in ARCHITECTURES:
        ours = trained_like(architecture, normalise=True)
        save(ours, tmp_path / architecture)
        theirs = sae_lens.SAE.load_from_disk(str(tmp_path / architecture))
        with torch.no_grad():
            torch.testing.assert_close(theirs.encode(x), ours.encode(x), atol=1e-5, rtol=1e-5)
            torch.testing.assert_close(theirs(x), ours(x).reconstruction_BD, atol=1e-5, rtol=1e-5)


def test_folders_saved_by_the_real_sae_lens_load(tmp_path):
    sae_lens = pytest.importorskip("sae_lens")
    x = random_batch(10, D, seed=9)
    theirs = {
        "topk": sae_lens.TopKSAE(
            sae_lens.TopKSAEConfig(d_in=D, d_sae=F, k=4, rescale_acts_by_decoder_norm=True)
        ),
        "jumprelu": sae_lens.JumpReLUSAE(
            sae_lens.JumpReLUSAEConfig(d_in=D, d_sae=F, apply_b_dec_to_input=False)
        ),
        "relu": sae_lens.StandardSAE(sae_lens.StandardSAEConfig(d_in=D, d_sae=F)),
    }
    g = torch.Generator().manual_seed(10)
    for name, model in theirs.items():
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.copy_(torch.rand(parameter.shape, generator=g) * 0.5)
            model.save_model(tmp_path / name)
            ours = load(tmp_path / name)
            assert ours.cfg.architecture == name
            torch.testing.assert_close(ours.encode(x), model.encode(x), atol=1e-5, rtol=1e-5)
            torch.testing.assert_close(ours(x).reconstruction_BD, model(x), atol=1e-5, rtol=1e-5)
