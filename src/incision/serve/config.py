"""What `incision serve` runs: the model, its probes, detector, policies and edits, and the service's
limits. One dataclass, filled from a YAML or TOML file and then from command-line flags.

    model: gemma-3-270m
    probes: {harmful: out/probes/harmful}
    detector: out/demo/detector            # /v1/scrub, and a token probe "pii" for chat redaction
    policies:
      harmful: {action: block, threshold: 0.8}
      pii: {action: redact, threshold: 0.5}
      toxic: {action: steer, threshold: 0.7, direction: out/dirs/toxic, alpha: -4}
    edits: [{kind: ablate, direction: out/dirs/refusal}]
    max_in_flight: 64
    backend: vllm                          # vLLM's engine; requests may then carry their own control:
    named_edits: {calm: {kind: steer, direction: out/dirs/toxic, alpha: -4}}   # {"incision": {"edits": [{"name": "calm"}]}}
    tensor_parallel_size: 2
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..core.models.embedded import DEFAULT_MODEL
from ..errors import ConfigError


def _help(text: str, default=None, factory=None):
    if factory is not None:
        return field(default_factory=factory, metadata={"help": text})
    return field(default=default, metadata={"help": text})


BACKENDS = ("hf", "vllm")


@dataclass
class ServeConfig:
    model: str = _help("embedded name, local folder or hub id", DEFAULT_MODEL)
    probes: dict[str, str] = _help("probe folders by name (flag: --probe NAME=FOLDER)", factory=dict)
    detector: str | None = _help("PII detector folder: serves /v1/scrub and adds a token probe 'pii'")
    policies: dict[str, dict] = _help(
        "per probe: {action, threshold, message | edit: {kind, ...} (or direction, alpha)}", factory=dict
    )
    edits: list[dict] = _help(
        "edits on every pass, as incision.core.edits configs: {kind: steer, direction, alpha}, {kind: ablate, direction}, {kind: erase, eraser}, ... ({direction, alpha} and {direction, ablate: true} still read)",
        factory=list,
    )
    backend: str = _help("hf (Hugging Face: research, any model) or vllm (vLLM's engine: production)", "hf")
    named_edits: dict[str, dict] = _help(
        "vllm backend: edit configs that requests (and steer policies) turn on by name", factory=dict
    )
    tensor_parallel_size: int = _help("vllm backend: GPUs the model is split over", 1)
    max_model_len: int | None = _help("vllm backend: the longest sequence (default: the model's)")
    vllm: dict = _help("vllm backend: further vllm.LLM options (config file only)", factory=dict)
    host: str = _help("address to listen on", "127.0.0.1")
    port: int = _help("port to listen on", 8000)
    api_keys_env: str = _help("environment variable holding comma-separated API keys", "INCISION_API_KEYS")
    api_keys_file: str | None = _help("file of API keys, one per line (adds to the env var's)")
    scrub_salt_env: str = _help(
        "environment variable holding the salt of the hash and fake scrub styles", "INCISION_SCRUB_SALT"
    )
    max_body_bytes: int = _help("largest request body; bigger gets 413", 1 << 20)
    max_tokens: int = _help("most input tokens in one request (all its texts, or the chat prompt)", 8192)
    max_new_tokens: int = _help("most tokens a chat completion may generate", 256)
    max_in_flight: int = _help("requests admitted at once (running or queued); more get 429", 64)
    request_timeout_s: float = _help("longest a request may take before it gets 504", 60.0)
    batching: bool = _help("gather concurrent requests into micro-batches", True)
    batch_window_ms: float = _help("how long a micro-batch waits for more requests", 2.0)
    max_batch_tokens: int = _help("most tokens in one micro-batch", 8192)
    drain_timeout_s: float = _help("on shutdown, how long in-flight requests get to finish", 30.0)
    dtype: str | None = _help("model dtype, e.g. bfloat16 (default float32)")
    device: str | None = _help("device for the model, e.g. cuda")

    def __post_init__(self) -> None:
        positive = ("max_body_bytes", "max_tokens", "max_new_tokens", "max_in_flight", "max_batch_tokens")
        for name in positive:
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        for name in ("request_timeout_s", "drain_timeout_s", "batch_window_ms"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value < 0:
                raise ConfigError(f"{name} must be a number of at least 0, got {value!r}")
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {list(BACKENDS)}, got {self.backend!r}")
        if self.backend == "hf" and self.named_edits:
            raise ConfigError("named_edits are turned on per request, which needs backend: vllm")
        if not isinstance(self.tensor_parallel_size, int) or self.tensor_parallel_size < 1:
            raise ConfigError(
                f"tensor_parallel_size must be a positive integer, got {self.tensor_parallel_size!r}"
            )
        if not isinstance(self.probes, dict) or not isinstance(self.policies, dict):
            raise ConfigError("probes and policies must be tables keyed by probe name")
        if "pii" in self.probes and self.detector:
            raise ConfigError("the probe name 'pii' is the detector's; give your probe another name")
        if not self.probes and not self.detector:
            raise ConfigError(
                "nothing to serve: give at least one probe (--probe NAME=FOLDER) or a --detector"
            )

    def api_keys(self) -> list[str]:
        """The configured keys (none: the service is open, which `incision serve` warns about)."""
        keys = [k.strip() for k in os.environ.get(self.api_keys_env, "").split(",")]
        if self.api_keys_file:
            try:
                keys += Path(self.api_keys_file).read_text(encoding="utf-8").splitlines()
            except OSError as e:
                raise ConfigError(
                    f"cannot read API key file {self.api_keys_file!r} ({type(e).__name__})"
                ) from None
        return [k.strip() for k in keys if k.strip()]


def read_config_file(path: str | Path) -> dict:
    """The settings of a .yaml/.yml/.toml/.json file, checked against ServeConfig's fields."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read config file {str(path)!r} ({type(e).__name__})") from None
    parsers = {".toml": tomllib.loads, ".yaml": _yaml, ".yml": _yaml, ".json": json.loads}
    if path.suffix not in parsers:
        raise ConfigError(f"config file {str(path)!r} must end in .yaml, .yml, .toml or .json")
    try:
        data = parsers[path.suffix](text)
    except Exception as e:  # each format has its own error class
        raise ConfigError(f"config file {str(path)!r} does not parse ({type(e).__name__})") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"config file {str(path)!r} must hold a table of settings, not {type(data).__name__}"
        )
    known = {f.name for f in dataclasses.fields(ServeConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"config file {str(path)!r} has unknown settings {unknown}; known: {sorted(known)}")
    return data


def _yaml(text: str):
    import yaml

    return yaml.safe_load(text) or {}
