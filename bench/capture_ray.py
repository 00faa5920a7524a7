"""Capture on a local Ray cluster against single-process capture of the same texts, in one process.

    python bench/capture_ray.py [--texts 256] [--tokens 256] [--repeats 3] [--workers 2] [--json PATH]

Both write the same store (the embedded Gemma, `--sites`, `--shard-tokens` so the work splits into shards
the pool can share). Single-process capture uses every core in one process (torch threads = cores); the
Ray capture runs `--workers` actors of `cores / workers` threads each, one model per actor. Each repeat
runs the pair, alternating which goes first; reported are:

    single        capture() with the model already loaded (what a notebook user waits for)
    single+load   the same plus loading the model, as a fresh `incision capture` process pays
    ray           capture_on_ray() end to end on a started cluster: one task loads the model to describe
                  the store, the pool's actors each load it, shards run, the driver commits the manifest
    ray start     ray.init() of the local cluster, once

and ray / single+load as the ratio that matters for a fresh job. Whether the two stores are equal file for
file is reported too (thread counts differ, so float sums may round differently).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from capture import MODEL, build_texts  # bench/capture.py: the same texts as the capture overhead bench

import incision
from incision.distributed.ray_capture import capture_on_ray
from incision.distributed.ray_config import RayConfig


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--texts", type=int, default=256)
    p.add_argument("--tokens", type=int, default=256, help="tokens per text")
    p.add_argument("--sites", default="resid.9")
    p.add_argument("--shard-tokens", type=int, default=4096)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--json", type=Path, default=None)
    return p.parse_args(argv)


def main(argv=None) -> None:
    import ray

    args = parse_args(argv)
    cores = os.cpu_count() or 1
    torch.set_num_threads(cores)
    tmp = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    texts, counts = build_texts(incision.load(MODEL), args.texts, args.tokens)
    options = {"shard_tokens": args.shard_tokens, "progress": False}
    start = time.perf_counter()
    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False)
    ray_start = time.perf_counter() - start
    ray_config = RayConfig(workers=args.workers, worker_cpus=cores / args.workers)

    def single() -> tuple[float, float]:
        shutil.rmtree(tmp / "single", ignore_errors=True)
        t0 = time.perf_counter()
        subject = incision.load(MODEL)
        t1 = time.perf_counter()
        incision.capture(subject, texts, args.sites, tmp / "single", **options)
        return time.perf_counter() - t1, time.perf_counter() - t0

    def on_ray() -> float:
        shutil.rmtree(tmp / "ray", ignore_errors=True)
        t0 = time.perf_counter()
        capture_on_ray(MODEL, texts, args.sites, tmp / "ray", ray_config, **options)
        return time.perf_counter() - t0

    rows = []
    for repeat in range(args.repeats):
        if repeat % 2 == 0:
            (s, sl), r = single(), on_ray()
        else:
            r, (s, sl) = on_ray(), single()
        rows.append({"single": s, "single+load": sl, "ray": r})
        print(f"repeat {repeat}: single {s:.1f}s, single+load {sl:.1f}s, ray {r:.1f}s", file=sys.stderr)
    same = json.loads((tmp / "single/manifest.json").read_text()) == json.loads(
        (tmp / "ray/manifest.json").read_text()
    )
    ray.shutdown()
    shutil.rmtree(tmp)
    n_tokens = sum(counts)
    result = {
        "command": shlex.join(["python", *sys.argv]),
        "cores": cores,
        "workers": args.workers,
        "tokens": n_tokens,
        "shards": -(-n_tokens // args.shard_tokens),
        "ray_start_s": ray_start,
        "median_s": {k: statistics.median(r[k] for r in rows) for k in rows[0]},
        "ratio_ray_over_single+load": statistics.median(r["ray"] / r["single+load"] for r in rows),
        "ratio_ray_over_single": statistics.median(r["ray"] / r["single"] for r in rows),
        "stores_equal_file_for_file": same,
        "repeats": rows,
    }
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
