"""incision's results for one vLLM request, from the record the engine kept (engine_monitor.Record): the
prompt's reading (as `Monitor.score` gives it) and one event per generated token (as `Monitor.stream` yields
them: redactions applied, a block's message in place of the rest).

vLLM runs a token through the model only when it samples the next one, so the caller asks for one token
more than it returns (llm.py) and every returned token has been scored. A request that ends on EOS returns
the EOS as its last token, never run: its event has no scores.
"""

from __future__ import annotations

import torch

from ..core.tokens import Encoding
from ..monitor.heads import positive_score, probabilities
from ..monitor.monitor import ProbeReading, TextReading
from ..monitor.policies import Policy
from ..monitor.stream import StreamEvent, redaction, token_text


def reading_of(enc: Encoding, record: dict, probes: dict) -> TextReading:
    """The prompt's reading: its text tokens' scores and each probe's pooled score."""
    kept = [i for i, carries in enumerate(enc.text_mask) if carries]
    logits = record["logits"]
    readings = {}
    for name, probe in probes.items():
        logits_TC = torch.tensor([logits[str(i)][name] for i in kept])
        token_proba = probabilities(logits_TC)
        if probe.pooling is None:
            pooled = token_proba[positive_score(token_proba).argmax()]
        elif probe.pooling == "mean":
            pooled = probabilities(logits_TC.mean(0, keepdim=True))[0]
        else:  # "last"
            pooled = token_proba[-1]
        readings[name] = ProbeReading(probe.label_names, token_proba, pooled)
    return TextReading(
        [enc.ids[i] for i in kept], [enc.starts[i] for i in kept], [enc.ends[i] for i in kept], readings
    )


def events_of(
    output,
    record: dict,
    policies: dict[str, Policy],
    probes: dict,
    tokenizer,
    max_tokens: int,
    stops: set[int],
) -> list[StreamEvent]:
    """One StreamEvent per generated token the caller asked for (the extra one is dropped)."""
    prompt = record.get("prompt") or {}
    blocked = next((probe for probe, action in prompt.get("actions", []) if action == "block"), None)
    if blocked is not None:
        return [
            StreamEvent(policies[blocked].message, None, prompt["scores"], [(blocked, "block")], "blocked")
        ]
    start = len(output.prompt_token_ids)
    by_position = {t["position"]: t for t in record["tokens"]}
    events, generated = [], []
    for k, token in enumerate(list(output.outputs[0].token_ids)[:max_tokens]):
        generated.append(token)
        step = by_position.get(start + k, {"scores": {}, "actions": []})
        actions = [tuple(a) for a in step["actions"]]
        if blocked := next((probe for probe, action in actions if action == "block"), None):
            events.append(StreamEvent(policies[blocked].message, None, step["scores"], actions, "blocked"))
            return events
        text = token_text(tokenizer, generated)
        if redact := next((probe for probe, action in actions if action == "redact"), None):
            logits_C = torch.tensor(record["logits"][str(start + k)][redact])
            text = redaction(text, probes[redact], logits_C)
        finish = "stop" if token in stops else ("length" if k == max_tokens - 1 else None)
        events.append(StreamEvent(text, token, step["scores"], actions, finish))
        if finish:
            return events
    if events:  # ended otherwise (a stop string, an abort): vLLM's reason
        events[-1].finish_reason = output.outputs[0].finish_reason or "stop"
    return events
