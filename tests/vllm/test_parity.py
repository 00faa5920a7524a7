"""The vLLM backend scores what the Hugging Face backend scores, token for token, and generates what it
generates, on a tiny random Llama and on the embedded SmolLM2 and Gemma 3.

Tolerance: probabilities within 1e-4. Both run in float32, but vLLM's kernels (CPU paged attention, fused
add + RMSNorm, the merged QKV and gate-up products) add in another order than Hugging Face's eager path;
activations then agree to about 1e-5 relative, probe logits (a sum over the width) to about 1e-4. Measured on
SmolLM2: 2e-5 at most. Greedy tokens are compared exactly: at these precisions a flip needs two logits
within ~1e-5 of each other, which none of these prompts has.
"""

from __future__ import annotations

import pytest
import torch

from incision.monitor import Monitor

from .helpers import ENGINE, TEXTS, hf_subject, three_probes

pytest.importorskip("vllm")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")

ATOL = 1e-4
PROMPTS = ["Hello, my name is", "The capital of France"]


def assert_readings_equal(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g.token_ids == e.token_ids and g.starts == e.starts and g.ends == e.ends
        for name, reading in e.probes.items():
            torch.testing.assert_close(
                g.probes[name].token_proba_TC, reading.token_proba_TC, atol=ATOL, rtol=0
            )
            torch.testing.assert_close(g.probes[name].proba_C, reading.proba_C, atol=ATOL, rtol=0)


def assert_events_equal(got, expected):
    """Same tokens, texts, actions and finish; scores within the tolerance. vLLM never runs a final EOS
    through the model, so an EOS event has no scores there (results.py)."""
    assert [(e.token_id, e.text, e.actions, e.finish_reason) for e in got] == [
        (e.token_id, e.text, e.actions, e.finish_reason) for e in expected
    ]
    for g, e in zip(got, expected, strict=True):
        if g.scores or g.finish_reason != "stop":
            assert g.scores.keys() == e.scores.keys()
            for name in e.scores:
                assert g.scores[name] == pytest.approx(e.scores[name], abs=ATOL)


def check_parity(model: str, subject, sites, max_tokens: int = 12):
    from vllm import SamplingParams

    from incision.vllm import MonitoredLLM

    probes = three_probes(subject, sites)
    monitor = Monitor(subject, probes)
    llm = MonitoredLLM(model, probes, **ENGINE)
    assert_readings_equal(llm.score(TEXTS), monitor.score(TEXTS))
    results = llm.generate(PROMPTS, SamplingParams(max_tokens=max_tokens, temperature=0.0))
    for prompt, result in zip(PROMPTS, results, strict=True):
        expected = list(monitor.stream(prompt, max_tokens))
        assert_events_equal(result.events, expected)
        assert_readings_equal([result.prompt], monitor.score([prompt]))
    return llm


def test_tiny_llama_parity(tiny_folder, tiny_hf):
    check_parity(tiny_folder, tiny_hf, ("resid.1", "attn.2", "mlp.0"))


@pytest.mark.embedded
def test_smollm2_parity():
    check_parity(
        "smollm2-135m-instruct", hf_subject("smollm2-135m-instruct"), ("resid.10", "attn.5", "mlp.20")
    )


@pytest.mark.embedded
def test_gemma3_parity(gemma_subject):
    check_parity("gemma-3-270m", gemma_subject, ("resid.9", "attn.3", "mlp.15"))
