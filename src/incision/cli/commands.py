"""Subcommands: capture, models, demo."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..capture import CaptureConfig
from ..models.embedded import DEFAULT_MODEL
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
    p.set_defaults(run=run_capture)


def run_capture(args) -> None:
    from .. import capture, load

    subject = load(args.model)
    store = capture(subject, Path(args.input), args.sites, args.out, **dataclass_kwargs(args, CaptureConfig))
    print(store)


def add_models(sub) -> None:
    p = sub.add_parser("models", help="list the embedded models and whether each is installed and cached")
    p.set_defaults(run=run_models)


def run_models(_args) -> None:
    from ..models import model_status

    rows = model_status()
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        state = "cached" if r["cached"] else "installed" if r["installed"] else f"missing ({r['install']})"
        default = " [default]" if r["name"] == DEFAULT_MODEL else ""
        print(f"{r['name']:<{width}}  {state:<10}  {r['description']}{default}")


def add_demo(sub) -> None:
    p = sub.add_parser("demo", help="the flagship pipeline on the embedded default model")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--out", default="out/demo-store", help="store folder to write")
    p.set_defaults(run=run_demo)


def run_demo(args) -> None:
    from .. import capture, load

    sample = resources.files("incision") / "data" / "demo_texts.jsonl"
    print(f"loading {args.model} (the first run converts it from GGUF once)...")
    subject = load(args.model)
    sites = [f"resid.{subject.n_layers // 2}", f"resid.{subject.n_layers - 1}"]
    with resources.as_file(sample) as path:
        store = capture(subject, path, sites, Path(args.out), overwrite=True)
    print(f"\n{store}\n")
    tokens, documents = store.tokens, store.documents
    print(f"{'doc':>3} {'lang':<4} {'tokens':>6}  first tokens (text span each covers)")
    rows = documents.to_pylist()
    shown = [r for r in rows if r["lang"] == "en"][:3] + [r for r in rows if r["lang"] == "ja"][:3]
    for row in shown:
        doc_tokens = tokens.filter(tokens["doc"].to_numpy() == row["doc"]).slice(0, 8).to_pylist()
        spans = " ".join(repr(row["text"][t["char_start"] : t["char_end"]]) for t in doc_tokens)
        print(f"{row['doc']:>3} {row['lang']:<4} {row['n_tokens']:>6}  {spans}")
    print("\nmean activation norm per site:")
    for site in store.sites:
        acts = store.to_tensor(site).float()
        print(f"  {site:<9} [{acts.shape[0]} x {acts.shape[1]}]  norm {acts.norm(dim=1).mean():.1f}")
