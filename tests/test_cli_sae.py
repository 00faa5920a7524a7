"""`incision sae train`, run in-process on a tiny model: from a store and from live capture."""

from __future__ import annotations

import json

import pytest
import torch

from incision import capture
from incision.cli import main
from incision.sae import load

from .conftest import TEXTS, tiny_subject

SMALL = ["--d-sae", "64", "--k", "4", "--batch-size", "16", "--total-tokens", "128", "--warmup-steps", "1"]
QUIET = ["--no-progress", "--no-tensorboard", "--log-every", "2", "--eval-every", "4", "--eval-docs", "3"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sae-cli") / "model"
    subject = tiny_subject("llama")
    subject.model.save_pretrained(folder)
    subject.tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def store_dir(model_dir):
    from incision import load as load_model

    out = model_dir.parent / "store"
    capture(load_model(model_dir), TEXTS * 4, "resid.1,resid.2", out, dtype="float32", progress=False)
    return out


def _records(folder) -> list[dict]:
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def test_sae_train_from_a_store(store_dir, model_dir, tmp_path, capsys):
    out = tmp_path / "sae"
    assert (
        main(
            [
                "sae",
                "train",
                "--store",
                str(store_dir),
                "--site",
                "resid.1",
                "--out",
                str(out),
                *SMALL,
                *QUIET,
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "8 steps, 128 tokens" in printed and "loss_recovered" in printed
    sae = load(out)
    assert (sae.cfg.d_in, sae.cfg.d_sae, sae.cfg.k) == (32, 64, 4)
    assert sae.meta["site"] == "resid.1" and sae.meta["model"] == str(model_dir) and sae.meta["tokens"] == 128
    records = _records(out)
    assert [r["step"] for r in records] == [2, 4, 6, 8]
    assert [r["step"] for r in records if "loss_recovered" in r] == [4, 8]
    assert {"ce_loss_clean", "ce_loss_spliced", "ce_loss_zero", "fvu", "l0", "dead_fraction"} <= set(
        records[-1]
    )
    assert (out / "checkpoints").is_dir() and json.loads((out / "cfg.json").read_text())["metadata"][
        "hook_name"
    ] == "resid.1"

    # resuming a finished run trains no more and gives the same SAE
    again = [
        "sae",
        "train",
        "--store",
        str(store_dir),
        "--site",
        "resid.1",
        "--out",
        str(out),
        *SMALL,
        *QUIET,
    ]
    assert main([*again, "--resume"]) == 0
    assert torch.equal(load(out).W_dec_FD, sae.W_dec_FD)


def test_sae_train_from_live_capture(model_dir, tmp_path):
    data = tmp_path / "texts.jsonl"
    data.write_text(
        "\n".join(json.dumps({"body": t}, ensure_ascii=False) for t in TEXTS * 4), encoding="utf-8"
    )
    out = tmp_path / "live"
    live = ["sae", "train", "--model", str(model_dir), "--input", str(data), "--text-field", "body"]
    assert main([*live, "--site", "resid.-1", "--out", str(out), *SMALL, *QUIET, "--epochs", "3"]) == 0
    sae = load(out)
    assert sae.meta["site"] == "resid.2" and [r["step"] for r in _records(out) if "loss_recovered" in r] == [
        4,
        8,
    ]


def test_sae_train_reports_bad_input(store_dir, model_dir, tmp_path, capsys):
    base = ["sae", "train", "--site", "resid.1", "--out", str(tmp_path / "x"), *SMALL, *QUIET]

    def error(*argv) -> str:
        assert main([*base, *argv]) == 2
        return capsys.readouterr().err.strip().splitlines()[-1]

    assert "give either --store DIR" in error("--store", str(store_dir), "--input", "texts.txt")
    assert "give either --store DIR" in error()
    assert error("--store", str(store_dir), "--site", "resid.0").startswith(
        "error: site 'resid.0' is not in store"
    )
    assert "cannot hold out 16 of 16 documents" in error("--store", str(store_dir), "--eval-docs", "16")
    assert "eval_every (3) must be a multiple of log_every (2)" in error(
        "--store", str(store_dir), "--eval-every", "3"
    )
    assert "k must be at most d_sae (64), got 65" in error("--store", str(store_dir), "--k", "65")
    other = tmp_path / "other"
    subject = tiny_subject("llama", seed=1)
    subject.model.config.num_hidden_layers = 3
    subject.model.config.hidden_act = "gelu"  # another config
    subject.model.save_pretrained(other)
    subject.tokenizer.save_pretrained(other)
    assert "is not the one store" in error("--store", str(store_dir), "--model", str(other))
