"""Capture overhead against a plain forward pass, measured in one process on the embedded Gemma.

    python bench/capture.py [--texts 64] [--tokens 256] [--repeats 5] [--batch-tokens 4096] [--json PATH]

Four measurements over the same deterministic texts:

    (a) plain forward through all blocks of `model.base_model` (no LM head), use_cache=False
    (b) plain forward that stops after block 9 (`add_stop_hook` + `run_until_stop`)
    (c) `incision.core.capture` of "resid.9" to a fresh folder   -> overhead against (b)
    (d) `incision.core.capture` of "resid.*" to a fresh folder   -> overhead against (a)

The baselines tokenise with `subject.encode` and batch exactly as capture does (capture's own
window planning and `forward.batches`: sorted by length, a budget of padded tokens), so the overhead is
what capture adds: hooks, gather/cast, reordering, tables, serialisation, checksums and disk.
Runs are interleaved after a warm-up: each repeat runs a (baseline, capture) pair per comparison,
baseline first in even repeats and capture first in odd ones, and the overhead is the median over
pairs of capture_time / baseline_time - 1, because these machines are noisy and only same-process
ratios mean anything. Every run also records this process's CPU time and how many cores other
processes kept busy meanwhile (from /proc/stat), so a noisy pair can be recognised.
`--profile` then cProfiles one capture of each kind (main thread and writer thread).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import os
import platform
import pstats
import random
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from unittest import mock

import torch
from peers.common import machine_busy_s  # one /proc/stat reader for every bench

import incision
from incision.core.capture import SHARD_BYTES, CaptureConfig
from incision.core.forward import batches, pad_id_of  # the exact batching capture uses
from incision.core.hooks import add_stop_hook, run_until_stop
from incision.core.store import StoreWriter
from incision.core.tokens import plan_windows
from incision.datasets import load_task

log = logging.getLogger("bench.capture")

MODEL = "gemma-3-270m"
STOP_BLOCK = 9
TARGETS = {"one site": 0.03, "all resid to disk": 0.08}


# --------------------------------------------------------------------------- texts


def demo_sentences() -> list[str]:
    """Sentences of the bundled tasks (sentiment reviews and instructions, English and Japanese)."""
    return [r["text"] for task in ("sentiment", "harmful") for r in load_task(task, split="train")]


def build_texts(subject, n_texts: int, target: int) -> tuple[list[str], list[int]]:
    """`n_texts` texts of about `target` tokens (BOS included), each a seeded shuffle of the demo sample."""
    low, high = int(target * 0.9375), int(target * 1.055)  # 240..270 for 256
    pool = demo_sentences()
    texts, counts = [], []
    for i in range(n_texts):
        rng = random.Random(1000 + i)
        order = pool[:]
        rng.shuffle(order)
        text, count = "", len(subject.encode(""))
        for _ in range(8):  # passes over the shuffled pool; a sentence may repeat in a long text
            for sentence in order:
                candidate = f"{text} {sentence}" if text else sentence
                n = len(subject.encode(candidate))
                if n <= high:
                    text, count = candidate, n
                if count >= target - 4:
                    break
            if count >= target - 4:
                break
        if not low <= count <= high:
            raise RuntimeError(f"text {i} has {count} tokens, outside {low}..{high}; pick another --tokens")
        texts.append(text)
        counts.append(count)
    return texts, counts


# --------------------------------------------------------------------------- timing


@dataclass
class Sample:
    """One timed run: wall seconds, this process's CPU seconds, and CPU cores other processes kept busy."""

    seconds: float
    cpu_s: float
    other_cores: float | None


def timed(fn) -> tuple[Sample, object]:
    """Run `fn()`; return how long it took (wall and CPU) and how busy the rest of the machine was."""
    busy0, cpu0, start = machine_busy_s(), time.process_time(), time.perf_counter()
    result = fn()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu0
    busy1 = machine_busy_s()
    other = None if busy0 is None or busy1 is None else max(0.0, (busy1 - busy0 - cpu) / seconds)
    return Sample(seconds, cpu, other), result


# --------------------------------------------------------------------------- runs


def plain_forward(subject, texts: list[str], batch_tokens: int, stop_block: int | None) -> int:
    """Tokenise and batch like capture, run the model without hooks; return the number of real tokens."""
    windows = []
    for doc, text in enumerate(texts):
        windows += plan_windows(doc, subject.encode(text), subject.default_window)
    pad = pad_id_of(subject.tokenizer)
    device = subject.input_device
    base = subject.model.base_model
    n_tokens = 0
    stop = add_stop_hook(subject.site_map.blocks[stop_block]) if stop_block is not None else None
    try:
        for batch in batches(windows, pad, batch_tokens):
            inputs = {"input_ids": batch.ids_BT.to(device), "attention_mask": batch.mask_BT.to(device),
                      "use_cache": False}  # fmt: skip
            with torch.inference_mode():
                if stop is None:
                    base(**inputs)
                else:
                    run_until_stop(base, **inputs)
            n_tokens += sum(w.n_kept for w in batch.windows)
    finally:
        if stop is not None:
            stop.remove()
    return n_tokens


def folder_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def run_capture(
    subject, texts: list[str], sites: str, batch_tokens: int, shard_tokens: int
) -> tuple[Sample, int]:
    """Time one capture into a fresh temporary folder (deleted after); return its Sample and bytes written."""
    tmp = Path(tempfile.mkdtemp(prefix="incision-bench-"))
    try:
        sample, _ = timed(
            lambda: incision.capture(
                subject,
                texts,
                [sites],
                out=tmp / "store",
                dtype="bfloat16",
                progress=False,
                overwrite=True,
                batch_tokens=batch_tokens,
                shard_tokens=shard_tokens,
            )
        )
        return sample, folder_bytes(tmp / "store")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def profile_capture(
    subject, texts: list[str], sites: str, batch_tokens: int, shard_tokens: int, top: int = 18
) -> str:
    """cProfile one capture: main thread (forward, hooks, reordering) and writer thread, by own time."""
    main, writer = cProfile.Profile(), cProfile.Profile()
    write_shard = StoreWriter.write_shard

    def profiled_write_shard(self, *args, **kwargs):
        writer.enable()  # cProfile hooks the thread that enables it: this is the writer thread
        try:
            return write_shard(self, *args, **kwargs)
        finally:
            writer.disable()

    with mock.patch.object(StoreWriter, "write_shard", profiled_write_shard):
        main.enable()
        try:
            sample, _ = run_capture(subject, texts, sites, batch_tokens, shard_tokens)
        finally:
            main.disable()
    report = io.StringIO()
    report.write(f"capture {sites}: {sample.seconds:.2f} s under cProfile\n")
    for name, prof in (("main thread", main), ("writer thread (StoreWriter.write_shard)", writer)):
        report.write(f"--- {name}, top {top} by own time\n")
        pstats.Stats(prof, stream=report).sort_stats("tottime").print_stats(top)
    return report.getvalue()


def timed_forward(subject, texts, batch_tokens: int, stop_block: int | None) -> Sample:
    sample, _ = timed(lambda: plain_forward(subject, texts, batch_tokens, stop_block))
    return sample


# --------------------------------------------------------------------------- results


@dataclass
class Comparison:
    """One capture measurement against its baseline, with every repeat kept."""

    name: str
    baseline: str
    capture: str
    target: float
    baseline_runs: list[Sample] = field(default_factory=list)
    capture_runs: list[Sample] = field(default_factory=list)
    capture_bytes: list[int] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        """Wall-time overhead of each (baseline, capture) pair."""
        return [c.seconds / b.seconds - 1 for b, c in zip(self.baseline_runs, self.capture_runs, strict=True)]

    @property
    def cpu_ratios(self) -> list[float]:
        """CPU-time overhead of each pair (this process, all threads; blind to time spent waiting on disk)."""
        return [c.cpu_s / b.cpu_s - 1 for b, c in zip(self.baseline_runs, self.capture_runs, strict=True)]

    def summary(self, n_tokens: int) -> dict:
        base = [r.seconds for r in self.baseline_runs]
        cap = [r.seconds for r in self.capture_runs]
        others = [r.other_cores for r in self.baseline_runs + self.capture_runs if r.other_cores is not None]
        overhead = statistics.median(self.ratios)
        return {
            "baseline_min_s": min(base),
            "baseline_median_s": statistics.median(base),
            "capture_min_s": min(cap),
            "capture_median_s": statistics.median(cap),
            "baseline_tok_per_s": n_tokens / statistics.median(base),
            "capture_tok_per_s": n_tokens / statistics.median(cap),
            "overhead_median": overhead,
            "overhead_min": min(self.ratios),
            "overhead_max": max(self.ratios),
            "overhead_of_minima": min(cap) / min(base) - 1,
            "cpu_overhead_median": statistics.median(self.cpu_ratios),
            "other_cores_max": max(others) if others else None,
            "target": self.target,
            "within_target": overhead <= self.target,
            "bytes_per_capture": self.capture_bytes[-1] if self.capture_bytes else 0,
        }


def machine_facts() -> dict:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_count": os.cpu_count(),
        "cpu_affinity": affinity,
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "incision": incision.__version__,
    }


def markdown(command: str, facts: dict, setup: dict, comparisons: list[Comparison], n_tokens: int) -> str:
    lines = [
        f"`{command}`",
        "",
        f"{setup['model']} float32 on CPU; {setup['texts']} texts, {n_tokens} tokens "
        f"({setup['tokens_min']}..{setup['tokens_max']} per text), batch_tokens={setup['batch_tokens']}, "
        f"shard_tokens={setup['shard_tokens'] or f'auto (~{SHARD_BYTES >> 20} MiB)'}, store dtype bfloat16; {setup['repeats']} interleaved "
        f"(baseline, capture) pairs, alternating which runs first, after a warm-up. "
        f"Machine: {facts['cpu_count']} CPUs ({facts['processor']}), torch {facts['torch']}, "
        f"{facts['torch_threads']} torch threads, Python {facts['python']}.",
        "",
        "| run | median s (min) | tokens/s | overhead: median of pairs (range) | of minima | CPU-time "
        "| target | written per capture | other load (max) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for comp in comparisons:
        s = comp.summary(n_tokens)
        ok = "ok" if s["within_target"] else "**over**"
        other = "n/a" if s["other_cores_max"] is None else f"{s['other_cores_max']:.2f} cores"
        lines.append(
            f"| {comp.baseline} | {s['baseline_median_s']:.2f} ({s['baseline_min_s']:.2f}) | "
            f"{s['baseline_tok_per_s']:,.0f} | | | | | | |"
        )
        lines.append(
            f"| {comp.capture} | {s['capture_median_s']:.2f} ({s['capture_min_s']:.2f}) | "
            f"{s['capture_tok_per_s']:,.0f} | **{s['overhead_median']:+.1%}** "
            f"({s['overhead_min']:+.1%} .. {s['overhead_max']:+.1%}) | {s['overhead_of_minima']:+.1%} | "
            f"{s['cpu_overhead_median']:+.1%} | "
            f"≤ {comp.target:.0%} {ok} | {s['bytes_per_capture'] / 1e6:,.1f} MB | {other} |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=64, help="number of texts")
    parser.add_argument(
        "--tokens", type=int, default=256, help="tokens per text (each lands within -6%%..+5.5%%)"
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="interleaved baseline/capture pairs per comparison"
    )
    parser.add_argument("--batch-tokens", type=int, default=4096, help="padded tokens per forward pass")
    parser.add_argument(
        "--shard-tokens",
        type=int,
        default=CaptureConfig.shard_tokens,
        help="capture's stored tokens per shard (library default)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after the timed runs, cProfile one capture of each kind and print it",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    command = "python bench/capture.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()

    subject = incision.load(MODEL)
    texts, counts = build_texts(subject, args.texts, args.tokens)
    n_tokens = sum(counts)
    log.info(
        "%d texts, %d tokens (min %d, median %d, max %d per text)",
        len(texts),
        n_tokens,
        min(counts),
        int(statistics.median(counts)),
        max(counts),
    )
    start = time.perf_counter()
    for text in texts:
        subject.encode(text)
    tokenize_s = time.perf_counter() - start
    log.info(
        "tokenising all texts with offsets takes %.3f s (inside every run, baseline and capture)", tokenize_s
    )

    comparisons = [
        Comparison(
            "one site",
            f"(b) forward to block {STOP_BLOCK}",
            f"(c) capture resid.{STOP_BLOCK}",
            TARGETS["one site"],
        ),
        Comparison(
            "all resid to disk",
            f"(a) forward, all {subject.n_layers} blocks",
            f"(d) capture resid.* ({subject.n_layers} sites)",
            TARGETS["all resid to disk"],
        ),
    ]
    runs = {
        "one site": (STOP_BLOCK, f"resid.{STOP_BLOCK}"),
        "all resid to disk": (None, "resid.*"),
    }

    # Warm-up: every batch shape once through the first blocks (allocator, kernels: the first full-size run
    # is ~10% slow without it), then a small capture of each kind (writer thread, safetensors, parquet).
    start = time.perf_counter()
    timed_forward(subject, texts, args.batch_tokens, STOP_BLOCK)
    for _stop_block, sites in runs.values():
        run_capture(subject, texts[:2], sites, args.batch_tokens, args.shard_tokens)
    log.info("warm-up %.1f s", time.perf_counter() - start)

    for r in range(args.repeats):
        for comp in comparisons:
            stop_block, sites = runs[comp.name]
            # Baseline first in even repeats, capture first in odd ones (ABBA), so drift favours neither.
            if r % 2:
                sample, size = run_capture(subject, texts, sites, args.batch_tokens, args.shard_tokens)
                base = timed_forward(subject, texts, args.batch_tokens, stop_block)
            else:
                base = timed_forward(subject, texts, args.batch_tokens, stop_block)
                sample, size = run_capture(subject, texts, sites, args.batch_tokens, args.shard_tokens)
            comp.baseline_runs.append(base)
            comp.capture_runs.append(sample)
            comp.capture_bytes.append(size)
            log.info(
                "repeat %d/%d %-17s baseline %6.2f s  capture %6.2f s  overhead %+6.1f%% (CPU %+6.1f%%)  "
                "%.1f MB  other load %s",
                r + 1,
                args.repeats,
                comp.name,
                base.seconds,
                sample.seconds,
                100 * comp.ratios[-1],
                100 * comp.cpu_ratios[-1],
                size / 1e6,
                "/".join("?" if x.other_cores is None else f"{x.other_cores:.2f}" for x in (base, sample)),
            )

    facts = machine_facts()
    setup = {
        "model": MODEL,
        "texts": len(texts),
        "tokens_target": args.tokens,
        "tokens_total": n_tokens,
        "tokens_min": min(counts),
        "tokens_median": statistics.median(counts),
        "tokens_max": max(counts),
        "batch_tokens": args.batch_tokens,
        "shard_tokens": args.shard_tokens,
        "repeats": args.repeats,
        "tokenize_s": tokenize_s,
    }
    table = markdown(command, facts, setup, comparisons, n_tokens)
    print()
    print(table)
    print()
    results = {
        "command": command,
        "machine": facts,
        "setup": setup,
        "comparisons": {
            c.name: {**asdict(c), "ratios": c.ratios, "cpu_ratios": c.cpu_ratios, **c.summary(n_tokens)}
            for c in comparisons
        },
        "total_s": time.perf_counter() - started,
        "markdown": table,
    }
    if args.profile:
        for _stop_block, sites in runs.values():
            print(profile_capture(subject, texts, sites, args.batch_tokens, args.shard_tokens))
    log.info("total %.0f s", results["total_s"])
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))
        log.info("wrote %s", args.json)
    return results


if __name__ == "__main__":
    main()
