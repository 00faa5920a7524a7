"""One self-contained HTML file for chosen SAE features (no external JS or CSS): a card per feature with
its top contexts (tokens shaded by activation), its activation histogram as inline SVG, and the tokens its
decoder direction promotes. Every string from a model or a store is escaped."""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from pathlib import Path

from .inspection import FeatureHistogram, PromotedTokens, TopActivation

log = logging.getLogger(__name__)

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;background:#fafafa;color:#222}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:1em;margin:1em 0}
.ctx{font-family:ui-monospace,monospace;white-space:pre-wrap;margin:.2em 0;font-size:13px}
.ctx span{border-radius:2px}.ctx .c{outline:1px solid #c60}.v{color:#777;font-size:12px}
table{border-collapse:collapse;font-size:13px}td{padding:1px 8px}
"""


def write_dashboard(
    path: str | Path,
    top: Mapping[int, list[TopActivation]],
    histograms: Mapping[int, FeatureHistogram] | None = None,
    promoted: Mapping[int, PromotedTokens] | None = None,
    title: str = "SAE features",
) -> Path:
    """Write the dashboard of every feature in `top`, `histograms` or `promoted` (in that order of first
    appearance) to `path` and return it."""
    histograms, promoted = histograms or {}, promoted or {}
    features = list(dict.fromkeys([*top, *histograms, *promoted]))
    cards = [_card(f, top.get(f, []), histograms.get(f), promoted.get(f)) for f in features]
    page = (
        f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>\n"
        + "\n".join(cards)
        + "\n</body></html>\n"
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    log.info("wrote a dashboard of %d features to %s", len(features), path)
    return path


def _card(feature, records, histogram, promoted) -> str:
    parts = [f"<div class='card' id='f{feature}'><h2>feature {feature}</h2>"]
    if histogram is not None:
        parts.append(
            f"<p>fires on {histogram.n_fired} of {histogram.n_tokens} tokens "
            f"({100 * histogram.frequency:.3g}%)</p>" + _svg(histogram)
        )
    if records:
        parts.append("<h3>top activations</h3>")
        parts.extend(_context(r) for r in records)
    if promoted is not None:
        parts.append("<h3>promoted / suppressed tokens</h3>" + _token_table(promoted))
    parts.append("</div>")
    return "\n".join(parts)


def _context(record: TopActivation) -> str:
    peak = max([record.value, *record.acts]) or 1.0
    spans = []
    for i, (token, act) in enumerate(zip(record.tokens, record.acts, strict=True)):
        alpha = max(0.0, min(1.0, act / peak))
        cls = " class='c'" if i == record.center else ""
        spans.append(
            f"<span{cls} style='background:rgba(255,120,0,{alpha:.2f})' title='{act:.4g}'>"
            f"{html.escape(token)}</span>"
        )
    where = f"doc {record.doc}, token {record.position}"
    return f"<div class='ctx'><span class='v'>{record.value:.4g} · {where}</span>  {''.join(spans)}</div>"


def _svg(h: FeatureHistogram, width: int = 360, height: int = 80) -> str:
    counts = [int(c) for c in h.counts]
    top = max(counts, default=0) or 1
    bar = width / max(len(counts), 1)
    rects = "".join(
        f"<rect x='{i * bar:.1f}' y='{height - height * c / top:.1f}' width='{max(bar - 1, 0.5):.1f}' "
        f"height='{height * c / top:.1f}' fill='#d60'><title>{c}</title></rect>"
        for i, c in enumerate(counts)
    )
    lo, hi = (float(h.edges[0]), float(h.edges[-1])) if len(h.edges) else (0.0, 0.0)
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height + 14}'>{rects}"
        f"<text x='0' y='{height + 12}' font-size='10'>{lo:.3g}</text>"
        f"<text x='{width}' y='{height + 12}' font-size='10' text-anchor='end'>{hi:.3g}</text></svg>"
    )


def _token_table(p: PromotedTokens) -> str:
    rows = []
    for i in range(max(len(p.promoted), len(p.suppressed))):
        cells = []
        for pairs in (p.promoted, p.suppressed):
            token, value = pairs[i] if i < len(pairs) else ("", None)
            cells.append(
                f"<td>{html.escape(token)}</td><td class='v'>{'' if value is None else f'{value:+.3g}'}</td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        "<table><tr><th>promoted</th><th></th><th>suppressed</th><th></th></tr>" + "".join(rows) + "</table>"
    )
