"""Capture on a Ray cluster: Ray Data runs a pool of actors, each loading the model once, and each shard of
documents goes to one of them. Workers write their shard's files straight into the store folder (a path
every node sees: a shared filesystem on a multi-node cluster); only the driver writes the manifest, and it
commits shards in order, so the store is the single-process store, file for file, and an interrupted run
resumes (on Ray or not) from its last committed shard.

The driver plans shards with the tokenizer alone, exactly as `capture` does, so shard boundaries match;
one Ray task loads the model once to fill in the model-dependent settings (sites, window, fingerprint).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict
from pathlib import Path

import torch
from tqdm.auto import tqdm

from .. import errors
from ..core.capture import (
    CaptureConfig,
    StoreDescription,
    _CaptureRun,
    describe_store,
    inputs_digest,
    open_writer,
    plan_shard,
    plan_shards,
)
from ..core.inputs import Document, read_documents
from ..core.models.loading import load, load_tokenizer
from ..core.models.placement import Placement
from ..core.store import ActivationStore
from ..core.store.shard_tables import shard_tables
from ..core.store.writer import shard_entry, write_shard_files
from ..core.tokens import encode
from ..errors import ConfigError
from .ray_config import RayConfig

log = logging.getLogger(__name__)


def capture_on_ray(
    model: str,
    texts,
    sites: str | list[str],
    out: str | Path,
    ray_config: RayConfig | None = None,
    placement: Placement | None = None,
    dtype: str = "bfloat16",
    **options,
) -> ActivationStore:
    """`incision.core.capture` on a Ray cluster: the same store, computed by `ray_config.workers` actors.

    `model` is what `incision.load` takes (each worker loads it, placed by `placement`); connects to
    `ray_config.address`, or starts a local cluster when Ray is not yet initialised."""
    import ray

    ray_config, placement = ray_config or RayConfig(), placement or Placement()
    config = CaptureConfig(dtype=dtype, **options)
    docs = read_documents(texts, config.text_field)
    _payloads_are_json(docs)
    if not ray.is_initialized():
        ray.init(address=ray_config.address, log_to_driver=False)
    store = _describe_on_a_worker(model, sites, config, ray_config, placement)
    writer = open_writer(out, store, config, docs)
    if writer.docs_done == len(docs) and writer.manifest["complete"]:
        return ActivationStore.open(out)
    tokenizer = load_tokenizer(model)
    plans = [(p.start, p.end) for p in plans_of(tokenizer, docs, writer.docs_done, config)]
    tasks = [
        {"index": len(writer.shards) + k, "start": start, "docs": _to_json(docs[start:end])}
        for k, (start, end) in enumerate(plans)
    ]
    results = _shard_results(tasks, model, store, config, ray_config, placement, Path(out).resolve())
    waiting: dict[int, dict] = {}
    with tqdm(total=len(tasks), unit="shard", disable=not config.progress, desc="capture (ray)") as bar:
        for result in results:
            entry = json.loads(result)
            waiting[entry["shard"]["index"]] = entry
            while len(writer.shards) in waiting:  # the manifest lists shards in order, each complete
                ready = waiting.pop(len(writer.shards))
                writer.commit_shard(ready["shard"], ready["widths"])
                bar.update()
    writer.finish(len(docs))
    return ActivationStore.open(out)


def plans_of(tokenizer, docs: list[Document], start: int, config: CaptureConfig):
    """The shards `capture` would make, planned with the tokenizer alone."""
    return plan_shards(lambda text: encode(tokenizer, text), docs, start, config)


def _describe_on_a_worker(
    model: str, sites, config: CaptureConfig, ray_config: RayConfig, placement: Placement
) -> StoreDescription:
    import ray

    remote = ray.remote(_describe).options(num_cpus=ray_config.worker_cpus, num_gpus=ray_config.worker_gpus)
    outcome = ray.get(remote.remote(model, sites, asdict(config), placement.load_kwargs()))
    if "error" in outcome:  # re-raised as the same incision error, without Ray's wrapping
        raise getattr(errors, outcome["error"][0], errors.IncisionError)(outcome["error"][1])
    for name, value in outcome["config"].items():
        setattr(config, name, value)
    return StoreDescription(**outcome["store"])


def _describe(model: str, sites, config: dict, load_kwargs: dict) -> dict:
    try:
        completed = CaptureConfig(**config)
        store = describe_store(load(model, **load_kwargs), sites, completed)
    except errors.IncisionError as e:
        return {"error": (type(e).__name__, str(e))}
    return {
        "store": asdict(store),
        "config": {"window": completed.window, "shard_tokens": completed.shard_tokens},
    }


def _shard_results(tasks, model, store, config, ray_config: RayConfig, placement: Placement, root: Path):
    """Each finished shard's manifest entry (as JSON), in the order they finish."""
    import ray.data

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the driver's own bar counts committed shards
    worker_kwargs = {
        "model": model,
        "sites": store.sites,
        "config": asdict(config),
        "load_kwargs": placement.load_kwargs(),
        "root": str(root),
        "threads": max(1, math.floor(ray_config.worker_cpus)),
    }
    dataset = ray.data.from_items(tasks, override_num_blocks=len(tasks)).map_batches(
        ShardWorker,
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=ray_config.workers),
        fn_constructor_kwargs=worker_kwargs,
        num_cpus=ray_config.worker_cpus,
        num_gpus=ray_config.worker_gpus,
    )
    for row in dataset.iter_rows():
        yield row["result"]


class ShardWorker:
    """A Ray Data actor: loads the model once, then captures whole shards and writes their files."""

    def __init__(
        self, model: str, sites: list[str], config: dict, load_kwargs: dict, root: str, threads: int
    ):
        torch.set_num_threads(threads)
        self.config = CaptureConfig(**{**config, "progress": False})
        self.run = _CaptureRun(load(model, **load_kwargs), sites, self.config)
        self.root = Path(root)

    def __call__(self, batch: dict) -> dict:
        results = [
            self.capture(int(index), int(start), json.loads(payload))
            for index, start, payload in zip(batch["index"], batch["start"], batch["docs"], strict=True)
        ]
        return {"result": results}

    def capture(self, index: int, start: int, payload: list) -> str:
        docs = [Document(text, fields) for text, fields in payload]
        plan = plan_shard(self.run.subject.encode, docs, start, self.config)
        with self.run.progress() as bar:
            acts = self.run.forward_shard(plan, {}, bar)
        tokens, documents = shard_tables(docs, start, plan.encodings, self.config.keep_text)
        files = write_shard_files(self.root, index, acts, tokens, documents)
        entry = shard_entry(index, (plan.start, plan.end), tokens.num_rows, inputs_digest(docs), files)
        return json.dumps({"shard": entry, "widths": {site: int(t.shape[1]) for site, t in acts.items()}})


def _to_json(docs: list[Document]) -> str:
    return json.dumps([[d.text, d.fields] for d in docs], ensure_ascii=False)


def _payloads_are_json(docs: list[Document]) -> None:
    """Documents travel to workers as JSON: a field JSON cannot carry unchanged is refused up front."""
    for k, doc in enumerate(docs):
        try:
            same = json.loads(json.dumps(doc.fields)) == doc.fields
        except (TypeError, ValueError):
            same = False
        if not same:
            raise ConfigError(
                f"record {k} has a field that JSON cannot carry unchanged (Ray capture sends documents as JSON); "
                "convert it to a string, number, list or object"
            )
