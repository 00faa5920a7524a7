"""`incision.load`: one call for embedded names, hub ids and local folders."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import torch

from ...errors import ConfigError, ModelNotFoundError
from ..subject import Subject
from .embedded import EMBEDDED, prepare

log = logging.getLogger(__name__)

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def load(
    name_or_path: str | Path,
    *,
    dtype=None,
    device=None,
    device_map=None,
    max_memory=None,
    offload_folder=None,
) -> Subject:
    """Load a model and its tokenizer as a Subject.

    `name_or_path` is an embedded name (see `incision models`), a local folder or a hub id.
    `dtype` is a torch dtype or its name (default float32); `device` moves a model that fits one device.
    `device_map` goes to accelerate: "auto" spreads a large model over the GPUs, then CPU memory, then
    `offload_folder` on disk, within `max_memory` ({device: bytes or "40GiB"}) when given; sites, capture,
    probes, steering and monitors work across the devices it picks.
    """
    from transformers import AutoConfig, AutoTokenizer

    source = _resolve_source(name_or_path)
    torch_dtype = _DTYPES.get(dtype, dtype) if dtype is not None else torch.float32
    if not isinstance(torch_dtype, torch.dtype):
        raise ConfigError(f"unknown dtype {dtype!r}; use one of {sorted(_DTYPES)} or a torch.dtype")
    if device is not None and device_map is not None:
        raise ConfigError(f"give device ({device!r}) or device_map ({device_map!r}), not both")
    if device_map is None and (max_memory is not None or offload_folder is not None):
        raise ConfigError(
            "max_memory and offload_folder place a model through a device map; pass device_map='auto'"
        )
    placement = {"device_map": device_map}
    placement |= {
        k: v for k, v in (("max_memory", max_memory), ("offload_folder", offload_folder)) if v is not None
    }
    try:
        config = AutoConfig.from_pretrained(source)
        model = _model_class(config).from_pretrained(source, dtype=torch_dtype, **placement)
        tokenizer = AutoTokenizer.from_pretrained(source)
    except OSError as e:
        raise ModelNotFoundError(
            f"could not load model {str(name_or_path)!r} as a local folder or hub id ({e.__class__.__name__}); "
            f"embedded models are: {', '.join(EMBEDDED)}"
        ) from e
    if device is not None:
        model.to(device)
    return Subject(model=model, tokenizer=tokenizer, name=str(name_or_path))


def skeleton(name_or_path: str | Path) -> Subject:
    """The Subject `load` would give with its weights left on the meta device: its config, sites and
    tokenizer are real and it costs no memory, for checking artifacts against a model that another engine
    (vLLM) holds. Its config hash equals the loaded model's."""
    from transformers import AutoConfig, AutoTokenizer, GenerationConfig

    source = _resolve_source(name_or_path)
    try:
        config = AutoConfig.from_pretrained(source)
        tokenizer = AutoTokenizer.from_pretrained(source)
    except OSError as e:
        raise ModelNotFoundError(
            f"could not read model {str(name_or_path)!r} as a local folder or hub id ({e.__class__.__name__})"
        ) from e
    with torch.device("meta"):
        model = _model_class(config).from_config(config, dtype=torch.float32)
    with contextlib.suppress(OSError):  # the EOS tokens a generation ends on live in generation_config.json
        model.generation_config = GenerationConfig.from_pretrained(source)
    return Subject(model=model, tokenizer=tokenizer, name=str(name_or_path))


def load_tokenizer(name_or_path: str | Path):
    """The tokenizer `load` would give, without the model (to plan work before any worker loads it)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(_resolve_source(name_or_path))


def _model_class(config):
    """A causal LM's class when the config names one (its head is part of the model), else the bare model."""
    from transformers import AutoModel, AutoModelForCausalLM

    causal = any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in config.architectures or [])
    return AutoModelForCausalLM if causal else AutoModel


def _resolve_source(name_or_path: str | Path) -> str:
    if not isinstance(name_or_path, str | Path) or not str(name_or_path).strip():
        raise ModelNotFoundError(
            f"model must be an embedded name, a folder or a hub id, got {name_or_path!r}; "
            f"embedded models are: {', '.join(EMBEDDED)}"
        )
    name = str(name_or_path)
    if name in EMBEDDED:
        return str(prepare(EMBEDDED[name]))
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path)
    if path.exists() or name.startswith((".", "/", "~")) or name.count("/") != 1:
        raise ModelNotFoundError(
            f"unknown model {name!r}: not an embedded name, a model folder or an 'org/name' hub id; "
            f"embedded models are: {', '.join(EMBEDDED)}"
        )
    return name  # a hub id: transformers fetches or finds it in its cache
