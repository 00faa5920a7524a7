"""capture(): run a model over documents and write the activations of chosen sites to a store.

Documents are grouped into shards of whole documents; inside a shard, windows are sorted by
length and batched by a budget of padded tokens. Padding is never stored; the forward pass stops
after the deepest block needed; the next shard is computed while the last one is written.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from tqdm.auto import tqdm

from ..configs import check_choices
from ..errors import CaptureError, ConfigError
from .forward import Batch, batches, pad_id_of, run, without_cache
from .inputs import Document, read_documents
from .store import ActivationStore, StoreWriter
from .store.layout import STORE_DTYPES
from .store.shard_tables import shard_tables
from .subject import Subject
from .tokens import Encoding, Window, plan_windows

# Where a hook copies (and casts) each window's rows straight into the store buffer in one pass. Elsewhere
# (GPUs) it gathers the kept rows on the device first, so that one transfer per batch reaches the CPU.
DIRECT_COPY_DEVICES = ("cpu",)
SHARD_BYTES = 64 << 20


@dataclass
class CaptureConfig:
    """How a capture runs. Every field is also an option of `incision capture`."""

    # bfloat16 by default: Gemma's residual stream exceeds float16's range (65504) on its BOS token.
    dtype: Literal["bfloat16", "float16", "float32"] = field(
        default="bfloat16", metadata={"help": "precision of stored activations"}
    )
    batch_tokens: int = field(default=4096, metadata={"help": "padded tokens per forward pass"})
    shard_tokens: int | None = field(
        default=None,
        metadata={
            "help": "stored tokens per shard, whole documents (default: about 64 MiB of activations over all sites)"
        },
    )
    window: int | None = field(
        default=None,
        metadata={
            "help": "longest token sequence per forward pass; longer texts are split (default: min(context, 2048))"
        },
    )
    overlap: int | None = field(
        default=None,
        metadata={"help": "tokens of left context repeated between windows (default: half a window)"},
    )
    text_field: str = field(default="text", metadata={"help": "field of each record that holds its text"})
    keep_text: bool = field(
        default=True, metadata={"help": "store each document's text in the document table"}
    )
    overwrite: bool = field(
        default=False, metadata={"help": "replace an existing store instead of resuming it"}
    )
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})

    def __post_init__(self) -> None:
        check_choices(self)
        for name in ("batch_tokens", "shard_tokens", "window"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 2):
                raise ConfigError(f"{name} must be an integer of at least 2, got {value!r}")
        if self.overlap is not None and (not isinstance(self.overlap, int) or self.overlap < 0):
            raise ConfigError(f"overlap must be a non-negative integer, got {self.overlap!r}")


def capture(
    subject: Subject, texts, sites: str | list[str], out: str | Path, dtype: str = "bfloat16", **options
) -> ActivationStore:
    """Capture `sites` of `subject` over `texts` (a list or a file) into the store folder `out`.

    Running it again with the same arguments resumes an interrupted capture; options are the
    fields of CaptureConfig.
    """
    config = CaptureConfig(dtype=dtype, **options)
    docs = read_documents(texts, config.text_field)
    store = describe_store(subject, sites, config)
    writer = open_writer(out, store, config, docs)
    if writer.docs_done < len(docs) or not writer.manifest["complete"]:
        _CaptureRun(subject, store.sites, config).run(docs, writer)
        writer.finish(len(docs))
    return ActivationStore.open(out)


@dataclass
class StoreDescription:
    """What a store's manifest says about its capture, before any document is read."""

    sites: list[str]
    settings: dict  # must match for a capture to resume
    model: dict  # facts about the model


def describe_store(subject: Subject, sites: str | list[str], config: CaptureConfig) -> StoreDescription:
    """Expand the sites and fill in the config's model-dependent defaults (window, shard size), checked."""
    site_names = subject.expand_sites(sites)
    config.window = config.window or subject.default_window
    _check_window(subject, config)
    config.shard_tokens = config.shard_tokens or _default_shard_tokens(subject, len(site_names), config.dtype)
    settings = {
        "sites": site_names,
        "model": _model_fingerprint(subject),
        **{k: v for k, v in asdict(config).items() if k not in ("overwrite", "progress", "batch_tokens")},
    }
    return StoreDescription(site_names, settings, _model_facts(subject))


def open_writer(
    out: str | Path, store: StoreDescription, config: CaptureConfig, docs: list[Document]
) -> StoreWriter:
    """A writer for a new store, or one resuming a store captured with the same settings and inputs."""
    writer = StoreWriter(out, store.settings, store.model, overwrite=config.overwrite)
    writer.check_inputs(lambda start, end: inputs_digest(docs[start:end]) if end <= len(docs) else None)
    return writer


@dataclass
class ActivationChunk:
    """Activations of consecutive documents, computed in memory: rows in (doc, position) order."""

    start: int  # index of the first document
    encodings: list[Encoding]
    acts: dict[str, torch.Tensor]  # site -> [tokens of these documents, width]


def iter_activations(
    subject: Subject, texts, sites: str | list[str], dtype: str = "float32", **options
) -> Iterator[ActivationChunk]:
    """Capture into memory instead of a store, a chunk of whole documents at a time (`shard_tokens`
    tokens each). Hooks stay installed until the iterator is exhausted or closed."""
    config = CaptureConfig(dtype=dtype, progress=options.pop("progress", False), **options)
    docs = read_documents(texts, config.text_field)
    site_names = subject.expand_sites(sites)
    config.window = config.window or subject.default_window
    _check_window(subject, config)
    config.shard_tokens = config.shard_tokens or _default_shard_tokens(subject, len(site_names), config.dtype)
    run = _CaptureRun(subject, site_names, config)
    with run.progress() as bar:
        for plan in run._plan_shards(docs, 0):
            yield ActivationChunk(plan.start, plan.encodings, run.forward_shard(plan, {}, bar))


def _default_shard_tokens(subject: Subject, n_sites: int, dtype: str) -> int:
    """Shards of about SHARD_BYTES: small enough that writing one overlaps the next one's forward pass
    and two fit in memory, large enough that files stay few."""
    bytes_per_token = n_sites * subject.d_model * STORE_DTYPES[dtype].itemsize
    return int(min(max(SHARD_BYTES // bytes_per_token, 1024), 65536))


def _check_window(subject: Subject, config: CaptureConfig) -> None:
    """Checked before the store is touched: a bad window would otherwise fail mid-capture."""
    n_special = len(subject.encode("a")) - 1  # the specials the tokenizer adds around any text
    if not n_special + 2 <= config.window <= subject.context_length:
        raise ConfigError(
            f"window {config.window} must lie between {n_special + 2} and the model's context "
            f"of {subject.context_length} tokens"
        )
    if config.overlap is not None and config.overlap >= config.window - n_special:
        raise ConfigError(
            f"overlap {config.overlap} leaves no room in a window of {config.window} tokens; "
            f"use an overlap below {config.window - n_special}"
        )


def _model_fingerprint(subject: Subject) -> dict:
    """What must match for a capture to resume: the model's name, config, dtype and a sample of its weights."""
    weight = subject.model.get_input_embeddings().weight
    sample = weight.detach().reshape(-1)[:4096].float().cpu().numpy().tobytes()
    return {
        "name": subject.name,
        "config_sha256": subject.config_sha256,
        "dtype": str(weight.dtype).removeprefix("torch."),
        "weights_sample_sha256": hashlib.sha256(sample).hexdigest(),
    }


def _model_facts(subject: Subject) -> dict:
    return {
        "name": subject.name,
        "model_type": subject.model.config.model_type,
        "n_layers": subject.n_layers,
        "d_model": subject.d_model,
        "tokenizer": type(subject.tokenizer).__name__,
    }


def inputs_digest(docs: list[Document]) -> str:
    """Identifies a shard's documents, to refuse resuming a store over other inputs."""
    digest = hashlib.sha256()
    for doc in docs:
        digest.update(
            json.dumps([doc.text, doc.fields], sort_keys=True, ensure_ascii=False, default=str).encode()
        )
    return digest.hexdigest()


@dataclass
class ShardPlan:
    """The documents of one shard (numbered from `start`), their encodings and the windows to run."""

    start: int
    encodings: list[Encoding]
    windows: list[Window]

    @property
    def end(self) -> int:
        return self.start + len(self.encodings)

    def add(self, encoding: Encoding, config: CaptureConfig) -> None:
        self.windows += plan_windows(self.end, encoding, config.window, config.overlap)
        self.encodings.append(encoding)


def plan_shards(encode, docs: list[Document], start: int, config: CaptureConfig) -> Iterator[ShardPlan]:
    """Documents `start`.. in shards of whole documents, each closed once it holds `shard_tokens` tokens."""
    plan, n_tokens = ShardPlan(start, [], []), 0
    for doc in docs[start:]:
        plan.add(encode(doc.text), config)
        n_tokens += len(plan.encodings[-1])
        if n_tokens >= config.shard_tokens:
            yield plan
            plan, n_tokens = ShardPlan(plan.end, [], []), 0
    if plan.encodings:
        yield plan


def plan_shard(encode, docs: list[Document], start: int, config: CaptureConfig) -> ShardPlan:
    """One shard made of exactly `docs`, numbered from `start` (a shard another process planned)."""
    plan = ShardPlan(start, [], [])
    for doc in docs:
        plan.add(encode(doc.text), config)
    return plan


class _CaptureRun:
    def __init__(self, subject: Subject, sites: list[str], config: CaptureConfig):
        self.subject, self.sites, self.config = subject, sites, config
        self.out_dtype = STORE_DTYPES[config.dtype]
        self.reads = {site: functools.partial(self._read, site) for site in sites}
        self.pad_id = pad_id_of(subject.tokenizer)
        self.forward_options = without_cache(subject)

    @contextlib.contextmanager
    def progress(self) -> Iterator[tqdm]:
        with tqdm(unit="tok", unit_scale=True, disable=not self.config.progress, desc="capture") as bar:
            yield bar

    def run(self, docs: list[Document], writer: StoreWriter) -> None:
        # exits in reverse: the pending write finishes, then the bar closes
        with (
            self.progress() as bar,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="incision-writer") as pool,
        ):
            pending: Future | None = None
            # two sets of row buffers: one being filled while the writer thread writes the other
            buffer_sets: list[dict[str, torch.Tensor]] = [{}, {}]
            for k, plan in enumerate(self._plan_shards(docs, writer.docs_done)):
                acts = self.forward_shard(plan, buffer_sets[k % 2], bar)
                shard_docs = docs[plan.start : plan.end]
                tokens, documents = shard_tables(
                    shard_docs, plan.start, plan.encodings, self.config.keep_text
                )
                if pending is not None:
                    pending.result()
                digest = inputs_digest(shard_docs)
                pending = pool.submit(
                    writer.write_shard, (plan.start, plan.end), acts, tokens, documents, digest
                )
                bar.set_postfix(docs=f"{plan.end}/{len(docs)}")
            if pending is not None:
                pending.result()

    def _plan_shards(self, docs: list[Document], start: int) -> Iterator[ShardPlan]:
        return plan_shards(self.subject.encode, docs, start, self.config)

    def forward_shard(
        self, plan: ShardPlan, buffers: dict[str, torch.Tensor], bar
    ) -> dict[str, torch.Tensor]:
        """Fill `buffers` (grown as needed) with the shard's rows in (doc, position) order; return row views."""
        lengths = [len(e) for e in plan.encodings]
        self.n_rows, self.buffers = sum(lengths), buffers
        self.first_row = dict(
            zip(range(plan.start, plan.end), np.cumsum([0, *lengths[:-1]]).tolist(), strict=True)
        )
        for batch in batches(plan.windows, self.pad_id, self.config.batch_tokens):
            self._forward_batch(batch)
            bar.update(sum(w.n_kept for w in batch.windows))
        return {site: buffers[site][: self.n_rows] for site in self.sites}

    def _forward_batch(self, batch: Batch) -> None:
        length = batch.ids_BT.shape[1]
        # (batch row, first kept column, end column, store row) of each window's kept tokens
        self.targets = [
            (b, w.keep_from, w.keep_to, self.first_row[w.doc] + w.first_position)
            for b, w in enumerate(batch.windows)
        ]
        self.keep_index = torch.cat(
            [torch.arange(b * length + start, b * length + end) for b, start, end, _ in self.targets]
        ).to(self.subject.input_device)
        run(self.subject, batch.ids_BT, batch.mask_BT, self.reads, until="sites", **self.forward_options)

    def _read(self, site: str, output: torch.Tensor) -> None:
        buffer = self.buffers.get(site)
        if buffer is None or buffer.shape[0] < self.n_rows or buffer.shape[1] != output.shape[-1]:
            buffer = self.buffers[site] = torch.empty(self.n_rows, output.shape[-1], dtype=self.out_dtype)
        if self.out_dtype == torch.float16:
            _check_fits_float16(site, output, self.keep_index)
        if output.device.type in DIRECT_COPY_DEVICES:
            for b, start, end, row in self.targets:
                buffer[row : row + end - start].copy_(output[b, start:end])
            return
        index = (
            self.keep_index if self.keep_index.device == output.device else self.keep_index.to(output.device)
        )
        kept = output.reshape(-1, output.shape[-1]).index_select(0, index).to(self.out_dtype).cpu()
        offset = 0
        for _, start, end, row in self.targets:
            buffer[row : row + end - start].copy_(kept[offset : offset + end - start])
            offset += end - start


def _check_fits_float16(site: str, output: torch.Tensor, keep_index: torch.Tensor) -> None:
    peaks = output.abs().amax(dim=-1).reshape(-1)
    peak = (
        peaks.index_select(0, keep_index.to(peaks.device)).max().item()
    )  # padding is not stored: not checked
    if peak > torch.finfo(torch.float16).max and math.isfinite(peak):
        raise CaptureError(
            f"site {site} has activations up to {peak:.3g}, beyond float16's range; "
            "capture with dtype='bfloat16' or 'float32'"
        )
