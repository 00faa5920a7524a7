"""What incision's monitor costs inside vLLM, and what the alternatives cost.

    python bench/vllm_monitor.py [--model smollm2-135m-instruct] [--rounds 6] [--server-seconds 60]
                                 [--clients 32] [--skip-server] [--json PATH]

Engine (one process, one vLLM engine): the same requests run with the monitor's hooks on (two probes: a
token-level probe at a middle block and a mean-pooled one at a later block, random weights, since what a
probe costs does not depend on its values) and off (`incision_remove`), interleaved on/off/off/on... for
`--rounds`. Each round: 16 prompts of about 150 tokens, 32 greedy tokens each, stepped by hand; the steps
until every request has its first token are prefill, the rest decode. Reported per phase: the median of the
per-round ratios monitored / plain, and the share of a monitored step spent inside the monitor's hooks
(timed directly: free of the machine's run-to-run noise, which on a 2-core CPU exceeds the effect). Then a
guardrail judge on the same engine: the model asked, for each (prompt, reply), whether it is unsafe (one
token out), timed against the generation it judges.

Server (`--skip-server` leaves it out): `incision serve` with the same probes on each backend, `--clients`
chat clients sending requests back to back for `--server-seconds`; completion tokens per second,
p50/p99 latency and errors. The driver shares the machine's cores with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")

import httpx  # noqa: E402
from monitor import random_probe  # noqa: E402  (the cost bench's random probes)
from serve_load import free_port, launch  # noqa: E402  (the service load bench's)

from incision.core.models import skeleton  # noqa: E402

WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "was",
    "for",
    "on",
    "that",
    "with",
    "as",
    "by",
    "at",
    "from",
    "his",
    "her",
    "they",
    "this",
    "which",
    "river",
    "city",
    "music",
]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="smollm2-135m-instruct")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--requests", type=int, default=16)
    p.add_argument("--prompt-words", type=int, default=110)
    p.add_argument("--new-tokens", type=int, default=32)
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--server-seconds", type=float, default=60)
    p.add_argument("--skip-server", action="store_true")
    p.add_argument("--dtype", default="float32")
    p.add_argument(
        "--engine-options",
        default="{}",
        help='JSON of further vllm.LLM options, e.g. {"enforce_eager": false}',
    )
    p.add_argument("--json", help="also write the results here")
    return p.parse_args(argv)


def random_probes(model: str, folder: Path) -> dict[str, str]:
    """Two probes with random weights: token-level at the middle block, mean-pooled three quarters in."""
    subject = skeleton(model)  # the probes need its width and name only
    sites = {"pii": f"resid.{subject.n_layers // 2}", "harmful": f"resid.{3 * subject.n_layers // 4}"}
    probes = {
        "pii": random_probe(subject, sites["pii"], ["no", "yes"], None, seed=0),
        "harmful": random_probe(subject, sites["harmful"], ["no", "yes"], "mean", seed=1),
    }
    return {name: str(probe.save(folder / name)) for name, probe in probes.items()}


def prompts(n: int, words: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(words)) for _ in range(n)]


HOOK_SECONDS = [0.0]  # time spent inside the monitor's hooks (in-process engine only)


def time_the_hooks() -> None:
    """Count the seconds spent in the monitor's hooks: a direct measure of its cost, free of the run-to-run
    noise an on/off comparison carries (cache effects on the model's own work are not in it)."""
    from incision.vllm.engine_monitor import EngineMonitor

    def timed(function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                HOOK_SECONDS[0] += time.perf_counter() - started

        return wrapper

    make_hook = EngineMonitor._hook
    EngineMonitor._hook = lambda self, edits, site: timed(make_hook(self, edits, site))
    EngineMonitor._before_step = timed(EngineMonitor._before_step)
    EngineMonitor._at_logits = timed(EngineMonitor._at_logits)


def timed_steps(llm, requests, params) -> tuple[float, float, list, float, float]:
    """Run `requests` through the engine step by step: (prefill seconds, decode seconds, outputs, and the
    seconds of each phase spent in the monitor's hooks)."""
    engine = llm.llm.llm_engine
    for k, (request, p) in enumerate(zip(requests, params, strict=True)):
        engine.add_request(f"r{k}-{time.monotonic_ns()}", request, p)
    prefill = decode = hooks_prefill = hooks_decode = 0.0
    started: set[str] = set()
    finished = []
    while engine.has_unfinished_requests():
        t, hooks = time.perf_counter(), HOOK_SECONDS[0]
        outputs = engine.step()
        took, in_hooks = time.perf_counter() - t, HOOK_SECONDS[0] - hooks
        if len(started) < len(requests):
            prefill, hooks_prefill = prefill + took, hooks_prefill + in_hooks
        else:
            decode, hooks_decode = decode + took, hooks_decode + in_hooks
        for o in outputs:
            if o.outputs and o.outputs[0].token_ids:
                started.add(o.request_id)
            if o.finished:
                finished.append(o)
    return prefill, decode, finished, hooks_prefill, hooks_decode


def engine_bench(args, probes: dict[str, str]) -> dict:
    from vllm import SamplingParams

    from incision.vllm import MonitoredLLM

    time_the_hooks()
    options = {
        "enforce_eager": True,
        "max_model_len": 1024,
        "max_num_seqs": args.requests,
        **json.loads(args.engine_options),
    }
    llm = MonitoredLLM(args.model, probes, dtype=args.dtype, **options)
    base = SamplingParams(max_tokens=args.new_tokens, temperature=0.0, ignore_eos=True)
    texts = prompts(args.requests, args.prompt_words, seed=0)
    prepared = [llm.prepare(t, base) for t in texts]
    requests = [{"prompt_token_ids": list(p.encoding.ids)} for p in prepared]
    params = [p.params for p in prepared]
    timed_steps(llm, requests, params)  # warm-up, monitored
    ratios = {"prefill": [], "decode": []}
    plain_times = {"prefill": [], "decode": []}
    in_hooks = {"prefill": [], "decode": []}  # share of a monitored step spent in the hooks
    outputs = None
    for r in range(args.rounds):
        times = {}
        for on in (True, False) if r % 2 == 0 else (False, True):
            if on:
                llm.llm.collective_rpc("incision_install", args=(llm.spec.to_json(),))
            else:
                llm.llm.collective_rpc("incision_remove")
            prefill, decode, outs, hooks_prefill, hooks_decode = timed_steps(llm, requests, params)
            times[on] = (prefill, decode)
            outputs = outs if not on else outputs
            if on:
                in_hooks["prefill"].append(hooks_prefill / prefill)
                in_hooks["decode"].append(hooks_decode / decode)
        for k, phase in enumerate(("prefill", "decode")):
            ratios[phase].append(times[True][k] / times[False][k])
            plain_times[phase].append(times[False][k])
        print(
            f"round {r}: prefill x{ratios['prefill'][-1]:.4f} ({100 * in_hooks['prefill'][-1]:.2f}% in hooks)  "
            f"decode x{ratios['decode'][-1]:.4f} ({100 * in_hooks['decode'][-1]:.2f}% in hooks)",
            flush=True,
        )
    llm.llm.collective_rpc("incision_install", args=(llm.spec.to_json(),))
    generated = sum(len(o.outputs[0].token_ids) for o in outputs)
    # a guardrail judge on the same engine: one pass over each (prompt, reply), one token out
    tokenizer = llm.subject.tokenizer
    replies = [tokenizer.decode(o.outputs[0].token_ids, skip_special_tokens=True) for o in outputs]
    judge_prompts = [
        f"Is the following conversation unsafe? Answer yes or no.\nUser: {t}\nAssistant: {reply}\nAnswer:"
        for t, reply in zip(texts, replies, strict=True)
    ]
    judge_params = SamplingParams(max_tokens=1, temperature=0.0)
    t = time.perf_counter()
    llm.llm.collective_rpc("incision_remove")  # the judge is the model's own work, unmonitored
    llm.llm.generate(judge_prompts, judge_params, use_tqdm=False)
    judge = time.perf_counter() - t
    serve_time = statistics.median(plain_times["prefill"]) + statistics.median(plain_times["decode"])
    return {
        "prefill_overhead": statistics.median(ratios["prefill"]) - 1,
        "decode_overhead": statistics.median(ratios["decode"]) - 1,
        "prefill_in_hooks": statistics.median(in_hooks["prefill"]),
        "decode_in_hooks": statistics.median(in_hooks["decode"]),
        "prefill_ratios": ratios["prefill"],
        "decode_ratios": ratios["decode"],
        "plain_prefill_s": statistics.median(plain_times["prefill"]),
        "plain_decode_s": statistics.median(plain_times["decode"]),
        "plain_decode_tokens_per_s": generated / statistics.median(plain_times["decode"]),
        "judge_s": judge,
        "judge_cost_ratio": (serve_time + judge) / serve_time,
    }


def start_server(model: str, probes: dict, backend: str, port: int, workdir: Path, clients: int):
    config = {
        "model": model, "probes": probes, "port": port, "backend": backend, "max_in_flight": 4 * clients,
        "request_timeout_s": 300, "max_new_tokens": 64,
    }  # fmt: skip
    if backend == "vllm":
        config |= {"max_model_len": 1024, "vllm": {"enforce_eager": True, "max_num_seqs": clients}}
    return launch(config, f"serve-{backend}", workdir)


async def drive_chat(url: str, clients: int, seconds: float, new_tokens: int) -> dict:
    latencies, errors, tokens = [], 0, 0
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    questions = prompts(200, 12, seed=5)

    async def client(k: int, http: httpx.AsyncClient) -> None:
        nonlocal errors, tokens
        rng = random.Random(k)
        while time.monotonic() < stop_at:
            body = {
                "messages": [{"role": "user", "content": rng.choice(questions)}],
                "max_tokens": new_tokens,
            }
            started = time.perf_counter()
            try:
                response = await http.post("/v1/chat/completions", json=body)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - started)
                tokens += response.json()["usage"]["completion_tokens"]
            else:
                errors += 1

    began = time.monotonic()
    headers = {"authorization": "Bearer bench-key"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=300, limits=limits) as http:
        await asyncio.gather(*(client(k, http) for k in range(clients)))
    elapsed = time.monotonic() - began
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    return {
        "requests": len(latencies), "errors": errors, "seconds": elapsed, "tokens_per_s": tokens / elapsed,
        "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000,
    }  # fmt: skip


def main(argv=None) -> int:
    args = parse_args(argv)
    results = {"meta": {"model": args.model, "cpu_count": os.cpu_count(), "args": vars(args)}}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        probes = random_probes(args.model, workdir)
        results["engine"] = engine = engine_bench(args, probes)
        print(
            f"engine: monitor overhead prefill {100 * engine['prefill_overhead']:+.2f}% "
            f"({100 * engine['prefill_in_hooks']:.2f}% in hooks)  decode {100 * engine['decode_overhead']:+.2f}% "
            f"({100 * engine['decode_in_hooks']:.2f}% in hooks)  "
            f"(plain decode {engine['plain_decode_tokens_per_s']:.0f} tokens/s); "
            f"a guardrail judge costs x{engine['judge_cost_ratio']:.2f}",
            flush=True,
        )
        if not args.skip_server:
            results["server"] = {}
            for backend in ("vllm", "hf"):
                port = free_port()
                server = start_server(args.model, probes, backend, port, workdir, args.clients)
                try:
                    run = asyncio.run(
                        drive_chat(f"http://127.0.0.1:{port}", args.clients, args.server_seconds, 32)
                    )
                finally:
                    server.terminate()
                    server.wait(120)
                results["server"][backend] = run
                print(
                    f"server {backend:4}: {run['requests']} chats, {run['errors']} errors, "
                    f"{run['tokens_per_s']:.1f} tokens/s, p50 {run['p50_ms']:.0f} ms, p99 {run['p99_ms']:.0f} ms",
                    flush=True,
                )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 1 if any(r["errors"] for r in results.get("server", {}).values()) else 0


if __name__ == "__main__":
    sys.exit(main())
