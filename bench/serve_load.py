"""Load test of `incision serve` on loopback: concurrent clients for a fixed time, micro-batching on and off.

    python bench/serve_load.py [--detector out/demo/detector] [--probe FOLDER] [--clients 32] [--seconds 60]
                               [--routes scrub,score] [--json PATH]

For each batching mode the script starts `incision serve` (embedded Gemma 3 270M, the PII detector for
/v1/scrub, and for /v1/score the detector's token probe plus a mean-pooled probe: `--probe`, or random
weights at resid.9, since what a probe costs does not depend on its values), waits for /readyz, then
for each route runs `--clients` async httpx clients, each sending one text per request back to back for
`--seconds`. Texts are synthetic EN/JA PII records of the shifted style (seeded, unseen in training). Reported per run: requests,
errors (any non-200 or transport failure), p50/p99 latency, requests and tokens per second, and the mean
texts per model pass the server's /metrics saw. The driver shares the machine's cores with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

import incision
from incision.pii import synthesize

MODEL = "gemma-3-270m"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--detector", default="out/demo/detector", help="PII detector folder (make demo writes one)"
    )
    p.add_argument("--probe", help="a mean-pooled probe folder for /v1/score (default: random weights)")
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--routes", default="scrub,score")
    p.add_argument("--modes", default="on,off", help="micro-batching modes to run")
    p.add_argument("--json", help="also write the results here")
    return p.parse_args(argv)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def random_probe_folder(folder: Path) -> str:
    """A mean-pooled binary probe at resid.9 with random weights (what it costs does not depend on them)."""
    from monitor import random_probe  # the cost bench's random probes

    probe = random_probe(incision.load(MODEL), "resid.9", ["benign", "harmful"], "mean", seed=1)
    return str(probe.save(folder))


def load_texts(n: int = 400) -> list[str]:
    records = synthesize(("en", "ja"), n, seed=4242, split="shifted")
    return [r["text"] for r in records if 10 <= len(r["text"]) <= 400]


def start_server(args, probe: str, batching: bool, port: int, workdir: Path) -> subprocess.Popen:
    config = {
        "model": MODEL,
        "detector": args.detector,
        "probes": {"harmful": probe},
        "port": port,
        "batching": batching,
        "max_in_flight": 4 * args.clients,
        "request_timeout_s": 120,
    }
    return launch(config, f"serve-{'on' if batching else 'off'}", workdir)


def launch(config: dict, name: str, workdir: Path) -> subprocess.Popen:
    """`incision serve` with `config` (its port included) in a process, once /readyz says ready; its log
    is `workdir/NAME.log`."""
    path = workdir / f"{name}.json"
    path.write_text(json.dumps(config))
    env = {**os.environ, "INCISION_API_KEYS": "bench-key"}
    log = open(workdir / f"{name}.log", "w")  # noqa: SIM115 (lives with the process)
    server = subprocess.Popen(
        [sys.executable, "-m", "incision", "serve", "--config", str(path)], env=env, stdout=log, stderr=log
    )
    deadline = time.monotonic() + 600
    while True:
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not become ready; see {log.name}")
        try:
            if httpx.get(f"http://127.0.0.1:{config['port']}/readyz").status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.5)


async def drive(url: str, route: str, texts: list[str], clients: int, seconds: float) -> dict:
    latencies, errors, tokens = [], 0, 0
    stop_at = time.monotonic() + seconds
    headers = {"authorization": "Bearer bench-key"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(k: int, http: httpx.AsyncClient) -> None:
        nonlocal errors, tokens
        rng = random.Random(k)
        while time.monotonic() < stop_at:
            body = {"text": rng.choice(texts)}
            started = time.perf_counter()
            try:
                response = await http.post(f"/v1/{route}", json=body)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - started)
                if route == "score":
                    tokens += len(response.json()["results"][0]["starts"])
            else:
                errors += 1

    began = time.monotonic()
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120, limits=limits) as http:
        await asyncio.gather(*(client(k, http) for k in range(clients)))
    elapsed = time.monotonic() - began
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    return {
        "route": route,
        "requests": len(latencies),
        "errors": errors,
        "seconds": elapsed,
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": q[49] * 1000,
        "p99_ms": q[98] * 1000,
        "score_tokens_per_s": tokens / elapsed if route == "score" else None,
    }


def batch_stats(url: str) -> tuple[float, float]:
    text = httpx.get(f"{url}/metrics").text
    total = float(re.search(r"^incision_batch_texts_sum (\S+)", text, re.M).group(1))
    count = float(re.search(r"^incision_batch_texts_count (\S+)", text, re.M).group(1))
    return total, count


def main(argv=None) -> int:
    args = parse_args(argv)
    texts = load_texts()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        probe = args.probe or random_probe_folder(workdir / "probe")
        for mode in args.modes.split(","):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            server = start_server(args, probe, mode == "on", port, workdir)
            try:
                for route in args.routes.split(","):
                    before = batch_stats(url)
                    result = asyncio.run(drive(url, route, texts, args.clients, args.seconds))
                    after = batch_stats(url)
                    passes = after[1] - before[1]
                    result |= {"batching": mode, "texts_per_pass": (after[0] - before[0]) / max(passes, 1)}
                    results.append(result)
                    print(
                        f"batching {mode:3} /v1/{route:5}  {result['requests']:6d} requests  {result['errors']} errors  "
                        f"p50 {result['p50_ms']:7.1f} ms  p99 {result['p99_ms']:7.1f} ms  "
                        f"{result['requests_per_s']:6.1f} req/s  {result['texts_per_pass']:5.1f} texts/pass",
                        flush=True,
                    )
            finally:
                server.terminate()
                server.wait(120)
    meta = {"clients": args.clients, "seconds": args.seconds, "model": MODEL, "cpu_count": os.cpu_count()}
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
