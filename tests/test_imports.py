"""Imports run one way: deploying a monitor or a server never loads the synthetic-data generator, and the
HTTP client never loads the server. Each check runs in a fresh interpreter, so earlier tests cannot hide it."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _loaded_after(statement: str, modules: list[str]) -> list[str]:
    """Which of `modules` (or their submodules) a fresh interpreter has loaded after running `statement`."""
    check = (
        f"import sys\n{statement}\n"
        f"print(sorted({{m for m in sys.modules for w in {modules!r} if m == w or m.startswith(w + '.')}}))"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return eval(done.stdout.strip().splitlines()[-1])


def test_monitor_and_serve_load_no_data_generator():
    pytest.importorskip("fastapi")
    statement = "import incision.monitor, incision.serve\nfrom incision.serve import Engine, create_app"
    assert _loaded_after(statement, ["faker", "incision.pii.synth"]) == []


def test_the_generator_still_loads_when_asked_for():
    assert "incision.pii.synth" in _loaded_after(
        "from incision.pii import synthesize", ["incision.pii.synth"]
    )


@pytest.mark.parametrize(
    "statement", ["from incision import Client", "from incision.serve.client import Client"]
)
def test_the_client_loads_no_server(statement):
    pytest.importorskip("httpx")
    assert _loaded_after(statement, ["fastapi", "uvicorn"]) == []
