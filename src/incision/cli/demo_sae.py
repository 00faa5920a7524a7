"""The demo's SAE step: a TopK SAE trained on the activations the detector was trained on, then raw
probes vs SAE probes on the PII token task, in distribution and on the style-shifted records.

The SAE reads the detector's own store (its site, its training text; the shifted records stay unseen).
The comparison store holds a sample of the training records (drawn into train, val and test) and every
shifted record, captured at the same site. The result goes to `out/sae-compare/` and into the report.
"""

from __future__ import annotations

import base64
import html
import json
import random
from pathlib import Path

from ..probes.train import ProbeConfig
from ..sae import SAEConfig, SAETrainConfig, load, save, train_sae
from ..sae.probe_comparison import ProbeComparison, compare_probes
from ..sae.sources import SourceConfig, store_batches, training_rows

METHODS = ("raw", "sae_dense", "sae_top8", "sae_top32", "reconstruction")
METRICS = ("macro_f1", "macro_auroc")
EPOCHS = 3  # the detector's store is small (~150k tokens for 4,000 records)


def sae_comparison(
    subject,
    detector_store,
    train: list[dict],
    shifted: list[dict],
    out: Path,
    *,
    sae_path=None,
    n_records=1000,
) -> list[ProbeComparison]:
    """Train (or load from `sae_path`) an SAE on `detector_store`'s site, compare probes on a store of
    `n_records` training records plus `shifted`, write table.txt, comparison.json and one PNG per metric
    under `out`, and return the comparison under each of METRICS."""
    from .. import capture

    site = detector_store.sites[0]
    sae = load(sae_path) if sae_path else _train_sae(detector_store, site, out / "sae")
    sample = random.Random(0).sample(train, min(n_records, len(train)))
    records = [{**r, "split": "train"} for r in sample] + [{**r, "split": "shifted"} for r in shifted]
    store = capture(subject, records, site, out / "store", overwrite=True)
    config = ProbeConfig(level="token", spans_field="spans", split_field="split")
    first = compare_probes(store, site, sae, config, methods=METHODS, metric=METRICS[0])
    comparisons = [first] + [first.with_metric(m) for m in METRICS[1:]]
    (out / "table.txt").write_text("\n\n".join(c.table() for c in comparisons) + "\n", encoding="utf-8")
    (out / "comparison.json").write_text(json.dumps(first.to_dict(), indent=1), encoding="utf-8")
    for comparison in comparisons:
        comparison.plot(out / f"comparison-{comparison.metric}.png")
    return comparisons


def _train_sae(store, site: str, out: Path):
    width = store.width(site)
    cfg = SAEConfig(d_in=width, d_sae=4 * width, k=32, normalise_activations="expected_average",
                    dead_after_tokens=100_000)  # fmt: skip
    source = SourceConfig(epochs=EPOCHS)
    n_tokens = EPOCHS * len(training_rows(store, include_special=False))
    train_cfg = SAETrainConfig(lr=5e-4, warmup_steps=10, total_tokens=max(n_tokens // 4096, 1) * 4096,
                               log_every=10, checkpoint_every=0)  # fmt: skip
    result = train_sae(cfg, store_batches(store, site, cfg, source), train_cfg, out / "train")
    save(result.sae, out)
    return result.sae


def report_section(comparisons: list[ProbeComparison], out: Path, n_train_records: int, sae_note: str) -> str:
    """HTML for the demo report: what was compared, then each metric's table and plot (embedded)."""
    first = comparisons[0]
    parts = [
        "<h2>Raw-activation probes vs SAE probes (PII token task)</h2>",
        f"<p>Token probes at {html.escape(first.site)}, trained on a sample of {n_train_records} training "
        "records (drawn into train, val and test) and judged in distribution (val, test) and on every "
        "style-shifted record (shifted). Methods: a logistic probe on the raw activations, on all SAE latents, "
        "on the 8 and 32 latents chosen on the training split, and on the SAE's reconstruction. "
        f"{html.escape(sae_note)} Intervals: 95% bootstrap.</p>",
    ]
    for comparison in comparisons:
        png = (out / f"comparison-{comparison.metric}.png").read_bytes()
        parts.append(f'<pre class="summary">{html.escape(comparison.table())}</pre>')
        parts.append(f'<img alt="{comparison.metric} per method" src="data:image/png;base64,'
                     f'{base64.b64encode(png).decode()}">')  # fmt: skip
    return "\n".join(parts)
