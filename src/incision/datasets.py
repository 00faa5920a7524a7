"""The labelled tasks shipped with incision, for probe demos and tests (see docs/datasets.md).

Each task is a JSONL file of records {id, task, lang, text, label, split, template}; the held-out split
uses phrasing templates that the train split never uses. Stdlib only, so loading a task is cheap.
"""

from __future__ import annotations

import json
from pathlib import Path

from .errors import ConfigError

TASKS = ("harmful", "sentiment")
SPLITS = ("train", "heldout")
LANGS = ("en", "ja")

_DIR = Path(__file__).parent / "data" / "tasks"


def _check(kind: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise ConfigError(f"unknown {kind} {value!r}; choose one of: {', '.join(valid)}.")


def task_path(name: str) -> Path:
    """The JSONL file of task `name`."""
    _check("task", name, TASKS)
    return _DIR / f"{name}.jsonl"


def load_task(name: str, split: str | None = None, lang: str | None = None) -> list[dict]:
    """The records of task `name`, in file order; only those of `split` and `lang` when given."""
    _check("task", name, TASKS)
    if split is not None:
        _check("split", split, SPLITS)
    if lang is not None:
        _check("lang", lang, LANGS)
    with task_path(name).open(encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    return [r for r in records if split in (None, r["split"]) and lang in (None, r["lang"])]
