"""Artifacts: the one folder format of probes, directions, erasers, detectors, SAEs and SAE checkpoints.

An artifact is a folder: a JSON file (`cfg.json`, or the kind's own name) holding `format_version`, the
kind and a `provenance` block, next to safetensors files. This module owns what every kind shares:

- writes are atomic: a folder is written into a temporary sibling, fsynced and renamed over the target
  (`atomic_folder`); single files go through `write_atomic` (the activation store's manifest and shards);
- reads refuse pickles (`PICKLE_SUFFIXES`), name the folder and file in one-sentence errors, and refuse a
  `format_version` this incision does not know (`check_format`);
- `Provenance` says what an artifact was made from (model, config hash, site, width), and
  `check_provenance` is the one "same model?" check, against an expectation or a live subject.

It knows nothing of models: a subject is anything with `.name`, `.config_sha256`, `.d_model` and
`.resolve(site)` (whose result may carry a `.width`, as a MoE router site does).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .errors import ConfigError, StoreError

CFG = "cfg.json"
PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".pkl", ".pickle", ".ckpt")


@dataclass(frozen=True)
class Provenance:
    """What an artifact was made from; a field left None is not known and not checked."""

    model: str | None = None  # the model's name (a hub id or a folder) when the artifact was made
    config_sha256: str | None = None  # hash of the model's config: the same model under any name
    site: str | None = None  # the hook site the artifact reads or edits (None: several, or not a site)
    width: int | None = None  # width of the activations it reads

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | Provenance, where: str = "provenance") -> Provenance:
        """From `to_dict`'s output (every key optional); a wrong key or type is a ConfigError naming it."""
        if isinstance(data, Provenance):
            return data
        names = [f.name for f in fields(cls)]
        if not isinstance(data, dict) or set(data) - set(names):
            found = sorted(data) if isinstance(data, dict) else type(data).__name__
            raise ConfigError(f"{where} must be a dict with keys among {names}, got {found}")
        for name, value in data.items():
            kind, noun = (int, "an integer") if name == "width" else (str, "a string")
            if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
                raise ConfigError(f"{where} has {name}={value!r}; it must be {noun} or null")
        return cls(**data)

    @classmethod
    def from_meta(cls, meta: dict, width: int | None = None, site: str | None = None) -> Provenance:
        """From an artifact's `meta` (keys "model", "model_config_sha256", "site"), as every kind keeps it."""
        return cls(meta.get("model"), meta.get("model_config_sha256"), site or meta.get("site"), width)


def check_provenance(
    found: Provenance, what: str, expect: Provenance | dict | None = None, subject: object | None = None
) -> None:
    """Raise a ConfigError naming both values where `found` (the provenance of `what`, e.g. "probe
    '/tmp/p'") differs from `expect` (a Provenance or a dict of its fields; unknown fields on either side
    are not checked) or does not fit `subject`: the same model (by config hash when `found` has one, since
    the same model loaded from another folder has another name; else by name), a site the subject has
    (an unknown one raises the subject's SiteError, listing its sites) and the width of that site."""
    if expect is not None:
        wanted = Provenance.from_dict(expect, "expect")
        for name, value in wanted.to_dict().items():
            have = getattr(found, name)
            if value is not None and have is not None and have != value:
                raise ConfigError(f"{what} was trained for {name}={have!r}, not {value!r}")
    if subject is not None:
        _check_model(found, what, subject)
        width = subject.d_model
        if found.site is not None:
            width = getattr(subject.resolve(found.site), "width", None) or width  # a router's: its experts
        if found.width is not None and found.width != width:
            raise ConfigError(f"{what} takes width {found.width}, but {subject.name!r} has width {width}")


def _check_model(found: Provenance, what: str, subject) -> None:
    if found.config_sha256 is not None:
        if found.config_sha256 == subject.config_sha256:
            return
        if found.model is None or found.model == subject.name:
            raise ConfigError(
                f"{what} was trained on a model with config sha256 {found.config_sha256[:12]}, but "
                f"{subject.name!r} has {subject.config_sha256[:12]}; load the model it was trained on"
            )
    elif found.model in (None, subject.name):
        return
    raise ConfigError(f"{what} was trained on model {found.model!r}, not {subject.name!r}")


def read_provenance(cfg: dict, what: str, default: Provenance) -> Provenance:
    """The `provenance` block of a read cfg; `default` (derived from older folders' fields) without one."""
    if "provenance" not in cfg:
        return default
    try:
        return Provenance.from_dict(cfg["provenance"], f"the provenance of {what}")
    except ConfigError as e:
        raise StoreError(str(e)) from None


# -- writing ------------------------------------------------------------------------------------------
def write_atomic(path: Path, data) -> None:
    """Write bytes (or a list of buffers) via a temporary file, fsync and rename: a crash leaves the old file
    or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            for chunk in [data] if isinstance(data, bytes) else data:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_folder(folder: str | Path) -> Iterator[Path]:
    """Yield an empty temporary sibling of `folder` to write an artifact into; when the block ends without
    an error, its files are fsynced and it is renamed over `folder`, else it is deleted and `folder` is
    left as it was. Entries of an existing `folder` that the new artifact does not write (a training
    run's metrics.jsonl and checkpoints/ next to its SAE) are moved into the new folder."""
    target = Path(folder).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not target.is_dir():
        raise StoreError(f"{str(folder)!r} is a file; an artifact is saved as a folder, pick another path")
    tmp = _sibling(target, "tmp")
    tmp.mkdir()
    try:
        yield tmp
        _fsync_tree(tmp)
        _swap_in(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _swap_in(new: Path, target: Path) -> None:
    """Rename `new` to `target`; an existing `target` is first moved aside, then what only it held is moved
    into the new folder and the rest deleted."""
    if not target.exists():
        os.rename(new, target)
    else:
        old = _sibling(target, "old")
        os.rename(target, old)
        os.rename(new, target)
        for entry in old.iterdir():
            if not (target / entry.name).exists():
                os.replace(entry, target / entry.name)
        shutil.rmtree(old)
    _fsync(target.parent)


def _sibling(target: Path, role: str) -> Path:
    """A hidden, unused name next to `target` (hidden: `step_*` globs and listings skip it)."""
    return target.with_name(f".{target.name}.{role}-{os.getpid()}-{secrets.token_hex(4)}")


def _fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*"), reverse=True):  # children before the folders that list them
        _fsync(path)
    _fsync(root)


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # a folder cannot be opened on some platforms; its entries are synced all the same
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")


def write_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    """Detached, contiguous CPU copies into one safetensors file."""
    save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, path)


def save_folder(folder: str | Path, cfg: dict, tensors: dict[str, torch.Tensor], tensors_name: str) -> Path:
    """The common artifact: `cfg` as cfg.json and `tensors` as `tensors_name`, written atomically."""
    with atomic_folder(folder) as tmp:
        write_tensors(tmp / tensors_name, tensors)
        write_json(tmp / CFG, cfg)
    return Path(folder)


# -- reading ------------------------------------------------------------------------------------------
def refuse_pickles(folder: Path, noun: str) -> None:
    """A StoreError naming the pickled files in `folder`, if it holds any: incision never unpickles."""
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if pickles:
        raise StoreError(
            f"{str(folder)!r} is not a readable {noun} folder: it holds pickled files {pickles}, which "
            "incision never unpickles; convert them to safetensors"
        )


def check_folder(folder: Path, noun: str) -> None:
    """`folder` must be a folder without pickles (`noun`, e.g. "probe", goes into the error)."""
    if not folder.is_dir():
        raise StoreError(
            f"{str(folder)!r} is not a readable {noun} folder: it does not exist or is not a folder"
        )
    refuse_pickles(folder, noun)


def read_json(folder: Path, noun: str, name: str = CFG, check: bool = True) -> dict:
    """The JSON object `name` of an artifact folder, after `check_folder` (`check=False`: a JSON file in a
    folder that is not the artifact, such as a sparsify run's config.json next to its pickled state)."""
    if check:
        check_folder(folder, noun)
    path = folder / name
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StoreError(f"{str(folder)!r} is not a readable {noun} folder: {name} is missing") from None
    except (OSError, ValueError) as e:
        raise StoreError(f"{str(path)!r} is not readable JSON ({type(e).__name__})") from None
    if not isinstance(cfg, dict):
        raise StoreError(f"{str(path)!r} holds a {type(cfg).__name__}, not a JSON object")
    return cfg


def read_tensors(folder: Path, noun: str, name: str) -> dict[str, torch.Tensor]:
    """The tensors of the safetensors file `name` in an artifact folder."""
    check_folder(folder, noun)
    path = folder / name
    if not path.is_file():
        raise StoreError(f"{str(folder)!r} is not a readable {noun} folder: {name} is missing")
    try:
        return load_file(path)
    except (OSError, SafetensorError, ValueError, RuntimeError) as e:
        raise StoreError(f"{str(path)!r} is not a readable safetensors file ({type(e).__name__})") from None


def check_format(
    cfg: dict, folder: Path, noun: str, newest: int, kind: str | None = None, oldest: int = 1
) -> int:
    """The cfg's format_version, which this incision must read (`oldest`..`newest`), and its kind."""
    if kind is not None and cfg.get("kind") != kind:
        raise StoreError(
            f"{str(folder)!r} is not a {noun} folder: its kind is {cfg.get('kind')!r}, not {kind!r}"
        )
    version = cfg.get("format_version")
    known = isinstance(version, int) and not isinstance(version, bool)
    if known and version > newest:
        raise StoreError(
            f"{noun} {str(folder)!r} has format_version {version}, newer than this incision reads "
            f"({newest}); upgrade incision to load it"
        )
    if not known or version < oldest:
        raise StoreError(
            f"{noun} {str(folder)!r} has format_version {version!r}; this incision reads {oldest} to {newest}"
        )
    return version
