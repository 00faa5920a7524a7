"""`incision demo`: the flagship job. Synthetic EN/JA customer messages, a PII detector trained on the
embedded model's activations, judged on a style-shifted split (and a gold file, if given) against the
regex baseline and Presidio, and raw-activation probes compared with SAE probes on the same task,
saved with an HTML report."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from ..core.models.embedded import DEFAULT_MODEL


def add_demo(sub) -> None:
    p = sub.add_parser("demo", help="the flagship PII pipeline on the embedded default model")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--out", default="out/demo", help="folder for data, detector, scores and report.html")
    p.add_argument(
        "--n", type=int, default=4000, help="synthetic training records (half English, half Japanese)"
    )
    p.add_argument("--n-test", type=int, default=600, help="style-shifted records to judge on")
    p.add_argument("--gold", default=None, help="also judge on this JSONL file of real records with spans")
    p.add_argument(
        "--sae",
        default=None,
        help="SAE folder for the probe comparison (default: train one on the detector's site)",
    )
    p.add_argument("--no-sae", action="store_true", help="skip the raw vs SAE probe comparison")
    p.set_defaults(run=run_demo)


def run_demo(args) -> None:
    from .. import load
    from ..pii.compare import compare
    from ..pii.records import read_records, write_records
    from ..pii.synth import synthesize
    from ..pii.train import DetectorConfig, train_detector

    out, start = Path(args.out), time.perf_counter()
    print(f"loading {args.model} (the first run converts it from GGUF once)...")
    subject = load(args.model)
    train = synthesize(("en", "ja"), args.n, seed=0, split="train")
    shifted = synthesize(("en", "ja"), args.n_test, seed=1, split="shifted")
    write_records(train, out / "data" / "train.jsonl")
    write_records(shifted, out / "data" / "shifted.jsonl")
    print(f"synthesised {len(train)} training and {len(shifted)} style-shifted records into {out / 'data'}/")

    detector, _ = train_detector(subject, train, out / "work", DetectorConfig())
    detector.save(out / "detector")
    point = detector.meta["operating_point"]["char"]
    print(
        f"\ndetector: {detector.probe.meta['site']}, threshold {detector.threshold:.2f} on P(PII) "
        f"(validation: character recall {point['recall']:.3f}, precision {point['precision']:.3f})"
    )
    appendix = "" if args.no_sae else _sae_step(subject, out, train, shifted, args.sae)
    judged = {"style-shifted synthetic": (shifted, out / "report.html")}
    if args.gold:
        judged[f"gold file {Path(args.gold).name}"] = (read_records(args.gold), out / "report-gold.html")
    scores = {}
    for name, (records, html) in judged.items():
        result = compare(
            detector, records, html=html, appendix=appendix if html.name == "report.html" else ""
        )
        scores[name] = result.to_dict()
        print(f"\n### {name}: {len(records)} records\n{result.table()}")
        print("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in result.seconds.items()))
    (out / "scores.json").write_text(json.dumps(scores, indent=1))
    example = next((r for r in shifted if r["spans"]), None)  # a tiny --n-test may have none
    if example is not None:
        print(f"\nexample (synthetic):\n  {example['text']}\n  {detector.scrub(example['text'])}")
    print(
        f"\ndetector in {out / 'detector'}/, report in {out / 'report.html'}, {time.perf_counter() - start:.0f} s"
    )


METHODS = ("raw", "sae_dense", "sae_top8", "sae_top32", "reconstruction")  # of the SAE step
METRICS = ("macro_f1", "macro_auroc")
N_RECORDS = 1000  # training records sampled into the comparison's store


def _sae_step(subject, out: Path, train: list[dict], shifted: list[dict], sae_path: str | None) -> str:
    """Raw vs SAE probes on the PII token task; returns the report's section.

    The SAE reads the detector's own store (its site, its training text; the shifted records stay unseen).
    The comparison store holds a sample of the training records (drawn into train, val and test) and every
    shifted record, captured at the same site. The files go to `out/sae-compare/`."""
    from .. import capture
    from ..core.store import ActivationStore
    from ..probes.train import ProbeConfig
    from ..sae import load
    from ..sae.comparison_report import comparison_html, write_comparisons
    from ..sae.probe_comparison import compare_probes
    from ..sae.site_training import train_small_sae

    print(
        "\nraw-activation probes vs SAE probes on the PII token task"
        + ("" if sae_path else " (training the SAE)")
    )
    folder = out / "sae-compare"
    detector_store = ActivationStore.open(out / "work" / "store")
    site = detector_store.sites[0]
    sae = load(sae_path) if sae_path else train_small_sae(detector_store, site, folder / "sae", epochs=3)
    sample = random.Random(0).sample(train, min(N_RECORDS, len(train)))
    records = [{**r, "split": "train"} for r in sample] + [{**r, "split": "shifted"} for r in shifted]
    store = capture(subject, records, site, folder / "store", overwrite=True)
    config = ProbeConfig(level="token", spans_field="spans", split_field="split")
    first = compare_probes(store, site, sae, config, methods=METHODS, metric=METRICS[0])
    comparisons = [first] + [first.with_metric(m) for m in METRICS[1:]]
    write_comparisons(comparisons, folder)
    for comparison in comparisons:
        print(comparison.table())
    note = (
        f"SAE: {sae_path}."
        if sae_path
        else (
            "SAE: TopK, 4x the width, k = 32, trained here on the detector's training tokens (3 passes); a small SAE, "
            "so treat its numbers as a demonstration of the measurement. docs/benchmarks.md has a 2M-token one."
        )
    )
    intro = (
        f"Token probes at {site}, trained on a sample of {N_RECORDS} training "
        "records (drawn into train, val and test) and judged in distribution (val, test) and on every "
        "style-shifted record (shifted). Methods: a logistic probe on the raw activations, on all SAE latents, "
        "on the 8 and 32 latents chosen on the training split, and on the SAE's reconstruction. "
        f"{note} Intervals: 95% bootstrap."
    )
    heading = "Raw-activation probes vs SAE probes (PII token task)"
    return comparison_html(comparisons, folder, heading, intro)
