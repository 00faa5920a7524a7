"""Tensor parallelism: with the model split over two ranks (vLLM's CPU build, one core each, worker
processes), every rank runs the monitor on the same all-reduced hidden states, and the scores, the edits
and the policies equal the Hugging Face backend's."""

from __future__ import annotations

import os

import pytest
import torch

from incision.monitor import Monitor
from incision.steer.direction import Direction
from incision.steer.edit_kinds import Steer

from .helpers import ENGINE, TEXTS, three_probes
from .test_parity import assert_events_equal, assert_readings_equal

vllm = pytest.importorskip("vllm")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")


@pytest.fixture
def one_core_per_rank(monkeypatch):
    """vLLM's CPU build binds each rank's threads to a NUMA node of its own unless told which cores to use
    (this machine has one node). vLLM caches its environment once an engine has started: reset around."""
    import vllm.envs

    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        pytest.skip("two tensor-parallel ranks need two cores")
    monkeypatch.setenv("VLLM_CPU_OMP_THREADS_BIND", f"{cores[0]}|{cores[1]}")
    vllm.envs.disable_envs_cache()
    yield
    monkeypatch.undo()
    vllm.envs.disable_envs_cache()


def test_two_ranks_score_and_steer_as_hugging_face(tiny_folder, tiny_hf, tmp_path, one_core_per_rank):
    from incision.vllm import MonitoredLLM, RequestControl

    push = Direction({"resid.1": torch.randn(tiny_hf.d_model, generator=torch.Generator().manual_seed(7))})
    push.meta["model"] = tiny_hf.name
    push.save(tmp_path / "push")
    named = {"push": {"kind": "steer", "direction": str(tmp_path / "push"), "alpha": 6.0}}
    probes = three_probes(tiny_hf)
    llm = MonitoredLLM(tiny_folder, probes, named_edits=named, tensor_parallel_size=2, **ENGINE)
    assert len(llm.llm.collective_rpc("incision_take", args=([], None))) == 2  # a monitor on each rank
    monitor = Monitor(tiny_hf, probes)
    assert_readings_equal(llm.score(TEXTS), monitor.score(TEXTS))
    params = vllm.SamplingParams(max_tokens=8, temperature=0.0)
    steered, plain = llm.generate(
        ["the quick brown fox"] * 2, params, [RequestControl(edits=[{"name": "push"}]), None]
    )
    edited = Monitor(tiny_hf, probes, edits=[Steer(push, 6.0)])
    assert_events_equal(steered.events, list(edited.stream("the quick brown fox", 8)))
    assert_events_equal(plain.events, list(monitor.stream("the quick brown fox", 8)))
