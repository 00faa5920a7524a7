"""The edit report's measures against references: perplexity equals the model's own loss, a no-op edit
changes nothing (KL 0, equal probes and logits), and a real edit shows up."""

from __future__ import annotations

import contextlib
import json
import math
import random

import pytest
import torch

from incision.steer.ablation import ablate
from incision.steer.contrast import diff_means
from incision.steer.report import (
    EditReport,
    concept_scores,
    generations,
    logit_diffs,
    side_effects,
    write_report,
)

from ..conftest import tiny_subject

NEUTRAL = ["the dog sat on the mat", "a fox ran over the hill and far away", "hello there"]


@pytest.fixture(scope="module")
def subject():
    return tiny_subject("llama")


def noop(subject):
    return lambda: contextlib.nullcontext(subject)


def ablation(subject, vector):
    @contextlib.contextmanager
    def edit():
        with ablate(subject, vector):
            yield subject

    return edit


def test_perplexity_is_the_models_own_loss_and_a_noop_edit_has_zero_kl(subject):
    effects = side_effects(subject, noop(subject), NEUTRAL, "en", batch_size=2)
    assert effects.kl == pytest.approx(0.0, abs=1e-6)
    assert effects.perplexity_before == effects.perplexity_after
    losses, counts = [], []
    for text in NEUTRAL:
        ids = subject.tokenizer(text, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            losses.append(float(subject.model(input_ids=ids, labels=ids).loss) * (ids.shape[1] - 1))
        counts.append(ids.shape[1] - 1)
    assert effects.n_tokens == sum(counts)
    assert effects.perplexity_before == pytest.approx(math.exp(sum(losses) / sum(counts)), rel=1e-5)


def test_an_ablation_shows_up_in_kl_logits_and_the_concept_probe(subject):
    rng = random.Random(0)
    words = {1: ["apple", "banana", "cherry"], 0: ["river", "hill", "lake"]}
    texts, labels = [], []
    for i in range(60):
        label = i % 2
        texts.append(
            " ".join([rng.choice(["the", "a", "dog", "on"]) for _ in range(3)] + [rng.choice(words[label])])
        )
        labels.append(label)
    train, held = (texts[:40], labels[:40]), (texts[40:], labels[40:])
    vector = diff_means(
        subject,
        [t for t, y in zip(*train, strict=True) if y],
        [t for t, y in zip(*train, strict=True) if not y],
        "resid.1",
    ).vector()
    same = concept_scores(subject, noop(subject), "resid.1", train, held)
    assert same.auroc_after == same.auroc_before and same.auroc_before > 0.9
    edited = concept_scores(subject, ablation(subject, vector), "resid.1", train, held)
    assert edited.auroc_before == same.auroc_before and edited.auroc_after < edited.auroc_before
    assert side_effects(subject, ablation(subject, vector), NEUTRAL, "en").kl > 1e-6
    rows = logit_diffs(subject, noop(subject), [("the dog", " apple", " river")])
    assert rows[0]["before"] == rows[0]["after"]
    assert (
        logit_diffs(subject, ablation(subject, vector), [("the dog", " apple", " river")])[0]["after"]
        != rows[0]["before"]
    )


def test_report_files(subject, tmp_path):
    report = EditReport(
        "noop", generations=generations(subject, noop(subject), ["the dog"], max_new_tokens=4)
    )
    report.side_effects.append(side_effects(subject, noop(subject), NEUTRAL[:1], "en"))
    page = write_report([report], tmp_path / "r", "test report")
    assert "KL 0.0000" in (tmp_path / "r" / "report.txt").read_text()
    assert json.loads((tmp_path / "r" / "report.json").read_text())[0]["edit"] == "noop"
    assert "<td>the dog</td>" in page.read_text()
