"""A self-contained HTML view of gold and predicted PII spans (inline CSS, no JavaScript).

Each record shows its text once per track: gold first (each label underlined in its colour), then one row
per system, where predictions are coloured backgrounds and gold stays underlined, so a missed character
(gold, not predicted) and a false positive (predicted, not gold) stand out. Text is cut into runs of
characters that share the same (gold, predicted) labels; every run carries `data-start`/`data-end`
offsets (code points) and its labels. The comparison table of `evaluation.table` sits at the top.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError
from .evaluation import evaluate_spans, table
from .records import Span, check_record

# (background for predictions, darker underline for gold) per label
COLOURS = {
    "PERSON": ("#f4a582", "#b2182b"),
    "EMAIL": ("#92c5de", "#2166ac"),
    "PHONE": ("#b8e186", "#4d9221"),
    "ADDRESS": ("#fddb7a", "#a6761d"),
    "CREDIT_CARD": ("#c2a5cf", "#762a83"),
    "GOV_ID": ("#f1b6da", "#c51b7d"),
    "DATE_OF_BIRTH": ("#80cdc1", "#01665e"),
    "BANK_ACCOUNT": ("#d9d9d9", "#4d4d4d"),
}
_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
pre.summary { background: #f7f7f7; padding: 1em; overflow-x: auto; }
.legend span { padding: 0 .4em; margin-right: .4em; border-radius: 3px; }
.record { border-top: 1px solid #ccc; padding: .6em 0; }
.record h2 { font-size: .9em; margin: 0 0 .3em; color: #555; }
.track { display: grid; grid-template-columns: 9em 1fr; gap: .2em 1em; margin: .15em 0; }
.who { font-size: .8em; color: #555; text-align: right; padding-top: .15em; }
.who .bad { color: #b2182b; }
.txt { white-space: pre-wrap; word-break: break-word; line-height: 1.9; }
.seg { border-radius: 2px; }
.miss { outline: 2px solid #b2182b;
        background: repeating-linear-gradient(45deg, #fff, #fff 3px, #fbd 3px, #fbd 6px); }
.fp { outline: 2px dashed #b2182b; }
.wrong { outline: 2px dotted #762a83; }
"""


def _visible(text: str) -> str:
    """The text with one visible character in place of each control character or lone surrogate.

    Length is kept, so offsets into the shown text are offsets into the record.
    """
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\n\t":
            out.append(ch)
        elif cat == "Cs":
            out.append("\ufffd")
        elif cat == "Cc":
            out.append(chr(0x2400 + ord(ch)) if ord(ch) < 0x20 else "\ufffd")
        else:
            out.append(ch)
    return "".join(out)


def _labels_per_char(n: int, spans: Sequence[Span]) -> list[str | None]:
    labels: list[str | None] = [None] * n
    for s in spans:
        labels[s.start : s.end] = [s.label] * (s.end - s.start)
    return labels


def _runs(gold: list[str | None], pred: list[str | None] | None) -> list[tuple[int, int]]:
    """[start, end) runs of characters whose (gold, predicted) labels are equal."""
    keys = list(zip(gold, pred or [None] * len(gold), strict=True))
    runs, start = [], 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            runs.append((start, i))
            start = i
    return runs


def _segment(text: str, start: int, end: int, gold: str | None, pred: str | None, track: str) -> str:
    piece = html.escape(text[start:end])
    if gold is None and (pred is None or track == "gold"):
        return piece
    style, classes = [], ["seg"]
    if gold is not None:
        style.append(f"text-decoration: underline 3px {COLOURS[gold][1]}; text-underline-offset: 4px")
    if pred is not None:
        style.append(f"background: {COLOURS[pred][0]}")
    blank = not text[start:end].strip()  # whitespace never counts as an error
    if track != "gold" and not blank:
        if gold is not None and pred is None:
            classes.append("miss")
        elif gold is None and pred is not None:
            classes.append("fp")
        elif gold != pred:
            classes.append("wrong")
    tip = f"gold {gold or '-'}" + ("" if track == "gold" else f" / {track} {pred or '-'}")
    attrs = {
        "class": " ".join(classes),
        "style": "; ".join(style),
        "title": tip,
        "data-start": start,
        "data-end": end,
        "data-gold": gold or "",
        "data-pred": pred or "",
    }
    rendered = " ".join(f'{k}="{html.escape(str(v))}"' for k, v in attrs.items())
    return f"<span {rendered}>{piece}</span>"


def _track(text: str, gold: list[str | None], pred: list[str | None] | None, name: str) -> str:
    segs = "".join(
        _segment(text, a, b, gold[a], None if pred is None else pred[a], name) for a, b in _runs(gold, pred)
    )
    note = ""
    if pred is not None:
        missed = sum(1 for i, g in enumerate(gold) if g and not pred[i] and not text[i].isspace())
        extra = sum(1 for i, p in enumerate(pred) if p and not gold[i] and not text[i].isspace())
        if missed or extra:
            note = f'<br><span class="bad">{missed} missed, {extra} extra</span>'
    return (
        f'<div class="track" data-track="{html.escape(name)}">'
        f'<div class="who">{html.escape(name)}{note}</div>'
        f'<div class="txt">{segs}</div></div>'
    )


def _record_html(k: int, record: dict, systems: dict[str, list[list[Span]]]) -> str:
    text = record["text"]
    gold = _labels_per_char(len(text), [Span(**s) for s in record["spans"]])
    head = f"#{k} · id {record.get('id', '-')} · {record.get('lang') or '?'} · {len(text)} characters"
    tracks = [_track(text, gold, None, "gold")]
    for name, predictions in systems.items():
        tracks.append(_track(text, gold, _labels_per_char(len(text), predictions[k]), name))
    return f'<div class="record" data-record="{k}"><h2>{html.escape(head)}</h2>{"".join(tracks)}</div>'


def write_html(
    path: str | Path,
    records: Sequence[dict],
    systems: dict[str, list[list[Span]]],
    title: str,
    appendix: str = "",
) -> Path:
    """Write the view of `records` (gold) and each system's spans (one list per record) to `path`;
    `appendix` (trusted HTML) goes between the summary and the records."""
    records = [check_record(r, f"record {k}") for k, r in enumerate(records)]
    for name, predictions in systems.items():
        if len(predictions) != len(records):
            raise InputError(
                f"system {name!r} has spans for {len(predictions)} records but there are {len(records)}; "
                "give one list per record, in the same order"
            )
    summary = (
        table({name: evaluate_spans(records, preds) for name, preds in systems.items()}) if systems else ""
    )
    legend = "".join(
        f'<span style="background: {bg}; text-decoration: underline 3px {line}">{label}</span>'
        for label, (bg, line) in COLOURS.items()
    )
    body = "\n".join(_record_html(k, r, systems) for k, r in enumerate(records))
    page = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
        f'<pre class="summary">{html.escape(summary)}</pre>'
        f'<p class="legend">{legend}</p><p>Gold is underlined; predictions are coloured backgrounds. '
        "Solid red outline: missed PII; dashed: false positive; dotted: wrong label.</p>"
        f"{appendix}{body}</body></html>\n"
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # one visible character per control character or lone surrogate: valid UTF-8, offsets unchanged
    path.write_text(_visible(page), encoding="utf-8")
    return path
