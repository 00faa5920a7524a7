"""Greedy generation through a Monitor, one event per token with every probe's score and the actions its
policy took. The KV cache carries the model; the monitor's hooks read each new position as it is made.

Scores: a token-level probe scores the new token; a pooled probe's score is pooled over every text
token so far (prompt and reply), kept as a running sum of token logits for mean pooling (the probe is
affine) or the newest token's for last pooling. Policies act on those scores (policies.py): `block`
checks the prompt before the first token too. A `steer` policy's edit is entered around each pass that
follows a firing score and left before the event is yielded, so between events the model carries no
hook at all (a server interleaves other requests' passes there).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import torch

from ..core.edits import applied
from ..errors import ConfigError, InputError
from .heads import probabilities
from .monitor import text_tokens
from .policies import Policy, PolicyRun, check_policies
from .running import STREAMABLE, RunningScores


@dataclass
class StreamEvent:
    """One step: the text it adds (a redaction, or the block message, in place of the token's own text),
    the token, every probe's score, the actions taken, and why generation ended (on the last event)."""

    text: str
    token_id: int | None
    scores: dict[str, float]
    actions: list[tuple[str, str]] = field(default_factory=list)  # (probe, action)
    finish_reason: str | None = None  # "stop" (EOS), "length" or "blocked"


def stream(
    monitor, prompt: str, max_new_tokens: int = 64, policies: dict[str, Policy] | None = None
) -> Iterator[StreamEvent]:
    """Generate greedily from `prompt` (already in the chat template, if any), yielding a StreamEvent per
    token (its actions: "steer" when an edit shaped it). No hook stays on the model between events."""
    for name, probe in monitor.probes.items():
        if probe.pooling not in STREAMABLE:
            raise ConfigError(
                f"probe {name!r} pools by {probe.pooling!r}; streaming scores token-level, mean and last probes"
            )
    token_level = {n for n, p in monitor.probes.items() if p.pooling is None}
    policies = check_policies(policies or {}, monitor.probes, token_level)
    subject = monitor.subject
    enc = _prompt(monitor, prompt)
    ids = torch.tensor([enc.ids])
    keep = text_tokens(enc)
    stops = eos_ids(subject)
    running, run = RunningScores(monitor.probes), PolicyRun(policies, token_level)
    result = monitor.forward(ids, torch.ones_like(ids), keep[None], use_cache=True, logits_to_keep=1)
    running.add(
        {name: _cpu(logits[0][keep.to(logits.device)]) for name, logits in result.token_logits.items()}
    )
    scores = running.scores(_newest(result))
    if blocked := run.prompt(scores):
        yield StreamEvent(policies[blocked].message, None, scores, [(blocked, "block")], "blocked")
        return
    generated: list[int] = []
    for step in range(max_new_tokens):
        next_id = int(result.output.logits[0, -1].argmax())
        generated.append(next_id)
        cache, length = result.output.past_key_values, ids.shape[1] + len(generated)
        with applied(subject, run.edits()):
            result = monitor.forward(
                torch.tensor([[next_id]]), torch.ones(1, length, dtype=torch.long), torch.ones(1, 1, dtype=torch.bool),
                past_key_values=cache, use_cache=True, logits_to_keep=1,
            )  # fmt: skip
        running.add({name: _cpu(logits[0]) for name, logits in result.token_logits.items()})
        scores = running.scores(_newest(result))
        decided = run.token(scores)
        if decided.blocked:
            yield StreamEvent(policies[decided.blocked].message, None, scores, decided.actions, "blocked")
            return
        text = token_text(subject.tokenizer, generated)
        if decided.redact is not None:
            text = redaction(text, monitor.probes[decided.redact], result.token_logits[decided.redact][0, -1])
        finish = "stop" if next_id in stops else ("length" if step == max_new_tokens - 1 else None)
        yield StreamEvent(text, next_id, scores, decided.actions, finish)
        if finish:
            return


def _newest(result) -> dict:
    """Each probe's logits [C] of the pass's last token."""
    return {name: _cpu(logits[0, -1]) for name, logits in result.token_logits.items()}


def _cpu(logits: torch.Tensor):
    return logits.float().cpu().numpy()


def _prompt(monitor, prompt: str):
    """The prompt's encoding; a generation cannot be split into windows, so it must fit the context."""
    enc, context = monitor.encode(prompt), monitor.subject.context_length
    if len(enc) > context:
        raise InputError(
            f"the prompt has {len(enc)} tokens, more than the model's context of {context}; shorten it"
        )
    return enc


def token_text(tokenizer, generated: list[int], window: int = 8) -> str:
    """The text the newest token adds: the last few tokens decoded with it, minus without it. A window
    keeps each step's cost flat (the whole reply would be quadratic) and spans any character's bytes;
    the whole reply is decoded only when the window's decodings do not extend each other."""
    tail = generated[-window:]
    before = tokenizer.decode(tail[:-1], skip_special_tokens=True)
    after = tokenizer.decode(tail, skip_special_tokens=True)
    if not after.startswith(before):
        before = tokenizer.decode(generated[:-1], skip_special_tokens=True)
        after = tokenizer.decode(generated, skip_special_tokens=True)
    return after[len(before) :]


def redaction(piece: str, probe, logits_C: torch.Tensor) -> str:
    """`piece` with its text replaced by the probe's most likely positive label, e.g. "[PHONE]" (leading
    spaces stay)."""
    proba = probabilities(logits_C[None].float().cpu())[0]
    label = probe.label_names[1 + int(proba[1:].argmax())] if len(proba) > 2 else probe.label_names[1]
    stripped = piece.lstrip()
    return f"{piece[: len(piece) - len(stripped)]}[{label}]"


def eos_ids(subject) -> set[int]:
    """The tokens that end a generation: the generation config's, else the tokenizer's EOS."""
    eos = subject.model.generation_config.eos_token_id
    if eos is None:
        eos = subject.tokenizer.eos_token_id
    return set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
