"""Scrub throughput and quality: incision's PII detector against Presidio (and the regex baseline), on the
same texts, in the same process.

    python bench/pii.py [--detector out/demo/detector] [--n 300] [--repeats 3] [--json PATH]

The texts are the style-shifted synthetic split (`incision pii synth --split shifted`, seed 1), English and
Japanese. Each system scrubs all of them (find + replace, label style) once untimed, then `--repeats` times
interleaved; the figure is the median characters per second. Quality (character P/R/F1 per language) is
scored on the same run. Presidio needs the extra: pip install 'incision[presidio]'.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from incision.pii import RegexBaseline, evaluate_spans, scrub, synthesize
from incision.pii import presidio as presidio_module
from incision.pii.detector import Detector
from incision.pii.evaluation import table


def systems(detector_path: Path, langs: list[str]) -> dict:
    """name -> function(texts, langs) -> spans per text."""
    detector = Detector.load(detector_path)
    regex = RegexBaseline()
    found = {
        "incision": lambda texts, ls: detector.find_batch(texts),
        "regex": lambda texts, ls: [regex.find(t) for t in texts],
    }
    if presidio_module.available(langs):
        analyzer = presidio_module.PresidioBaseline(langs)
        found["presidio"] = lambda texts, ls: [
            analyzer.find(t, lang) for t, lang in zip(texts, ls, strict=True)
        ]
    return found


def timed_scrub(find, texts: list[str], langs: list[str]) -> tuple[float, list]:
    start = time.perf_counter()
    spans = find(texts, langs)
    for text, found in zip(texts, spans, strict=True):
        scrub(text, found, "label")
    return time.perf_counter() - start, spans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--detector", default="out/demo/detector", help="detector folder (make demo writes one)"
    )
    parser.add_argument(
        "--n", type=int, default=300, help="style-shifted records, half English, half Japanese"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if not (Path(args.detector) / "detector.json").is_file():
        raise SystemExit(f"no detector in {args.detector!r}: run `make demo` first, or pass --detector")
    records = synthesize(("en", "ja"), args.n, seed=1, split="shifted")
    texts, langs = [r["text"] for r in records], [r["lang"] for r in records]
    n_chars = sum(len(t) for t in texts)
    found = systems(Path(args.detector), sorted(set(langs)))
    spans, seconds = {}, {name: [] for name in found}
    for name, find in found.items():  # untimed warm-up; its spans are the ones scored
        _, spans[name] = timed_scrub(find, texts, langs)
    for repeat in range(args.repeats):
        order = list(found) if repeat % 2 == 0 else list(reversed(found))
        for name in order:
            seconds[name].append(timed_scrub(found[name], texts, langs)[0])
    reports = {name: evaluate_spans(records, spans[name]) for name in found}
    print(f"{len(texts)} texts, {n_chars} characters, torch threads {torch.get_num_threads()}\n")
    print("| system | median s | characters/s | char P / R / F1 (en) | char P / R / F1 (ja) |")
    print("|---|---|---|---|---|")
    rows = {}
    for name in found:
        median = statistics.median(seconds[name])
        by_lang = reports[name].by_lang
        cells = [
            f"{g.chars.precision:.3f} / {g.chars.recall:.3f} / {g.chars.f1:.3f}"
            for g in (by_lang["en"], by_lang["ja"])
        ]
        print(f"| {name} | {median:.2f} | {n_chars / median:,.0f} | {cells[0]} | {cells[1]} |")
        rows[name] = {
            "seconds": seconds[name],
            "chars_per_s": n_chars / median,
            "scores": reports[name].to_dict(),
        }
    print("\n" + table(reports))
    if args.json:
        Path(args.json).write_text(
            json.dumps({"n_texts": len(texts), "n_chars": n_chars, "systems": rows}, indent=1)
        )


if __name__ == "__main__":
    main()
