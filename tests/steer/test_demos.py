"""The demonstrations' mechanics on a tiny model (their numbers on the real models are in docs)."""

from __future__ import annotations

import json

import pytest

from incision.steer import demos

from ..conftest import tiny_subject

CHAT = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"


def test_concept_demo_reports_four_edits_and_weights_equal_hooks(tmp_path):
    reports = demos.concept_demo(tiny_subject("llama"), tmp_path, site="resid.1", n_train=40, n_neutral=3)
    assert [r.edit for r in reports] == [
        "directional ablation (hooks, every layer)", "ablation keeping the write means (hooks)",
        "orthogonalised weights keeping the write means", "LEACE at resid.1",
    ]  # fmt: skip
    _, hooked, weights, leace = reports
    # a Llama has no output norms: the orthogonalised model is the hooked one (up to float rounding, which
    # can reorder one near-tied pair of the random model's probe scores)
    assert weights.concept[0].auroc_after == pytest.approx(hooked.concept[0].auroc_after, abs=1e-3)
    for a, b in zip(hooked.side_effects, weights.side_effects, strict=True):
        assert a.kl == pytest.approx(b.kl, rel=1e-3, abs=1e-7)
    assert [s.lang for s in leace.side_effects] == ["en", "ja"] and len(leace.logit_diffs) == 5
    assert json.loads((tmp_path / "report.json").read_text())[3]["edit"] == "LEACE at resid.1"
    assert "orthogonal to the means of 7 residual writes" in (tmp_path / "report.txt").read_text()
    assert (tmp_path / "direction" / "cfg.json").is_file() and (tmp_path / "eraser" / "cfg.json").is_file()


def test_refusal_demo_chooses_a_layer_and_measures_rates(tmp_path):
    subject = tiny_subject("llama")
    subject.tokenizer.chat_template = CHAT
    result = demos.refusal_demo(
        subject, tmp_path, layers=(0, 1), alphas=(1.0, 4.0), n_eval=4, max_new_tokens=3
    )
    assert result["site"] in ("resid.0", "resid.1") and set(result["validation"]) == {
        "resid.0",
        "resid.1",
        "before",
    }
    assert set(result["benign_refusal_added"]) == {"1.0", "4.0"}
    rates = [
        result[k] for k in ("harmful_refusal_before", "harmful_refusal_ablated", "benign_refusal_before")
    ]
    assert all(0.0 <= r <= 1.0 for r in rates) and result["n_harmful"] == 4
    assert "held-out harmful instructions" in (tmp_path / "report.txt").read_text()
    assert json.loads((tmp_path / "refusal.json").read_text())["site"] == result["site"]
