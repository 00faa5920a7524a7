"""What vLLM's scheduler does to a request must not change what the monitor reports: prompts split over
several steps (chunked prefill, mixed with other requests' decode steps) and requests preempted for lack of
KV cache and recomputed later are scored as the Hugging Face backend scores them whole."""

from __future__ import annotations

import pytest

from incision.monitor import Monitor

from .helpers import three_probes
from .test_parity import assert_events_equal, assert_readings_equal

vllm = pytest.importorskip("vllm")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")

WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "music", "plays", "in"]


def test_chunked_and_preempted_requests_score_as_whole_ones(tiny_folder, tiny_hf, monkeypatch):
    from incision.vllm import MonitoredLLM
    from incision.vllm.engine_monitor import EngineMonitor

    seen = {"chunks": 0, "recomputed": 0}
    score = EngineMonitor._score

    def watched(self, request, record, table):
        if request.first_position < record.prompt_len and request.end - request.start < record.prompt_len:
            seen["chunks"] += 1  # part of a prompt
        if request.first_position <= record.last_position:
            seen["recomputed"] += 1  # positions it had before: a preempted request run again
        return score(self, request, record, table)

    monkeypatch.setattr(EngineMonitor, "_score", watched)

    probes = three_probes(tiny_hf)
    # 32 tokens a step: a prompt of 40 words takes several steps; 8 blocks of 32 tokens hold fewer than
    # the four requests need at once, so the scheduler preempts and later recomputes some of them
    llm = MonitoredLLM(
        tiny_folder, probes, enforce_eager=True, max_model_len=160, max_num_seqs=4,
        max_num_batched_tokens=32, num_gpu_blocks_override=8, block_size=32,
    )  # fmt: skip
    prompts = [" ".join(WORDS[(k + i) % len(WORDS)] for i in range(40)) for k in range(4)]
    monitor = Monitor(tiny_hf, probes)
    assert min(len(tiny_hf.encode(p)) for p in prompts) > 64  # three steps of prefill at least
    assert_readings_equal(llm.score(prompts), monitor.score(prompts))
    results = llm.generate(prompts, vllm.SamplingParams(max_tokens=60, temperature=0.0))
    for prompt, result in zip(prompts, results, strict=True):
        assert_events_equal(result.events, list(monitor.stream(prompt, 60)))
    assert seen["chunks"] > 0 and seen["recomputed"] > 0  # both happened
