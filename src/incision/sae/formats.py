"""SAE folders: ours are SAELens folders (cfg.json + sae_weights.safetensors), and sparsify folders load too.

Our folder, readable by SAELens' `SAE.load_from_disk` (format 6):
    cfg.json                 SAELens fields (architecture, d_in, d_sae, dtype, device, apply_b_dec_to_input,
                             normalize_activations, reshape_activations, metadata{hook_name, model_name...},
                             k for topk) + format_version + provenance (model, config hash, site, width)
                             + "incision": {our SAEConfig, meta, input_scale}
    sae_weights.safetensors  W_enc [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in],
                             threshold [d_sae] (jumprelu and batchtopk)

SAELens names our variants topk -> "topk", relu -> "standard", jumprelu -> "jumprelu" and batchtopk ->
"jumprelu" (its inference form: one threshold for every latent). An input scale is folded into the weights
(pre-activations unchanged), so SAELens needs no normalisation; our loader unfolds it. Folders written by
SAELens itself load too (standard, topk, jumprelu; folded where SAELens' options allow it exactly).

A sparsify folder (EleutherAI): cfg.json (d_in, k, num_latents or expansion_factor...) + sae.safetensors
with encoder.weight [d_sae, d_in], encoder.bias [d_sae], W_dec [d_sae, d_in], b_dec [d_in]; a run folder
holds one such folder per hookpoint. Its encoder is topk(relu((x - b_dec) @ encoder.weight.T + bias)).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from ..artifacts import (
    CFG,
    Provenance,
    check_format,
    check_provenance,
    read_json,
    read_provenance,
    read_tensors,
    save_folder,
)
from ..errors import ConfigError, StoreError
from .config import SAEConfig
from .model import SparseAutoencoder

FORMAT_VERSION = 2  # 2: a provenance block in cfg.json (1, without it, still loads)
NOUN = "SAE"
WEIGHTS = "sae_weights.safetensors"
SPARSIFY_WEIGHTS = "sae.safetensors"
SAELENS_SCHEMA = "6.0.0"  # the SAELens config layout these folders follow (metadata block, format 6)
_FROM_SAELENS = {"topk": "topk", "standard": "relu", "jumprelu": "jumprelu"}


def save(sae: SparseAutoencoder, folder: str | Path) -> Path:
    """Write `sae` as a SAELens-compatible folder (see the module docstring), atomically."""
    scale = float(sae.input_scale)
    with torch.no_grad():
        tensors = {
            "W_enc": sae.W_enc_DF * scale,
            "b_enc": sae.b_enc_F,
            "W_dec": sae.W_dec_FD / scale,
            "b_dec": sae.b_dec_D / scale,
        }
        threshold = sae.threshold_F()
        if threshold is not None:
            tensors["threshold"] = threshold
    cfg = {
        "architecture": sae.variant.saelens_architecture,
        "d_in": sae.cfg.d_in,
        "d_sae": sae.cfg.d_sae,
        "dtype": str(sae.dtype).removeprefix("torch."),
        "device": "cpu",
        "apply_b_dec_to_input": True,
        "normalize_activations": "none",
        "reshape_activations": "none",
        "metadata": {
            "sae_lens_version": SAELENS_SCHEMA,
            "sae_lens_training_version": None,
            "model_name": sae.meta.get("model"),
            "hook_name": sae.meta.get("site"),
        },
        "format_version": FORMAT_VERSION,
        "provenance": _provenance(sae.meta, sae.cfg.d_in).to_dict(),
        "incision": {"sae": sae.cfg.to_dict(), "meta": sae.meta, "input_scale": scale},
    }
    if sae.variant.saelens_architecture == "topk":
        cfg.update(k=sae.cfg.k, rescale_acts_by_decoder_norm=False)
    return save_folder(folder, cfg, tensors, WEIGHTS)


def _provenance(meta: dict, width: int) -> Provenance:
    """An SAE's provenance from its meta; the hook name of a foreign folder (SAELens'
    blocks.1.hook_resid_post) is not an incision site, so it is left out."""
    foreign = meta.get("source") in ("saelens", "sparsify")
    return Provenance.from_meta({**meta, "site": None} if foreign else meta, width)


def load(
    folder: str | Path,
    dtype: torch.dtype = torch.float32,
    expect: Provenance | dict | None = None,
    subject=None,
) -> SparseAutoencoder:
    """Load a folder written by `save` or by SAELens; `expect` (a Provenance or a dict of its fields) and
    a `subject` must match what it was trained on (see `artifacts.check_provenance`)."""
    folder = Path(folder)
    cfg = read_json(folder, NOUN)
    ours = cfg.get("incision")
    if ours is not None:
        sae_cfg, meta, scale = _read_ours(folder, cfg, ours)
    else:
        sae_cfg, meta, scale = _config_from_saelens(folder, cfg), _meta_from_saelens(cfg), 1.0
    what = f"SAE {str(folder)!r}"
    check_provenance(read_provenance(cfg, what, _provenance(meta, sae_cfg.d_in)), what, expect, subject)
    tensors = read_tensors(folder, NOUN, WEIGHTS)
    _check_saelens_tensors(folder, tensors, sae_cfg, cfg.get("architecture"))
    W_enc, b_enc, W_dec, b_dec = (tensors[k].double() for k in ("W_enc", "b_enc", "W_dec", "b_dec"))
    if cfg.get("apply_b_dec_to_input", True) is False:  # pre = x W + b = (x - b_dec) W + (b + b_dec W)
        b_enc = b_enc + b_dec @ W_enc
    if cfg.get("rescale_acts_by_decoder_norm"):  # topk on pre * |W_dec|, decoded by latents / |W_dec|
        norms = W_dec.norm(dim=-1)
        W_enc, b_enc, W_dec = W_enc * norms, b_enc * norms, W_dec / norms[:, None]
    sae = SparseAutoencoder(sae_cfg, seed=0, dtype=dtype, meta=meta)
    with torch.no_grad():
        sae.W_enc_DF.copy_(W_enc / scale)
        sae.b_enc_F.copy_(b_enc)
        sae.W_dec_FD.copy_(W_dec * scale)
        sae.b_dec_D.copy_(b_dec * scale)
        sae.input_scale.fill_(scale)
        _set_threshold(sae, tensors.get("threshold"), folder)
    return sae.eval()


def load_sparsify(folder: str | Path, dtype: torch.dtype = torch.float32) -> SparseAutoencoder:
    """Load one hookpoint folder of an EleutherAI sparsify run (cfg.json + sae.safetensors) as a topk SAE."""
    folder = Path(folder)
    if not (folder / CFG).exists() and folder.is_dir():
        hookpoints = sorted(p.name for p in folder.iterdir() if (p / SPARSIFY_WEIGHTS).exists())
        if hookpoints:
            raise StoreError(
                f"{str(folder)!r} is a sparsify run; pass one of its hookpoint folders: {hookpoints}"
            )
    cfg = read_json(folder, "sparsify SAE")
    for flag in ("transcode", "skip_connection", "embed_skip", "gram_lookup", "signed", "multi_topk_only"):
        if cfg.get(flag):
            raise ConfigError(
                f"sparsify folder {str(folder)!r} sets {flag}=true, which incision does not support"
            )
    if cfg.get("activation", "topk") != "topk":
        raise ConfigError(
            f"sparsify folder {str(folder)!r} uses activation {cfg['activation']!r}; only topk loads"
        )
    try:
        d_in = int(cfg["d_in"])
        d_sae = int(cfg.get("num_latents") or d_in * int(cfg["expansion_factor"]))
        sae_cfg = SAEConfig(d_in=d_in, d_sae=d_sae, architecture="topk", k=int(cfg["k"]))
    except (KeyError, TypeError, ValueError) as e:
        raise StoreError(
            f"sparsify cfg.json in {str(folder)!r} lacks or mangles {e}; it needs d_in and k"
        ) from None
    tensors = read_tensors(folder, "sparsify SAE", SPARSIFY_WEIGHTS)
    shapes = {
        "encoder.weight": [d_sae, d_in],
        "encoder.bias": [d_sae],
        "W_dec": [d_sae, d_in],
        "b_dec": [d_in],
    }
    _check_shapes(folder, SPARSIFY_WEIGHTS, tensors, shapes, allowed=set(shapes))
    meta = {"source": "sparsify", "hookpoint": folder.name}
    run_cfg = folder.parent / "config.json"
    if run_cfg.exists():
        meta["model"] = read_json(folder.parent, "sparsify run", "config.json", check=False).get("model")
    sae = SparseAutoencoder(sae_cfg, seed=0, dtype=dtype, meta=meta)
    with torch.no_grad():
        sae.W_enc_DF.copy_(tensors["encoder.weight"].T)
        sae.b_enc_F.copy_(tensors["encoder.bias"])
        sae.W_dec_FD.copy_(tensors["W_dec"])
        sae.b_dec_D.copy_(tensors["b_dec"])
    return sae.eval()


def _read_ours(folder: Path, cfg: dict, ours) -> tuple[SAEConfig, dict, float]:
    """Our config block: SAEConfig, meta and the input scale folded into the saved weights."""
    check_format(cfg, folder, NOUN, FORMAT_VERSION)
    scale = ours.get("input_scale", 1.0) if isinstance(ours, dict) else None
    if (
        not isinstance(ours, dict)
        or not isinstance(ours.get("sae"), dict)
        or not isinstance(scale, int | float)
    ):
        raise StoreError(
            f"SAE folder {str(folder)!r} has a mangled 'incision' block in cfg.json; save it again"
        )
    if not (math.isfinite(scale) and scale > 0):
        raise StoreError(
            f"SAE folder {str(folder)!r} has input_scale {scale!r}; it must be a positive number"
        )
    return SAEConfig.from_dict(ours["sae"]), dict(ours.get("meta") or {}), float(scale)


def _config_from_saelens(folder: Path, cfg: dict) -> SAEConfig:
    architecture = cfg.get("architecture", "standard")
    if architecture not in _FROM_SAELENS:
        raise ConfigError(
            f"SAE folder {str(folder)!r} has SAELens architecture {architecture!r}; incision loads {sorted(_FROM_SAELENS)}"
        )
    if cfg.get("normalize_activations", "none") not in ("none", "expected_average_only_in", None, False):
        raise ConfigError(
            f"SAE folder {str(folder)!r} normalises activations at run time ({cfg['normalize_activations']!r}), "
            "which incision does not support"
        )
    if cfg.get("reshape_activations", "none") != "none" or cfg.get("finetuning_scaling_factor"):
        raise ConfigError(
            f"SAE folder {str(folder)!r} reshapes or rescales activations, which incision does not support"
        )
    try:
        d_in, d_sae = int(cfg["d_in"]), int(cfg["d_sae"])
        k = int(cfg.get("k") or cfg.get("activation_fn_kwargs", {}).get("k") or min(32, d_sae))
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise StoreError(
            f"cfg.json in {str(folder)!r} lacks or mangles {e}; it needs d_in and d_sae"
        ) from None
    return SAEConfig(d_in=d_in, d_sae=d_sae, architecture=_FROM_SAELENS[architecture], k=k)


def _meta_from_saelens(cfg: dict) -> dict:
    metadata = cfg.get("metadata") if isinstance(cfg.get("metadata"), dict) else cfg
    meta = {"source": "saelens", "model": metadata.get("model_name"), "site": metadata.get("hook_name")}
    return {k: v for k, v in meta.items() if v is not None}


def _check_saelens_tensors(folder: Path, tensors: dict, sae_cfg: SAEConfig, architecture) -> None:
    d_in, d_sae = sae_cfg.d_in, sae_cfg.d_sae
    shapes = {"W_enc": [d_in, d_sae], "b_enc": [d_sae], "W_dec": [d_sae, d_in], "b_dec": [d_in]}
    if architecture == "jumprelu":
        shapes["threshold"] = [d_sae]
    _check_shapes(folder, WEIGHTS, tensors, shapes, allowed=set(shapes) | {"scaling_factor"})
    factor = tensors.get("scaling_factor")
    if factor is not None and not torch.all(factor == 1):
        raise ConfigError(
            f"SAE folder {str(folder)!r} has a finetuned scaling_factor, which incision does not support"
        )


def _set_threshold(sae: SparseAutoencoder, threshold_F: torch.Tensor | None, folder: Path) -> None:
    if sae.cfg.architecture == "jumprelu":  # log of a threshold <= 0 acts as 0, as SAELens' relu * mask does
        sae.log_threshold_F.copy_(threshold_F.double().clamp_min(0).log())
    elif sae.cfg.architecture == "batchtopk":
        values = threshold_F.double()
        if not torch.all(values == values[0]):
            raise StoreError(
                f"batchtopk SAE {str(folder)!r} has per-latent thresholds; it needs one global value"
            )
        sae.threshold.fill_(float(values[0]))
        sae.threshold_updates.fill_(math.ceil(1 / sae.cfg.batchtopk_threshold_rate))


def _check_shapes(folder: Path, name: str, tensors: dict, shapes: dict, allowed: set) -> None:
    missing = sorted(set(shapes) - set(tensors))
    unknown = sorted(set(tensors) - allowed)
    if missing or unknown:
        raise StoreError(f"{str(folder / name)!r} lacks tensors {missing} or has unknown ones {unknown}")
    for key, shape in shapes.items():
        if list(tensors[key].shape) != shape:
            raise StoreError(
                f"{str(folder / name)!r} has {key} of shape {list(tensors[key].shape)}, expected {shape}"
            )
        if not torch.isfinite(tensors[key]).all():
            raise StoreError(f"{str(folder / name)!r} has NaN or inf in {key}")
