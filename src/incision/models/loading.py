"""`incision.load`: one call for embedded names, hub ids and local folders."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from ..errors import ConfigError, ModelNotFoundError
from ..subject import Subject
from .embedded import EMBEDDED, prepare

log = logging.getLogger(__name__)

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def load(name_or_path: str | Path, *, dtype=None, device=None, device_map=None) -> Subject:
    """Load a model and its tokenizer as a Subject.

    `name_or_path` is an embedded name (see `incision models`), a local folder or a hub id.
    `dtype` is a torch dtype or its name (default float32); `device_map` goes to accelerate
    (e.g. "auto" to spread a large model over several GPUs), `device` moves a model that fits one.
    """
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

    source = _resolve_source(name_or_path)
    torch_dtype = _DTYPES.get(dtype, dtype) if dtype is not None else torch.float32
    if not isinstance(torch_dtype, torch.dtype):
        raise ConfigError(f"unknown dtype {dtype!r}; use one of {sorted(_DTYPES)} or a torch.dtype")
    if device is not None and device_map is not None:
        raise ConfigError(f"give device ({device!r}) or device_map ({device_map!r}), not both")
    try:
        config = AutoConfig.from_pretrained(source)
        architectures = config.architectures or []
        causal = any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in architectures)
        model_class = AutoModelForCausalLM if causal else AutoModel
        model = model_class.from_pretrained(source, dtype=torch_dtype, device_map=device_map)
        tokenizer = AutoTokenizer.from_pretrained(source)
    except OSError as e:
        raise ModelNotFoundError(
            f"could not load model {str(name_or_path)!r} as a local folder or hub id ({e.__class__.__name__}); "
            f"embedded models are: {', '.join(EMBEDDED)}"
        ) from e
    if device is not None:
        model.to(device)
    return Subject(model=model, tokenizer=tokenizer, name=str(name_or_path))


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
