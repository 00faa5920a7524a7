"""Per-request control on the vLLM backend: edits equal the same edits on Hugging Face, a request's edits
never reach another request of its batch, policies act inside the engine as the Hugging Face stream acts,
bad requests are refused with one sentence naming what is wrong, and finished requests leave nothing."""

from __future__ import annotations

import pytest
import torch

from incision import ConfigError, InputError
from incision.errors import SiteError
from incision.monitor import Monitor
from incision.monitor.policies import policy_from_config
from incision.steer.direction import Direction
from incision.steer.edit_kinds import Ablate, Steer

from .helpers import ENGINE, probe, three_probes
from .test_parity import assert_events_equal

vllm = pytest.importorskip("vllm")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")

PROMPT = "the quick brown fox"
OTHER = "a sentence about dogs"
TOKENS = 8


def greedy(n=TOKENS):
    return vllm.SamplingParams(max_tokens=n, temperature=0.0)


@pytest.fixture(scope="module")
def setup(tiny_folder, tiny_hf, tmp_path_factory):
    from incision.vllm import MonitoredLLM

    folder = tmp_path_factory.mktemp("dirs")
    g = torch.Generator().manual_seed(7)
    push = Direction({"resid.1": torch.randn(tiny_hf.d_model, generator=g)}, {"model": tiny_hf.name})
    cut = Direction({"resid.0": torch.randn(tiny_hf.d_model, generator=g)}, {"model": tiny_hf.name})
    push.save(folder / "push")
    cut.save(folder / "cut")
    named = {
        "push": {"kind": "steer", "direction": str(folder / "push"), "alpha": 6.0},
        "cut": {"kind": "ablate", "direction": str(folder / "cut")},
    }
    probes = three_probes(tiny_hf)
    llm = MonitoredLLM(tiny_folder, probes, named_edits=named, **ENGINE)
    edits = {"push": Steer(push, 6.0), "cut": Ablate(cut)}
    return llm, probes, edits


def control(**kw):
    from incision.vllm import RequestControl

    return RequestControl(**kw)


def hf_events(subject, probes, prompt, edits=(), policies=None):
    return list(Monitor(subject, probes, edits=list(edits), policies=policies).stream(prompt, TOKENS))


@pytest.mark.parametrize("name", ["push", "cut"])
def test_a_requests_edit_equals_the_same_edit_on_hugging_face(setup, tiny_hf, name):
    llm, probes, edits = setup
    (result,) = llm.generate([PROMPT], greedy(), [control(edits=[{"name": name}])])
    expected = hf_events(tiny_hf, probes, PROMPT, [edits[name]])
    assert_events_equal(result.events, expected)
    plain = hf_events(tiny_hf, probes, PROMPT)
    assert [e.scores for e in expected] != [e.scores for e in plain]  # the edit changed something


def test_a_request_may_scale_a_steering_edit(setup, tiny_hf):
    llm, probes, edits = setup
    (result,) = llm.generate([PROMPT], greedy(), [control(edits=[{"name": "push", "alpha": -3.0}])])
    expected = hf_events(tiny_hf, probes, PROMPT, [Steer(edits["push"].direction, -3.0)])
    assert_events_equal(result.events, expected)


def test_a_steered_request_leaves_its_batch_neighbour_alone(setup):
    llm, _, _ = setup
    (alone,) = llm.generate([OTHER], greedy())
    steered, neighbour = llm.generate(
        [PROMPT, OTHER], greedy(), [control(edits=[{"name": "push"}]), control()]
    )
    assert neighbour.output.outputs[0].token_ids == alone.output.outputs[0].token_ids
    assert [e.text for e in neighbour.events] == [e.text for e in alone.events]
    for got, want in zip(neighbour.events, alone.events, strict=True):
        assert got.scores == pytest.approx(want.scores, abs=1e-5)
    (unsteered,) = llm.generate([PROMPT], greedy())
    assert [e.scores for e in steered.events] != [e.scores for e in unsteered.events]


def test_a_request_reads_only_the_probes_it_names(setup):
    llm, _, _ = setup
    (result,) = llm.generate([PROMPT], greedy(3), [control(probes=["mean"])])
    assert set(result.prompt.probes) == {"mean"}
    assert all(set(e.scores) <= {"mean"} for e in result.events)


def thresholds(events, name):
    """A threshold the probe crosses partway through the HF run: below the highest score after the first
    token, above the first token's."""
    scores = [e.scores[name] for e in events]
    return (max(scores[1:]) + scores[0]) / 2 if max(scores[1:]) > scores[0] else None


@pytest.mark.parametrize("action", ["block", "redact", "flag", "steer"])
def test_policies_act_in_the_engine_as_in_the_hugging_face_stream(setup, tiny_hf, action):
    llm, probes, edits = setup
    threshold = thresholds(hf_events(tiny_hf, probes, PROMPT), "tokens")
    assert threshold is not None
    config = {"action": action, "threshold": threshold} | ({"edit": "push"} if action == "steer" else {})
    (result,) = llm.generate([PROMPT], greedy(), [control(policies={"tokens": config})])
    hf_policies = {"tokens": policy_from_config("tokens", config, edits.get)}
    expected = hf_events(tiny_hf, probes, PROMPT, policies=hf_policies)
    assert any((("tokens", action) in e.actions) for e in expected)
    assert_events_equal(result.events, expected)
    if action == "block":
        assert result.finish_reason == "blocked" and result.text.endswith(hf_policies["tokens"].message)
        assert len(result.events) < TOKENS


def test_a_pooled_block_policy_stops_the_prompt(setup, tiny_hf):
    llm, probes, _ = setup
    (result,) = llm.generate(
        [PROMPT], greedy(), [control(policies={"mean": {"action": "block", "threshold": 0.01}})]
    )
    assert [(e.token_id, e.actions, e.finish_reason) for e in result.events] == [
        (None, [("mean", "block")], "blocked")
    ]
    assert len(result.output.outputs[0].token_ids) == 1  # the forced EOS: vLLM ended the request at once


@pytest.mark.parametrize(
    "bad, words",
    [
        (dict(probes=["nope"]), "unknown probe 'nope'"),
        (dict(edits=[{"name": "nope"}]), "unknown edit 'nope'"),
        (dict(edits=[{"name": "push", "alpha": "x"}]), "alpha 'x'"),
        (dict(policies={"nope": {"action": "flag"}}), "unknown policy's probe 'nope'"),
        (dict(policies={"tokens": {"action": "shout"}}), "'shout'"),
        (dict(policies={"mean": {"action": "redact"}}), "token-level"),
    ],
)
def test_a_bad_request_is_refused_naming_what_is_wrong(setup, bad, words):
    llm, _, _ = setup
    with pytest.raises((InputError, ConfigError), match=words):
        llm.generate([PROMPT], greedy(), [control(**bad)])


def test_bad_engines_are_refused_before_vllm_starts(tiny_folder, tiny_hf, tmp_path):
    from incision.vllm import MonitoredLLM

    other = probe(tiny_hf, "resid.1", 2, "mean", 0)
    other.meta["model"] = "another-model"
    embed = probe(tiny_hf, "embed", 2, "mean", 0)
    pooled_max = probe(tiny_hf, "resid.1", 2, "max", 0)
    wrong_site = probe(tiny_hf, "resid.9", 2, "mean", 0)
    cases = [
        ({"p": other}, {}, "another-model"),
        ({"p": embed}, {}, "resid, attn and mlp"),
        ({"p": pooled_max}, {}, "'max'"),
        ({"p": wrong_site}, {}, "out of range"),
    ]
    d = Direction({"resid.1": torch.ones(tiny_hf.d_model)}, {"model": tiny_hf.name})
    d.save(tmp_path / "d")
    keep_means = {"k": {"kind": "keep_means_ablate", "direction": str(tmp_path / "d")}}
    cases.append(({"p": probe(tiny_hf, "resid.1", 2, "mean", 0)}, keep_means, "keep_means_ablate"))
    for probes, named, words in cases:
        with pytest.raises((ConfigError, InputError, SiteError), match=words):
            MonitoredLLM(tiny_folder, probes, named_edits=named, **ENGINE)
    fine = {"p": probe(tiny_hf, "resid.1", 2, "mean", 0)}
    for option, words in (("enable_prefix_caching", "prefix"), ("enforce_eager", "CUDA graph")):
        with pytest.raises(ConfigError, match=words):
            MonitoredLLM(tiny_folder, fine, **{**ENGINE, option: option == "enable_prefix_caching"})


def test_finished_and_aborted_requests_leave_nothing_behind(setup):
    from incision.vllm import RequestControl

    llm, _, _ = setup
    engine = llm.llm.llm_engine

    def held():
        """Records not yet handed over (live requests), and finished ones kept for the caller."""
        monitor = llm.llm.collective_rpc(lambda w: w._incision)[0]
        return sum(not r.taken for r in monitor.records.values()), len(monitor.finished)

    llm.generate([PROMPT, OTHER], greedy(3))
    aborted = RequestControl()
    params = llm._params(greedy(50), aborted, {})
    engine.add_request("to-abort", {"prompt_token_ids": llm._encode(PROMPT, 0).ids}, params)
    engine.step()
    engine.step()
    engine.abort_request(["to-abort"])
    llm.generate([OTHER], greedy(2))  # the next step retires the aborted request
    assert held() == (0, 1)
    assert set(llm.take([aborted.id])) == {aborted.id}  # a server drops a cancelled request's record so
    assert held() == (0, 0)


def test_a_failing_request_fails_alone_and_the_engine_serves_on(setup, monkeypatch):
    from incision.vllm import engine_monitor

    llm, _, _ = setup
    score = engine_monitor.EngineMonitor._score

    def fail_for_one(self, request, record, table):
        if record.control.probes == ["last"]:  # the marked request
            raise ValueError("injected")
        return score(self, request, record, table)

    monkeypatch.setattr(engine_monitor.EngineMonitor, "_score", fail_for_one)
    with pytest.raises(RuntimeError, match="monitoring failed"):
        llm.generate([PROMPT, OTHER], greedy(3), [control(probes=["last"]), control()])
    monkeypatch.undo()
    assert len(llm.generate([PROMPT, OTHER], greedy(3))) == 2
