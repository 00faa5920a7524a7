"""The two demonstrations of `incision steer demo`, on data written for the project (the bundled tasks).

concept: the sentiment direction of the embedded Gemma (difference of means of positive and negative
  reviews, English and Japanese, training split) removed four ways: hooked ablation at every residual
  write as is, the same with the direction made orthogonal to the writes' means (keep_means.py), that
  edit baked into orthogonalised weights, and LEACE at the direction's site. The report: the sentiment
  probe on held-out phrasings, logit differences on sentiment completions, generations, and KL /
  perplexity on neutral English and Japanese text (the benign instructions of the `harmful` task,
  held-out split; the write means come from the training split).
refusal: the refusal direction of `smollm2-135m-instruct` (difference of means at the last prompt token,
  chat template applied, harmful vs benign English instructions of the `harmful` task's training split,
  at the layer whose ablation lowers refusals most on a validation slice). Ablating it everywhere is
  judged on held-out harmful instructions, adding it on held-out benign ones, by the refusal-phrase rate.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
from pathlib import Path

from ..datasets import load_task
from ..stats import wilson_interval
from .ablation import ablate
from .contrast import diff_means, pooled_activations
from .direction import Direction
from .edit_kinds import Ablate, Erase, Orthogonalize, Steer
from .erase import fit_eraser_live
from .keep_means import keep_means, neutral_texts
from .refusal import chat_prompts, refusal_rate
from .report import EditReport, concept_scores, generations, logit_diffs, side_effects, write_report
from .steering import generate, steer

log = logging.getLogger(__name__)

SENTIMENT_COMPLETIONS = [
    ("The service at this shop was", " excellent", " terrible"),
    ("Honestly, the food was", " delicious", " awful"),
    ("My experience with the delivery was", " great", " bad"),
    ("このお店のサービスは", "最高", "最悪"),
    ("正直に言うと、料理は", "美味しかった", "まずかった"),
]
SENTIMENT_PROMPTS = ["I think this product is", "The hotel room was", "この映画は"]


def _sample(rows: list[dict], n: int, seed: int = 0) -> list[dict]:
    return random.Random(seed).sample(rows, min(n, len(rows)))


def concept_demo(
    subject, out: str | Path, site: str = "resid.6", n_train: int = 600, n_neutral: int = 40
) -> list[EditReport]:
    """Remove the sentiment direction; returns one report per way of removing it (also written to `out`)."""
    train = _sample(load_task("sentiment", split="train"), n_train)
    held = load_task("sentiment", split="heldout")
    y = lambda rows: [int(r["label"] == "positive") for r in rows]  # noqa: E731
    direction = diff_means(
        subject, [r["text"] for r in train if r["label"] == "positive"],
        [r["text"] for r in train if r["label"] == "negative"], site,
    )  # fmt: skip
    direction.save(Path(out) / "direction")
    vector = direction.vector(site)
    log.info("concept demo: direction at %s from %d texts; fitting LEACE", site, len(train))
    kept, kept_record = keep_means(subject, vector)
    eraser = fit_eraser_live(subject, [r["text"] for r in train], y(train), site, ["negative", "positive"])
    eraser.save(Path(out) / "eraser")
    edits = {
        "directional ablation (hooks, every layer)": Ablate(vector),
        "ablation keeping the write means (hooks)": Ablate(kept),
        "orthogonalised weights keeping the write means": Orthogonalize(kept),
        f"LEACE at {site}": Erase(eraser, site),
    }
    neutral = {lang: neutral_texts("heldout", [lang], n_neutral) for lang in ("en", "ja")}
    texts = ([r["text"] for r in train], y(train)), ([r["text"] for r in held], y(held))
    clean = tuple(pooled_activations(subject, t, site)[site] for t, _ in texts)  # shared by every edit
    reports = []
    for name, edit in edits.items():
        log.info("concept demo: measuring %s", name)
        report = EditReport(name)
        report.concept.append(concept_scores(subject, edit, site, *texts, clean=clean))
        report.logit_diffs = logit_diffs(subject, edit, SENTIMENT_COMPLETIONS)
        report.generations = generations(subject, edit, SENTIMENT_PROMPTS, max_new_tokens=24)
        report.side_effects = [side_effects(subject, edit, t, lang) for lang, t in neutral.items()]
        reports.append(report)
    summary = (
        f"kept write means: the direction made orthogonal to the means of {kept_record['kept_write_means']} "
        f"residual writes on {kept_record['calibration_texts']} neutral texts (cosine to the original "
        f"{kept_record['cosine_to_original']:.3f})"
    )
    write_report(reports, out, f"Removing the sentiment direction of {subject.name} at {site}", summary)
    return reports


def refusal_demo(
    subject,
    out: str | Path,
    layers=(6, 8, 10, 12, 14, 16, 18),
    alphas=(1.0, 2.0, 4.0, 8.0),
    n_eval: int = 100,
    max_new_tokens: int = 24,
    max_kl: float = 1.0,
) -> dict:
    """Find, ablate and add the refusal direction; returns the refusal rates (also written to `out`).
    The layer: of those whose ablation costs at most `max_kl` nats/token on neutral text, the one whose
    ablation leaves the fewest refusals on a validation slice of the training harmful instructions."""
    train = load_task("harmful", split="train", lang="en")
    harmful = [r["text"] for r in train if r["label"] == "harmful"]
    benign = [r["text"] for r in train if r["label"] == "benign"]
    fit_h, val_h = harmful[: len(harmful) - 32], harmful[-32:]
    sites = [f"resid.{layer}" for layer in layers]
    log.info(
        "refusal demo: directions at %s from %d harmful, %d benign instructions",
        sites,
        len(fit_h),
        len(benign),
    )
    chat = lambda texts: chat_prompts(subject, texts)  # noqa: E731
    direction = diff_means(subject, chat(fit_h), chat(benign), sites, "last")
    neutral = [r["text"] for r in load_task("sentiment", "heldout", "en")][:40]
    site, candidates = _choose_layer(subject, direction, chat(val_h), neutral[:16], max_new_tokens, max_kl)
    direction.vectors = {site: direction.vector(site)}
    direction.meta["chosen_by"] = candidates
    direction.save(Path(out) / "direction")
    held = load_task("harmful", split="heldout", lang="en")
    held_h = chat([r["text"] for r in held if r["label"] == "harmful"][:n_eval])
    held_b = chat([r["text"] for r in held if r["label"] == "benign"][:n_eval])
    vector = direction.vector(site)
    log.info("refusal demo: %d held-out harmful and %d benign instructions", len(held_h), len(held_b))
    result = {
        "site": site,
        "validation": candidates,
        "harmful_refusal_before": _refusals(subject, held_h, max_new_tokens),
        "harmful_refusal_ablated": _refusals(subject, held_h, max_new_tokens, ablate_vector=vector),
        "benign_refusal_before": _refusals(subject, held_b, max_new_tokens),
        "benign_refusal_added": {
            str(alpha): _refusals(subject, held_b, max_new_tokens, add=(site, vector, alpha))
            for alpha in alphas
        },
        "n_harmful": len(held_h),
        "n_benign": len(held_b),
    }
    _refusal_report(
        subject, out, result, held_h[:4], held_b[:4], vector, site, max(alphas), max_new_tokens, neutral
    )
    return result


def _choose_layer(subject, direction, val_prompts, neutral, max_new_tokens, max_kl) -> tuple[str, dict]:
    candidates = {}
    for site in direction.sites:
        vector = direction.vector(site)
        candidates[site] = {
            "refusal_after_ablation": _refusals(subject, val_prompts, max_new_tokens, ablate_vector=vector),
            "kl": side_effects(subject, Ablate(vector), neutral, "en").kl,
        }
    candidates["before"] = {"refusal": _refusals(subject, val_prompts, max_new_tokens)}
    allowed = [s for s in direction.sites if candidates[s]["kl"] <= max_kl] or list(direction.sites)
    site = min(allowed, key=lambda s: (candidates[s]["refusal_after_ablation"], candidates[s]["kl"]))
    log.info("refusal demo: validation %s; using %s", candidates, site)
    return site, candidates


def _refusals(subject, prompts, max_new_tokens, ablate_vector=None, add=None) -> float:
    context = contextlib.nullcontext()
    if ablate_vector is not None:
        context = ablate(subject, ablate_vector)
    elif add is not None:
        site, vector, alpha = add
        context = steer(subject, {site: vector}, alpha)
    with context as handle:
        replies, _ = generate(
            subject, prompts, handle if add is not None else None, max_new_tokens=max_new_tokens
        )
    return refusal_rate(replies)


def _ci(rate: float, n: int) -> str:
    low, high = wilson_interval(rate, n)
    return f"{rate:.2f} [{low:.2f}, {high:.2f}]"


def _refusal_report(
    subject, out, result, harmful, benign, vector, site, alpha, max_new_tokens, neutral
) -> None:
    ablation = EditReport("refusal direction ablated (hooks, every layer)")
    ablated = Ablate(vector)
    ablation.generations = generations(subject, ablated, harmful, max_new_tokens)
    ablation.side_effects = [side_effects(subject, ablated, neutral, "en")]
    addition = EditReport(f"refusal direction added (alpha {alpha:g} at {site})")
    added = Steer(Direction({site: vector}), alpha)
    addition.generations = generations(subject, added, benign, max_new_tokens)
    addition.side_effects = [side_effects(subject, added, neutral, "en")]
    harmful_n, benign_n = result["n_harmful"], result["n_benign"]
    rates = ", ".join(f"alpha {a}: {_ci(r, benign_n)}" for a, r in result["benign_refusal_added"].items())
    summary = (
        f"refusal-phrase rate (95% Wilson interval) on {harmful_n} held-out harmful instructions: "
        f"{_ci(result['harmful_refusal_before'], harmful_n)} -> "
        f"{_ci(result['harmful_refusal_ablated'], harmful_n)} with the direction ablated\n"
        f"on {benign_n} held-out benign instructions: {_ci(result['benign_refusal_before'], benign_n)} "
        f"-> with it added at {site}: {rates}"
    )
    write_report([ablation, addition], out, f"Refusal direction of {subject.name} at {site}", summary)
    (Path(out) / "refusal.json").write_text(json.dumps(result, indent=1))
