"""TrainingMonitor: every N steps, read a fixed probe set through the model being trained and record what
it has learned so far, without disturbing training (untouched.py).

Per look, at each site (texts mean-pooled over their tokens, the tokenizer's special tokens left out: a BOS or
`<|im_start|>` is often an attention sink whose norm dwarfs the rest and would make every mean read it):
- `probe_acc/SITE`: held-out accuracy of a linear probe fitted afresh on this look's activations (a fixed,
  seeded 70/30 split of the probe set): how linearly decodable the labels are now;
- `proj/NAME/SITE` (and `proj/NAME/SITE/LABEL` per class): mean projection onto a given direction's unit
  vector, e.g. a behaviour direction whose rise shows the behaviour drifting in;
- `shift_t/NAME/SITE` (and per class): the paired t-statistic of the texts' projections now against their
  own projections at the first look. The same texts are read every time, so a small shared rise stands out
  of the text-to-text spread (`last_projections` holds each text's projection for other statistics);
- `drift/SITE` and `drift_from_start/SITE`: 1 - cosine between the labels' difference of means now and at
  the previous look (or the first): how far the model's own direction for the concept moved.
Records go to `monitor.jsonl` and `monitor.csv` in `log_dir` (and tensorboard when it is installed);
`Alert`s call user code when a metric crosses a threshold.
"""

from __future__ import annotations

import csv
import functools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from ..core.forward import batches, pad_id_of, run, windows_of
from ..core.subject import Subject
from ..errors import ConfigError, InputError
from .untouched import untouched


@dataclass
class Alert:
    """Call `then(metric, value, step)` when `metric` goes above `above` or below `below` (once per
    crossing: it fires again only after the condition has stopped holding)."""

    metric: str
    above: float | None = None
    below: float | None = None
    then: Callable[[str, float, int], None] | None = None

    def __post_init__(self) -> None:
        if (self.above is None) == (self.below is None):
            raise ConfigError(f"alert on {self.metric!r} needs exactly one of above= or below=")

    def holds(self, value: float) -> bool:
        return value > self.above if self.above is not None else value < self.below


class TrainingMonitor:
    """`monitor.step(model, step)` in a training loop (or `IncisionCallback(monitor)` in a Trainer)."""

    def __init__(
        self,
        tokenizer,
        texts: Sequence[str],
        labels: Sequence | None = None,
        sites: Sequence[str] = ("resid.-1",),
        directions: dict | None = None,
        every: int = 50,
        log_dir: str | Path | None = None,
        alerts: Sequence[Alert] = (),
        batch_size: int = 16,
        seed: int = 0,
    ):
        if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
            raise InputError("the probe set needs texts, each a non-empty string")
        if not isinstance(every, int) or every < 1:
            raise ConfigError(f"every must be a positive number of steps, got {every!r}")
        if getattr(tokenizer, "pad_token_id", None) is None:
            raise ConfigError(
                "the tokenizer has no pad token; set one (e.g. tokenizer.pad_token = tokenizer.eos_token)"
            )
        self.tokenizer, self.texts, self.every, self.batch_size = tokenizer, list(texts), every, batch_size
        self.label_names, self.y = _labels(labels, len(self.texts))
        self.sites, self.directions = list(sites), _unit_directions(directions or {})
        self.alerts, self._holding = list(alerts), {id(a): False for a in alerts}
        order = torch.randperm(len(self.texts), generator=torch.Generator().manual_seed(seed))
        cut = max(1, int(0.7 * len(order)))
        self.train_rows, self.test_rows = order[:cut], order[cut:]
        self.records: list[dict] = []
        self._first_dirs: dict[str, torch.Tensor] = {}
        self._last_dirs: dict[str, torch.Tensor] = {}
        self._first_projections: dict[tuple[str, str], torch.Tensor] = {}
        self.last_projections: dict[str, dict[str, torch.Tensor]] = {}
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self._tensorboard = _tensorboard(self.log_dir)

    def due(self, step: int) -> bool:
        return step % self.every == 0

    def step(self, model, step: int, force: bool = False) -> dict | None:
        """Look at `model` if `step` is due (or `force`): the record, else None."""
        if not (force or self.due(step)):
            return None
        with untouched(model):
            pooled = self._pooled(model)
        record = {"step": int(step), **self._measure(pooled)}
        record["alerts"] = self._check_alerts(record, step)
        self.records.append(record)
        self._write(record)
        return record

    # -- measuring ----------------------------------------------------------------------------------
    def _pooled(self, model) -> dict[str, torch.Tensor]:
        """Mean-pooled activations [N, D] (float32, CPU) over each text's text tokens at every site needed,
        from stopped passes of `batch_size` texts (long texts in windows, as everywhere)."""
        subject = Subject(
            model=model, tokenizer=self.tokenizer, name="training"
        )  # sets eval: untouched restores
        needed = sorted(set(self.sites) | {s for d in self.directions.values() for s in d})
        sums = {site: torch.zeros(len(self.texts), subject.width(site)) for site in needed}
        counts = torch.zeros(len(self.texts))
        encodings = [subject.encode(text) for text in self.texts]
        pad = pad_id_of(self.tokenizer)
        for start in range(0, len(encodings), self.batch_size):
            windows = windows_of(
                encodings[start : start + self.batch_size], subject.default_window, first_doc=start
            )
            for batch in batches(windows, pad, batch_tokens=None, by_length=False):
                keep_BT = batch.kept_BT & batch.text_BT
                docs_B = torch.tensor([w.doc for w in batch.windows])
                counts.index_add_(0, docs_B, keep_BT.sum(1).float())

                def read(site: str, acts_BTD: torch.Tensor, keep_BT=keep_BT, docs_B=docs_B) -> None:
                    kept_BTD = acts_BTD.float() * keep_BT.to(acts_BTD.device)[..., None]
                    sums[site].index_add_(0, docs_B, kept_BTD.sum(1).cpu())

                reads = {site: functools.partial(read, site) for site in needed}
                run(subject, batch.ids_BT, batch.mask_BT, reads, until="sites", inference=False)
        return {site: total / counts.clamp_min(1)[:, None] for site, total in sums.items()}

    def _measure(self, pooled: dict[str, torch.Tensor]) -> dict:
        out = {}
        for name, vectors in self.directions.items():
            for site, unit in vectors.items():
                proj = pooled[site] @ unit
                self.last_projections.setdefault(name, {})[site] = proj
                shift = proj.double() - self._first_projections.setdefault((name, site), proj).double()
                out[f"proj/{name}/{site}"] = float(proj.mean())
                out[f"shift_t/{name}/{site}"] = _paired_t(shift)
                for k, label in enumerate(self.label_names or []):
                    out[f"proj/{name}/{site}/{label}"] = float(proj[self.y == k].mean())
                    out[f"shift_t/{name}/{site}/{label}"] = _paired_t(shift[self.y == k])
        if self.y is None:
            return out
        for site in self.sites:
            out[f"probe_acc/{site}"] = self._probe_accuracy(pooled[site])
            if len(self.label_names) == 2:
                direction = pooled[site][self.y == 1].mean(0) - pooled[site][self.y == 0].mean(0)
                first = self._first_dirs.setdefault(site, direction)
                if site in self._last_dirs:
                    out[f"drift/{site}"] = _one_minus_cos(direction, self._last_dirs[site])
                out[f"drift_from_start/{site}"] = _one_minus_cos(direction, first)
                self._last_dirs[site] = direction
        return out

    def _probe_accuracy(self, x_ND: torch.Tensor) -> float:
        from ..probes.linear import LinearProbe

        y_train = self.y[self.train_rows]
        if len(self.test_rows) == 0 or len(y_train.unique()) < 2:
            return math.nan
        probe = LinearProbe.fit(x_ND[self.train_rows].double(), y_train, label_names=self.label_names)
        predicted = probe.predict(x_ND[self.test_rows].double())
        return float((predicted == self.y[self.test_rows]).double().mean())

    def _check_alerts(self, record: dict, step: int) -> list[str]:
        fired = []
        for alert in self.alerts:
            value = record.get(alert.metric)
            holds = value is not None and not math.isnan(value) and alert.holds(value)
            if holds and not self._holding[id(alert)]:
                fired.append(alert.metric)
                if alert.then is not None:
                    alert.then(alert.metric, value, step)
            self._holding[id(alert)] = holds
        return fired

    # -- logging ------------------------------------------------------------------------------------
    def _write(self, record: dict) -> None:
        if self._tensorboard is not None:
            for key, value in record.items():
                if isinstance(value, float) and not math.isnan(value):
                    self._tensorboard.add_scalar(key, value, record["step"])
            self._tensorboard.flush()
        if self.log_dir is None:
            return
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / "monitor.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        columns = list(dict.fromkeys(k for r in self.records for k in r if k != "alerts"))
        with open(self.log_dir / "monitor.csv", "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, columns)
            writer.writeheader()
            writer.writerows({k: r.get(k, "") for k in columns} for r in self.records)


def _labels(labels, n: int) -> tuple[list[str] | None, torch.Tensor | None]:
    if labels is None:
        return None, None
    labels = list(labels)
    if len(labels) != n:
        raise InputError(f"the probe set has {n} texts but {len(labels)} labels")
    names = sorted({str(x) for x in labels})
    if len(names) < 2:
        raise InputError(f"the probe set's labels need at least two classes, got {names}")
    index = {name: k for k, name in enumerate(names)}
    return names, torch.tensor([index[str(x)] for x in labels])


def _unit_directions(directions: dict) -> dict[str, dict[str, torch.Tensor]]:
    """name -> site -> unit vector, from Directions or {site: vector} dicts."""
    out = {}
    for name, direction in directions.items():
        vectors = getattr(direction, "vectors", direction)
        if not isinstance(vectors, dict) or not vectors:
            raise ConfigError(f"direction {name!r} must be a Direction or a {{site: vector}} dict")
        out[name] = {}
        for site, v in vectors.items():
            v = torch.as_tensor(v, dtype=torch.float32).flatten()
            if not torch.isfinite(v).all() or float(v.norm()) == 0:
                raise ConfigError(f"direction {name!r} at {site!r} is zero or not finite")
            out[name][site] = v / v.norm()
    return out


def _paired_t(shift: torch.Tensor) -> float:
    """mean / standard error of per-text changes: 0 when nothing moved (or for a single text)."""
    if len(shift) < 2 or float(shift.abs().max()) == 0:
        return 0.0
    return float(shift.mean() / (shift.std() / math.sqrt(len(shift))).clamp_min(1e-12))


def _one_minus_cos(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(1 - torch.nn.functional.cosine_similarity(a.double(), b.double(), dim=0))


def _tensorboard(log_dir: Path | None):
    if log_dir is None:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional
        return None
    return SummaryWriter(str(log_dir / "tensorboard"))
