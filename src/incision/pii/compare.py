"""Judge a detector and the baselines on the same gold records, in one run: a table and an HTML view."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from ..errors import ConfigError
from . import presidio
from .evaluation import PiiReport, evaluate_spans, table
from .records import Span
from .regex_baseline import RegexBaseline
from .report import write_html

log = logging.getLogger(__name__)
BASELINES = ("regex", "presidio")


@dataclass
class DetectorComparison:
    """PII detectors (incision's and the baselines) scored on the same gold records."""

    reports: dict[str, PiiReport]  # system -> scores
    predictions: dict[str, list[list[Span]]]
    seconds: dict[str, float]  # system -> wall time over all records

    def table(self) -> str:
        return table(self.reports)

    def to_dict(self) -> dict:
        return {
            "systems": {name: report.to_dict() for name, report in self.reports.items()},
            "seconds": self.seconds,
        }


def compare(
    detector, records: list[dict], baselines=BASELINES, html: str | Path | None = None, appendix: str = ""
) -> DetectorComparison:
    """Score `detector` (if given) and each available baseline on `records`; Presidio is skipped, with a
    log line, when it is not installed. `appendix`: trusted HTML added to the report."""
    unknown = sorted(set(baselines) - set(BASELINES))
    if unknown:
        raise ConfigError(f"unknown baseline {unknown[0]!r}; choose from {list(BASELINES)}")
    systems = {}
    if detector is not None:
        systems["incision"] = lambda texts, langs: detector.find_batch(texts)
    if "regex" in baselines:
        regex = RegexBaseline()
        systems["regex"] = lambda texts, langs: [regex.find(t) for t in texts]  # runs both languages
    if "presidio" in baselines:
        langs = sorted({r.get("lang") or "en" for r in records})
        if presidio.available(langs):
            analyzer = presidio.PresidioBaseline(langs)
            systems["presidio"] = lambda texts, langs: [
                analyzer.find(t, lang)
                for t, lang in tqdm(list(zip(texts, langs, strict=True)), desc="presidio")
            ]
        else:
            log.warning("Presidio is not installed (pip install 'incision[presidio]'): skipped")
    texts = [r["text"] for r in records]
    langs = [r.get("lang") or "en" for r in records]
    predictions, seconds = {}, {}
    for name, find in systems.items():
        start = time.perf_counter()
        predictions[name] = find(texts, langs)
        seconds[name] = time.perf_counter() - start
    reports = {name: evaluate_spans(records, spans) for name, spans in predictions.items()}
    if html is not None:
        write_html(html, records, predictions, f"PII spans: {', '.join(predictions)}", appendix)
    return DetectorComparison(reports, predictions, seconds)
