"""The on-disk layout of an activation store, shared by its writer and reader.

    manifest.json                      settings, model facts, one entry per finished shard
    shards/<site>/<index>.safetensors  activations, one tensor "acts" of [tokens, width]
    tokens/<index>.parquet             one row per stored token (doc, position, token_id, char span,
                                       scalar per-document fields)
    docs/<index>.parquet               one row per document (doc, n_tokens, text, all fields)

A shard holds whole documents, rows sorted by (doc, position). The manifest is rewritten
atomically after a shard's files are in place, so whatever it lists is complete.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import numpy as np
import torch

from ...artifacts import write_atomic  # noqa: F401  (the store's writer calls layout.write_atomic)
from ...errors import StoreError

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
STORE_ENTRIES = (MANIFEST, "shards", "tokens", "docs")  # everything a store puts in its folder
TENSOR_NAME = "acts"
STORE_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}
_SAFETENSORS_DTYPES = {
    "F16": (np.uint16, torch.float16),
    "BF16": (np.uint16, torch.bfloat16),
    "F32": (np.float32, None),
}
_SAFETENSORS_NAMES = {torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32"}


def shard_name(index: int) -> str:
    return f"{index:06d}"


def site_path(site: str, index: int) -> str:
    return f"shards/{site}/{shard_name(index)}.safetensors"


def tokens_path(index: int) -> str:
    return f"tokens/{shard_name(index)}.parquet"


def docs_path(index: int) -> str:
    return f"docs/{shard_name(index)}.parquet"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def safetensors_chunks(tensor: torch.Tensor) -> list:
    """A one-tensor safetensors file as [header, data], the data a view of the tensor's memory (no copy)."""
    tensor = tensor.detach().contiguous().cpu()
    data = tensor.view(torch.uint8).numpy().reshape(-1) if tensor.numel() else np.empty(0, np.uint8)
    header = {
        TENSOR_NAME: {
            "dtype": _SAFETENSORS_NAMES[tensor.dtype],
            "shape": list(tensor.shape),
            "data_offsets": [0, data.nbytes],
        }
    }
    header_json = json.dumps(header, separators=(",", ":")).encode()
    header_json += b" " * (-len(header_json) % 8)  # the format aligns data to 8 bytes
    return [struct.pack("<Q", len(header_json)) + header_json, memoryview(data)]


def read_manifest(root: Path) -> dict:
    path = root / MANIFEST
    if not path.is_file():
        raise StoreError(f"{str(root)!r} is not an activation store: it has no {MANIFEST}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise StoreError(f"{path} is corrupted ({e}); re-run the capture with overwrite=True") from None
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if version != FORMAT_VERSION:
        raise StoreError(
            f"{path} has format_version {version!r}; this incision reads version {FORMAT_VERSION}"
        )
    return manifest


def mmap_safetensors(path: Path) -> torch.Tensor:
    """Memory-map the single tensor of a safetensors file (copy-on-write: never changes the file)."""
    try:
        with open(path, "rb") as f:
            (header_len,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(header_len))
        entry = header[TENSOR_NAME]
        np_dtype, view = _SAFETENSORS_DTYPES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        shape = tuple(entry["shape"])
        if end - begin != int(np.prod(shape)) * np.dtype(np_dtype).itemsize:
            raise ValueError("data size does not match shape")
    except (OSError, ValueError, KeyError, struct.error) as e:
        raise StoreError(f"shard {path} is unreadable ({e}); re-run the capture to rebuild it") from None
    if 0 in shape:
        return torch.empty(shape, dtype=view or torch.float32)
    array = np.memmap(path, dtype=np_dtype, mode="c", offset=8 + header_len + begin, shape=shape)
    tensor = torch.from_numpy(array)
    return tensor.view(view) if view is not None else tensor
