"""`incision pii synth | train | eval | scrub`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..models.embedded import DEFAULT_MODEL
from ..pii.train import DetectorConfig
from .options import add_dataclass_options, dataclass_kwargs

SCRUB_BATCH = 32  # lines scored per forward pass when streaming


def add_pii(sub) -> None:
    p = sub.add_parser("pii", help="synthesise PII data, train a detector, evaluate it, scrub text")
    actions = p.add_subparsers(dest="action", required=True)

    synth = actions.add_parser("synth", help="synthetic EN/JA customer messages with PII spans (JSONL)")
    synth.add_argument("--lang", default="en,ja", help="comma-separated languages: en, ja")
    synth.add_argument("--n", type=int, default=5000, help="records, split evenly between languages")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--split", default="train", help="train, or shifted (styles never used for train)")
    synth.add_argument("--out", required=True, help="JSONL file to write")
    synth.set_defaults(run=run_synth)

    train = actions.add_parser("train", help="train a detector (site sweep, token probe, recall threshold)")
    train.add_argument("--data", required=True, help="JSONL records with spans (from `incision pii synth`)")
    train.add_argument("--model", default=DEFAULT_MODEL, help="embedded name, local folder or hub id")
    train.add_argument("--out", required=True, help="detector folder to write")
    train.add_argument("--work", default=None, help="folder for the stores (default: OUT/work)")
    add_dataclass_options(train, DetectorConfig)
    train.set_defaults(run=run_train)

    evaluate = actions.add_parser("eval", help="judge a detector and the baselines on gold records")
    evaluate.add_argument("--detector", default=None, help="detector folder (omit to judge baselines only)")
    evaluate.add_argument("--gold", required=True, help="JSONL records with gold spans")
    evaluate.add_argument("--baselines", default="regex,presidio", help="comma-separated: regex, presidio")
    evaluate.add_argument("--html", default=None, help="write the span view here")
    evaluate.add_argument("--json", default=None, help="write the scores here")
    evaluate.set_defaults(run=run_eval)

    scrub = actions.add_parser("scrub", help="scrub stdin to stdout: plain text lines or JSONL records")
    scrub.add_argument("--detector", required=True, help="detector folder")
    scrub.add_argument("--style", default="label", choices=["label", "mask", "hash", "fake"])
    scrub.add_argument("--salt", default="", help="secret that keys the hash and fake styles")
    scrub.add_argument("--jsonl", action="store_true", help="input lines are JSON records")
    scrub.add_argument("--text-field", default="text", help="field of each JSON record that holds its text")
    scrub.set_defaults(run=run_scrub)


def run_synth(args) -> None:
    from ..pii.synth import synth_main

    path = synth_main(args.lang, args.n, args.seed, args.split, Path(args.out))
    print(f"wrote {args.n} records to {path}")


def run_train(args) -> None:
    from .. import load
    from ..pii.records import read_records
    from ..pii.train import train_detector

    records = read_records(args.data)
    subject = load(args.model)
    config = DetectorConfig(**dataclass_kwargs(args, DetectorConfig))
    detector, _ = train_detector(subject, records, Path(args.work or Path(args.out) / "work"), config)
    detector.save(args.out)
    print(_operating_point(detector))
    print(f"detector saved to {args.out}/")


def run_eval(args) -> None:
    from ..pii.compare import compare
    from ..pii.detector import Detector
    from ..pii.records import read_records

    gold = read_records(args.gold)
    detector = Detector.load(args.detector) if args.detector else None
    baselines = [b for b in args.baselines.split(",") if b]
    result = compare(detector, gold, baselines, html=args.html)
    print(result.table())
    if args.json:
        Path(args.json).write_text(json.dumps(result.to_dict(), indent=1))


def run_scrub(args) -> None:
    from ..pii.detector import Detector

    detector = Detector.load(args.detector)
    batch: list[tuple[str, dict | None]] = []
    try:
        for number, line in enumerate(sys.stdin, start=1):
            if args.jsonl and not line.strip():
                continue
            batch.append(_parse_line(line, number, args) if args.jsonl else (line.rstrip("\n"), None))
            if len(batch) == SCRUB_BATCH:
                _write_scrubbed(detector, batch, args)
                batch = []
    finally:  # what was read before a bad line is still written
        if batch:
            _write_scrubbed(detector, batch, args)


def _parse_line(line: str, number: int, args) -> tuple[str, dict]:
    from ..errors import InputError

    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        raise InputError(f"stdin line {number} is not valid JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(record, dict) or not isinstance(record.get(args.text_field), str):
        raise InputError(f"stdin line {number} has no string field {args.text_field!r}")
    return record[args.text_field], record


def _write_scrubbed(detector, batch, args) -> None:
    from ..pii.scrub import scrub

    spans = detector.find_batch([text for text, _ in batch])
    for (text, record), found in zip(batch, spans, strict=True):
        scrubbed = scrub(text, found, args.style, args.salt)
        if record is None:
            sys.stdout.write(scrubbed + "\n")
        else:
            out = {**record, args.text_field: scrubbed, "pii": [s.to_dict() for s in found]}
            sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _operating_point(detector) -> str:
    point = detector.meta.get("operating_point", {})
    char = point.get("char", {})
    return (
        f"site {detector.probe.meta.get('site')}, threshold {detector.threshold:.3f}: validation character "
        f"recall {char.get('recall', float('nan')):.3f}, precision {char.get('precision', float('nan')):.3f}"
    )
