"""PII: synthetic EN/JA data, a token probe on a model's activations, spans, scrubbed text."""

from .detector import Detector
from .evaluation import PiiReport, evaluate_spans
from .records import LANGS, PII_LABELS, Span, read_records, write_records
from .regex_baseline import RegexBaseline
from .scrub import scrub

__all__ = [
    "LANGS",
    "PII_LABELS",
    "Detector",
    "PiiReport",
    "RegexBaseline",
    "Span",
    "evaluate_spans",
    "read_records",
    "scrub",
    "synthesize",
    "write_records",
]


def __getattr__(name: str):
    """`incision.pii.synthesize` imports the generator (and Faker) only when first used."""
    if name == "synthesize":
        from .synth import synthesize

        return synthesize
    raise AttributeError(f"module 'incision.pii' has no attribute {name!r}")
