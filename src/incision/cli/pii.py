"""`incision pii synth | train | eval | scrub`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import NamedTuple, get_args

from ..core.models.embedded import DEFAULT_MODEL
from ..pii.scrub import Style
from ..pii.train import DetectorConfig
from .options import add_dataclass_options, dataclass_kwargs

SCRUB_BATCH = 32  # lines scored per forward pass when streaming
SPANS_FIELD = "pii_spans"  # added to each JSONL record by `pii scrub`


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
    train.add_argument(
        "--work",
        default=None,
        help="folder for the activation stores, which hold every training text (default: OUT.work, next "
        "to the detector folder and never inside it, so that the detector can be shipped alone)",
    )
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
    scrub.add_argument("--style", default="label", choices=get_args(Style))
    scrub.add_argument("--salt", default="", help="secret that keys the hash and fake styles (they need one)")
    scrub.add_argument(
        "--jsonl",
        action="store_true",
        help=f"input lines are JSON records; each gets a {SPANS_FIELD!r} field whose offsets refer to the "
        "input text, not the scrubbed one (a record that already has that field is refused)",
    )
    scrub.add_argument("--text-field", default="text", help="field of each JSON record that holds its text")
    scrub.set_defaults(run=run_scrub)


def run_synth(args) -> None:
    """Stream the records to JSONL, so --n can be large."""
    from ..pii.synth import SynthConfig, write_synth

    config = SynthConfig(lang=args.lang, n=args.n, seed=args.seed, split=args.split)
    path = write_synth(config, Path(args.out), progress=True)
    print(f"wrote {args.n} records to {path}")


def run_train(args) -> None:
    from .. import load
    from ..pii.records import read_records
    from ..pii.train import train_detector

    records = read_records(args.data)
    subject = load(args.model)
    config = DetectorConfig(**dataclass_kwargs(args, DetectorConfig))
    detector, _ = train_detector(subject, records, _work_folder(args), config)
    detector.save(args.out)
    print(_operating_point(detector))
    print(f"detector saved to {args.out}/")


def _work_folder(args) -> Path:
    """--work, else OUT.work: the stores hold the training texts, so they stay out of the detector."""
    if args.work:
        return Path(args.work)
    out = Path(args.out).resolve()
    return out.with_name(out.name + ".work")


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
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result.to_dict(), indent=1))


class _Line(NamedTuple):
    text: str  # lone surrogates already replaced, so offsets and output agree
    record: dict | None  # the JSON record, in --jsonl mode
    ending: str  # "\n", or "" for a last plain line that had none


def run_scrub(args) -> None:
    from ..errors import InputError
    from ..pii.detector import Detector
    from ..pii.scrub import scrub

    scrub("", [], args.style, args.salt)  # a bad style or a missing salt is refused before the model loads
    detector = Detector.load(args.detector)
    if hasattr(sys.stdin, "reconfigure"):
        sys.stdin.reconfigure(errors="replace")  # undecodable bytes become U+FFFD, not a crash
    batch: list[_Line] = []
    for number, line in enumerate(sys.stdin, start=1):
        try:
            parsed = _parse_line(line, number, args)
        except InputError:
            _write_scrubbed(detector, batch, args)  # what was read before a bad line is still written
            raise
        if parsed is not None:
            batch.append(parsed)
        if len(batch) == SCRUB_BATCH:
            full, batch = batch, []  # cleared first, so that a failed write is never written again
            _write_scrubbed(detector, full, args)
    _write_scrubbed(detector, batch, args)


def _parse_line(line: str, number: int, args) -> _Line | None:
    from ..errors import InputError
    from ..pii.records import clean_text, parse_json_line

    if not args.jsonl:
        text = line.removesuffix("\n")
        return _Line(clean_text(text), None, line[len(text) :])
    if not line.strip():
        return None
    where = f"stdin line {number}"
    record = parse_json_line(line, where)
    if not isinstance(record, dict) or not isinstance(record.get(args.text_field), str):
        raise InputError(f"{where} has no string field {args.text_field!r}")
    if SPANS_FIELD in record:
        raise InputError(f"{where} already has a field {SPANS_FIELD!r}, which scrubbing would overwrite")
    return _Line(clean_text(record[args.text_field]), record, "\n")


def _write_scrubbed(detector, batch: list[_Line], args) -> None:
    from ..pii.records import clean_text
    from ..pii.scrub import scrub

    if not batch:
        return
    # find_batch, not scrub_batch: the JSONL output reports the spans too, and one forward pass is enough
    spans = detector.find_batch([line.text for line in batch])
    for line, found in zip(batch, spans, strict=True):
        scrubbed = scrub(line.text, found, args.style, args.salt)
        if line.record is not None:
            out = {**line.record, args.text_field: scrubbed, SPANS_FIELD: [s.to_dict() for s in found]}
            # other fields may hold lone surrogates ("\ud800" escapes) too: they cannot be encoded
            scrubbed = clean_text(json.dumps(out, ensure_ascii=False))
        sys.stdout.write(scrubbed + line.ending)
    sys.stdout.flush()


def _operating_point(detector) -> str:
    point = detector.meta.get("operating_point", {})
    char = point.get("char", {})
    return (
        f"site {detector.probe.meta.get('site')}, threshold {detector.threshold:.3f}: validation character "
        f"recall {char.get('recall', float('nan')):.3f}, precision {char.get('precision', float('nan')):.3f}"
    )
