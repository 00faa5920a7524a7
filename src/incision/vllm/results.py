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


class EventBuilder:
    """One request's StreamEvents, built as its tokens and record grow (a server streams them; `events_of`
    builds them at once). A token becomes an event once the engine has scored it, or when the request ends."""

    def __init__(
        self, policies: dict[str, Policy], probes: dict, tokenizer, max_tokens: int, stops: set[int]
    ):
        self.policies, self.probes, self.tokenizer = policies, probes, tokenizer
        self.max_tokens, self.stops = max_tokens, stops
        self.generated: list[int] = []
        self.done = False

    def feed(self, prompt_len: int, token_ids, record: dict, finished: bool, reason: str | None = None):
        """The new events: for the tokens of `token_ids` (all generated so far) that `record` has scored, or
        for all of them when the request has `finished` (vLLM's finish `reason` ends the last event when
        none of incision's does)."""
        if self.done:
            return []
        prompt = record.get("prompt") or {}
        blocked = next((probe for probe, action in prompt.get("actions", []) if action == "block"), None)
        if blocked is not None:
            self.done = True
            policy = self.policies[blocked]
            return [StreamEvent(policy.message, None, prompt["scores"], [(blocked, "block")], "blocked")]
        by_position = {t["position"]: t for t in record["tokens"]}
        ready = (
            len(token_ids) if finished else sum(prompt_len + k in by_position for k in range(len(token_ids)))
        )
        events = []
        for token in list(token_ids)[len(self.generated) : min(ready, self.max_tokens)]:
            k = len(self.generated)
            self.generated.append(token)
            step = by_position.get(prompt_len + k, {"scores": {}, "actions": []})
            actions = [tuple(a) for a in step["actions"]]
            if blocked := next((probe for probe, action in actions if action == "block"), None):
                self.done = True
                events.append(
                    StreamEvent(self.policies[blocked].message, None, step["scores"], actions, "blocked")
                )
                return events
            text = token_text(self.tokenizer, self.generated)
            if redact := next((probe for probe, action in actions if action == "redact"), None):
                logits_C = torch.tensor(record["logits"][str(prompt_len + k)][redact])
                text = redaction(text, self.probes[redact], logits_C)
            finish = "stop" if token in self.stops else ("length" if k == self.max_tokens - 1 else None)
            events.append(StreamEvent(text, token, step["scores"], actions, finish))
            if finish:
                self.done = True
                return events
        if finished and events:  # ended otherwise (a stop string, an abort): vLLM's reason
            events[-1].finish_reason = reason or "stop"
            self.done = True
        return events


def events_of(output, record: dict, builder: EventBuilder) -> list[StreamEvent]:
    """Every event of a finished vLLM request."""
    completion = output.outputs[0]
    return builder.feed(
        len(output.prompt_token_ids), completion.token_ids, record, True, completion.finish_reason
    )
