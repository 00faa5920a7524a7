"""The `incision` command line, run in-process."""

from __future__ import annotations

import json

import pytest
import torch

from incision import ActivationStore
from incision.cli import main

from .conftest import tiny_subject


@pytest.fixture
def model_dir(tmp_path):
    subject = tiny_subject("llama")
    subject.model.save_pretrained(tmp_path / "model")
    subject.tokenizer.save_pretrained(tmp_path / "model")
    return tmp_path / "model"


@pytest.fixture
def data_file(tmp_path):
    path = tmp_path / "data.jsonl"
    rows = [{"body": "the lazy dog", "label": 0}, {"body": "山田太郎の電話番号", "label": 1}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


def test_capture_command(model_dir, data_file, tmp_path):
    out = tmp_path / "acts"
    code = main(
        [
            "capture",
            "--model",
            str(model_dir),
            "--sites",
            "resid.0,resid.-1",
            "--input",
            str(data_file),
            "--text-field",
            "body",
            "--out",
            str(out),
            "--dtype",
            "float32",
            "--no-progress",
        ]
    )
    assert code == 0
    store = ActivationStore.open(out)
    assert store.sites == ["resid.0", "resid.2"] and store.dtype == torch.float32
    assert store.documents["label"].to_pylist() == [0, 1]
    assert set(store.tokens["label"].to_pylist()) == {0, 1}


def test_capture_command_reports_bad_site(model_dir, data_file, tmp_path, capsys):
    code = main(
        [
            "capture",
            "--model",
            str(model_dir),
            "--sites",
            "resid.9",
            "--input",
            str(data_file),
            "--text-field",
            "body",
            "--out",
            str(tmp_path / "acts"),
            "--no-progress",
        ]
    )
    assert code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]  # above it: transformers' loading bar
    assert last.startswith("error: site 'resid.9' is out of range")


def test_models_command(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ("gemma-3-270m", "smollm2-135m-instruct", "minilm-l6"):
        assert name in out
    assert "[default]" in out


def test_probe_train_eval_score_commands(model_dir, tmp_path, capsys):
    from .probes.test_train import planted_records

    data = tmp_path / "planted.jsonl"
    records = planted_records(60)
    data.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    model = ["--model", str(model_dir)]
    assert (
        main(["capture", *model, "--sites", "resid.*", "--input", str(data), "--out", str(tmp_path / "s")])
        == 0
    )
    probe = tmp_path / "probe"
    train = ["probe", "train", "--store", str(tmp_path / "s"), "--sites", "resid.*", "--out", str(probe)]
    assert main([*train, "--split-field", "split", "--n-bootstrap", "20"]) == 0
    out = capsys.readouterr().out
    assert "heldout" in out and "<- best" in out and (probe / "sweep.png").is_file()
    evaluate = [
        "probe",
        "eval",
        "--probe",
        str(probe),
        "--store",
        str(tmp_path / "s"),
        "--where",
        "split=heldout",
    ]
    assert main([*evaluate, "--n-bootstrap", "20", "--json", str(tmp_path / "m.json")]) == 0
    assert "n=20" in capsys.readouterr().out and json.loads((tmp_path / "m.json").read_text())["n"] == 20
    scores = tmp_path / "scores.jsonl"
    assert (
        main(["probe", "score", "--probe", str(probe), "--input", str(data), *model, "--out", str(scores)])
        == 0
    )
    lines = [json.loads(line) for line in scores.read_text().splitlines()]
    assert len(lines) == 60 and {"index", "label", "score", "proba"} <= set(lines[0])
    assert all(
        records[0]["text"] not in line for line in scores.read_text().splitlines()
    )  # texts never echoed
    assert (
        main(["probe", "eval", "--probe", str(probe), "--store", str(tmp_path / "s"), "--where", "split"])
        == 2
    )
    assert "--where takes FIELD=VALUE, got 'split'" in capsys.readouterr().err
