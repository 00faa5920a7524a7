"""Files and HTML for probe comparisons (probe_comparison.py): one comparison under several metrics written
to a folder (a table, the JSON, a plot per metric), and a section for an HTML report with those plots
embedded, so the report is one self-contained file."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from .probe_comparison import ProbeComparison


def plot_path(out: str | Path, comparison: ProbeComparison) -> Path:
    return Path(out) / f"comparison-{comparison.metric}.png"


def write_comparisons(comparisons: list[ProbeComparison], out: str | Path) -> Path:
    """table.txt (every metric's table), comparison.json (the first's rows and reports) and one
    `comparison-METRIC.png` per comparison, under `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.txt").write_text("\n\n".join(c.table() for c in comparisons) + "\n", encoding="utf-8")
    (out / "comparison.json").write_text(json.dumps(comparisons[0].to_dict(), indent=1), encoding="utf-8")
    for comparison in comparisons:
        comparison.plot(plot_path(out, comparison))
    return out


def comparison_html(comparisons: list[ProbeComparison], out: str | Path, heading: str, intro: str) -> str:
    """An HTML section: `heading`, the paragraph `intro` (plain text, escaped here), then each comparison's
    table and its plot from `out` (written by `write_comparisons`), embedded as a data URI."""
    parts = [f"<h2>{html.escape(heading)}</h2>", f"<p>{html.escape(intro, quote=False)}</p>"]
    for comparison in comparisons:
        png = plot_path(out, comparison).read_bytes()
        parts.append(f'<pre class="summary">{html.escape(comparison.table())}</pre>')
        parts.append(f'<img alt="{comparison.metric} per method" src="data:image/png;base64,'
                     f'{base64.b64encode(png).decode()}">')  # fmt: skip
    return "\n".join(parts)
