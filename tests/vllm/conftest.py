"""vLLM's CPU build runs in this process (no engine-core process: faster to start, and the worker's state
can be inspected), with a small KV cache. Set before vLLM is imported."""

import os

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")

import pytest  # noqa: E402

from .helpers import hf_subject, save_tiny_llama  # noqa: E402


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory) -> str:
    return save_tiny_llama(tmp_path_factory.mktemp("vllm") / "tiny-llama")


@pytest.fixture(scope="session")
def tiny_hf(tiny_folder):
    return hf_subject(tiny_folder)
