"""Probe training: incision's LinearProbe.fit against scikit-learn, and a layer sweep on the embedded Gemma.

    python bench/probe_train.py --part fit [--rows 200000] [--test-rows 50000] [--width 640] [--repeats 3]
    python bench/probe_train.py --part sweep [--task harmful] [--out DIR]
    python bench/probe_train.py                     # both parts
    ... [--json PATH]                               # also write the results here

fit: a synthetic binary task of `--rows` x `--width` float32 activations with a planted linear signal that is
not separable (labels drawn from a logistic model; the Bayes AUROC is printed), on realistic nuisance:
correlated features (a few dozen shared latent factors), per-feature scales from 0.02 to 50, offsets, and a
few "massive" features with large offsets. Both sides fit the same objective, L2-penalised logistic
regression with C = 1 on standardised features:

    scikit-learn  make_pipeline(StandardScaler(), LogisticRegression(C=1.0, solver="lbfgs", max_iter=1000))
                  on the float32 arrays (both steps keep float32), default tol 1e-4
    incision      LinearProbe.fit(torch.from_numpy(x), torch.from_numpy(y), l2=1.0): what a user calls on
                  in-memory activations (standardises inside; above 2M values it fits in float32)

After an untimed warm-up of each on a slice, the repeats run interleaved (scikit-learn first in even
repeats, incision first in odd ones); each reports both fit times (wall and CPU of this process), their
ratio, and the test AUROC of each. Medians over repeats are the figures, because this machine is noisy.
Both libraries use every core torch and BLAS see by default (no thread settings are changed).

sweep: the bundled task `--task` (train and held-out splits) captured at all 18 `resid.*` sites of the
embedded Gemma 3 270M, then `incision.probes.sweep.sweep(store, "resid.*", ProbeConfig(split_field="split"))`;
capture and sweep are timed separately, and the sweep table printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import sklearn
import torch
from peers.common import machine_busy_s  # one /proc/stat reader for every bench
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import incision
from incision.probes import LinearProbe

log = logging.getLogger("bench.probe_train")

MODEL = "gemma-3-270m"
MIN_SPEEDUP = 5.0
MAX_AUROC_GAP = 0.005


# --------------------------------------------------------------------------- data


def planted_task(n_rows: int, width: int, seed: int = 0, factors: int = 48, strength: float = 3.5):
    """float32 activations [n_rows, width] and 0/1 labels drawn from a logistic model on a planted
    direction, plus the true logits (for the Bayes AUROC). Every array is float32 from the start."""
    rng = np.random.default_rng(seed)
    loadings = rng.standard_normal((factors, width), dtype=np.float32) * np.float32(1.5 / np.sqrt(factors))
    direction = rng.standard_normal(width, dtype=np.float32)
    scale = np.exp(rng.uniform(np.log(0.02), np.log(50.0), width)).astype(np.float32)
    offset = (rng.standard_normal(width) * 20).astype(np.float32)
    massive = rng.choice(width, size=4, replace=False)  # like the few huge residual-stream features
    offset[massive] = np.float32(300.0) * np.sign(offset[massive])
    x = np.empty((n_rows, width), dtype=np.float32)
    logits = np.empty(n_rows, dtype=np.float32)
    step = 50_000
    for start in range(0, n_rows, step):  # in blocks: bounded temporaries
        rows = min(step, n_rows - start)
        latent = rng.standard_normal((rows, factors), dtype=np.float32) @ loadings
        block = latent + rng.standard_normal((rows, width), dtype=np.float32)
        logits[start : start + rows] = block @ direction
        x[start : start + rows] = block * scale + offset
    # about 40% positive; the logit spread sets how separable the classes are
    logits = (logits - logits.mean()) / logits.std() * np.float32(strength) - np.float32(0.8)
    y = (rng.random(n_rows, dtype=np.float32) < 1 / (1 + np.exp(-logits))).astype(np.int64)
    assert x.dtype == np.float32
    return x, y, logits


# --------------------------------------------------------------------------- timing


def timed(fn):
    """Run `fn()`; return (wall seconds, CPU seconds of this process, result)."""
    wall, cpu, _, result = timed_with_load(fn)
    return wall, cpu, result


def timed_with_load(fn):
    """Run `fn()`; return (wall s, CPU s of this process, cores other processes kept busy or None, result)."""
    busy0, cpu0, start = machine_busy_s(), time.process_time(), time.perf_counter()
    result = fn()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
    busy1 = machine_busy_s()
    other = None if busy0 is None or busy1 is None else max(0.0, (busy1 - busy0 - cpu) / wall)
    return wall, cpu, other, result


def fit_sklearn(x: np.ndarray, y: np.ndarray, max_iter: int = 1000):
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, solver="lbfgs", max_iter=max_iter))
    return pipeline.fit(x, y)


def fit_incision(x: np.ndarray, y: np.ndarray):
    return LinearProbe.fit(torch.from_numpy(x), torch.from_numpy(y), l2=1.0)


def proba_sklearn(model, x: np.ndarray) -> np.ndarray:
    return model.predict_proba(x)[:, 1]


def proba_incision(probe: LinearProbe, x: np.ndarray) -> np.ndarray:
    return probe.predict_proba(torch.from_numpy(x))[:, 1].double().numpy()


# --------------------------------------------------------------------------- fit part


def run_fit(args) -> dict:
    started = time.perf_counter()
    x, y, logits = planted_task(args.rows + args.test_rows, args.width, seed=args.seed)
    x_train, y_train = x[: args.rows], y[: args.rows]
    x_test, y_test = x[args.rows :], y[args.rows :]
    bayes = roc_auc_score(y_test, logits[args.rows :])
    log.info(
        "data: %d train + %d test rows x %d, float32, %.1f%% positive, Bayes AUROC %.4f (%.1f s)",
        args.rows,
        args.test_rows,
        args.width,
        100 * y.mean(),
        bayes,
        time.perf_counter() - started,
    )
    warm = slice(0, min(args.rows, 20_000))
    fit_sklearn(x_train[warm], y_train[warm])
    fit_incision(x_train[warm], y_train[warm])

    runs = []
    for repeat in range(args.repeats):
        order = ("sklearn", "incision") if repeat % 2 == 0 else ("incision", "sklearn")
        run = {"repeat": repeat, "first": order[0]}
        for name in order:
            fit = fit_sklearn if name == "sklearn" else fit_incision
            wall, cpu, other, model = timed_with_load(lambda fit=fit: fit(x_train, y_train))
            proba = (proba_sklearn if name == "sklearn" else proba_incision)(model, x_test)
            run[name] = {
                "wall_s": wall,
                "cpu_s": cpu,
                "other_cores": other,
                "auroc": roc_auc_score(y_test, proba),
            }
            if name == "sklearn":
                run[name]["n_iter"] = int(model[-1].n_iter_[0])
                run[name]["coef_dtype"] = str(model[-1].coef_.dtype)
            run[name + "_proba"] = proba
            del model
        run["speedup"] = run["sklearn"]["wall_s"] / run["incision"]["wall_s"]
        run["auroc_diff"] = run["incision"]["auroc"] - run["sklearn"]["auroc"]
        run["max_proba_diff"] = float(np.abs(run.pop("incision_proba") - run.pop("sklearn_proba")).max())
        log.info(
            "repeat %d: scikit-learn %.2f s (%d iterations), incision %.2f s: %.1fx; AUROC %.5f vs %.5f",
            repeat,
            run["sklearn"]["wall_s"],
            run["sklearn"]["n_iter"],
            run["incision"]["wall_s"],
            run["speedup"],
            run["sklearn"]["auroc"],
            run["incision"]["auroc"],
        )
        runs.append(run)

    def median(key, side=None):
        return statistics.median(r[side][key] if side else r[key] for r in runs)

    summary = {
        "sklearn_median_s": median("wall_s", "sklearn"),
        "incision_median_s": median("wall_s", "incision"),
        "speedup_median": median("speedup"),
        "speedup_min": min(r["speedup"] for r in runs),
        "speedup_of_medians": median("wall_s", "sklearn") / median("wall_s", "incision"),
        "sklearn_auroc": median("auroc", "sklearn"),
        "incision_auroc": median("auroc", "incision"),
        "auroc_diff_max_abs": max(abs(r["auroc_diff"]) for r in runs),
        "max_proba_diff": max(r["max_proba_diff"] for r in runs),
        "bayes_auroc": bayes,
    }
    summary["within_target"] = (
        summary["speedup_median"] >= MIN_SPEEDUP and summary["auroc_diff_max_abs"] <= MAX_AUROC_GAP
    )
    return {"setup": vars(args) | {"positive_rate": float(y.mean())}, "runs": runs, "summary": summary}


def fit_markdown(result: dict) -> str:
    s, setup, runs = result["summary"], result["setup"], result["runs"]
    lines = [
        f"{setup['rows']:,} train + {setup['test_rows']:,} test rows x {setup['width']} float32, "
        f"{100 * setup['positive_rate']:.0f}% positive, Bayes AUROC {s['bayes_auroc']:.4f}; "
        f"{len(runs)} interleaved repeats after a warm-up.",
        "",
        "| repeat | scikit-learn s (CPU s, iterations) | incision s (CPU s) | speed-up "
        "| AUROC scikit-learn | AUROC incision | difference | max abs Δp | other load (cores) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        sk, inc = r["sklearn"], r["incision"]
        loads = [v for v in (sk["other_cores"], inc["other_cores"]) if v is not None]
        load = f"{max(loads):.1f}" if loads else "n/a"
        lines.append(
            f"| {r['repeat']} ({r['first']} first) | {sk['wall_s']:.2f} ({sk['cpu_s']:.2f}, {sk['n_iter']}) | "
            f"{inc['wall_s']:.3f} ({inc['cpu_s']:.2f}) | {r['speedup']:.1f}x | {sk['auroc']:.5f} | "
            f"{inc['auroc']:.5f} | {r['auroc_diff']:+.5f} | {r['max_proba_diff']:.1e} | {load} |"
        )
    ok = "ok" if s["within_target"] else "**missed**"
    lines.append(
        f"| **median** | **{s['sklearn_median_s']:.2f}** | **{s['incision_median_s']:.3f}** | "
        f"**{s['speedup_median']:.1f}x** (min {s['speedup_min']:.1f}x) | {s['sklearn_auroc']:.5f} | "
        f"{s['incision_auroc']:.5f} | max abs {s['auroc_diff_max_abs']:.5f} | | |"
    )
    lines += [
        "",
        f"Target: >= {MIN_SPEEDUP:.0f}x and AUROC within {MAX_AUROC_GAP} of scikit-learn: {ok}.",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- sweep part


def run_sweep(args) -> dict:
    from incision.datasets import load_task
    from incision.probes.sweep import sweep
    from incision.probes.train import L2_GRID, ProbeConfig

    records = load_task(args.task)
    load_s, _, subject = timed(lambda: incision.load(MODEL))
    log.info("loaded %s in %.1f s; %d records of task %r", MODEL, load_s, len(records), args.task)
    tmp = None if args.out else Path(tempfile.mkdtemp(prefix="incision-bench-sweep-"))
    root = Path(args.out) if args.out else tmp
    try:
        capture_s, capture_cpu, store = timed(
            lambda: incision.capture(
                subject, records, "resid.*", root / "store", overwrite=True, progress=False
            )
        )
        log.info("captured %d sites, %d tokens in %.1f s", len(store.sites), store.n_tokens, capture_s)
        config = ProbeConfig(split_field="split")
        sweep_s, sweep_cpu, report = timed(
            lambda: sweep(store, "resid.*", config, out=root / "probe", progress=False)
        )
        log.info("swept %d sites in %.1f s; best %s", len(report.reports), sweep_s, report.best.site)
        best = report.best
        order = ["val", "test"] + [s for s in best.metrics if s not in ("val", "test")]
        splits = {name: float(best.metrics[name].auroc) for name in order if name in best.metrics}
        return {
            "setup": {
                "task": args.task,
                "records": len(records),
                "model": MODEL,
                "tokens": store.n_tokens,
                "l2_grid": list(L2_GRID),
                "n_bootstrap": config.n_bootstrap,
                "pooling": config.pooling,
            },
            "load_s": load_s,
            "capture_s": capture_s,
            "capture_cpu_s": capture_cpu,
            "sweep_s": sweep_s,
            "sweep_cpu_s": sweep_cpu,
            "sites": len(report.reports),
            "best_site": best.site,
            "best_auroc": splits,
            "best_l2": best.l2,
            "n_examples": best.n_examples,
            "table": report.table(),
        }
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def sweep_markdown(result: dict) -> str:
    best, setup = result["best_auroc"], result["setup"]
    counts = ", ".join(f"{k} {v}" for k, v in result["n_examples"].items())
    lines = [
        f"Task `{setup['task']}` ({setup['records']} records, {setup['tokens']:,} tokens; documents per split: "
        f"{counts}), {result['sites']} sites `resid.*` of {setup['model']} (loaded in {result['load_s']:.1f} s), "
        f'`ProbeConfig(split_field="split")`: {setup["pooling"]} pooling, L2 chosen on val from '
        f"{len(setup['l2_grid'])} values, {setup['n_bootstrap']} bootstrap resamples.",
        "",
        "| step | wall s | CPU s |",
        "|---|---|---|",
        f"| capture {result['sites']} sites to disk (bfloat16) | {result['capture_s']:.1f} | "
        f"{result['capture_cpu_s']:.1f} |",
        f"| sweep: {result['sites']} probes, evaluation, plot | {result['sweep_s']:.1f} | "
        f"{result['sweep_cpu_s']:.1f} |",
        "",
        f"Best site on validation: `{result['best_site']}` (l2 = {result['best_l2']}), AUROC "
        + ", ".join(f"{k} {v:.3f}" for k, v in best.items())
        + ".",
        "",
        "```",
        result["table"],
        "```",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def machine_facts() -> dict:
    return {
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "incision": incision.__version__,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["fit", "sweep", "both"], default="both")
    parser.add_argument("--rows", type=int, default=200_000, help="training rows (fit)")
    parser.add_argument("--test-rows", type=int, default=50_000, help="held-out rows (fit)")
    parser.add_argument("--width", type=int, default=640, help="features (fit)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats (fit)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic task (fit)")
    parser.add_argument("--task", default="harmful", help="bundled task (sweep)")
    parser.add_argument("--out", default=None, help="keep the store and best probe here (sweep)")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    command = "python bench/probe_train.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    facts = machine_facts()
    results: dict = {"command": command, "machine": facts}
    sections = []
    if args.part in ("fit", "both"):
        results["fit"] = run_fit(args)
        sections.append(fit_markdown(results["fit"]))
    if args.part in ("sweep", "both"):
        results["sweep"] = run_sweep(args)
        sections.append(sweep_markdown(results["sweep"]))
    print(f"\n`{command}`\n")
    print(
        f"Machine: {facts['cpu_count']} CPUs ({facts['processor']}), {facts['torch_threads']} torch threads, "
        f"torch {facts['torch']}, scikit-learn {facts['sklearn']}, numpy {facts['numpy']}, "
        f"Python {facts['python']}.\n"
    )
    print("\n\n".join(sections))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return results


if __name__ == "__main__":
    main()
