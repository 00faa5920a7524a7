"""`incision serve --backend vllm`: the same routes and answers as the Hugging Face backend (scores, scrub
spans, chat replies with their `incision` field, whole and streamed), per-request control in the request's
`incision` field, concurrent chats batched by vLLM, and a client that leaves mid-stream frees its request."""

from __future__ import annotations

import concurrent.futures
import json
import time

import httpx
import pytest
import torch

from incision.pii import Detector
from incision.serve import ServeConfig, create_app
from incision.steer.direction import Direction

from ..serve.conftest import KEY, running
from .helpers import probe

pytest.importorskip("vllm")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")

MESSAGES = [{"role": "user", "content": "write to anna.kowalska@example.com about the quick brown fox"}]
TEXTS = ["call 090-8765-4321 tonight", "the quick brown fox"]


@pytest.fixture(scope="module")
def settings(tiny_folder, tiny_hf, tmp_path_factory):
    root = tmp_path_factory.mktemp("vllm-serve")
    probes = {
        "topic": probe(tiny_hf, "resid.1", 2, "mean", 7),
        "tokens": probe(tiny_hf, "resid.0", 3, None, 8),
    }
    folders = {name: str(p.save(root / name)) for name, p in probes.items()}
    pii = probe(tiny_hf, "resid.1", 3, None, 9)
    pii.label_names = ["none", "EMAIL", "PHONE"]
    Detector(tiny_hf, pii, threshold=0.3, seed_threshold=0.6).save(root / "detector")
    push = Direction({"resid.1": torch.randn(tiny_hf.d_model, generator=torch.Generator().manual_seed(3))})
    push.meta["model"] = tiny_hf.name
    push.save(root / "push")
    return dict(
        model=tiny_folder, probes=folders, detector=str(root / "detector"), max_new_tokens=12,
        policies={"tokens": {"action": "flag", "threshold": 0.4}},
    )  # fmt: skip


@pytest.fixture(scope="module")
def servers(settings, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INCISION_API_KEYS", KEY)
        root = tmp_path_factory.getbasetemp()
        named = {
            "push": {"kind": "steer", "direction": str(next(root.glob("vllm-serve*/push"))), "alpha": 8.0}
        }
        hf_app = create_app(ServeConfig(**settings))
        vllm_app = create_app(
            ServeConfig(
                **settings, backend="vllm", named_edits=named, max_model_len=256, vllm={"enforce_eager": True}
            )
        )
        with running(hf_app) as (_, hf_url), running(vllm_app) as (_, vllm_url):
            yield {"hf": hf_url, "vllm": vllm_url, "app": vllm_app}


def post(url, path, body, timeout=60):
    return httpx.post(url + path, json=body, headers={"authorization": f"Bearer {KEY}"}, timeout=timeout)


def test_score_and_scrub_answer_as_the_hugging_face_backend(servers):
    hf, vl = (post(servers[b], "/v1/score", {"texts": TEXTS}).json() for b in ("hf", "vllm"))
    for a, b in zip(hf["results"], vl["results"], strict=True):
        assert a["starts"] == b["starts"] and a["ends"] == b["ends"]
        for name, p in a["probes"].items():
            assert b["probes"][name]["token_scores"] == pytest.approx(p["token_scores"], abs=1e-4)
            assert b["probes"][name]["score"] == pytest.approx(p["score"], abs=1e-4)
    hf, vl = (post(servers[b], "/v1/scrub", {"texts": TEXTS}).json() for b in ("hf", "vllm"))
    assert vl == hf


def chat(url, stream=False, **extra):
    body = {"messages": MESSAGES, "max_tokens": 10, "stream": stream, **extra}
    if not stream:
        return post(url, "/v1/chat/completions", body)
    chunks = []
    with httpx.stream(
        "POST",
        url + "/v1/chat/completions",
        json=body,
        headers={"authorization": f"Bearer {KEY}"},
        timeout=60,
    ) as r:
        for line in r.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                chunks.append(json.loads(line[6:]))
    return chunks


def test_chat_answers_as_the_hugging_face_backend_whole_and_streamed(servers):
    hf, vl = chat(servers["hf"]).json(), chat(servers["vllm"]).json()
    assert vl["choices"][0]["message"] == hf["choices"][0]["message"]
    assert vl["choices"][0]["finish_reason"] == hf["choices"][0]["finish_reason"]
    assert vl["usage"] == hf["usage"]
    for a, b in zip(hf["incision"]["tokens"], vl["incision"]["tokens"], strict=True):
        assert (a["token_id"], a["actions"]) == (b["token_id"], b["actions"])
        assert b["scores"] == pytest.approx(a["scores"], abs=1e-4)
    chunks = chat(servers["vllm"], stream=True)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c.get("choices"))
    assert text == vl["choices"][0]["message"]["content"]
    assert [c["incision"]["token_id"] for c in chunks if "incision" in c] == [
        t["token_id"] for t in vl["incision"]["tokens"]
    ]


def test_a_request_carries_its_own_control(servers):
    plain = chat(servers["vllm"]).json()
    steered = chat(servers["vllm"], incision={"edits": [{"name": "push"}], "probes": ["topic"]}).json()
    assert set(steered["incision"]["max_scores"]) == {"topic"}
    assert steered["incision"]["tokens"] != plain["incision"]["tokens"]
    bad = chat(servers["vllm"], incision={"probes": ["nope"]})
    assert bad.status_code == 400 and "'nope'" in bad.json()["error"]["message"]
    bad = post(servers["vllm"], "/v1/score", {"text": "hi", "incision": {"edits": [{"name": "shout"}]}})
    assert bad.status_code == 400 and "'shout'" in bad.json()["error"]["message"]
    hf = chat(servers["hf"], incision={"probes": ["topic"]})
    assert hf.status_code == 400 and "vLLM backend" in hf.json()["error"]["message"]


def test_concurrent_chats_are_batched_and_each_gets_its_own_reply(servers):
    alone = chat(servers["vllm"]).json()["incision"]["tokens"]
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        replies = list(pool.map(lambda _: chat(servers["vllm"]).json(), range(6)))
    for reply in replies:
        got = reply["incision"]["tokens"]
        assert [t["token_id"] for t in got] == [t["token_id"] for t in alone]
        for a, b in zip(alone, got, strict=True):
            assert b["scores"] == pytest.approx(a["scores"], abs=1e-4)


def test_a_client_that_leaves_mid_stream_frees_its_request(servers):
    engine = servers["app"].state.service.engine
    body = {"messages": MESSAGES, "max_tokens": 12, "stream": True}
    with httpx.stream(
        "POST",
        servers["vllm"] + "/v1/chat/completions",
        json=body,
        headers={"authorization": f"Bearer {KEY}"},
        timeout=60,
    ) as r:
        lines = r.iter_lines()
        next(lines)
        next(lines)
    deadline = time.monotonic() + 20
    while engine.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not engine.requests
    assert chat(servers["vllm"]).status_code == 200  # the engine serves on


def test_no_request_text_reaches_any_log(servers, capfd, caplog):
    caplog.set_level("DEBUG")
    secret = "Kowalska 090-8765-4321"
    messages = [{"role": "user", "content": f"my name is {secret}"}]
    assert (
        post(servers["vllm"], "/v1/chat/completions", {"messages": messages, "max_tokens": 4}).status_code
        == 200
    )
    assert post(servers["vllm"], "/v1/scrub", {"text": secret}).status_code == 200
    bad = post(servers["vllm"], "/v1/score", {"text": secret, "incision": {"probes": [secret]}})
    assert bad.status_code == 400
    out, err = capfd.readouterr()
    for part in ("Kowalska", "090-8765-4321"):
        assert part not in out + err + caplog.text
