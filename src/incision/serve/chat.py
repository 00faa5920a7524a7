"""OpenAI chat completion responses, whole or as server-sent events, with an `incision` field: per token
the probes' scores and the actions their policies took.

A reply that a `block` policy stopped ends with finish_reason "content_filter", as OpenAI reports
filtered content, and its text is the policy's message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator

from ..monitor import StreamEvent
from .logs import where

log = logging.getLogger("incision.serve")

FINISH = {"stop": "stop", "length": "length", "blocked": "content_filter"}


def chat_completion(service, prompt, events: list[StreamEvent]) -> dict:
    _count(service, events)
    completion_tokens = sum(e.token_id is not None for e in events)
    return {
        "id": _id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": service.config.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(e.text for e in events)},
                "finish_reason": FINISH[events[-1].finish_reason],
            }
        ],
        "usage": _usage(prompt.tokens, completion_tokens),
        "incision": {
            "tokens": [_token(e) for e in events],
            "actions": sorted({f"{probe}:{action}" for e in events for probe, action in e.actions}),
            "max_scores": _max_scores(events),
        },
    }


async def chat_stream(
    service, engine, prompt, new_tokens: int, include_usage: bool, timeout: float, control=None
) -> AsyncIterator[str]:
    """SSE lines: a role chunk, a chunk per token, a finishing chunk, usage if asked, then [DONE]."""
    base = {
        "id": _id(),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": service.config.model,
    }

    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        body = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    events: list[StreamEvent] = []
    try:
        async with asyncio.timeout(timeout):
            async for event in engine.chat(prompt, new_tokens, control):
                events.append(event)
                yield chunk({"content": event.text}, incision=_token(event))
    except Exception as e:  # the response has started: the error goes in the stream
        if isinstance(e, TimeoutError):
            error = {
                "message": "the request took longer than this server's time limit",
                "type": "timeout",
                "code": 504,
            }
        else:
            log.error("internal error while streaming: %s", where(e))
            error = {"message": f"internal error ({type(e).__name__})", "type": "internal_error", "code": 500}
        yield f"data: {json.dumps({'error': error})}\n\n"
        yield "data: [DONE]\n\n"
        return
    finally:
        _count(service, events)
    yield chunk({}, FINISH[events[-1].finish_reason])
    if include_usage:
        completion_tokens = sum(e.token_id is not None for e in events)
        body = {**base, "choices": [], "usage": _usage(prompt.tokens, completion_tokens)}
        yield f"data: {json.dumps(body)}\n\n"
    yield "data: [DONE]\n\n"


def _token(event: StreamEvent) -> dict:
    return {
        "token_id": event.token_id,
        "scores": {n: round(s, 6) for n, s in event.scores.items()},
        "actions": [f"{probe}:{action}" for probe, action in event.actions],
    }


def _count(service, events: list[StreamEvent]) -> None:
    generated = sum(e.token_id is not None for e in events)
    service.metrics.tokens.labels("/v1/chat/completions", "output").inc(generated)
    for event in events:
        for probe, action in event.actions:
            service.metrics.firings.labels(probe, action).inc()


def _max_scores(events: list[StreamEvent]) -> dict[str, float]:
    """Each probe's highest score over the reply (an event the engine did not score, such as vLLM's final
    EOS, has none)."""
    names = sorted({name for e in events for name in e.scores})
    return {n: max(e.scores[n] for e in events if n in e.scores) for n in names}


def _usage(prompt_tokens: int, completion_tokens: int) -> dict:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"
