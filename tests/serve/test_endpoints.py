"""The service's answers equal the library's: scores equal offline probe scores, scrubbing equals the
detector, chat equals the model's greedy generation, streamed or not, and the official openai client
works against it."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
import torch

from incision import Client, ServiceError
from incision.pii import Detector
from incision.probes import LinearProbe

from .conftest import KEY

TEXTS = ["the quick brown fox", "call me at 555-0142 or write to anna@example.com", "山田太郎の電話番号"]
MESSAGES = [{"role": "user", "content": "the lazy dog"}]


def test_scores_equal_offline_probe_scores(http, artifacts):
    response = http.post("/v1/score", json={"texts": TEXTS})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    subject = artifacts["subject"]
    for name, folder in artifacts["probes"].items():
        probe = LinearProbe.load(folder, subject=subject)
        for got, expected in zip(results, probe.score(subject, TEXTS), strict=True):
            scores = got["probes"][name]
            if probe.pooling is None:
                assert got["starts"] == expected.starts and got["ends"] == expected.ends
                first = 1 - expected.proba_TC[:, 0]
                assert scores["token_scores"] == pytest.approx(first.tolist(), abs=1e-5)
            else:
                assert scores["proba"] == pytest.approx(list(expected.proba), abs=1e-5)
    assert set(results[0]["probes"]) == {"topic", "tokens", "pii"}


def test_scrub_equals_the_detector(http, artifacts):
    detector = Detector.load(artifacts["detector"], subject=artifacts["subject"])
    response = http.post("/v1/scrub", json={"texts": TEXTS, "style": "mask"})
    assert response.status_code == 200, response.text
    for text, got in zip(TEXTS, response.json()["results"], strict=True):
        spans = detector.find(text)
        assert got["spans"] == [{"start": s.start, "end": s.end, "label": s.label} for s in spans]
        assert got["text"] == detector.scrub(text, "mask")
    one = http.post("/v1/scrub", json={"text": TEXTS[1]}).json()
    assert one["text"] == detector.scrub(TEXTS[1]) and "spans" in one


def greedy_reply(subject, messages, n: int) -> str:
    prompt = subject.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = subject.tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        out = subject.model.generate(
            ids, attention_mask=torch.ones_like(ids), max_new_tokens=n, do_sample=False, pad_token_id=0
        )
    return subject.tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)


def test_chat_is_greedy_generation_streamed_or_not(http, artifacts):
    body = {"messages": MESSAGES, "max_tokens": 12}
    whole = http.post("/v1/chat/completions", json=body).json()
    assert "choices" in whole, whole
    content = whole["choices"][0]["message"]["content"]
    assert content == greedy_reply(artifacts["subject"], MESSAGES, 12)
    assert whole["usage"]["completion_tokens"] == len(whole["incision"]["tokens"]) == 12
    assert whole["choices"][0]["finish_reason"] == "length"
    with http.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == content
    streamed = [c["incision"] for c in chunks if "incision" in c]
    assert streamed == whole["incision"]["tokens"]  # the same tokens, scores and actions
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_the_openai_client_works(service, artifacts):
    _, url = service
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=KEY)
    whole = client.chat.completions.create(model="any", messages=MESSAGES, max_tokens=6, temperature=0)
    assert whole.choices[0].message.content == greedy_reply(artifacts["subject"], MESSAGES, 6)
    assert set(whole.model_extra["incision"]["max_scores"]) == {"topic", "tokens", "pii"}
    stream = client.chat.completions.create(
        model="any", messages=MESSAGES, max_tokens=6, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        == whole.choices[0].message.content
    )
    assert chunks[-1].usage.completion_tokens == 6
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{url}/v1", api_key="wrong").chat.completions.create(
            model="any", messages=MESSAGES
        )
    with pytest.raises(openai.UnprocessableEntityError, match="greedily"):
        client.chat.completions.create(model="any", messages=MESSAGES, temperature=0.7)


def test_the_incision_client(service, artifacts):
    _, url = service
    with Client(url, api_key=KEY) as client:
        assert client.ready()
        assert client.score("the quick brown fox")["results"][0]["probes"]["topic"]["labels"] == ["c0", "c1"]
        assert client.scrub(TEXTS[:2])["results"][1]["text"]
        whole = client.chat(MESSAGES, max_tokens=5)
        chunks = list(client.chat(MESSAGES, max_tokens=5, stream=True))
        assert (
            "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
            == whole["choices"][0]["message"]["content"]
        )
        assert "incision_requests_total" in client.metrics()
        with pytest.raises(ServiceError, match="empty") as error:
            client.score("   ")
        assert error.value.status == 400
    with Client(url, api_key="nope") as client, pytest.raises(ServiceError) as error:
        client.score("x")
    assert error.value.status == 401


def test_health_readiness_and_metrics(http):
    assert http.get("/healthz").json() == {"status": "ok"}
    ready = http.get("/readyz").json()
    assert ready["status"] == "ready" and ready["probes"] == ["pii", "tokens", "topic"]
    http.post("/v1/score", json={"text": "the quick brown fox"})
    metrics = http.get("/metrics").text
    assert 'incision_requests_total{route="/v1/score",status="200"}' in metrics
    assert "incision_request_seconds_bucket" in metrics and "incision_batch_texts_count" in metrics
    assert 'incision_tokens_total{kind="input",route="/v1/score"}' in metrics


def test_policies_from_the_config_act_on_chat(artifacts, tmp_path, monkeypatch):
    from incision.serve import create_app
    from incision.steer import Direction

    from .conftest import config, running

    subject = artifacts["subject"]
    vector = torch.randn(subject.d_model, generator=torch.Generator().manual_seed(3)) * 50
    folder = Direction({"resid.1": vector}).save(tmp_path / "direction")
    policies = {
        "topic": {"action": "steer", "threshold": 1e-6, "direction": str(folder), "alpha": 1.0},
        "tokens": {"action": "flag", "threshold": 1e-6},
    }
    monkeypatch.delenv("INCISION_API_KEYS", raising=False)
    body = {"messages": MESSAGES, "max_tokens": 8}
    with running(create_app(config(artifacts, policies=policies))) as (_, url):
        steered = httpx.post(f"{url}/v1/chat/completions", json=body).json()
    assert steered["incision"]["actions"] == ["tokens:flag", "topic:steer"]
    assert steered["choices"][0]["message"]["content"] != greedy_reply(subject, MESSAGES, 8)
    blocking = {"topic": {"action": "block", "threshold": 1e-6, "message": "no."}}
    with running(create_app(config(artifacts, policies=blocking))) as (_, url):
        blocked = httpx.post(f"{url}/v1/chat/completions", json=body).json()
    assert blocked["choices"][0] == {
        "index": 0, "message": {"role": "assistant", "content": "no."}, "finish_reason": "content_filter"
    }  # fmt: skip
    assert blocked["usage"]["completion_tokens"] == 0
