"""Raw-activation probes vs SAE probes vs difference of means, on shared splits, in distribution and under
shift, with percentile-bootstrap intervals: `compare_probes` gives a `ProbeComparison` (table, JSON, plot).

Every method is trained by `train_probe` on the same `ProbeData`: `raw` (logistic on activations),
`diff_means` (the difference-of-means baseline on activations), and the SAE feature spaces of
`incision.sae.probe_features` (`sae_dense`, `sae_top{k}`, `reconstruction`). Each is evaluated on every
split but train: `val` and `test` are in distribution, any other value of the split field (e.g. `heldout`,
a style-shifted set) is a shift. The metric is the probe's headline (AUROC for binary tasks, macro AUROC for
multiclass ones) unless another bootstrapped metric is named (`f1`, `macro_f1`, `accuracy`, `auprc`).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, InputError
from ..probes.data import ProbeData
from ..probes.train import ProbeConfig, ProbeReport, train_probe
from .model import SparseAutoencoder
from .probe_features import FeatureSpec, train_sae_probe

log = logging.getLogger(__name__)

METHODS = ("raw", "diff_means", "sae_dense", "sae_top1", "sae_top8", "sae_top32", "reconstruction")
IN_DISTRIBUTION = ("val", "test")


@dataclass
class ProbeComparisonRow:
    """One method's metric on one evaluation split; `low`/`high` are None without bootstrap resamples."""

    method: str
    split: str
    shifted: bool  # the split is not val or test
    metric: str
    value: float
    low: float | None
    high: float | None
    n: int

    def to_dict(self) -> dict:
        return {k: _plain(v) for k, v in dataclasses.asdict(self).items()}


@dataclass
class ProbeComparison:
    """Rows of method x split, and the probe reports they came from."""

    site: str
    level: str
    metric: str
    label_names: list[str]
    methods: list[str]
    splits: list[str]
    rows: list[ProbeComparisonRow]
    reports: dict[str, ProbeReport]
    skipped: dict[str, str]  # method -> why it was not trained

    def row(self, method: str, split: str) -> ProbeComparisonRow:
        for r in self.rows:
            if r.method == method and r.split == split:
                return r
        raise KeyError(f"no row for method {method!r} on split {split!r}")

    def with_metric(self, metric: str) -> ProbeComparison:
        """The same probes compared on another of their bootstrapped metrics (no retraining)."""
        metric = _check_metric(metric, next(iter(self.reports.values())))
        rows = [_row(r.method, r.split, self.reports[r.method], metric) for r in self.rows]
        return dataclasses.replace(self, metric=metric, rows=rows)

    def table(self) -> str:
        """Plain text: one line per method, one column per split (`*` marks shifted splits)."""
        names = [s + ("*" if s not in IN_DISTRIBUTION else "") for s in self.splits]
        width = max(22, *(len(n) + 1 for n in names))
        lines = [f"{self.metric} at {self.site} ({self.level} level); * = under shift"]
        lines.append(f"{'method':<15}" + "".join(f"{n:>{width}}" for n in names))
        for method in self.methods:
            cells = "".join(f"{_cell(self.row(method, s)):>{width}}" for s in self.splits)
            lines.append(f"{method:<15}{cells}")
        lines += [f"({method} skipped: {why})" for method, why in self.skipped.items()]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "site": self.site,
            "level": self.level,
            "metric": self.metric,
            "label_names": self.label_names,
            "methods": self.methods,
            "splits": self.splits,
            "skipped": self.skipped,
            "rows": [r.to_dict() for r in self.rows],
            "reports": {m: r.to_dict() for m, r in self.reports.items()},
        }

    def plot(self, path: str | Path) -> Path:
        """The metric per method with its interval, one colour per split (dashed: under shift)."""
        import matplotlib

        matplotlib.use("Agg")  # files only: no display on servers
        import matplotlib.pyplot as plt

        path = Path(path)
        fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(self.methods) + 2), 4))
        step = 0.8 / max(1, len(self.splits))
        for j, split in enumerate(self.splits):
            rows = [self.row(m, split) for m in self.methods]
            x = [i - 0.4 + step * (j + 0.5) for i in range(len(rows))]
            values = [r.value for r in rows]
            lows = [r.value - r.low if r.low is not None else 0.0 for r in rows]
            highs = [r.high - r.value if r.high is not None else 0.0 for r in rows]
            bars = ax.errorbar(x, values, yerr=[lows, highs], fmt="o", capsize=3, label=_legend(split))
            if split not in IN_DISTRIBUTION:
                bars[-1][0].set_linestyle("--")
        ax.set_xticks(range(len(self.methods)), self.methods, rotation=30, ha="right")
        ax.set_ylabel(self.metric.replace("_", " "))
        ax.set_title(f"probes on {self.site} ({self.level} level), {len(self.label_names)} classes")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", title="split")
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
        plt.close(fig)
        return path


def compare_probes(
    store,
    site: str,
    sae: SparseAutoencoder,
    config: ProbeConfig | None = None,
    methods: tuple[str, ...] | list[str] = METHODS,
    metric: str | None = None,
    data: ProbeData | None = None,
) -> ProbeComparison:
    """Train every method in `methods` on the same splits of `store` at `site` and compare them on every
    evaluation split. `config.method` is ignored: `raw` is logistic, `diff_means` the baseline. A top-k
    larger than the SAE's width, and diff_means under attention pooling or with more than two classes, are
    skipped (see `skipped`)."""
    config = config or ProbeConfig()
    methods = _check_methods(methods)
    if store.width(site) != sae.cfg.d_in:  # store.width names the store's sites if `site` is not one
        raise InputError(
            f"the SAE reads width {sae.cfg.d_in}, but site {site} of the store has width {store.width(site)}; "
            "give an SAE trained on this site"
        )
    data = data or config.prepare(store)
    logistic = dataclasses.replace(config, method="logistic")
    reports, skipped = {}, {}
    for method in methods:
        why = _why_skipped(method, sae, config, len(data.label_names))
        if why:
            skipped[method] = why
            log.warning("compare: %s skipped: %s", method, why)
            continue
        log.info("compare: training %s probe on %s", method, site)
        if method == "diff_means":
            baseline = dataclasses.replace(config, method="diff_means")
            reports[method] = train_probe(store, site, baseline, data)
        else:
            reports[method] = train_sae_probe(store, site, sae, method, logistic, data).report
    if not reports:
        raise ConfigError(f"every method asked for was skipped ({skipped}); ask for raw or diff_means too")
    first = next(iter(reports.values()))
    metric = _check_metric(metric, first)
    splits = sorted(first.metrics, key=lambda s: (s not in IN_DISTRIBUTION, s != "val", s))
    rows = [_row(m, s, r, metric) for m, r in reports.items() for s in splits]
    return ProbeComparison(
        site, data.level, metric, list(data.label_names), list(reports), splits, rows, reports, skipped
    )


def _check_methods(methods) -> list[str]:
    methods = [m.strip() for m in (methods.split(",") if isinstance(methods, str) else methods)]
    if not methods:
        raise ConfigError("methods is empty; name at least one of raw, diff_means, sae_dense, sae_top<k>")
    for m in methods:
        if m != "diff_means":
            FeatureSpec.parse(m)  # names the unknown one
    return list(dict.fromkeys(methods))


def _why_skipped(method: str, sae: SparseAutoencoder, config: ProbeConfig, n_classes: int) -> str | None:
    if method == "diff_means" and config.pooling_or_none == "attention":
        return "attention pooling is learned; the difference of means takes mean, max or last pooling"
    if method == "diff_means" and n_classes > 2:
        return f"the difference of means separates two classes, and this task has {n_classes}"
    spec = FeatureSpec.parse(method) if method != "diff_means" else None
    if spec is not None and spec.kind == "sae_topk" and spec.k > sae.cfg.d_sae:
        return f"k={spec.k} is more than the SAE's {sae.cfg.d_sae} latents"
    return None


def _check_metric(metric: str | None, report: ProbeReport) -> str:
    record = next(iter(report.metrics.values()))
    if metric is None:
        return record.headline_name
    allowed = [k for k in dataclasses.asdict(record) if isinstance(getattr(record, k), float)]
    allowed = [k for k in allowed if k not in ("threshold", "ece")]
    if metric not in allowed:
        raise ConfigError(f"metric {metric!r} is not reported for this task; choose one of {allowed}")
    return metric


def _row(method: str, split: str, report: ProbeReport, metric: str) -> ProbeComparisonRow:
    m = report.metrics[split]
    ci = m.ci.get(metric)
    return ProbeComparisonRow(
        method,
        split,
        split not in IN_DISTRIBUTION,
        metric,
        float(getattr(m, metric)),
        None if ci is None or math.isnan(ci.low) else float(ci.low),
        None if ci is None or math.isnan(ci.high) else float(ci.high),
        int(m.n),
    )


def _legend(split: str) -> str:
    return split if split in IN_DISTRIBUTION else f"{split} (shift)"


def _cell(row: ProbeComparisonRow) -> str:
    if row.low is None or row.high is None:
        return f"{row.value:.3f}"
    return f"{row.value:.3f} [{row.low:.3f}, {row.high:.3f}]"


def _plain(v):
    return None if isinstance(v, float) and math.isnan(v) else v
