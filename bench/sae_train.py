"""TopK SAE training throughput on CPU: incision against EleutherAI's sparsify, SAELens and a plain PyTorch loop.

    python bench/sae_train.py [--sparsify-python P] [--saelens-python P]   # what `make bench-sae` runs
    ... [--warmup-steps 3] [--timed-steps 20] [--repeats 1]
    ... [--store DIR --site resid.10]          # real activations from an incision store (else synthetic)
    ... [--only incision,dense] [--json PATH]

Every contender trains the same TopK SAE (d_in 640, d_sae 5120 = 8 x d_in, k 32) with Adam (lr 5e-4, constant)
in float32 on the same activations, batch 4096 tokens, default torch threads: `--warmup-steps` untimed steps,
then `--timed-steps` timed ones; the rate is the timed steps' tokens over their wall time. The activations are
written once to a temporary safetensors file ("activations", float32 [N, d_in], N = batch x steps) that every
contender reads. Synthetic by default, with the structure an SAE is for: 8192 random unit atoms with Zipf-like
firing frequencies, about 40 active per token with exponential magnitudes (per-atom scales log-normal), a
shared offset and a little Gaussian noise.

    dense     in this process: W_enc, b_enc, W_dec, b_dec; (x - b_dec) @ W_enc + b_enc; top-k; scattered
              into dense [B, F] latents; latents @ W_dec + b_dec; normalised MSE; Adam; decoder rows
              renormalised. The baseline the first ratio is against.
    incision  in this process, the public API: train_sae(SAEConfig(architecture="topk"), batches,
              SAETrainConfig(...)); timed from the moment the first timed batch is handed over until
              train_sae returns (the trainer's own per-step work: input checks, metrics, dead-latent counts).
    sparsify  eai-sparsify's SparseCoder stepped as its Trainer does (bench/peers/sparsify_worker.py), in its
              own virtualenv: `--sparsify-python`.
    sae-lens  SAELens' TopKTrainingSAE stepped by its SAETrainer (bench/peers/saelens_worker.py), in its own
              virtualenv: `--saelens-python`.

The peers' dependencies clash with incision's, so each runs as a subprocess of its own virtualenv's Python
(`make bench-sae` builds both under .venv-peers/); a peer whose Python is not given or missing is skipped.
Contenders run one after another, never at once; with `--repeats R` the R rounds are interleaved (the order
rotates each round) and medians are reported. Each run also records how many cores other processes kept busy
meanwhile (from /proc/stat; the table shows the most over the repeats), since this machine is shared. The FVU column is that of each contender's last
training batch (incision: its own metrics record of the last step); the settings each peer cannot share with
the others are in the workers' docstrings.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from peers.common import DATA_KEY, Clock, run_steps
from safetensors.torch import save_file

import incision
from incision.sae import SAEConfig, SAETrainConfig, train_sae

log = logging.getLogger("bench.sae_train")

PEERS_DIR = Path(__file__).resolve().parent / "peers"
CONTENDERS = ("dense", "incision", "sparsify", "sae-lens")
PEER_WORKERS = {"sparsify": "sparsify_worker.py", "sae-lens": "saelens_worker.py"}


# --------------------------------------------------------------------------- data


def synthetic_activations(
    n_rows: int, width: int, seed: int = 0, n_atoms: int = 8192, active: int = 40
) -> torch.Tensor:
    """float32 [n_rows, width]: sums of `active` unit atoms per token (drawn with Zipf-like frequencies, so a
    few atoms fire often and most rarely, as features do) with exponential magnitudes, plus an offset shared
    by every token and a little noise."""
    g = torch.Generator().manual_seed(seed)
    atoms = torch.nn.functional.normalize(torch.randn(n_atoms, width, generator=g), dim=-1)
    frequency = torch.arange(1, n_atoms + 1, dtype=torch.float64).pow(-0.7)
    atom_scale = (torch.randn(n_atoms, generator=g) * 0.5).exp() * 4.0
    offset = torch.randn(width, generator=g) * 2.0
    x = torch.empty(n_rows, width)
    block = 1024  # gathers [block, active, width]: bounded temporaries
    for start in range(0, n_rows, block):
        rows = min(block, n_rows - start)
        idx = torch.multinomial(frequency, rows * active, replacement=True, generator=g).view(rows, active)
        magnitude = torch.empty(rows, active).exponential_(generator=g) * atom_scale[idx]
        x[start : start + rows] = torch.einsum("rk,rkd->rd", magnitude, atoms[idx])
    x += offset
    x += torch.randn(n_rows, width, generator=g) * 0.1
    return x


def store_activations(root: str, site: str, n_rows: int) -> torch.Tensor:
    """The first `n_rows` of incision's own training stream for `site` (shuffled, special tokens left out),
    repeating the store's tokens when it holds fewer."""
    from incision.core.store import ActivationStore
    from incision.sae.sources import SourceConfig, store_batches, training_rows

    store = ActivationStore.open(root)
    width = store.width(site)
    epochs = math.ceil(n_rows / max(len(training_rows(store)), 1))
    source = SourceConfig(epochs=epochs, read_tokens=65536)
    parts, have = [], 0
    for batch in store_batches(store, site, SAEConfig(d_in=width, d_sae=width), source):
        parts.append(batch.float())
        have += batch.shape[0]
        if have >= n_rows:
            break
    log.info("read %d rows of %s from %s (%d epochs of its tokens)", n_rows, site, root, epochs)
    return torch.cat(parts)[:n_rows].contiguous()


# --------------------------------------------------------------------------- contenders


def batches_of(x: torch.Tensor, batch: int) -> list[torch.Tensor]:
    return [x[i : i + batch] for i in range(0, x.shape[0] - batch + 1, batch)]


def run_dense(args, x: torch.Tensor) -> dict:
    d_in = x.shape[1]
    g = torch.Generator().manual_seed(args.seed)
    w_dec = torch.nn.functional.normalize(torch.randn(args.d_sae, d_in, generator=g), dim=-1)
    W_dec = w_dec.clone().requires_grad_()
    W_enc = w_dec.T.contiguous().requires_grad_()
    b_enc = torch.zeros(args.d_sae, requires_grad=True)
    b_dec = x[: args.batch].mean(0).requires_grad_()  # centred pre-activations from the start
    optimizer = torch.optim.Adam([W_enc, b_enc, W_dec, b_dec], lr=args.lr)

    def step(x_BD: torch.Tensor):
        pre_BF = (x_BD - b_dec) @ W_enc + b_enc
        values, indices = pre_BF.topk(args.k, dim=-1)
        latents_BF = torch.zeros_like(pre_BF).scatter(-1, indices, values.relu())
        recon_BD = latents_BF @ W_dec + b_dec
        loss = (recon_BD - x_BD).pow(2).sum() / (x_BD - x_BD.mean(0)).pow(2).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            W_dec.div_(W_dec.norm(dim=-1, keepdim=True))
        return x_BD, recon_BD

    result = run_steps(args, batches_of(x, args.batch), step)
    return {"name": "dense", "version": f"torch {torch.__version__}", **result}


def run_incision(args, x: torch.Tensor) -> dict:
    batches = batches_of(x, args.batch)
    clock = Clock()

    def stream():
        for i, batch in enumerate(batches):
            if i == args.warmup_steps:  # the first timed batch: the warm-up steps are done
                clock.start()
            yield batch

    sae_cfg = SAEConfig(d_in=x.shape[1], d_sae=args.d_sae, architecture="topk", k=args.k)
    train_cfg = SAETrainConfig(
        lr=args.lr,
        warmup_steps=0,  # a constant lr, as the other contenders
        decay_fraction=0.0,
        batch_size=args.batch,
        total_tokens=args.batch * len(batches),
        log_every=1,  # so the last record is the last step's (a few scalars per step)
        seed=args.seed,
        progress=False,
        tensorboard=False,
    )
    result = train_sae(sae_cfg, stream(), train_cfg)
    timing = clock.stop()
    if result.steps != len(batches):
        raise RuntimeError(f"incision trained {result.steps} steps, not {len(batches)}")
    return {"name": "incision", "version": incision.__version__, "steps": args.timed_steps,
            "fvu_last": result.metrics["fvu"], **timing}  # fmt: skip


def run_peer(args, name: str, python: str | None, data: Path) -> dict:
    if not python:
        return {"name": name, "skipped": f"no --{name.replace('-', '')}-python given"}
    if not Path(python).exists():
        return {"name": name, "skipped": f"{python} does not exist (make bench-sae builds it)"}
    command = [str(Path(python).absolute()), str(PEERS_DIR / PEER_WORKERS[name]), "--data", str(data),
               "--d-sae", str(args.d_sae), "--k", str(args.k), "--batch", str(args.batch),
               "--lr", str(args.lr), "--warmup-steps", str(args.warmup_steps),
               "--timed-steps", str(args.timed_steps), "--seed", str(args.seed)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{name} worker exited with {done.returncode}:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])  # the peer library may print before it


def run_one(args, name: str, x: torch.Tensor, data: Path) -> dict:
    try:
        if name == "dense":
            result = run_dense(args, x)
        elif name == "incision":
            result = run_incision(args, x)
        else:
            python = args.sparsify_python if name == "sparsify" else args.saelens_python
            result = run_peer(args, name, python, data)
    except Exception as error:  # one contender failing must not lose the others' results
        log.exception("%s failed", name)
        return {"name": name, "error": f"{type(error).__name__}: {error}"}
    if "seconds" in result:  # every contender's rate from the same formula
        result["tokens_per_s"] = args.timed_steps * args.batch / result["seconds"]
    return result


# --------------------------------------------------------------------------- results


def summarise(runs: dict[str, list[dict]]) -> dict[str, dict]:
    summary = {}
    for name, results in runs.items():
        ok = [r for r in results if "tokens_per_s" in r]
        if not ok:
            first = results[0]
            summary[name] = {"status": "skipped" if "skipped" in first else "error",
                             "reason": first.get("skipped") or first.get("error")}  # fmt: skip
            continue
        summary[name] = {
            "status": "ok",
            "version": ok[0]["version"],
            "tokens_per_s": statistics.median(r["tokens_per_s"] for r in ok),
            "fvu_last": statistics.median(r["fvu_last"] for r in ok),
            "other_cores": max(
                (r["other_cores"] for r in ok if r.get("other_cores") is not None), default=None
            ),
            "runs": len(ok),
        }
    dense = summary.get("dense", {}).get("tokens_per_s")
    peers = [summary[p]["tokens_per_s"] for p in PEER_WORKERS if summary.get(p, {}).get("status") == "ok"]
    for s in summary.values():
        if s["status"] == "ok":
            s["vs_dense"] = s["tokens_per_s"] / dense if dense else None
            s["vs_faster_peer"] = s["tokens_per_s"] / max(peers) if peers else None
    return summary


def table(summary: dict[str, dict]) -> str:
    def ratio(value):
        return "n/a" if value is None else f"{value:.2f}x"

    lines = [
        "| contender | version | tokens/s | vs dense | vs faster peer | FVU after the run | other load (cores) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in summary.items():
        if s["status"] != "ok":
            lines.append(f"| {name} | {s['status']}: {s['reason'].splitlines()[0]} | | | | | |")
            continue
        load = "n/a" if s["other_cores"] is None else f"{s['other_cores']:.1f}"
        lines.append(
            f"| {name} | {s['version']} | {s['tokens_per_s']:,.0f} | {ratio(s['vs_dense'])} | "
            f"{ratio(s['vs_faster_peer'])} | {s['fvu_last']:.4f} | {load} |"
        )
    return "\n".join(lines)


def machine_facts() -> dict:
    try:
        commit = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                                cwd=Path(__file__).parent, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        commit = None
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "incision": incision.__version__,
        "incision_commit": commit,
    }


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sparsify-python", default=None, help="Python of a virtualenv with eai-sparsify")
    parser.add_argument("--saelens-python", default=None, help="Python of a virtualenv with sae-lens")
    parser.add_argument("--warmup-steps", type=int, default=3, help="untimed steps first")
    parser.add_argument("--timed-steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=1, help="interleaved rounds; medians are reported")
    parser.add_argument("--batch", type=int, default=4096, help="tokens per step")
    parser.add_argument("--d-in", type=int, default=640, help="width of synthetic activations")
    parser.add_argument("--d-sae", type=int, default=None, help="latents (default 8 x d_in)")
    parser.add_argument("--k", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and of every SAE's weights")
    parser.add_argument("--store", default=None, help="read activations from this incision store")
    parser.add_argument("--site", default=None, help="the store's site (with --store), e.g. resid.10")
    parser.add_argument("--only", default=",".join(CONTENDERS), help="comma-separated contenders to run")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    if bool(args.store) != bool(args.site):
        parser.error("--store and --site go together")
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(args.only) - set(CONTENDERS))
    if unknown:
        parser.error(f"unknown contenders {unknown}; choose from {list(CONTENDERS)}")
    if args.warmup_steps < 0 or args.timed_steps < 1 or args.repeats < 1:
        parser.error("need --warmup-steps >= 0, --timed-steps >= 1 and --repeats >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    command = "python bench/sae_train.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    facts = machine_facts()  # before the runs: src/ may change while they go
    n_rows = args.batch * (args.warmup_steps + args.timed_steps)
    started = time.perf_counter()
    if args.store:
        x = store_activations(args.store, args.site, n_rows)
        source = f"store {args.store}, site {args.site}"
    else:
        x = synthetic_activations(n_rows, args.d_in, seed=args.seed)
        source = "synthetic (8192 atoms, ~40 active per token)"
    args.d_sae = args.d_sae or 8 * x.shape[1]
    log.info("activations: %d x %d float32, %s (%.1f s)", *x.shape, source, time.perf_counter() - started)

    runs: dict[str, list[dict]] = {name: [] for name in CONTENDERS if name in args.only}  # table order
    with tempfile.TemporaryDirectory(prefix="incision-bench-sae-") as tmp:
        data = Path(tmp) / "activations.safetensors"
        save_file({DATA_KEY: x}, str(data))
        for repeat in range(args.repeats):
            order = args.only[repeat % len(args.only) :] + args.only[: repeat % len(args.only)]
            for name in order:
                result = run_one(args, name, x, data)
                runs[name].append({"repeat": repeat, **result})
                if "tokens_per_s" in result:
                    log.info("repeat %d: %-8s %8.0f tokens/s, FVU %.4f, %.1f s timed, other load %s cores",
                             repeat, name, result["tokens_per_s"], result["fvu_last"], result["seconds"],
                             "n/a" if result.get("other_cores") is None else f"{result['other_cores']:.1f}")  # fmt: skip
                else:
                    log.info("repeat %d: %s %s", repeat, name, result.get("skipped") or "failed")

    summary = summarise(runs)
    settings = {"d_in": x.shape[1], "d_sae": args.d_sae, "k": args.k, "batch": args.batch, "lr": args.lr,
                "dtype": "float32", "warmup_steps": args.warmup_steps, "timed_steps": args.timed_steps,
                "repeats": args.repeats, "seed": args.seed, "activations": source}  # fmt: skip
    print(f"\n`{command}`\n")
    print(
        f"Machine: {facts['cpu_count']} CPUs ({facts['processor']}), {facts['torch_threads']} torch threads, "
        f"torch {facts['torch']}, Python {facts['python']}, incision {facts['incision_commit']}.\n"
        f"TopK SAE d_in {settings['d_in']}, d_sae {args.d_sae}, k {args.k}, batch {args.batch}, Adam lr "
        f"{args.lr}, float32; {args.warmup_steps} warm-up + {args.timed_steps} timed steps, "
        f"median of {args.repeats}; activations: {source}.\n"
    )
    print(table(summary))
    if args.json:
        results = {
            "command": command,
            "machine": facts,
            "settings": settings,
            "summary": summary,
            "runs": runs,
        }
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 1 if any(s["status"] == "error" for s in summary.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
