"""Forward hooks that are always removed. Each installer returns a handle that is also a context manager.

Capture hooks read a detached output; intervention hooks (`add_replace_hook`) return a new tensor.
MoE sites' modules are views (sites_moe.MoEView) whose own `register_forward_hook` shows these hooks
[B, T, X] tensors where the model computes [B*T, X], so nothing here needs to know about them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle


class StopForward(Exception):
    """Raised by a hook to end a forward pass once the last site needed has run."""


class HookHandles:
    """Handles of installed hooks: `remove()` them, or use `with` to remove them on exit."""

    def __init__(self, handles: Iterable[RemovableHandle] = ()):
        self.handles = list(handles)

    def remove(self) -> None:
        while self.handles:
            self.handles.pop().remove()

    def __enter__(self) -> HookHandles:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def module_output(output) -> torch.Tensor:
    """The hidden-state tensor of a module's output (attention modules return tuples)."""
    return output[0] if isinstance(output, tuple) else output


def add_output_hooks(modules: dict[str, nn.Module], read: Callable[[str, torch.Tensor], None]) -> HookHandles:
    """Call `read(name, output)` with each module's (detached) output tensor on every forward pass."""
    handles = HookHandles()
    try:
        for name, module in modules.items():

            def hook(_module, _inputs, output, name=name):
                read(name, module_output(output).detach())

            handles.handles.append(module.register_forward_hook(hook))
    except BaseException:
        handles.remove()
        raise
    return handles


def add_replace_hook(module: nn.Module, replace: Callable[[torch.Tensor], torch.Tensor]) -> HookHandles:
    """Replace `module`'s output tensor by `replace(output)` on every forward pass. `replace` returns a new
    tensor (the model's own output is never written into); a tuple output keeps its other items."""

    def hook(_module, _inputs, output):
        new = replace(module_output(output))
        return (new, *output[1:]) if isinstance(output, tuple) else new

    return HookHandles([module.register_forward_hook(hook)])


def add_stop_hook(module: nn.Module) -> HookHandles:
    """End every forward pass right after `module` has run (its other hooks run first)."""

    def stop(_module, _inputs, _output):
        raise StopForward

    return HookHandles([module.register_forward_hook(stop)])


def run_until_stop(model: nn.Module, **inputs) -> None:
    """Run a forward pass that a stop hook is expected to end early."""
    with contextlib.suppress(StopForward):
        model(**inputs)
