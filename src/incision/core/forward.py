"""The one forward path: encodings → windows → padded batches → one pass of the model with hooks.

Every part of incision that runs a model goes through here: capture and live probes
(`capture.iter_activations`), the Monitor, SAE splicing, the training monitor, the edit report,
steering generation and keep-means ablation. So long texts, padding, specials and early stopping
behave the same everywhere:

- **Long texts** are split into windows of at most `window` tokens (default min(context, 2048)); each
  token is kept by exactly one window and sees at least `overlap` tokens of left context (default half a
  window); every window repeats the text's special prefix and suffix (`tokens.plan_windows`). Per-token
  results are stitched back in document order; a pooled result pools over all of a text's kept tokens.
  Loss evaluations that take a fixed budget per text cut it instead (`tokens.truncated_window`).
- **Batches** are right-padded (left-padded for generation) and, unless order matters, sorted longest
  first under a budget of padded tokens, so padding stays small.
- **Text tokens** are marked by the one rule of `tokens.text_mask` (`Batch.text_BT`).
- **Reads** get each hooked site's detached output; **edits** (`incision.core.edits`) are in effect
  around the pass; with `until="sites"` the pass runs `model.base_model` and ends right after the
  deepest block a read needs, so the LM head never runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from ..errors import ConfigError, InputError
from .edits import Edit, applied
from .hooks import add_output_hooks, add_stop_hook, run_until_stop
from .tokens import Encoding, Window, plan_windows

Read = Callable[[torch.Tensor], None]
Until = Literal["logits", "sites", "base"]


@dataclass
class Batch:
    """Windows padded into one forward pass: ids and attention mask [B, T], and two bool masks [B, T]:
    `text_BT` (tokens that carry text) and `kept_BT` (tokens each window keeps: not the left context
    repeated from the window before). Both are False on padding."""

    windows: list[Window]
    ids_BT: torch.Tensor
    mask_BT: torch.Tensor
    text_BT: torch.Tensor
    kept_BT: torch.Tensor

    def __len__(self) -> int:
        return len(self.windows)


def windows_of(
    encodings: Sequence[Encoding], window: int, overlap: int | None = None, first_doc: int = 0
) -> list[Window]:
    """Every encoding's windows (document numbers from `first_doc`), in document order."""
    return [w for k, enc in enumerate(encodings) for w in plan_windows(first_doc + k, enc, window, overlap)]


def pad_windows(windows: Sequence[Window], pad_id: int, side: Literal["right", "left"] = "right") -> Batch:
    """One padded batch of `windows` in the order given."""
    if not windows:
        raise InputError("no texts given; give at least one text")
    length = max(len(w.ids) for w in windows)
    ids = torch.full((len(windows), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(windows), length), dtype=torch.long)
    text = torch.zeros((len(windows), length), dtype=torch.bool)
    kept = torch.zeros_like(text)
    for b, w in enumerate(windows):
        at = slice(0, len(w.ids)) if side == "right" else slice(length - len(w.ids), length)
        ids[b, at] = torch.tensor(w.ids)
        mask[b, at] = 1
        text[b, at] = torch.tensor(w.text)
        offset = at.start
        kept[b, offset + w.keep_from : offset + w.keep_to] = True
    return Batch(list(windows), ids, mask, text, kept)


def batches(
    windows: Sequence[Window],
    pad_id: int,
    batch_tokens: int | None = 4096,
    by_length: bool = True,
    side: Literal["right", "left"] = "right",
    batch_size: int | None = None,
) -> Iterator[Batch]:
    """Padded batches of at most `batch_tokens` padded tokens and `batch_size` windows (None: no bound);
    longest first unless `by_length` is False (then in the order given)."""
    ordered = sorted(windows, key=lambda w: len(w.ids), reverse=True) if by_length else list(windows)
    group: list[Window] = []
    longest = 0
    for w in ordered:
        longest = max(longest, len(w.ids))
        too_many = batch_size is not None and len(group) == batch_size
        if group and (too_many or (batch_tokens is not None and (len(group) + 1) * longest > batch_tokens)):
            yield pad_windows(group, pad_id, side)
            group, longest = [], len(w.ids)
        group.append(w)
    if group:
        yield pad_windows(group, pad_id, side)


def pad_id_of(tokenizer) -> int:
    """The id padding uses: the tokenizer's pad token, else its EOS, else 0 (masked out either way)."""
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if candidate is not None:
            return candidate
    return 0


def stop_module(subject, sites: Iterable[str]) -> nn.Module:
    """The module after which a pass that reads `sites` can end: the deepest site's block (or the site
    itself when it lies before every block, like `embed`)."""
    resolved = [subject.resolve(site) for site in sites]
    if not resolved:
        raise ConfigError("a pass that stops after its reads needs at least one site to read")
    deepest = max(resolved, key=lambda s: s.layer)
    return subject.site_map.blocks[deepest.layer] if deepest.layer >= 0 else deepest.module


def run(
    subject,
    ids_BT: torch.Tensor,
    mask_BT: torch.Tensor | None = None,
    reads: Mapping[str | nn.Module, Read] | None = None,
    edits: Iterable[Edit] = (),
    until: Until = "logits",
    inference: bool = True,
    **model_kwargs,
):
    """One forward pass of `subject`'s model; returns the model's output (None with `until="sites"`).

    `reads` maps a site name (or a module) to a function called with its detached output [B, T, D];
    `edits` (`incision.core.edits`) are in effect for the pass.
    `until`: "logits" runs the whole model; "base" runs `model.base_model` (no LM head); "sites" runs
    the base model and ends after the deepest block a read needs. Inputs go to the embedding's device;
    the pass runs under inference mode (`inference=False`: under no_grad, for results that later meet
    autograd). Extra keyword arguments go to the model (a KV cache, `use_cache`, `logits_to_keep`)."""
    reads = dict(reads or {})
    modules = {_name(key): _module(subject, key) for key in reads}
    named_reads = {_name(key): read for key, read in reads.items()}
    device = subject.input_device
    inputs = {"input_ids": ids_BT.to(device)}
    if mask_BT is not None:
        inputs["attention_mask"] = mask_BT.to(device)
    model = subject.model if until == "logits" else subject.model.base_model
    with (
        torch.inference_mode() if inference else torch.no_grad(),
        applied(subject, edits),
        add_output_hooks(modules, lambda name, out: named_reads[name](out)),
    ):
        if until != "sites":
            return model(**inputs, **model_kwargs)
        if not reads or not all(isinstance(key, str) for key in reads):
            raise ConfigError('until="sites" needs reads keyed by site names, to know where to stop')
        with add_stop_hook(stop_module(subject, reads)):
            run_until_stop(model, **inputs, **model_kwargs)
    return None


def text_batches(
    subject, texts: Sequence[str], batch_size: int, window: int | None = None
) -> Iterator[Batch]:
    """`texts` encoded, split into windows and right-padded `batch_size` windows at a time, in order."""
    windows = windows_of([subject.encode(text) for text in texts], window or subject.default_window)
    return batches(windows, pad_id_of(subject.tokenizer), None, by_length=False, batch_size=batch_size)


def without_cache(subject) -> dict:
    """Model options for passes that generate nothing: a KV cache would only cost memory."""
    return {"use_cache": False} if hasattr(subject.model.config, "use_cache") else {}


def generate(
    subject,
    prompts: Sequence[Encoding],
    edits: Iterable[Edit] = (),
    max_new_tokens: int = 32,
    before: Callable[[Batch], None] | None = None,
    **options,
) -> torch.Tensor:
    """Greedy (unless `options` say otherwise) continuations of `prompts`, left-padded into one batch;
    returns the new token ids [B, max_new_tokens] (padded with the pad id after an end of text).
    `before(batch)` runs once the batch is built (steering reads the padded prompt length from it)."""
    pad = pad_id_of(subject.tokenizer)
    batch = pad_windows([Window(k, list(p.ids), 0, len(p), 0, tuple(p.text_mask.tolist()))
                         for k, p in enumerate(prompts)], pad, side="left")  # fmt: skip
    if before is not None:
        before(batch)
    device = subject.input_device
    with torch.no_grad(), applied(subject, edits):
        out = subject.model.generate(
            input_ids=batch.ids_BT.to(device),
            attention_mask=batch.mask_BT.to(device),
            max_new_tokens=max_new_tokens,
            do_sample=options.pop("do_sample", False),
            pad_token_id=pad,
            **options,
        )
    return out[:, batch.ids_BT.shape[1] :]


def _name(key: str | nn.Module) -> str:
    return key if isinstance(key, str) else f"module@{id(key)}"


def _module(subject, key: str | nn.Module) -> nn.Module:
    return subject.resolve(key).module if isinstance(key, str) else key
