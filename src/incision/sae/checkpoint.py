"""Training checkpoints without pickle: tensors (model, optimiser state, RNG) in one safetensors file, scalars in JSON.

out_dir/checkpoints/step_00001000/
    state.safetensors   model.<state-dict name>, optim.<parameter name>.<state key>, rng.cpu, rng.cuda.<i>
    trainer.json        format_version, step, tokens, the SAE and training configs, the optimiser's param
                        groups (by parameter name) and its non-tensor state

A checkpoint is written atomically (incision.artifacts: a hidden temporary folder, fsynced, then renamed),
so a folder named step_* is complete.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch

from ..artifacts import atomic_folder, check_format, read_json, read_tensors, write_json, write_tensors
from ..errors import ConfigError
from .model import SparseAutoencoder

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
KIND = "sae_checkpoint"
NOUN = "SAE checkpoint"
STATE = "state.safetensors"
INFO = "trainer.json"


@dataclass
class Checkpoint:
    folder: Path
    step: int
    tokens: int
    train: dict  # the SAETrainConfig it was written under


def checkpoint_dir(out_dir: Path, step: int) -> Path:
    return Path(out_dir) / "checkpoints" / f"step_{step:08d}"


def latest_checkpoint(out_dir: Path) -> Path | None:
    """The newest complete checkpoint folder under out_dir, or None."""
    root = Path(out_dir) / "checkpoints"
    found = sorted(p for p in root.glob("step_*") if p.is_dir() and not p.name.endswith(".tmp"))
    return found[-1] if found else None


def save_checkpoint(
    out_dir: Path,
    sae: SparseAutoencoder,
    optimizer: torch.optim.Optimizer,
    step: int,
    tokens: int,
    train: dict,
) -> Path:
    names = _parameter_names(sae, optimizer)
    tensors = {f"model.{k}": v.detach() for k, v in sae.state_dict().items()}
    optim = optimizer.state_dict()
    scalars: dict[str, dict] = {}
    for index, state in optim["state"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{names[index]}.{key}"] = value
            else:
                scalars.setdefault(names[index], {})[key] = value
    tensors["rng.cpu"] = torch.get_rng_state()
    if torch.cuda.is_available():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = state
    groups = [
        {**{k: v for k, v in group.items() if k != "params"}, "params": [names[i] for i in group["params"]]}
        for group in optim["param_groups"]
    ]
    info = {
        "format_version": FORMAT_VERSION,
        "kind": KIND,
        "step": step,
        "tokens": tokens,
        "sae": sae.cfg.to_dict(),
        "meta": sae.meta,
        "train": train,
        "optimizer": {"param_groups": groups, "state_scalars": scalars},
    }
    final = checkpoint_dir(out_dir, step)
    with atomic_folder(final) as tmp:
        write_tensors(tmp / STATE, tensors)
        write_json(tmp / INFO, info)
    log.info("checkpoint at step %d (%d tokens): %s", step, tokens, final)
    return final


def load_checkpoint(folder: Path, sae: SparseAutoencoder, optimizer: torch.optim.Optimizer) -> Checkpoint:
    """Restore model, optimiser and RNG state in place; the SAE's config must be the checkpoint's."""
    folder = Path(folder)
    info = read_json(folder, NOUN, INFO)
    check_format(info, folder, NOUN, FORMAT_VERSION, kind=KIND)
    tensors = read_tensors(folder, NOUN, STATE)
    if info["sae"] != sae.cfg.to_dict():
        raise ConfigError(
            f"checkpoint {str(folder)!r} holds an SAE with config {info['sae']}, not {sae.cfg.to_dict()}"
        )
    model = {k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")}
    sae.load_state_dict(model)
    sae.meta = dict(info.get("meta") or {})
    optimizer.load_state_dict(_optimizer_state(sae, optimizer, info["optimizer"], tensors))
    torch.set_rng_state(tensors["rng.cpu"])
    cuda = [tensors[f"rng.cuda.{i}"] for i in range(torch.cuda.device_count()) if f"rng.cuda.{i}" in tensors]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    return Checkpoint(folder, int(info["step"]), int(info["tokens"]), info["train"])


def prune_checkpoints(out_dir: Path, keep: int) -> None:
    """Delete all but the newest `keep` checkpoints."""
    root = Path(out_dir) / "checkpoints"
    found = sorted(p for p in root.glob("step_*") if p.is_dir() and not p.name.endswith(".tmp"))
    for old in found[:-keep]:
        shutil.rmtree(old)


def _parameter_names(sae: SparseAutoencoder, optimizer: torch.optim.Optimizer) -> list[str]:
    """Names of the optimiser's parameters in its own index order."""
    by_id = {id(p): name for name, p in sae.named_parameters()}
    params = [p for group in optimizer.param_groups for p in group["params"]]
    if any(id(p) not in by_id for p in params):
        raise ConfigError(
            "the optimiser holds parameters that are not the SAE's; build it with make_optimizer"
        )
    return [by_id[id(p)] for p in params]


def _optimizer_state(sae, optimizer, saved: dict, tensors: dict) -> dict:
    names = _parameter_names(sae, optimizer)
    index = {name: i for i, name in enumerate(names)}
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            name, field = key.removeprefix("optim.").rsplit(".", 1)
            state.setdefault(index[name], {})[field] = value
    for name, values in saved["state_scalars"].items():
        state.setdefault(index[name], {}).update(values)
    groups = []
    for group in saved["param_groups"]:
        group = dict(group, params=[index[n] for n in group["params"]])
        if "betas" in group:
            group["betas"] = tuple(group["betas"])
        groups.append(group)
    return {"state": state, "param_groups": groups}
