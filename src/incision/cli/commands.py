"""Subcommands: capture, models."""

from __future__ import annotations

from pathlib import Path

from ..core.capture import CaptureConfig
from ..core.models.embedded import DEFAULT_MODEL
from ..core.models.placement import Placement
from ..distributed.ray_config import RayConfig
from .options import add_dataclass_options, dataclass_kwargs


def add_capture(sub) -> None:
    p = sub.add_parser("capture", help="capture activations of some sites into a store folder")
    p.add_argument("--model", default=DEFAULT_MODEL, help="embedded name, local folder or hub id")
    p.add_argument(
        "--sites", required=True, help="comma-separated sites or patterns: resid.6,mlp.-1 or 'resid.*'"
    )
    p.add_argument("--input", required=True, help="a .jsonl, .json, .csv, .parquet or .txt file")
    p.add_argument("--out", required=True, help="store folder (resumed if it holds the same capture)")
    add_dataclass_options(p, CaptureConfig)
    add_dataclass_options(p.add_argument_group("model placement"), Placement)
    ray = p.add_argument_group("Ray: one model per worker, all writing one store")
    ray.add_argument("--ray", action="store_true", help="capture on a Ray cluster (local unless --address)")
    add_dataclass_options(ray, RayConfig)
    p.set_defaults(run=run_capture)


def run_capture(args) -> None:
    from .. import capture, load

    placement = Placement(**dataclass_kwargs(args, Placement))
    options = dataclass_kwargs(args, CaptureConfig)
    if args.ray:
        from ..distributed.ray_capture import capture_on_ray

        ray_config = RayConfig(**dataclass_kwargs(args, RayConfig))
        store = capture_on_ray(
            args.model, Path(args.input), args.sites, args.out, ray_config, placement, **options
        )
    else:
        store = capture(
            load(args.model, **placement.load_kwargs()), Path(args.input), args.sites, args.out, **options
        )
    print(store)


def add_models(sub) -> None:
    p = sub.add_parser("models", help="list the embedded models and whether each is installed and cached")
    p.set_defaults(run=run_models)


def run_models(_args) -> None:
    from ..core.models import model_status

    rows = model_status()
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        state = "cached" if r["cached"] else "installed" if r["installed"] else f"missing ({r['install']})"
        default = " [default]" if r["name"] == DEFAULT_MODEL else ""
        print(f"{r['name']:<{width}}  {state:<10}  {r['description']}{default}")
