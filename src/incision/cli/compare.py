"""`incision compare`: raw-activation probes vs SAE probes vs difference of means at one site of a store."""

from __future__ import annotations

import json
from pathlib import Path

from ..probes.train import ProbeConfig
from .options import add_dataclass_options, dataclass_kwargs

_SET_BY_COMMAND = ("method",)  # every method is trained; see --methods


def add_compare(sub) -> None:
    from ..sae.probe_comparison import METHODS

    p = sub.add_parser(
        "compare", help="raw probes vs SAE probes vs difference of means, in distribution and under shift"
    )
    p.add_argument("--store", required=True, help="labelled store folder written by `incision capture`")
    p.add_argument("--site", required=True, help="one site of the store, e.g. resid.6")
    p.add_argument(
        "--sae", required=True, help="SAE folder (incision or SAELens layout) trained on that site"
    )
    p.add_argument("--out", required=True, help="folder for table.txt, comparison.json and comparison.png")
    p.add_argument(
        "--methods", default=",".join(METHODS), help="comma-separated methods (sae_top<k> for any k)"
    )
    p.add_argument(
        "--metric",
        default=None,
        help="metric compared (default: AUROC, macro AUROC for multiclass; or f1, macro_f1, accuracy, auprc)",
    )
    add_dataclass_options(p, ProbeConfig, skip=_SET_BY_COMMAND)
    p.set_defaults(run=run_compare)


def run_compare(args) -> None:
    from ..core.store import ActivationStore
    from ..sae import load
    from ..sae.probe_comparison import compare_probes

    config = ProbeConfig(**dataclass_kwargs(args, ProbeConfig, skip=_SET_BY_COMMAND))
    store = ActivationStore.open(args.store)
    comparison = compare_probes(
        store, args.site, load(args.sae), config, methods=args.methods.split(","), metric=args.metric
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = comparison.table()
    (out / "table.txt").write_text(table + "\n", encoding="utf-8")
    (out / "comparison.json").write_text(json.dumps(comparison.to_dict(), indent=1), encoding="utf-8")
    comparison.plot(out / "comparison.png")
    print(table)
    print(f"\nwritten to {out}/ (table.txt, comparison.json, comparison.png)")
