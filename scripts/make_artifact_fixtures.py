"""Write one tiny artifact folder of every kind into tests/fixtures/artifacts_v0, and expected.json.

The folders are written by the incision this script runs with; expected.json records what that incision
reads back from them (shapes, dtypes and a sha256 of every tensor, plus the scalar fields). Run at the
commit before the shared artifact module (incision.artifacts), so tests/test_artifacts.py proves that
folders written by that older code still load to the same tensors:

    PYTHONPATH=src python scripts/make_artifact_fixtures.py [--out tests/fixtures/artifacts_v0]

The test imports `LOADERS` and `describe` from here, so "what was written" and "what is read" are
described by one function.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace

import torch
from safetensors.torch import save_file

from incision.pii import Detector
from incision.probes import LinearProbe
from incision.sae import SAEConfig, SAETrainConfig, SparseAutoencoder, load, load_sparsify, save
from incision.sae.checkpoint import load_checkpoint, save_checkpoint
from incision.steer.direction import Direction
from incision.steer.leace import LeaceEraser

log = logging.getLogger("make_artifact_fixtures")

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "tests" / "fixtures" / "artifacts_v0"
D, F = 8, 16  # width of every artifact, SAE latents
MODEL, SHA = "tiny-llama", "0" * 63 + "1"  # what the artifacts say they were made from
CHECKPOINT = "checkpoint/checkpoints/step_00000003"


class FakeSubject:
    """The duck type artifacts check themselves against: a name, a config hash, sites and a width."""

    name, config_sha256, d_model = MODEL, SHA, D

    def resolve(self, site: str):
        return SimpleNamespace(name=site, width=None)

    def width(self, site: str) -> int:
        return D


def _randn(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _probe() -> LinearProbe:
    """A binary, attention-pooled probe (it has every optional tensor)."""
    meta = {"model": MODEL, "model_config_sha256": SHA, "site": "resid.1", "method": "logistic"}
    return LinearProbe(_randn(D, seed=1), _randn(D, seed=2).abs() + 0.5, _randn(1, D, seed=3),
                       _randn(1, seed=4), ["benign", "harmful"], threshold=0.4, pooling="attention",
                       query_D=_randn(D, seed=5), meta=meta)  # fmt: skip


def _detector() -> Detector:
    meta = {"model": MODEL, "model_config_sha256": SHA, "site": "resid.0", "level": "token"}
    probe = LinearProbe(_randn(D, seed=6), _randn(D, seed=7).abs() + 0.5, _randn(3, D, seed=8),
                        _randn(3, seed=9), ["none", "EMAIL", "PHONE"], meta=meta)  # fmt: skip
    return Detector(None, probe, threshold=0.3, seed_threshold=0.9, meta={"operating_point": {"recall": 0.9}})


def _sae(architecture: str = "jumprelu") -> SparseAutoencoder:
    cfg = SAEConfig(d_in=D, d_sae=F, architecture=architecture, k=4, normalise_activations="expected_average")
    sae = SparseAutoencoder(cfg, seed=1, meta={"model": MODEL, "model_config_sha256": SHA, "site": "resid.1"})
    with torch.no_grad():
        sae.b_enc_F.copy_(0.3 * _randn(F, seed=10))
        sae.b_dec_D.copy_(_randn(D, seed=11))
        if architecture == "jumprelu":
            sae.log_threshold_F.add_(0.2 * _randn(F, seed=12))
        sae.input_scale.fill_(0.5)
    return sae.eval()


def _write_saelens(folder: Path) -> None:
    """A folder as SAELens writes it (no incision block): a standard (ReLU) SAE."""
    folder.mkdir(parents=True)
    cfg = {"architecture": "standard", "d_in": D, "d_sae": F, "dtype": "float32", "device": "cpu",
           "apply_b_dec_to_input": True, "normalize_activations": "none",
           "metadata": {"model_name": "gpt2", "hook_name": "blocks.1.hook_resid_post"}}  # fmt: skip
    (folder / "cfg.json").write_text(json.dumps(cfg, indent=1))
    tensors = {"W_enc": _randn(D, F, seed=13), "b_enc": _randn(F, seed=14), "W_dec": _randn(F, D, seed=15),
               "b_dec": _randn(D, seed=16)}  # fmt: skip
    save_file(tensors, folder / "sae_weights.safetensors")


def _write_sparsify(run: Path) -> None:
    """An EleutherAI sparsify run folder with one hookpoint."""
    folder = run / "layers.1"
    folder.mkdir(parents=True)
    cfg = {"activation": "topk", "num_latents": F, "k": 4, "d_in": D, "transcode": False}
    (folder / "cfg.json").write_text(json.dumps(cfg, indent=1))
    (run / "config.json").write_text(json.dumps({"model": "EleutherAI/pythia-14m"}))
    tensors = {"encoder.weight": _randn(F, D, seed=17), "encoder.bias": _randn(F, seed=18),
               "W_dec": _randn(F, D, seed=19), "b_dec": _randn(D, seed=20)}  # fmt: skip
    save_file(tensors, folder / "sae.safetensors")


def _optimizer(sae: SparseAutoencoder) -> torch.optim.Adam:
    return torch.optim.Adam([p for _, p in sae.named_parameters()], lr=1e-3)


def _write_checkpoint(out_dir: Path) -> None:
    """Three Adam steps on a topk SAE, then a checkpoint (model, optimiser moments, RNG state)."""
    torch.manual_seed(0)
    sae = _sae("topk").train()
    optimizer = _optimizer(sae)
    for step in range(3):
        loss = sae(_randn(4, D, seed=30 + step)).reconstruction_BD.pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    save_checkpoint(out_dir, sae, optimizer, step=3, tokens=12, train=asdict(SAETrainConfig()))


def write(out: Path) -> None:
    _probe().save(out / "probe")
    Direction({"resid.0": _randn(D, seed=21), "resid.1": _randn(D, seed=22)},
              {"method": "diff_means", "model": MODEL, "model_config_sha256": SHA}).save(out / "direction")  # fmt: skip
    x, z = _randn(64, D, seed=23), torch.arange(64) % 3
    LeaceEraser.fit(x, z, meta={"model": MODEL, "site": "resid.1", "label_names": ["a", "b", "c"]}).save(
        out / "eraser"
    )
    _detector().save(out / "detector")
    save(_sae(), out / "sae_incision")
    _write_saelens(out / "sae_saelens")
    _write_sparsify(out / "sae_sparsify")
    _write_checkpoint(out / "checkpoint")


def _load_checkpoint(folder: Path) -> tuple[SparseAutoencoder, torch.optim.Adam, object]:
    sae = _sae("topk").train()
    optimizer = _optimizer(sae)
    rng = torch.get_rng_state()
    try:
        state = load_checkpoint(folder, sae, optimizer)
    finally:
        torch.set_rng_state(rng)  # loading restores the checkpoint's RNG: keep the caller's
    return sae, optimizer, state


LOADERS = {  # kind -> (folder under the fixture root, how today's public API loads it)
    "probe": ("probe", lambda f: LinearProbe.load(f, subject=FakeSubject())),
    "direction": ("direction", lambda f: Direction.load(f, subject=FakeSubject())),
    "eraser": ("eraser", LeaceEraser.load),
    "detector": ("detector", lambda f: Detector.load(f, subject=FakeSubject())),
    "sae_incision": ("sae_incision", load),
    "sae_saelens": ("sae_saelens", load),
    "sae_sparsify": ("sae_sparsify/layers.1", load_sparsify),
    "checkpoint": (CHECKPOINT, _load_checkpoint),
}


def digest(t: torch.Tensor) -> dict:
    t = t.detach().cpu().contiguous()
    data = t.reshape(-1).view(torch.uint8).numpy().tobytes()
    return {"shape": list(t.shape), "dtype": str(t.dtype), "sha256": hashlib.sha256(data).hexdigest()}


def _tensors(named: dict) -> dict:
    return {k: digest(v) for k, v in sorted(named.items()) if isinstance(v, torch.Tensor)}


def describe(kind: str, loaded) -> dict:
    """What a loaded artifact holds, as JSON values: every tensor's digest and the scalar fields."""
    if kind in ("probe", "detector"):
        probe = loaded.probe if kind == "detector" else loaded
        fields = {"label_names": probe.label_names, "threshold": probe.threshold, "pooling": probe.pooling,
                  "meta": probe.meta, "tensors": _tensors(vars(probe))}  # fmt: skip
        if kind == "detector":
            fields["detector"] = [loaded.threshold, loaded.seed_threshold, loaded.meta]
    elif kind == "direction":
        fields = {"sites": loaded.sites, "meta": loaded.meta, "tensors": _tensors(loaded.vectors)}
    elif kind == "eraser":
        fields = {"meta": loaded.meta, "tensors": _tensors(vars(loaded))}
    elif kind == "checkpoint":
        sae, optimizer, state = loaded
        moments = {f"{i}.{k}": v for i, s in optimizer.state_dict()["state"].items() for k, v in s.items()}
        fields = {"step": state.step, "tokens": state.tokens, "meta": sae.meta,
                  "tensors": _tensors({**sae.state_dict(), **moments})}  # fmt: skip
    else:
        fields = {"cfg": loaded.cfg.to_dict(), "meta": loaded.meta, "tensors": _tensors(loaded.state_dict())}
    return json.loads(json.dumps(fields))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    out = parser.parse_args().out
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if out.exists():
        shutil.rmtree(out)
    write(out)
    expected = {kind: describe(kind, load_(out / rel)) for kind, (rel, load_) in LOADERS.items()}
    (out / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    log.info("wrote %d artifacts (%d bytes) to %s", len(LOADERS), size, out)


if __name__ == "__main__":
    main()
