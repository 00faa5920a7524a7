"""Train a PII detector from labelled records: choose a site by sweep, fit a token probe, tune the threshold.

1. A slice of the training records is captured at every candidate site, and a token probe per site
   (same labels, same splits) picks the site with the best validation figure.
2. All training records are captured at that site only (the forward pass stops at its block).
3. A token probe over "none" + the PII types is fit; the decision threshold on P(PII) is the highest
   that keeps character-level recall on validation at `target_recall` (a leak costs more than an
   over-redaction; when no threshold reaches it, the lowest, with a warning), and the operating point
   is recorded with the detector.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..configs import check_choices
from ..core import capture
from ..core.tokens import text_mask
from ..errors import ConfigError, InputError
from ..probes import ProbeConfig, sweep, train_probe
from ..probes.streaming import predict_rows
from .decode import decode_spans
from .detector import Detector
from .evaluation import evaluate_spans
from .records import check_record

log = logging.getLogger(__name__)

SWEEP_L2 = 10.0
THRESHOLDS = tuple(np.round(np.concatenate([np.arange(0.02, 0.2, 0.02), np.arange(0.2, 0.95, 0.05)]), 3))


@dataclass
class DetectorConfig:
    """How a detector is trained. Every field is also an option of `incision pii train`."""

    sites: str = field(default="resid.*", metadata={"help": "candidate sites for the sweep"})
    sweep_docs: int = field(default=600, metadata={"help": "records used to choose the site"})
    val_fraction: float = field(
        default=0.15, metadata={"help": "share of records held out to tune the threshold"}
    )
    target_recall: float = field(
        default=0.995, metadata={"help": "character recall the threshold keeps on validation"}
    )
    seed_threshold: float = field(
        default=0.95, metadata={"help": "a span is kept when one of its tokens reaches this P(PII)"}
    )
    l2: float | None = field(default=None, metadata={"help": "probe penalty (default: chosen on validation)"})
    batch_tokens: int = field(default=4096, metadata={"help": "padded tokens per forward pass"})
    seed: int = field(default=0, metadata={"help": "seed of the validation split and the sweep slice"})

    def __post_init__(self) -> None:
        check_choices(self)
        if not 0 < self.target_recall <= 1 or not 0 < self.val_fraction < 0.5:
            raise ConfigError(
                f"target_recall {self.target_recall} must lie in (0, 1] and val_fraction {self.val_fraction} in (0, 0.5)"
            )
        if not min(THRESHOLDS) <= self.seed_threshold < 1:
            raise ConfigError(
                f"seed_threshold must lie in [{min(THRESHOLDS)}, 1), got {self.seed_threshold!r}"
            )
        if self.sweep_docs < 20:
            raise ConfigError(f"sweep_docs must be at least 20, got {self.sweep_docs}")


def train_detector(subject, records: list[dict], work: str | Path, config: DetectorConfig | None = None):
    """A Detector and its training report (sweep table, chosen site, operating point)."""
    config = config or DetectorConfig()
    work = Path(work)
    records = [check_record(r, f"record {k}") for k, r in enumerate(records)]
    if len(records) < 40:
        raise InputError(
            f"{len(records)} records are too few to train and validate a detector; give at least 40"
        )
    records = _with_split(records, config.val_fraction, config.seed)
    probe_config = ProbeConfig(
        level="token",
        spans_field="spans",
        split_field="split",
        test_fraction=0.0,
        class_weight="balanced",
        l2=config.l2,
        n_bootstrap=0,
    )
    site = _choose_site(subject, records, work / "sweep", config, probe_config)
    store = capture(subject, records, site, work / "store", overwrite=True, batch_tokens=config.batch_tokens)
    report = train_probe(store, site, probe_config)
    threshold, operating = _tune_threshold(store, site, report.probe, config)
    meta = {"operating_point": operating, "n_train_records": len(records)}
    return Detector(subject, report.probe, threshold, config.seed_threshold, meta), report


def _with_split(records: list[dict], val_fraction: float, seed: int) -> list[dict]:
    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    val = set(order[: max(2, round(len(records) * val_fraction))])
    return [{**r, "split": "val" if k in val else "train"} for k, r in enumerate(records)]


def _choose_site(subject, records, work: Path, config: DetectorConfig, probe_config: ProbeConfig) -> str:
    sites = subject.expand_sites(config.sites)
    if len(sites) == 1:
        return sites[0]
    pick = random.Random(config.seed).sample(range(len(records)), min(config.sweep_docs, len(records)))
    store = capture(subject, [records[k] for k in sorted(pick)], sites, work, overwrite=True)
    # one penalty per site: the sweep ranks sites, the final probe chooses its own penalty
    result = sweep(store, sites, dataclasses.replace(probe_config, l2=probe_config.l2 or SWEEP_L2))
    log.info("site sweep:\n%s", result.table())
    return result.best.site


def _tune_threshold(store, site: str, probe, config: DetectorConfig) -> tuple[float, dict]:
    """The highest threshold whose validation character recall reaches the target (recall first: a
    missed value leaks), with precision and F1 at that point."""
    scored = _validation_scores(store, site, probe)
    gold = [{"text": d["text"], "lang": d.get("lang"), "spans": d["spans"]} for d, *_ in scored]
    for threshold in sorted((t for t in THRESHOLDS if t <= config.seed_threshold), reverse=True):
        predicted = [
            decode_spans(
                d["text"], starts, ends, proba, probe.label_names, float(threshold), config.seed_threshold
            )
            for d, starts, ends, proba in scored
        ]
        overall = evaluate_spans(gold, predicted).overall
        if overall.chars.recall >= config.target_recall:
            break
    else:
        log.warning(
            "no threshold reaches validation character recall %.3f; using %.2f, which reaches %.3f",
            config.target_recall,
            threshold,
            overall.chars.recall,
        )
    return float(threshold), {"threshold": float(threshold), **overall.to_dict()}


def _validation_scores(store, site: str, probe) -> list[tuple[dict, list[int], list[int], np.ndarray]]:
    """(document, token starts, token ends, token probabilities) of every validation document."""
    tokens = store.tokens
    doc_T = tokens["doc"].to_numpy()
    starts, ends = tokens["char_start"].to_numpy(), tokens["char_end"].to_numpy()
    val_docs = [d for d in store.documents.to_pylist() if d["split"] == "val"]
    rows = np.flatnonzero(np.isin(doc_T, [d["doc"] for d in val_docs]) & text_mask(starts, ends))
    proba = predict_rows(store, site, rows, probe)
    doc_R = doc_T[rows]  # sorted: a store's rows are in (doc, position) order
    scored = []
    for d in val_docs:
        lo, hi = np.searchsorted(doc_R, d["doc"], "left"), np.searchsorted(doc_R, d["doc"], "right")
        scored.append((d, starts[rows[lo:hi]].tolist(), ends[rows[lo:hi]].tolist(), proba[lo:hi]))
    return scored
