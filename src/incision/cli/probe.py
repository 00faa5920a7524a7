"""`incision probe train | eval | score`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..probes.train import ProbeConfig
from .options import add_dataclass_options, dataclass_kwargs


def add_probe(sub) -> None:
    p = sub.add_parser("probe", help="train, evaluate and apply linear probes")
    actions = p.add_subparsers(dest="action", required=True)

    train = actions.add_parser("train", help="train a probe per site of a store; save the best")
    train.add_argument("--store", required=True, help="store folder written by `incision capture`")
    train.add_argument("--sites", default=None, help="sites or patterns, e.g. 'resid.*' (default: all)")
    train.add_argument("--out", required=True, help="probe folder to write (with report.json, sweep.png)")
    add_dataclass_options(train, ProbeConfig)
    train.set_defaults(run=run_train)

    evaluate = actions.add_parser("eval", help="evaluate a saved probe on a labelled store")
    evaluate.add_argument("--probe", required=True, help="probe folder")
    evaluate.add_argument("--store", required=True, help="store with the probe's site and labels")
    evaluate.add_argument(
        "--where", default=None, help="only documents whose FIELD=VALUE, e.g. split=heldout"
    )
    evaluate.add_argument("--n-bootstrap", type=int, default=1000, help="resamples for confidence intervals")
    evaluate.add_argument("--json", default=None, help="also write the metrics to this JSON file")
    evaluate.set_defaults(run=run_eval)

    score = actions.add_parser("score", help="score texts with a probe on the live model (no store)")
    score.add_argument("--probe", required=True, help="probe folder")
    score.add_argument("--input", required=True, help="a .jsonl, .json, .csv, .parquet or .txt file")
    score.add_argument(
        "--model", default=None, help="model to run (default: the one the probe was trained on)"
    )
    score.add_argument("--text-field", default="text", help="field of each record that holds its text")
    score.add_argument("--out", default=None, help="JSONL file of scores (default: standard output)")
    score.set_defaults(run=run_score)


def run_train(args) -> None:
    """Under `torchrun --nproc-per-node N`, the solvers split the training rows over N processes and rank 0
    writes the outputs."""
    from ..core.store import ActivationStore
    from ..distributed.ddp import finish, init_from_env, is_main
    from ..probes.sweep import sweep

    init_from_env()
    main = is_main()
    try:
        config = ProbeConfig(**dataclass_kwargs(args, ProbeConfig))
        report = sweep(ActivationStore.open(args.store), args.sites, config, out=args.out if main else None)
    finally:
        finish()
    if not main:
        return
    print(report.table())
    print(f"\nbest site {report.best.site}: probe saved to {args.out}/ (report.json", end="")
    print(", sweep.png)" if report.plot else ")")


def run_eval(args) -> None:
    from ..core.store import ActivationStore
    from ..probes import LinearProbe
    from ..probes.evaluate import evaluate_probe

    probe = LinearProbe.load(args.probe)
    where = _parse_where(args.where)
    metrics = evaluate_probe(
        probe, ActivationStore.open(args.store), where=where, n_bootstrap=args.n_bootstrap
    )
    from ..probes.metrics import summary

    print(summary(metrics))
    if args.json:
        Path(args.json).write_text(json.dumps(metrics.to_dict(), indent=1))


def run_score(args) -> None:
    from .. import load
    from ..probes import LinearProbe

    probe = LinearProbe.load(args.probe)
    subject = load(args.model or probe.meta.get("model"))
    results = probe.score(subject, Path(args.input), text_field=args.text_field, progress=True)
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115 (stdout stays open)
    try:
        for index, result in enumerate(results):
            out.write(json.dumps({"index": index, **_record(result, probe.label_names)}) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()


def _record(result, label_names: list[str]) -> dict:
    """Scores and offsets only: the texts may hold PII and are never echoed."""
    if hasattr(result, "proba_TC"):
        return {
            "tokens": [
                {"start": s, "end": e, "label": lab, "score": round(p, 6)}
                for s, e, lab, p in zip(result.starts, result.ends, result.labels, result.scores, strict=True)
            ]
        }
    return {
        "label": result.label,
        "score": round(result.score, 6),
        "proba": {n: round(p, 6) for n, p in zip(label_names, result.proba, strict=True)},
    }


def _parse_where(where: str | None) -> tuple[str, str] | None:
    if where is None:
        return None
    field, sep, value = where.partition("=")
    if not sep or not field:
        from ..errors import ConfigError

        raise ConfigError(f"--where takes FIELD=VALUE, got {where!r}")
    return field, value
