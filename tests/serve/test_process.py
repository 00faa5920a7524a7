"""`incision serve` as users run it: a process configured by a YAML file, stopped by SIGTERM while a
streamed chat is in flight. The chat finishes, the process exits cleanly, and its log names requests
without any of their text."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from .conftest import KEY, PII


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sigterm_drains_a_streaming_chat_and_logs_no_text(artifacts, tmp_path):
    port = free_port()
    settings = tmp_path / "serve.yaml"
    settings.write_text(
        f"model: {artifacts['model']}\nprobes: {json.dumps(artifacts['probes'])}\ndetector: {artifacts['detector']}\n"
        f"port: {port}\nmax_new_tokens: 600\ndrain_timeout_s: 120\npolicies:\n  pii: {{action: flag, threshold: 0.5}}\n"
    )
    env = {**os.environ, "INCISION_API_KEYS": KEY}
    server = subprocess.Popen(
        [sys.executable, "-m", "incision", "serve", "--config", str(settings)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    url, headers = f"http://127.0.0.1:{port}", {"authorization": f"Bearer {KEY}"}
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None and time.monotonic() < deadline, "the server did not become ready"
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        assert httpx.post(f"{url}/v1/scrub", json={"text": " ".join(PII)}, headers=headers).status_code == 200
        message = {"role": "user", "content": f"write to {PII[0]}"}
        body = {"messages": [message], "max_tokens": 600, "stream": True}
        lines, signalled, refused = [], None, None
        with httpx.stream(
            "POST", f"{url}/v1/chat/completions", json=body, headers=headers, timeout=60
        ) as response:
            for line in response.iter_lines():
                if line.startswith("data: ") and signalled is None:
                    server.send_signal(signal.SIGTERM)  # as the first token arrives
                    signalled = time.monotonic()
                elif signalled and refused is None and time.monotonic() > signalled + 0.25:
                    try:
                        httpx.get(f"{url}/healthz", timeout=2)
                        refused = False
                    except httpx.TransportError:
                        refused = True  # draining: no new connections
                if line:
                    lines.append(line)
        assert response.status_code == 200 and lines[-1] == "data: [DONE]"
        assert refused, "the stream ended before shutdown took hold, or new connections were still accepted"
        chunks = [json.loads(line[6:]) for line in lines if line.startswith("data: {")]
        finish = chunks[-1]["choices"][0]["finish_reason"]
        tokens = sum("incision" in c for c in chunks)  # every token, though shutdown began at the first
        assert (finish, tokens) == ("length", 600) or (finish == "stop" and tokens > 100)
        assert server.wait(60) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has drained
    finally:
        if server.poll() is None:
            server.kill()
    log = server.stdout.read()
    assert "POST /v1/chat/completions 200" in log and "Waiting for connections to close" in log
    assert "Application shutdown complete" in log
    assert not any(value in log for value in PII)
