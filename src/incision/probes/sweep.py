"""Layer sweep: one probe per site of a store, the best picked on validation, and a plot of the metric
against layer. Labels and splits are worked out once, so every site sees the same documents."""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from ..core.store import ActivationStore
from ..errors import SiteError
from .train import ProbeConfig, ProbeReport, train_probe


@dataclass
class SweepReport:
    reports: list[ProbeReport]  # in layer order
    best: ProbeReport  # highest headline metric on validation
    plot: Path | None = None

    def table(self) -> str:
        """A plain-text table: one row per site, validation and test headline with their intervals."""
        splits = [s for s in self.best.metrics if s != "val"]
        header = f"{'site':<10} {'val':>18}" + "".join(f" {s:>18}" for s in splits)
        lines = [header]
        for r in self.reports:
            marker = "  <- best" if r is self.best else ""
            cells = "".join(f" {_with_interval(r, s):>18}" for s in splits)
            lines.append(f"{r.site:<10} {_with_interval(r, 'val'):>18}{cells}{marker}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"best_site": self.best.site, "sites": [r.to_dict() for r in self.reports]}


def select_sites(store: ActivationStore, sites: str | list[str] | None) -> list[str]:
    """Store sites matching comma-separated names or glob patterns ("resid.*"), in layer order."""
    if sites is None:
        return sorted(store.sites, key=site_order)
    patterns = sites.split(",") if isinstance(sites, str) else list(sites)
    chosen: list[str] = []
    for pattern in (p.strip() for p in patterns):
        matches = [s for s in store.sites if fnmatch.fnmatchcase(s, pattern)]
        if not matches:
            raise SiteError(f"no site of the store matches {pattern!r}; it has {store.sites}")
        chosen += [m for m in matches if m not in chosen]
    return sorted(chosen, key=site_order)


def site_order(site: str) -> tuple[int, str]:
    """Embedding first, then by layer; within a layer by name."""
    match = re.fullmatch(r"(\w+)\.(-?\d+)", site)
    return (-1, site) if match is None else (int(match.group(2)), match.group(1))


def sweep(
    store: ActivationStore,
    sites: str | list[str] | None = None,
    config: ProbeConfig | None = None,
    out: str | Path | None = None,
    progress: bool = True,
) -> SweepReport:
    """Train a probe per site; with `out`, save the best probe there with report.json and sweep.png."""
    config = config or ProbeConfig()
    names = select_sites(store, sites)
    data = config.prepare(store)
    reports = [
        train_probe(store, site, config, data)
        for site in tqdm(names, desc="probe sweep", unit="site", disable=not progress)
    ]
    # ties on the headline (often 1.0 on easy tasks) go to the lower validation loss
    best = max(reports, key=lambda r: (r.headline("val"), -min(r.val_loss_by_l2.values(), default=0.0)))
    report = SweepReport(reports, best)
    if out is not None:
        out = Path(out)
        best.probe.save(out)
        (out / "report.json").write_text(json.dumps(report.to_dict(), indent=1))
        if len(reports) > 1:
            report.plot = plot_sweep(report, out / "sweep.png")
    return report


def plot_sweep(report: SweepReport, path: Path) -> Path:
    """Headline metric against site, validation with its bootstrap interval and every other split."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers
    import matplotlib.pyplot as plt

    x = range(len(report.reports))
    fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(report.reports) + 2), 4))
    for split in report.best.metrics:
        values = [r.metrics[split].headline for r in report.reports]
        intervals = [r.metrics[split].ci.get(_headline_key(r, split)) for r in report.reports]
        lows = [v - ci.low if ci else 0.0 for v, ci in zip(values, intervals, strict=True)]
        highs = [ci.high - v if ci else 0.0 for v, ci in zip(values, intervals, strict=True)]
        ax.errorbar(x, values, yerr=[lows, highs], marker="o", capsize=3, label=split)
    best = report.reports.index(report.best)
    ax.axvline(best, color="grey", linestyle=":", label=f"best on val: {report.best.site}")
    ax.set_xticks(list(x), [r.site for r in report.reports], rotation=60, ha="right")
    ax.set_ylabel(_headline_key(report.best, "val").replace("_", " "))
    ax.set_title(f"probe per site ({report.best.probe.meta.get('model', '')})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _headline_key(report: ProbeReport, split: str) -> str:
    return report.metrics[split].headline_name


def _with_interval(report: ProbeReport, split: str) -> str:
    metrics = report.metrics[split]
    ci = metrics.ci.get(_headline_key(report, split))  # none without bootstrap resamples
    return f"{metrics.headline:.3f}" + (f" [{ci.low:.3f}, {ci.high:.3f}]" if ci else "")
