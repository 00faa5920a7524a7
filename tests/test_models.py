"""incision.load for local folders and names, and the embedded-model table."""

from __future__ import annotations

import pytest
import torch

import incision
from incision import ModelNotFoundError
from incision.core.models import model_status, skeleton

from .conftest import tiny_subject


@pytest.mark.parametrize("family", ["llama", "bert"])
def test_load_local_folder_matches_the_saved_model(family, tmp_path):
    original = tiny_subject(family)
    original.model.save_pretrained(tmp_path)
    original.tokenizer.save_pretrained(tmp_path)
    loaded = incision.load(tmp_path)
    assert type(loaded.model) is type(original.model)
    ids = original.tokenizer("the lazy dog", return_tensors="pt")
    with torch.no_grad():
        a = original.model(**ids, output_hidden_states=True).hidden_states[-1]
        b = loaded.model(**ids, output_hidden_states=True).hidden_states[-1]
    torch.testing.assert_close(a, b)
    assert loaded.sites == original.sites


@pytest.mark.parametrize("family", ["llama", "gemma3_text", "bert"])
def test_a_skeleton_is_the_loaded_model_without_weights(family, tmp_path):
    """What artifacts are checked against (config hash, sites, widths, tokenizer, EOS) is the loaded
    model's, and no weight is in memory."""
    original = tiny_subject(family)
    original.model.save_pretrained(tmp_path)
    original.tokenizer.save_pretrained(tmp_path)
    loaded, bones = incision.load(tmp_path), skeleton(tmp_path)
    assert bones.config_sha256 == loaded.config_sha256
    assert bones.sites == loaded.sites and bones.d_model == loaded.d_model and bones.name == loaded.name
    assert bones.encode("the lazy dog").ids == loaded.encode("the lazy dog").ids
    eos = [
        getattr(getattr(s.model, "generation_config", None), "eos_token_id", None) for s in (bones, loaded)
    ]
    assert eos[0] == eos[1]
    assert all(p.device.type == "meta" for p in bones.model.parameters())


def test_load_dtype(tmp_path):
    original = tiny_subject("llama")
    original.model.save_pretrained(tmp_path)
    original.tokenizer.save_pretrained(tmp_path)
    assert incision.load(tmp_path, dtype="bfloat16").model.dtype == torch.bfloat16
    with pytest.raises(ValueError, match="'float8'"):
        incision.load(tmp_path, dtype="float8")


@pytest.mark.parametrize("name", ["gemma-3-27", "no-such-model", "./missing/folder", "a/b/c"])
def test_unknown_model_lists_embedded_names(name):
    with pytest.raises(ModelNotFoundError, match=rf"{name}.*gemma-3-270m, smollm2-135m-instruct, minilm-l6"):
        incision.load(name)


def test_model_status_lists_all_embedded():
    rows = {r["name"]: r for r in model_status()}
    assert set(rows) == {"gemma-3-270m", "smollm2-135m-instruct", "minilm-l6"}
    assert all(r["installed"] for r in rows.values())  # make test installs them


@pytest.mark.embedded
def test_minilm_loads_as_an_encoder():
    subject = incision.load("minilm-l6")
    assert subject.model.config.model_type == "bert"
    assert (subject.n_layers, subject.d_model) == (6, 384)
    assert subject.sites[-1] == "resid.5"
