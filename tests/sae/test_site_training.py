"""incision.sae.site_training: an SAE trained on one site of a tiny store or a live tiny model, the loss
recovered measured on held-out documents, and the demo's small recipe."""

from __future__ import annotations

import json

import pytest

from incision import ConfigError, capture
from incision import load as load_model
from incision.sae import SAETrainConfig, load
from incision.sae.site_training import train_from_store, train_from_texts, train_small_sae
from incision.sae.splice import SpliceEvalConfig

from ..conftest import TEXTS, tiny_subject

TRAIN = SAETrainConfig(batch_size=16, total_tokens=128, warmup_steps=1, log_every=2, progress=False,
                       tensorboard=False)  # fmt: skip
EVAL = SpliceEvalConfig(eval_every=4, eval_docs=3)
SMALL = {"d_sae": 64, "sae_options": {"k": 4}, "train_cfg": TRAIN, "eval_cfg": EVAL}


@pytest.fixture(scope="module")
def store(saved_model_dir):
    out = saved_model_dir.parent / "store"
    return capture(
        load_model(saved_model_dir), TEXTS * 4, "resid.1,resid.2", out, dtype="float32", progress=False
    )


def _loss_steps(folder) -> list[int]:
    records = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    return [r["step"] for r in records if "loss_recovered" in r]


def test_train_from_store_measures_the_loss_recovered_on_held_out_documents(store, saved_model_dir, tmp_path):
    result = train_from_store(store.root, "resid.-1", tmp_path / "sae", **SMALL)
    assert (result.steps, result.tokens) == (8, 128) and "loss_recovered" in result.metrics
    assert _loss_steps(tmp_path / "sae") == [4, 8]
    sae = load(tmp_path / "sae")  # saved, with its provenance
    assert (sae.cfg.d_sae, sae.cfg.k) == (64, 4)
    assert sae.meta["site"] == "resid.2" and sae.meta["model"] == str(saved_model_dir)
    assert sae.meta["tokens"] == 128


def test_train_from_store_without_held_out_documents_loads_no_model(store, tmp_path):
    eval_cfg = SpliceEvalConfig(eval_docs=0)
    result = train_from_store(
        store, "resid.1", tmp_path / "sae", **{**SMALL, "eval_cfg": eval_cfg}, model="nope"
    )
    assert "loss_recovered" not in result.metrics and load(tmp_path / "sae").cfg.d_in == 32


def test_train_from_texts_captures_live(tmp_path):
    result = train_from_texts(tiny_subject("llama"), TEXTS * 4, "resid.1", tmp_path / "live", **SMALL)
    assert "loss_recovered" in result.metrics and _loss_steps(tmp_path / "live") == [4, 8]
    assert load(tmp_path / "live").meta["model"] == "tiny-llama"


def test_the_loss_recovered_is_measured_at_log_steps(store, tmp_path):
    eval_cfg = SpliceEvalConfig(eval_every=3)
    with pytest.raises(ConfigError, match=r"eval_every \(3\) must be a multiple of log_every \(2\)"):
        train_from_store(store, "resid.1", tmp_path / "sae", **{**SMALL, "eval_cfg": eval_cfg})


def test_the_demo_recipe_trains_a_small_topk_sae(store, tmp_path):
    sae = train_small_sae(store, "resid.1", tmp_path / "demo", epochs=40)
    assert (sae.cfg.architecture, sae.cfg.d_sae, sae.cfg.k) == ("topk", 4 * 32, 32)
    assert (
        load(tmp_path / "demo").cfg == sae.cfg and (tmp_path / "demo" / "train" / "metrics.jsonl").is_file()
    )
