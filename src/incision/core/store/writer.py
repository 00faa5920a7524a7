"""Writes shards of an activation store atomically, and finds where an interrupted capture stopped."""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import torch

from ...errors import StoreError
from . import layout

log = logging.getLogger(__name__)

_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class StoreWriter:
    """Owns one store folder during a capture. Resumes a store captured with the same settings."""

    def __init__(self, root: str | Path, settings: dict, model: dict, overwrite: bool = False):
        self.root = Path(root)
        self.settings = settings
        if (self.root / layout.MANIFEST).exists() and not overwrite and self._has_shards():
            self.manifest = self._resume_manifest()
            return
        self._prepare_empty_folder(overwrite=True if (self.root / layout.MANIFEST).exists() else overwrite)
        self.manifest = {
            "format_version": layout.FORMAT_VERSION,
            "settings": settings,
            "model": model,
            "widths": {},
            "shards": [],
            "n_docs": None,
            "complete": False,
        }
        # Written before any shard, so that a failure during the first shard leaves a store to resume.
        self._write_manifest()

    @property
    def shards(self) -> list[dict]:
        return self.manifest["shards"]

    @property
    def docs_done(self) -> int:
        return self.shards[-1]["docs"][1] if self.shards else 0

    def _has_shards(self) -> bool:
        """A store with no finished shard holds nothing worth keeping: it is started afresh."""
        if not _looks_like_store(self.root):
            raise StoreError(
                f"folder {str(self.root)!r} has a {layout.MANIFEST} that is not an activation store's; "
                "give an empty or new folder"
            )
        try:
            return bool(layout.read_manifest(self.root)["shards"])
        except StoreError:
            return True  # let resuming report what is wrong with it

    def _prepare_empty_folder(self, overwrite: bool) -> None:
        if self.root.is_file():
            raise StoreError(f"store path {str(self.root)!r} is a file; give a folder")
        if self.root.is_dir() and any(self.root.iterdir()):
            if not _looks_like_store(self.root):
                raise StoreError(
                    f"folder {str(self.root)!r} is not empty and is not an activation store; give an empty or new folder"
                )
            if overwrite:  # only the store's own entries, manifest last: anything else a user put there stays
                for name in reversed(layout.STORE_ENTRIES):
                    path = self.root / name
                    shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        self.root.mkdir(parents=True, exist_ok=True)

    def _resume_manifest(self) -> dict:
        manifest = layout.read_manifest(self.root)
        if manifest["settings"] != self.settings:
            changed = sorted(k for k in self.settings if manifest["settings"].get(k) != self.settings[k])
            raise StoreError(
                f"store {str(self.root)!r} was captured with different settings ({', '.join(changed)}); "
                "pass overwrite=True or choose another folder"
            )
        for k, shard in enumerate(manifest["shards"]):
            bad = next(
                (rel for rel, meta in shard["files"].items() if not _file_ok(self.root / rel, meta)), None
            )
            if bad is not None:
                log.warning("shard %s of %s fails its checksum; capturing again from there", bad, self.root)
                manifest["shards"] = manifest["shards"][:k]
                manifest["complete"] = False
                break
        return manifest

    def check_inputs(self, digest_of) -> None:
        """Refuse to resume over shards whose documents differ from this run's inputs."""
        for shard in self.shards:
            start, end = shard["docs"]
            if shard["inputs_sha256"] != digest_of(start, end):
                raise StoreError(
                    f"store {str(self.root)!r} holds documents {start}..{end - 1} from different inputs; "
                    "pass overwrite=True or choose another folder"
                )

    def write_shard(
        self,
        docs: tuple[int, int],
        acts: dict[str, torch.Tensor],
        tokens: pa.Table,
        documents: pa.Table,
        inputs_sha256: str,
    ) -> None:
        """Write one shard's files, then record it in the manifest (the commit point)."""
        index = len(self.shards)
        files = write_shard_files(self.root, index, acts, tokens, documents)
        self.commit_shard(
            shard_entry(index, docs, tokens.num_rows, inputs_sha256, files),
            {site: int(t.shape[1]) for site, t in acts.items()},
        )

    def commit_shard(self, entry: dict, widths: dict[str, int]) -> None:
        """Record a shard whose files are in place (written here or by a worker) as the manifest's next one."""
        if entry["index"] != len(self.shards):
            raise StoreError(f"shard {entry['index']} cannot be committed before shard {len(self.shards)}")
        self.manifest["complete"], self.manifest["n_docs"] = False, None  # more documents than when finished
        self.manifest["widths"].update(widths)
        self.shards.append(entry)
        self._write_manifest()

    def finish(self, n_docs: int) -> None:
        self.manifest["n_docs"] = n_docs
        self.manifest["complete"] = True
        self._write_manifest()

    def _write_manifest(self) -> None:
        _write(self.root, layout.MANIFEST, json.dumps(self.manifest, indent=1).encode())


def write_shard_files(
    root: Path, index: int, acts: dict[str, torch.Tensor], tokens: pa.Table, documents: pa.Table
) -> dict[str, dict]:
    """Write shard `index`'s files (not yet in the manifest); returns each file's sha256 and size."""
    files = {layout.site_path(site, index): layout.safetensors_chunks(t) for site, t in acts.items()}
    files[layout.tokens_path(index)] = [_parquet_bytes(tokens)]
    files[layout.docs_path(index)] = [_parquet_bytes(documents)]
    metas = {}
    for rel, chunks in files.items():
        _write(Path(root), rel, chunks)
        digest = hashlib.sha256()
        for chunk in chunks:
            digest.update(chunk)
        metas[rel] = {"sha256": digest.hexdigest(), "bytes": sum(memoryview(c).nbytes for c in chunks)}
    return metas


def shard_entry(index: int, docs: tuple[int, int], n_tokens: int, inputs_sha256: str, files: dict) -> dict:
    """A shard's manifest entry."""
    return {
        "index": index,
        "docs": list(docs),
        "n_tokens": n_tokens,
        "inputs_sha256": inputs_sha256,
        "files": files,
    }


def _write(root: Path, rel: str, data) -> None:
    try:
        layout.write_atomic(root / rel, data)
    except OSError as e:
        if e.errno in _DISK_FULL:
            raise StoreError(
                f"disk full while writing {rel} in {str(root)!r}; free space and run the same capture "
                "again to resume (finished shards are kept)"
            ) from e
        raise


def _looks_like_store(root: Path) -> bool:
    try:
        manifest = json.loads((root / layout.MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and "format_version" in manifest and "shards" in manifest


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def _file_ok(path: Path, meta: dict) -> bool:
    return (
        path.is_file() and path.stat().st_size == meta["bytes"] and layout.sha256_file(path) == meta["sha256"]
    )
