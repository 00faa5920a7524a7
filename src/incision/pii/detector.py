"""Detector: a token-level probe on a model's activations that finds PII spans and scrubs them.

A detector is a folder: `detector.json` (model, site, threshold, operating point, format version) and
`probe/` (a LinearProbe folder). It runs the model only up to the probe's block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..artifacts import Provenance, atomic_folder, check_format, read_json, write_json
from ..errors import ConfigError, InputError, StoreError
from ..probes import LinearProbe
from .decode import decode_spans
from .records import Span, clean_text
from .scrub import Style, scrub

FORMAT_VERSION = 2  # 2: training facts under "meta"
KIND = "pii-detector"
CFG = "detector.json"


@dataclass
class Detector:
    """Finds PII spans in texts with `probe` (token level, classes "none" + PII types) read from `subject`."""

    subject: object
    probe: LinearProbe
    threshold: float  # a token is PII when P(not none) >= threshold...
    seed_threshold: float = 0.95  # ...and a span is kept when one of its tokens reaches this
    meta: dict = field(default_factory=dict)  # training data, operating point on validation...

    def __post_init__(self) -> None:
        if self.probe.pooling is not None or self.probe.label_names[0] != "none":
            raise ConfigError("a detector needs a token-level probe whose first class is 'none'")
        if not 0 < self.threshold <= self.seed_threshold < 1:
            raise ConfigError(
                f"thresholds must satisfy 0 < threshold <= seed_threshold < 1, got {self.threshold!r} "
                f"and {self.seed_threshold!r}"
            )

    @property
    def labels(self) -> list[str]:
        return self.probe.label_names[1:]

    def find(self, text: str) -> list[Span]:
        """PII spans of one text, in order."""
        return self.find_batch([text])[0]

    def find_batch(
        self, texts: list[str], batch_tokens: int = 4096, window: int | None = None
    ) -> list[list[Span]]:
        """PII spans of each text. Texts longer than `window` tokens (default: the model's, at most 2048)
        are split into windows that overlap by half, as captures are, so a value on a boundary is found
        whole: every token is scored with at least half a window of left context."""
        texts = [_checked_text(t, k) for k, t in enumerate(texts)]
        nonempty = [k for k, t in enumerate(texts) if t.strip()]
        found: list[list[Span]] = [[] for _ in texts]
        if not nonempty:
            return found
        scores = self.probe.score(
            self.subject, [texts[k] for k in nonempty], batch_tokens=batch_tokens, window=window
        )
        for k, result in zip(nonempty, scores, strict=True):
            proba = result.proba_TC.double().numpy()
            found[k] = decode_spans(
                texts[k],
                result.starts,
                result.ends,
                proba,
                self.probe.label_names,
                self.threshold,
                self.seed_threshold,
            )
        return found

    def scrub(self, text: str, style: Style = "label", salt: str = "") -> str:
        """`text` with its PII replaced and every other character untouched (a lone surrogate, which no
        encoder can write, becomes U+FFFD)."""
        return self.scrub_batch([text], style, salt)[0]

    def scrub_batch(self, texts: list[str], style: Style = "label", salt: str = "") -> list[str]:
        texts = [_checked_text(t, k) for k, t in enumerate(texts)]
        return [scrub(t, spans, style, salt) for t, spans in zip(texts, self.find_batch(texts), strict=True)]

    # -- artifacts -----------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """A folder, written atomically: detector.json + probe/ (a LinearProbe folder)."""
        cfg = {
            "format_version": FORMAT_VERSION,
            "kind": KIND,
            "model": self.probe.meta.get("model"),
            "site": self.probe.meta.get("site"),
            "threshold": self.threshold,
            "seed_threshold": self.seed_threshold,
            "labels": self.labels,
            "meta": self.meta,
        }
        with atomic_folder(folder) as tmp:
            self.probe.save(tmp / "probe")
            write_json(tmp / CFG, cfg)
        return Path(folder)

    @classmethod
    def load(cls, folder: str | Path, expect: Provenance | dict | None = None, subject=None) -> Detector:
        """Load a detector folder; without a subject, load the model it was trained on. Its probe must
        match `expect` and the subject (see `artifacts.check_provenance`)."""
        folder = Path(folder)
        cfg = read_json(folder, "detector", CFG)
        check_format(cfg, folder, "detector", FORMAT_VERSION, kind=KIND, oldest=2)  # 1 kept facts elsewhere
        missing = [k for k in ("model", "threshold", "seed_threshold", "labels", "meta") if k not in cfg]
        if missing:
            raise StoreError(f"detector {str(folder)!r} lacks {missing} in {CFG}; train it again")
        if subject is None:
            from .. import load

            subject = load(cfg["model"])
        probe = LinearProbe.load(folder / "probe", expect=expect, subject=subject)
        if cfg["labels"] != probe.label_names[1:]:
            raise StoreError(
                f"detector {str(folder)!r}: labels {cfg['labels']} differ from its probe's {probe.label_names[1:]}"
            )
        return cls(subject, probe, float(cfg["threshold"]), float(cfg["seed_threshold"]), cfg["meta"])


def _checked_text(text, index: int) -> str:
    """Texts must be strings; lone surrogates (from broken JSON) become U+FFFD, one for one, so every
    offset still points at the same character."""
    if not isinstance(text, str):
        raise InputError(f"text {index} must be a string, got {type(text).__name__}")
    return clean_text(text)
