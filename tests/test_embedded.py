"""The real embedded Gemma 3 270M: converted once, loaded offline, captured from."""

from __future__ import annotations

import json

import pytest
import torch

import incision
from incision.core.models.embedded import EMBEDDED

pytestmark = pytest.mark.embedded

TEXTS = ["Please call Maria Lopez at 555-0142 before Friday.", "山田太郎さんの電話番号は090-1234-5678です。"]


def test_gemma_is_converted_once_into_a_plain_hf_folder(gemma_subject):
    folder = EMBEDDED["gemma-3-270m"].cache_dir()
    config = json.loads((folder / "config.json").read_text())
    assert "quantization_config" not in config
    assert (folder / "model.safetensors").is_file()
    assert (gemma_subject.n_layers, gemma_subject.d_model) == (18, 640)
    assert type(gemma_subject.model).__name__ == "Gemma3ForCausalLM"


def test_gemma_capture_matches_hidden_states(gemma_subject, tmp_path):
    store = incision.capture(
        gemma_subject, TEXTS, "embed,resid.6,resid.-1", tmp_path / "s", dtype="float32", progress=False
    )
    assert store.sites == ["embed", "resid.6", "resid.17"]
    doc = store.tokens["doc"].to_numpy()
    for d, text in enumerate(TEXTS):
        rows = torch.from_numpy((doc == d).nonzero()[0])
        with torch.no_grad():
            hidden = gemma_subject.model(
                **gemma_subject.tokenizer(text, return_tensors="pt"), output_hidden_states=True
            ).hidden_states
        torch.testing.assert_close(store.to_tensor("embed")[rows], hidden[0][0], rtol=1e-4, atol=1e-3)
        torch.testing.assert_close(store.to_tensor("resid.6")[rows], hidden[7][0], rtol=1e-4, atol=1e-2)
    spans = store.tokens.filter(store.tokens["doc"].to_numpy() == 1).to_pylist()
    assert [TEXTS[1][t["char_start"] : t["char_end"]] for t in spans][-15:] == [
        *"090-1234-5678",
        "です",
        "。",
    ]


def test_gemma_default_capture_is_bfloat16_and_finite(gemma_subject, tmp_path):
    store = incision.capture(gemma_subject, TEXTS, "resid.12", tmp_path / "s", progress=False)
    acts = store.to_tensor("resid.12")
    assert acts.dtype == torch.bfloat16
    assert torch.isfinite(acts).all()  # Gemma's BOS activations overflow float16; bfloat16 keeps them


def test_gemma_float16_overflow_is_a_clear_error(gemma_subject, tmp_path):
    with pytest.raises(ValueError, match="resid.12 has activations up to .* beyond float16's range"):
        incision.capture(gemma_subject, TEXTS, "resid.12", tmp_path / "s", dtype="float16", progress=False)
