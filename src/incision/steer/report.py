"""The edit report: is the behaviour gone, and is the rest of the model unchanged?

An edit is given as a context-manager factory that yields the subject to run as edited: hooks on the clean
subject (`ablate`, `erase`, `steer`) or an edited copy (orthogonalised weights). Measured:

- concept: a probe trained on clean activations of the training texts, judged on held-out texts with the
  edit (does the edit hide the concept from the probe the model had?), and a fresh probe trained and judged
  on edited activations (is it still linearly decodable at all?); AUROC;
- logit differences on contrast completions (the positive minus the negative next token) before and after;
- greedy generations side by side;
- side effects on neutral text per language: the mean KL(clean || edited) of the next-token distributions
  over text tokens, and the perplexity of the text before and after.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..core.edits import Edit, as_edit
from ..core.forward import run, text_batches
from ..probes.linear import LinearProbe
from ..probes.metrics import auroc
from .contrast import pooled_activations
from .steering import generate


@dataclass
class ConceptScores:
    site: str
    auroc_before: float  # clean probe on clean held-out activations
    auroc_after: float  # the same probe on edited held-out activations
    fresh_auroc_after: float  # a probe trained and judged on edited activations
    n_train: int
    n_heldout: int


@dataclass
class SideEffects:
    lang: str
    n_texts: int
    n_tokens: int
    kl: float  # mean over text tokens of KL(clean || edited), nats
    perplexity_before: float
    perplexity_after: float


@dataclass
class EditReport:
    edit: str
    concept: list[ConceptScores] = field(default_factory=list)
    logit_diffs: list[dict] = field(default_factory=list)  # prompt, positive, negative, before, after
    generations: list[dict] = field(default_factory=list)  # prompt, before, after
    side_effects: list[SideEffects] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def table(self) -> str:
        lines = [f"edit: {self.edit}"]
        for c in self.concept:
            lines.append(
                f"  concept probe AUROC at {c.site}: {c.auroc_before:.3f} -> {c.auroc_after:.3f} "
                f"(fresh probe on edited activations {c.fresh_auroc_after:.3f}; {c.n_heldout} held-out texts)"
            )
        if self.logit_diffs:
            before = np.mean([d["before"] for d in self.logit_diffs])
            after = np.mean([d["after"] for d in self.logit_diffs])
            lines.append(
                f"  mean logit difference on {len(self.logit_diffs)} completions: {before:.3f} -> {after:.3f}"
            )
        for s in self.side_effects:
            lines.append(
                f"  neutral {s.lang} ({s.n_tokens} tokens): KL {s.kl:.4f} nats/token, "
                f"perplexity {s.perplexity_before:.2f} -> {s.perplexity_after:.2f}"
            )
        return "\n".join(lines)


def concept_scores(
    subject, edit: Edit, site: str, train, heldout, pooling: str = "mean", clean=None
) -> ConceptScores:
    """`train` and `heldout` are (texts, labels 0/1) pairs; `clean` may hold their unedited pooled
    activations (x_train, x_held), so that several edits judged on the same texts compute them once."""
    (train_texts, y_train), (held_texts, y_held) = train, heldout
    x_train, x_held = clean or (
        pooled_activations(subject, texts, site, pooling)[site] for texts in (train_texts, held_texts)
    )
    with as_edit(edit).apply(subject) as edited:
        e_train = pooled_activations(edited, train_texts, site, pooling)[site]
        e_held = pooled_activations(edited, held_texts, site, pooling)[site]
    probe = LinearProbe.fit(x_train, torch.tensor(y_train))
    fresh = LinearProbe.fit(e_train, torch.tensor(y_train))
    return ConceptScores(
        site,
        _auroc(y_held, probe, x_held),
        _auroc(y_held, probe, e_held),
        _auroc(y_held, fresh, e_held),
        len(train_texts),
        len(held_texts),
    )


def _auroc(y, probe: LinearProbe, x: torch.Tensor) -> float:
    return float(auroc(np.asarray(y), probe.predict_proba(x)[:, 1].numpy()))


@torch.no_grad()
def logit_diffs(subject, edit: Edit, completions: list[tuple[str, str, str]]) -> list[dict]:
    """For (prompt, positive, negative): next-token logit of the positive text's first token minus the
    negative's, before and after the edit."""
    ids = [torch.tensor([subject.encode(prompt).ids]) for prompt, _, _ in completions]
    before = [run(subject, i).logits[0, -1] for i in ids]
    with as_edit(edit).apply(subject) as edited:
        after = [run(edited, i).logits[0, -1] for i in ids]
    rows = []
    for (prompt, positive, negative), b, a in zip(completions, before, after, strict=True):
        pos, neg = (_first_token(subject.tokenizer, t) for t in (positive, negative))
        rows.append({"prompt": prompt, "positive": positive, "negative": negative,
                     "before": float(b[pos] - b[neg]), "after": float(a[pos] - a[neg])})  # fmt: skip
    return rows


def _first_token(tokenizer, text: str) -> int:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if not ids:
        raise ValueError(f"the completion {text!r} has no tokens")
    return ids[0]


def generations(subject, edit: Edit, prompts: list[str], max_new_tokens: int = 32) -> list[dict]:
    before, _ = generate(subject, prompts, max_new_tokens=max_new_tokens)
    with as_edit(edit).apply(subject) as edited:
        after, _ = generate(edited, prompts, max_new_tokens=max_new_tokens)
    return [{"prompt": p, "before": b, "after": a} for p, b, a in zip(prompts, before, after, strict=True)]


@torch.no_grad()
def side_effects(subject, edit: Edit, texts: list[str], lang: str, batch_size: int = 4) -> SideEffects:
    """KL(clean || edited) per predicted text token and perplexity before and after, on `texts`."""
    kl_sum = nll_before = nll_after = 0.0
    n_tokens = 0
    for batch in text_batches(subject, texts, batch_size):
        ids, mask = batch.ids_BT, batch.mask_BT
        clean = F.log_softmax(run(subject, ids, mask, inference=False).logits[:, :-1].float().cpu(), -1)
        with as_edit(edit).apply(subject) as edited:
            logits = run(edited, ids, mask, inference=False).logits
            changed = F.log_softmax(logits[:, :-1].float().cpu(), -1)
        # predictions of real next tokens, from the tokens each window keeps (long texts come in windows)
        target, keep = ids[:, 1:], batch.kept_BT[:, :-1] & mask[:, 1:].bool()
        kl_sum += float((clean.exp() * (clean - changed)).sum(-1)[keep].sum())
        nll_before -= float(clean.gather(-1, target[..., None])[..., 0][keep].sum())
        nll_after -= float(changed.gather(-1, target[..., None])[..., 0][keep].sum())
        n_tokens += int(keep.sum())
    n = max(n_tokens, 1)
    return SideEffects(
        lang, len(texts), n_tokens, kl_sum / n, math.exp(nll_before / n), math.exp(nll_after / n)
    )


def write_report(reports: list[EditReport], folder: str | Path, title: str, summary: str = "") -> Path:
    """report.json, report.txt and report.html (summary and tables, then generations side by side)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(
        json.dumps([r.to_dict() for r in reports], indent=1, ensure_ascii=False)
    )
    text = "\n\n".join([summary] * bool(summary) + [r.table() for r in reports])
    (folder / "report.txt").write_text(text + "\n", encoding="utf-8")
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1><pre>{html.escape(text)}</pre>"]  # fmt: skip
    for report in reports:
        if report.generations:
            parts.append(f"<h2>{html.escape(report.edit)}: generations</h2><table><tr><th>prompt</th>"
                         "<th>before</th><th>after</th></tr>")  # fmt: skip
            for g in report.generations:
                cells = "".join(f"<td>{html.escape(g[k])}</td>" for k in ("prompt", "before", "after"))
                parts.append(f"<tr>{cells}</tr>")
            parts.append("</table>")
    (folder / "report.html").write_text("".join(parts) + "</body></html>\n", encoding="utf-8")
    return folder / "report.html"


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}pre{background:#f6f6f6;padding:1em}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.4em;vertical-align:top;white-space:pre-wrap}"
)
