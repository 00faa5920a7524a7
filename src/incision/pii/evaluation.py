"""Scores of predicted PII spans against gold records, overall and per language.

Two views, because they answer different questions:

- character level, label-agnostic: would scrubbing every predicted character remove every gold one?
  Whitespace never counts (a span that swallows a neighbouring space is neither better nor worse).
- span level, per label: is each PII value found as one unit with the right type? A predicted span matches
  a gold span of the same label when their IoU (over code-point offsets) is at least 0.5; pairs are taken
  one-to-one, greedily, best IoU first.

A ratio whose denominator is zero (no predictions, or no gold) counts as 1.0: nothing went wrong in that
direction. F1 is the harmonic mean of precision and recall, so a system that predicts nothing on a text
with PII scores F1 0. `table` prints "-" for a ratio with a zero denominator and leaves out label rows
that are "-" for every system.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import InputError
from .records import LANGS, PII_LABELS, Span, check_record

IOU_THRESHOLD = 0.5


def _ratio(num: int, den: int) -> float:
    return num / den if den else 1.0


@dataclass
class Counts:
    """True positives, false positives and false negatives (characters or spans)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        """Everything that was either gold or predicted: zero means the scores are vacuous."""
        return self.tp + self.fp + self.fn

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    def to_dict(self) -> dict:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


@dataclass
class LabelScores:
    """One label: span matching (IoU >= 0.5, same label) and how much of its gold text any prediction covers.

    `chars_covered` / `chars_gold` is the label's character recall. It is label-agnostic on the predicted
    side on purpose: a phone number scrubbed as GOV_ID has not leaked.
    """

    spans: Counts = field(default_factory=Counts)
    chars_gold: int = 0
    chars_covered: int = 0

    @property
    def char_recall(self) -> float:
        return _ratio(self.chars_covered, self.chars_gold)

    def to_dict(self) -> dict:
        return {
            "span": self.spans.to_dict(),
            "char_recall": self.char_recall,
            "chars_gold": self.chars_gold,
            "chars_covered": self.chars_covered,
        }


@dataclass
class GroupScores:
    """All scores of one group of records (every record, or one language)."""

    records: int = 0
    chars: Counts = field(default_factory=Counts)
    spans: Counts = field(default_factory=Counts)  # micro-average over labels
    labels: dict[str, LabelScores] = field(default_factory=lambda: {lb: LabelScores() for lb in PII_LABELS})

    def add(self, other: GroupScores) -> None:
        self.records += other.records
        self.chars.add(other.chars)
        self.spans.add(other.spans)
        for label, scores in other.labels.items():
            mine = self.labels[label]
            mine.spans.add(scores.spans)
            mine.chars_gold += scores.chars_gold
            mine.chars_covered += scores.chars_covered

    def to_dict(self) -> dict:
        return {
            "records": self.records,
            "char": self.chars.to_dict(),
            "span": self.spans.to_dict(),
            "labels": {label: scores.to_dict() for label, scores in self.labels.items()},
        }


@dataclass
class PiiReport:
    """Scores over every record (`overall`) and per language (`by_lang`, only languages present)."""

    overall: GroupScores
    by_lang: dict[str, GroupScores]

    def to_dict(self) -> dict:
        return {
            "overall": self.overall.to_dict(),
            "by_lang": {lang: scores.to_dict() for lang, scores in self.by_lang.items()},
        }


def iou(a: Span, b: Span) -> float:
    """Intersection over union of two spans' code-point ranges."""
    inter = max(0, min(a.end, b.end) - max(a.start, b.start))
    return inter / ((a.end - a.start) + (b.end - b.start) - inter)


def match_spans(gold: Sequence[Span], predicted: Sequence[Span]) -> list[tuple[Span, Span]]:
    """Gold-predicted pairs of the same label with IoU >= 0.5, one-to-one, greedily by best IoU."""
    candidates = []
    for i, g in enumerate(gold):
        for j, p in enumerate(predicted):
            if g.label == p.label and p.start < g.end and g.start < p.end:
                score = iou(g, p)
                if score >= IOU_THRESHOLD:
                    candidates.append((-score, i, j))
    candidates.sort()
    used_gold, used_pred, pairs = set(), set(), []
    for _, i, j in candidates:
        if i not in used_gold and j not in used_pred:
            used_gold.add(i)
            used_pred.add(j)
            pairs.append((gold[i], predicted[j]))
    return pairs


def _covered(text: str, spans: Sequence[Span]) -> set[int]:
    """Indices of the non-whitespace characters inside any span."""
    return {i for s in spans for i in range(s.start, s.end) if not text[i].isspace()}


def score_text(text: str, gold: Sequence[Span], predicted: Sequence[Span]) -> GroupScores:
    """Every score of one text; `gold` must not overlap, `predicted` may."""
    scores = GroupScores(records=1)
    gold_chars, pred_chars = _covered(text, gold), _covered(text, predicted)
    scores.chars = Counts(
        tp=len(gold_chars & pred_chars), fp=len(pred_chars - gold_chars), fn=len(gold_chars - pred_chars)
    )
    pairs = match_spans(gold, predicted)
    for label, label_scores in scores.labels.items():
        gold_l = [s for s in gold if s.label == label]
        n_pred = sum(s.label == label for s in predicted)
        tp = sum(g.label == label for g, _ in pairs)
        label_scores.spans = Counts(tp=tp, fp=n_pred - tp, fn=len(gold_l) - tp)
        chars_l = _covered(text, gold_l)
        label_scores.chars_gold = len(chars_l)
        label_scores.chars_covered = len(chars_l & pred_chars)
        scores.spans.add(label_scores.spans)
    return scores


def _check_predicted(text: str, spans: object, where: str) -> list[Span]:
    if not isinstance(spans, Sequence) or not all(isinstance(s, Span) for s in spans):
        raise InputError(f"{where}: predictions must be a list of Span, got {type(spans).__name__}")
    for s in spans:
        if not 0 <= s.start < s.end <= len(text) or s.label not in PII_LABELS:
            raise InputError(
                f"{where}: predicted span {s} is empty, outside the text's {len(text)} characters "
                f"or not labelled with one of {list(PII_LABELS)}"
            )
    return list(spans)


def evaluate_spans(
    gold_records: Sequence[dict], predicted_spans_per_record: Sequence[Sequence[Span]]
) -> PiiReport:
    """Scores of one system's spans (a list per gold record, same order) against the gold records."""
    if len(gold_records) != len(predicted_spans_per_record):
        raise InputError(
            f"got predictions for {len(predicted_spans_per_record)} records but {len(gold_records)} "
            "gold records; give one list of spans per gold record, in the same order"
        )
    overall, by_lang = GroupScores(), {}
    for k, (record, predicted) in enumerate(zip(gold_records, predicted_spans_per_record, strict=True)):
        where = f"record {k}"
        record = check_record(record, where)
        gold = [Span(**s) for s in record["spans"]]
        scores = score_text(record["text"], gold, _check_predicted(record["text"], predicted, where))
        overall.add(scores)
        lang = record.get("lang")
        if lang is not None:
            by_lang.setdefault(lang, GroupScores()).add(scores)
    ordered = {lang: by_lang[lang] for lang in sorted(by_lang, key=_lang_order)}
    return PiiReport(overall=overall, by_lang=ordered)


def _lang_order(lang: str) -> tuple[int, str]:
    return (LANGS.index(lang) if lang in LANGS else len(LANGS), lang)


def _fmt(value: float, support: int) -> str:
    return f"{value:.3f}" if support else "-"


def _group_rows(groups: Sequence[GroupScores | None]) -> list[tuple[str, list[str]]]:
    """(row name, one cell per system) for one language."""

    def cells(get) -> list[str]:
        return [get(g) if g is not None else "n/a" for g in groups]

    rows = [
        ("char precision", cells(lambda g: _fmt(g.chars.precision, g.chars.tp + g.chars.fp))),
        ("char recall", cells(lambda g: _fmt(g.chars.recall, g.chars.tp + g.chars.fn))),
        ("char F1", cells(lambda g: _fmt(g.chars.f1, g.chars.support))),
        ("span F1 (all labels)", cells(lambda g: _fmt(g.spans.f1, g.spans.support))),
    ]
    for label in PII_LABELS:
        rows.append(
            (
                f"{label} span F1",
                cells(lambda g, lb=label: _fmt(g.labels[lb].spans.f1, g.labels[lb].spans.support)),
            )
        )
        rows.append(
            (
                f"{label} char recall",
                cells(lambda g, lb=label: _fmt(g.labels[lb].char_recall, g.labels[lb].chars_gold)),
            )
        )
    # a label nobody predicted and nobody annotated in this language is noise in the table
    return rows[:4] + [row for row in rows[4:] if any(c not in ("-", "n/a") for c in row[1])]


def table(reports: dict[str, PiiReport]) -> str:
    """A plain-text comparison of several systems (columns), one block per language, "all" first."""
    if not reports:
        raise InputError("table() needs at least one report, got none")
    names = list(reports)
    langs = sorted({lang for r in reports.values() for lang in r.by_lang}, key=_lang_order)
    blocks = []
    for lang in ["all", *langs]:
        groups = [r.overall if lang == "all" else r.by_lang.get(lang) for r in reports.values()]
        n = max(g.records for g in groups if g is not None)
        rows = _group_rows(groups)
        width = max(len(name) for name, _ in rows)
        col = max(8, *(len(name) for name in names))
        lines = [f"== {lang} ({n} records) ==", " " * width + "".join(f"  {nm:>{col}}" for nm in names)]
        lines += [f"{name:<{width}}" + "".join(f"  {c:>{col}}" for c in cs) for name, cs in rows]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
