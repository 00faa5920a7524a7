"""`incision grok`: watch a one-layer transformer grok modular addition, with the progress measures and a
detector that fires before test accuracy jumps; curves as PNGs and a report."""

from __future__ import annotations

from pathlib import Path

from .options import add_dataclass_options, dataclass_kwargs


def add_grok(sub) -> None:
    from ..training.grokking import GrokConfig

    p = sub.add_parser("grok", help="grokking modular addition: progress measures and an early detector")
    add_dataclass_options(p, GrokConfig)
    p.add_argument("--out", default="out/grok", help="folder for the report, PNG curves, history and model")
    p.add_argument(
        "--threshold", type=float, default=1.0, help="detector: nats the key frequencies must carry"
    )
    p.add_argument("--patience", type=int, default=3, help="detector: looks in a row above the threshold")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    p.set_defaults(run=run_grok)


def run_grok(args) -> None:
    import torch

    from ..training.grokking import CircuitDetector, GrokConfig, grok

    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = GrokConfig(**dataclass_kwargs(args, GrokConfig))
    result = grok(cfg, Path(args.out), CircuitDetector(threshold=args.threshold, patience=args.patience))
    ph, last = result.phases, result.run.looks[-1]
    print(
        f"memorised at step {ph.memorised}, detector fired at {ph.detected}, test accuracy jumped at {ph.grokked}"
    )
    if ph.lead_steps is not None:
        print(f"lead: {ph.lead_steps} steps ({ph.lead_seconds:.0f} s)")
    print(f"final test accuracy {last.test_acc:.3f}, key frequencies {result.final_key['key']}")
    print(f"report: {result.report}")
