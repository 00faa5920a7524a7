"""A real service over a tiny saved model: probe and detector folders, and uvicorn on a loopback port."""

from __future__ import annotations

import contextlib
import threading
import time

import httpx
import pytest
import uvicorn

import incision
from incision.pii import Detector
from incision.serve import ServeConfig, create_app

from ..conftest import tiny_subject
from ..monitor.test_monitor import probe

# a BOS the template writes itself, as Gemma's and Llama's templates do
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)
KEY = "test-key-0123456789"
PII = ["anna.kowalska@example.com", "090-8765-4321", "Kowalska"]  # planted in requests, never in logs


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("serve")
    tiny = tiny_subject("llama")
    tiny.tokenizer.chat_template = CHAT_TEMPLATE
    tiny.model.config.max_position_embeddings = 2048  # room for a long reply (rotary positions need no table)
    tiny.model.save_pretrained(root / "model")
    tiny.tokenizer.save_pretrained(root / "model")
    subject = incision.load(root / "model")
    probes = {
        "topic": probe(subject, "resid.1", 2, "mean", 7),
        "tokens": probe(subject, "resid.0", 3, None, 8),
    }
    folders = {name: str(p.save(root / name)) for name, p in probes.items()}
    pii = probe(subject, "resid.1", 3, None, 9)
    pii.label_names = ["none", "EMAIL", "PHONE"]
    detector = Detector(subject, pii, threshold=0.3, seed_threshold=0.6)
    detector.save(root / "detector")
    return {
        "model": str(root / "model"),
        "probes": folders,
        "detector": str(root / "detector"),
        "subject": subject,
    }


def config(artifacts, **overrides) -> ServeConfig:
    settings = dict(model=artifacts["model"], probes=artifacts["probes"], detector=artifacts["detector"])
    return ServeConfig(**{**settings, **overrides})


@contextlib.contextmanager
def running(app, drain_s: float = 10.0):
    """uvicorn serving `app` on a free loopback port, in a thread; yields (server, base URL) once ready."""
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            access_log=False,
            log_config=None,
            timeout_graceful_shutdown=drain_s,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
            time.sleep(0.01)
        url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
        while httpx.get(f"{url}/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the server never became ready"
            time.sleep(0.02)
        yield server, url
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.fixture(scope="module")
def service(artifacts, monkeypatch_module):
    monkeypatch_module.setenv("INCISION_API_KEYS", f"other-key,{KEY}")
    app = create_app(config(artifacts, max_body_bytes=20_000, max_tokens=400, max_new_tokens=32))
    with running(app) as (server, url):
        yield app, url


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture
def http(service):
    _, url = service
    with httpx.Client(base_url=url, headers={"authorization": f"Bearer {KEY}"}, timeout=30) as client:
        yield client
