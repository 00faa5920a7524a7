"""ActivationStore: reads a store folder memory-mapped, checking each file against its checksum."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from ...errors import ConfigError, SiteError, StoreError
from ..sites import canonical_site
from . import layout


class ActivationStore:
    """Activations of some sites for some documents, with the token table that says whose they are.

    Row r of every site's activations belongs to row r of `tokens`. Files are checked against the
    manifest's sizes on open and against their sha256 the first time they are read.
    """

    def __init__(self, root: Path, manifest: dict):
        self.root = root
        self.manifest = manifest
        self._verified: set[str] = set()
        self._maps: dict[tuple[str, int], torch.Tensor] = {}
        for shard in self.shards:
            for rel, meta in shard["files"].items():
                path = root / rel
                size = path.stat().st_size if path.is_file() else None
                if size != meta["bytes"]:
                    found = "missing" if size is None else f"{size} bytes, expected {meta['bytes']}"
                    raise StoreError(
                        f"store file {rel} in {str(root)!r} is truncated or missing ({found}); "
                        "re-run the capture to rebuild it"
                    )

    @classmethod
    def open(cls, root: str | Path) -> ActivationStore:
        root = Path(root)
        return cls(root, layout.read_manifest(root))

    # -- facts -------------------------------------------------------------------------------
    @property
    def shards(self) -> list[dict]:
        return self.manifest["shards"]

    @property
    def sites(self) -> list[str]:
        return list(self.manifest["settings"]["sites"])

    @property
    def dtype(self) -> torch.dtype:
        return layout.STORE_DTYPES[self.manifest["settings"]["dtype"]]

    @property
    def model(self) -> dict:
        return self.manifest["model"]

    @property
    def complete(self) -> bool:
        return bool(self.manifest["complete"])

    @property
    def n_tokens(self) -> int:
        return sum(s["n_tokens"] for s in self.shards)

    @property
    def n_docs(self) -> int:
        return self.shards[-1]["docs"][1] if self.shards else 0

    def width(self, site: str) -> int:
        site = self.resolve(site)
        return int(self.manifest["widths"].get(site, self.model.get("d_model", 0)))

    def __len__(self) -> int:
        return self.n_tokens

    def __repr__(self) -> str:
        state = "complete" if self.complete else "incomplete"
        return (
            f"ActivationStore({str(self.root)!r}, {self.n_docs} docs, {self.n_tokens} tokens, "
            f"sites={self.sites}, {self.manifest['settings']['dtype']}, {state})"
        )

    # -- reading -----------------------------------------------------------------------------
    def shard(self, site: str, index: int) -> torch.Tensor:
        """One shard of one site, memory-mapped: [tokens, width]."""
        site = self.resolve(site)
        return layout.mmap_safetensors(self._checked(layout.site_path(site, index)))

    def to_tensor(self, site: str, dtype: torch.dtype | None = None) -> torch.Tensor:
        """All of one site's activations in memory: [n_tokens, width]."""
        site = self.resolve(site)
        parts = [self.shard(site, s["index"]) for s in self.shards]
        if not parts:
            return torch.empty(0, self.width(site), dtype=dtype or self.dtype)
        return torch.cat(parts).to(dtype or self.dtype)

    def iter_batches(
        self,
        site: str,
        batch_tokens: int,
        shuffle: bool = False,
        seed: int = 0,
        dtype: torch.dtype | None = None,
        rows=None,
    ) -> Iterator[torch.Tensor]:
        """Yield [<=batch_tokens, width] batches of `rows` (default: every row) in their order, or in a
        seeded shuffle of them."""
        if not isinstance(batch_tokens, int) or batch_tokens < 1:
            raise ConfigError(f"batch_tokens must be a positive integer, got {batch_tokens!r}")
        site = self.resolve(site)
        order = np.arange(self.n_tokens) if rows is None else np.asarray(rows, dtype=np.int64)
        if shuffle:
            order = order[np.random.default_rng(seed).permutation(len(order))]
        for start in range(0, len(order), batch_tokens):
            yield self.gather(site, order[start : start + batch_tokens], dtype)

    def gather(self, site: str, rows_N, dtype: torch.dtype | None = None) -> torch.Tensor:
        """The activations of the given global rows (in that order): [len(rows), width]."""
        site = self.resolve(site)
        rows = np.asarray(rows_N, dtype=np.int64)
        if len(rows) and not 0 <= rows.min() <= rows.max() < self.n_tokens:
            raise ConfigError(f"rows must lie in [0, {self.n_tokens}), got {rows.min()}..{rows.max()}")
        bounds = self._row_bounds
        which = np.searchsorted(bounds, rows, side="right") - 1
        batch = torch.empty(len(rows), self.width(site), dtype=self.dtype)
        for k in np.unique(which):  # only the shards these rows live in are opened
            mask = which == k
            shard = self._mapped(site, self.shards[k]["index"])
            batch[torch.from_numpy(np.flatnonzero(mask))] = shard[torch.from_numpy(rows[mask] - bounds[k])]
        return batch.to(dtype) if dtype is not None else batch

    @cached_property
    def _row_bounds(self) -> np.ndarray:
        """First global row of each shard, and the total at the end (from the manifest)."""
        return np.cumsum([0] + [s["n_tokens"] for s in self.shards])

    def _mapped(self, site: str, index: int) -> torch.Tensor:
        """A shard's memory map, opened (and checksummed) once per store object."""
        key = (site, index)
        if key not in self._maps:
            self._maps[key] = self.shard(site, index)
        return self._maps[key]

    @cached_property
    def tokens(self) -> pa.Table:
        """One row per stored token: doc, position, token_id, char_start, char_end, scalar doc fields."""
        return self._concat_tables(layout.tokens_path)

    @cached_property
    def documents(self) -> pa.Table:
        """One row per document: doc, n_tokens, text (unless keep_text=False) and all its fields."""
        return self._concat_tables(layout.docs_path)

    def verify(self) -> None:
        """Check every file against its sha256 now (reads the whole store)."""
        for shard in self.shards:
            for rel in shard["files"]:
                self._checked(rel)

    def resolve(self, site: str) -> str:
        """The stored name of a site, negative layers counted from the end of the captured model
        ('resid.-1' -> 'resid.2' for a 3-block model); a SiteError listing the stored sites otherwise."""
        n_layers = self.model.get("n_layers")
        try:
            name = canonical_site(site, n_layers) if isinstance(site, str) and n_layers else site
        except SiteError as e:
            raise SiteError(f"{e}; store {str(self.root)!r} has {self.sites}") from None
        if name not in self.sites:
            raise SiteError(f"site {site!r} is not in store {str(self.root)!r}; it has {self.sites}")
        return name

    # -- helpers -----------------------------------------------------------------------------

    def _checked(self, rel: str) -> Path:
        path = self.root / rel
        if rel not in self._verified:
            meta = next((s["files"][rel] for s in self.shards if rel in s["files"]), None)
            if meta is None:
                raise StoreError(f"store {str(self.root)!r} lists no file {rel}")
            if layout.sha256_file(path) != meta["sha256"]:
                raise StoreError(
                    f"store file {rel} in {str(self.root)!r} fails its checksum (changed or corrupted); "
                    "re-run the capture to rebuild it"
                )
            self._verified.add(rel)
        return path

    def _concat_tables(self, path_of) -> pa.Table:
        tables = [pq.read_table(self._checked(path_of(s["index"]))) for s in self.shards]
        if not tables:
            return pa.table({})
        return pa.concat_tables(tables, promote_options="permissive")
