"""What a service must refuse, and how: wrong keys 401, oversize bodies 413, malformed JSON 422, bad
texts 400, a full queue 429, slow requests 504, each a JSON error after which the server goes on
serving; no PII reaches the log, even from a crash; shutdown finishes the requests in flight."""

from __future__ import annotations

import logging
import threading
import time

import httpx
import pytest

from incision.serve import create_app

from .conftest import KEY, PII, config, running

PII_TEXT = f"Contact {PII[2]} at {PII[0]} or {PII[1]}."


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == status and error["message"]
    return error["message"]


def test_missing_or_wrong_keys_get_401(service):
    _, url = service
    for headers in (
        {},
        {"authorization": "Bearer wrong"},
        {"authorization": f"Basic {KEY}"},
        {"authorization": KEY},
    ):
        response = httpx.post(f"{url}/v1/score", json={"text": "hi"}, headers=headers)
        assert "API key" in error_of(response, 401) and response.headers["www-authenticate"] == "Bearer"
    assert httpx.get(f"{url}/healthz").status_code == 200  # probes of liveness need no key


@pytest.mark.parametrize(
    "body, status, says",
    [
        (b'{"texts": ["unterminated', 422, "JSON decode error"),
        (b'{"texts": "not a list"}', 422, "texts"),
        (b'{"texts": [1, 2]}', 422, "valid string"),
        (b'{"texts": []}', 422, "at least 1"),
        (b'{"txet": "typo"}', 422, "txet"),
        (b'{"text": "   "}', 400, "empty or whitespace"),
        (b'{"text": "\xff\xfe broken"}', 400, "UTF-8"),
        (b'{"text": "' + b"word " * 1000 + b'"}', 400, "context of 2048"),
        (b'{"texts": [' + b",".join([b'"' + b"word " * 10 + b'"'] * 10) + b"]}", 400, "limit of 400"),
    ],
    ids=[
        "malformed",
        "wrong-type",
        "not-strings",
        "no-texts",
        "unknown-field",
        "empty",
        "invalid-utf8",
        "over-context",
        "over-limit",
    ],
)
def test_bad_input_is_a_clear_json_error_and_the_server_goes_on(http, body, status, says):
    response = http.post("/v1/score", content=body, headers={"content-type": "application/json"})
    assert says in error_of(response, status)
    assert http.post("/v1/score", json={"text": "still serving"}).status_code == 200


def test_bad_chat_and_scrub_requests(http):
    assert "messages" in error_of(http.post("/v1/chat/completions", json={"messages": []}), 422)
    role = {"messages": [{"role": "robot", "content": "hi"}]}
    assert "role" in error_of(http.post("/v1/chat/completions", json=role), 422)
    too_long = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 10_000}
    assert "max_tokens 10000" in error_of(http.post("/v1/chat/completions", json=too_long), 400)
    assert "style" in error_of(http.post("/v1/scrub", json={"text": "x", "style": "shred"}), 422)
    assert "salt" in error_of(http.post("/v1/scrub", json={"text": "x", "style": "hash"}), 400)
    lone = http.post(
        "/v1/scrub", content=b'{"text": "a\\ud800b"}', headers={"content-type": "application/json"}
    )
    assert lone.status_code == 200 and len(lone.json()["text"]) >= 3  # a lone surrogate reads as U+FFFD


def test_an_oversize_body_gets_413(http):
    big = {"text": "x" * 30_000}
    assert "20000 bytes" in error_of(http.post("/v1/scrub", json=big), 413)
    chunked = http.post("/v1/scrub", content=iter([b'{"text": "', b"y" * 25_000, b'"}']))  # no content-length
    error_of(chunked, 413)
    assert http.post("/v1/scrub", json={"text": "fine"}).status_code == 200


def hold_model_thread(app) -> threading.Event:
    """Occupy the one model thread until the returned event is set: requests queue behind it."""
    release = threading.Event()
    app.state.service.engine.executor.submit(release.wait, 30)
    return release


def in_thread(fn):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", fn()))
    thread.start()
    return thread, result


def test_a_full_queue_gets_429_and_slow_requests_504(artifacts, monkeypatch):
    monkeypatch.setenv("INCISION_API_KEYS", KEY)
    app = create_app(config(artifacts, max_in_flight=2, request_timeout_s=1.5))
    headers = {"authorization": f"Bearer {KEY}"}
    with running(app) as (_, url):
        release = hold_model_thread(app)
        post = lambda: httpx.post(f"{url}/v1/score", json={"text": "queued"}, headers=headers, timeout=30)  # noqa: E731
        waiting = [in_thread(post) for _ in range(2)]
        while app.state.service.in_flight < 2:
            time.sleep(0.01)
        response = post()
        assert "limit of 2 requests" in error_of(response, 429) and response.headers["retry-after"] == "1"
        for thread, result in waiting:
            thread.join()
            assert "time limit" in error_of(result["value"], 504)
        release.set()
        assert post().status_code == 200


def test_shutdown_drains_requests_in_flight(artifacts, monkeypatch):
    monkeypatch.delenv("INCISION_API_KEYS", raising=False)
    app = create_app(config(artifacts))
    with running(app) as (server, url):
        release = hold_model_thread(app)
        thread, result = in_thread(
            lambda: httpx.post(f"{url}/v1/score", json={"text": "in flight"}, timeout=30)
        )
        while app.state.service.in_flight < 1:
            time.sleep(0.01)
        server.should_exit = True  # what SIGTERM does
        time.sleep(0.3)
        with pytest.raises(httpx.TransportError):
            httpx.post(f"{url}/v1/score", json={"text": "too late"}, timeout=5)
        release.set()
        thread.join()
        assert result["value"].status_code == 200 and result["value"].json()["results"]


def test_logs_hold_no_request_text_even_from_a_crash(service, http, caplog, monkeypatch):
    app, _ = service
    caplog.set_level(logging.DEBUG)
    http.post("/v1/score", json={"texts": [PII_TEXT]})
    http.post("/v1/scrub", json={"text": PII_TEXT, "style": "label"})
    http.post(
        "/v1/chat/completions", json={"messages": [{"role": "user", "content": PII_TEXT}], "max_tokens": 3}
    )
    http.post(
        "/v1/score",
        content=f'{{"texts": ["{PII_TEXT}"'.encode(),
        headers={"content-type": "application/json"},
    )
    http.post("/v1/score", json={"texts": [PII_TEXT, 5]})
    http.post(f"/v1/score?q={PII[0]}", json={"text": PII_TEXT})
    httpx.post(f"{service[1]}/v1/score", json={"text": PII_TEXT})  # no key

    def crash(encodings):
        raise ValueError(f"cannot read {PII_TEXT}")  # a message that quotes the text

    monkeypatch.setattr(app.state.service.engine.scorer, "run", crash)
    assert "ValueError" in error_of(http.post("/v1/score", json={"text": PII_TEXT}), 500)
    server_side = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore", "openai"))
    )  # the test's own clients log their URLs; the server must not
    assert "POST /v1/score 200" in server_side and "ValueError at" in server_side  # the log is written...
    for value in PII:
        assert value not in server_side  # ...and holds none of it


def test_a_chat_over_its_time_limit_gets_504_and_the_next_one_runs(artifacts, monkeypatch):
    monkeypatch.delenv("INCISION_API_KEYS", raising=False)
    app = create_app(config(artifacts, request_timeout_s=0.3, max_new_tokens=2000))
    body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1900}
    with running(app) as (_, url):
        assert "time limit" in error_of(httpx.post(f"{url}/v1/chat/completions", json=body, timeout=30), 504)
        with httpx.stream("POST", f"{url}/v1/chat/completions", json={**body, "stream": True}) as response:
            last = [line for line in response.iter_lines() if line][-2]
        assert '"code": 504' in last
        short = {**body, "max_tokens": 2}
        assert httpx.post(f"{url}/v1/chat/completions", json=short).json()["usage"]["completion_tokens"] == 2
