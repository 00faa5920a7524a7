"""`Placement`: how a command loads its model (weights' dtype, one device, or accelerate's device map)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ...configs import check_choices
from ...errors import ConfigError


@dataclass
class Placement:
    """Where a model's weights go. Every field is an option of the commands that load a model."""

    model_dtype: Literal["float32", "bfloat16", "float16"] = field(
        default="float32", metadata={"help": "dtype of the model's weights"}
    )
    device: str | None = field(default=None, metadata={"help": "one device for the whole model, e.g. cuda:0"})
    device_map: str | None = field(
        default=None,
        metadata={"help": "accelerate's placement over several devices: auto, balanced or sequential"},
    )
    max_memory: str | None = field(
        default=None,
        metadata={"help": "memory per device for the device map, e.g. '0=70GiB,1=70GiB,cpu=200GiB'"},
    )
    offload_folder: str | None = field(
        default=None, metadata={"help": "folder for weights the device map offloads to disk"}
    )

    def __post_init__(self) -> None:
        check_choices(self)
        self.memory = parse_max_memory(self.max_memory) if self.max_memory else None

    def load_kwargs(self) -> dict:
        """Keyword arguments of `incision.load`."""
        kwargs = {"dtype": self.model_dtype, "device": self.device, "device_map": self.device_map}
        kwargs |= {"max_memory": self.memory, "offload_folder": self.offload_folder}
        return {k: v for k, v in kwargs.items() if v is not None}


def parse_max_memory(text: str) -> dict:
    """'0=70GiB,cpu=200GiB' -> {0: '70GiB', 'cpu': '200GiB'} (GPU indices as ints, as accelerate wants)."""
    memory: dict = {}
    for part in text.split(","):
        device, sep, amount = part.partition("=")
        if not sep or not device.strip() or not amount.strip():
            raise ConfigError(
                f"max_memory entry {part!r} is not DEVICE=AMOUNT, e.g. '0=70GiB' or 'cpu=200GiB'"
            )
        device = device.strip()
        memory[int(device) if device.isdigit() else device] = amount.strip()
    return memory
