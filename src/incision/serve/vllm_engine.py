"""`incision serve --backend vllm`: the same service over vLLM's engine (continuous batching, paged KV cache,
tensor parallelism), its monitor inside vLLM's forward pass (`incision.vllm`).

One thread steps the engine, as one thread runs every pass on the Hugging Face backend: requests arrive
through a queue, each step's outputs and the monitor's records of them (one `incision_take` per step, for
the requests that moved) go back to the event loop, where each chat stream receives its events and each
score or scrub its readings. A request whose client is gone is aborted in the engine and its record
dropped. vLLM's own OpenAI server is not used: its responses have no place for per-token scores and actions,
and its front end reaches the worker's records only through a round trip per token.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import queue
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from ..errors import ConfigError
from ..monitor import StreamEvent, TextReading
from ..pii.decode import decode_spans
from ..pii.records import Span
from .config import ServeConfig
from .engine import ChatPrompt, EngineBase
from .logs import where

log = logging.getLogger("incision.serve")


@dataclass
class _Request:
    """One request in the engine: what turns its outputs into results, and where they go."""

    prepared: object  # incision.vllm.llm.Prepared
    loop: asyncio.AbstractEventLoop
    events: asyncio.Queue | None = None  # a chat's events, then None (or an exception) at the end
    done: asyncio.Future | None = None  # a prompt-only request's MonitoredOutput
    record: dict = field(default_factory=lambda: {"prompt": None, "tokens": [], "logits": {}})

    def merge(self, update: dict) -> None:
        """Add what the engine's record gained since the last take."""
        self.record["prompt"] = update["prompt"]
        self.record["tokens"] += update["tokens"]
        self.record["logits"].update(update["logits"])
        self.record["blocked"], self.record["error"] = update["blocked"], update["error"]


class VllmEngine(EngineBase):
    """The vLLM backend of the service (same routes, limits and `incision` field as the default)."""

    def __init__(self, config: ServeConfig, on_batch=None):
        from ..pii import Detector
        from ..vllm.llm import MonitoredLLM

        self.config, self.on_batch = config, on_batch
        probes: dict = dict(config.probes)
        self.detector = Detector.load(config.detector) if config.detector else None
        if self.detector is not None:
            probes["pii"] = self.detector.probe
        options = {"tensor_parallel_size": config.tensor_parallel_size, **config.vllm}
        options |= {k: v for k, v in (("max_model_len", config.max_model_len), ("dtype", config.dtype)) if v}
        self.monitor = MonitoredLLM(
            config.model, probes, config.policies, config.edits, config.named_edits, **options
        )
        self.subject, self.engine = self.monitor.subject, self.monitor.llm.llm_engine
        self.context_length = self.monitor.context_length
        self.thresholds = {n: getattr(self.monitor.policies.get(n), "threshold", 0.5) for n in probes}
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.requests: dict[str, _Request] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True, name="incision-vllm")

    def start(self) -> None:
        self.thread.start()

    async def stop(self) -> None:
        self.stopping.set()
        self.inbox.put(None)
        await asyncio.to_thread(self.thread.join)

    def warm_up(self) -> None:
        self.monitor.score(["warm up"])

    def control(self, data: dict | None):
        """A request's `incision` field as a RequestControl (None: the engine's defaults)."""
        from ..vllm import RequestControl

        return None if data is None else RequestControl.from_request(data, self.monitor.spec)

    # -- requests ---------------------------------------------------------------------------------
    async def score(self, texts: list[str], control=None) -> list[TextReading]:
        outputs = await self._prompt_only(texts, control)
        return [o.prompt for o in outputs]

    async def find_spans(self, texts: list[str]) -> list[list[Span]]:
        from ..vllm import RequestControl

        if self.detector is None:
            raise ConfigError("this server has no PII detector; start it with --detector FOLDER to scrub")
        texts = [self.detector_text(t) for t in texts]
        nonempty = [k for k, t in enumerate(texts) if t.strip()]
        found: list[list[Span]] = [[] for _ in texts]
        if not nonempty:
            return found
        readings = await self.score([texts[k] for k in nonempty], RequestControl(probes=["pii"], policies={}))
        probe = self.detector.probe
        for k, reading in zip(nonempty, readings, strict=True):
            proba = reading.probes["pii"].token_proba_TC.double().numpy()
            found[k] = decode_spans(
                texts[k], reading.starts, reading.ends, proba, probe.label_names,
                self.detector.threshold, self.detector.seed_threshold,
            )  # fmt: skip
        return found

    async def chat(self, prompt: ChatPrompt, max_new_tokens: int, control=None) -> AsyncIterator[StreamEvent]:
        from vllm import SamplingParams

        params = SamplingParams(max_tokens=max_new_tokens, temperature=0.0)
        prepared = await asyncio.to_thread(self.monitor.prepare, prompt.text, params, control)
        request = _Request(prepared, asyncio.get_running_loop(), events=asyncio.Queue())
        self.inbox.put(("add", request))
        finished = False
        try:
            while (event := await request.events.get()) is not None:
                if isinstance(event, Exception):
                    raise event
                yield event
            finished = True
        finally:
            if not finished:  # the client left or timed out: free the engine's work and state
                self.inbox.put(("abort", prepared.control.id))

    async def _prompt_only(self, texts: list[str], control):
        def prepare_all():
            self._encode_all(texts)  # the service's limits: context and tokens per request
            return [self.monitor.prepare(t, None, _copy(control), k) for k, t in enumerate(texts)]

        loop = asyncio.get_running_loop()
        requests = [
            _Request(p, loop, done=loop.create_future()) for p in await asyncio.to_thread(prepare_all)
        ]
        for request in requests:
            self.inbox.put(("add", request))
        try:
            return await asyncio.gather(*(r.done for r in requests))
        finally:
            for request in requests:
                if not request.done.done():
                    self.inbox.put(("abort", request.prepared.control.id))

    # -- the engine thread ------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self.stopping.is_set():
            idle = not self.engine.has_unfinished_requests()
            try:
                self._read_inbox(block=idle)
                if self.engine.has_unfinished_requests():
                    self._step()
            except Exception as e:  # a failing step fails its requests, not the service
                log.error("engine step failed: %s", where(e))
                for key in list(self.requests):
                    self._fail(key, RuntimeError(f"the engine failed ({type(e).__name__})"))

    def _read_inbox(self, block: bool) -> None:
        while True:
            try:
                command = self.inbox.get(timeout=0.5) if block else self.inbox.get_nowait()
            except queue.Empty:
                return
            block = False
            if command is None:
                return
            kind, payload = command
            if kind == "add":
                key = payload.prepared.control.id
                self.requests[key] = payload
                ids = {"prompt_token_ids": list(payload.prepared.encoding.ids)}
                try:
                    self.engine.add_request(key, ids, payload.prepared.params)
                except Exception as e:  # vLLM refused this request: it fails alone
                    log.error("vLLM refused a request: %s", where(e))
                    self._fail(key, RuntimeError(f"the engine refused the request ({type(e).__name__})"))
            elif payload in self.requests:  # abort
                self.requests.pop(payload)
                self.engine.abort_request([payload])
                self.monitor.take([payload])  # drops the record

    def _step(self) -> None:
        outputs = [o for o in self.engine.step() if o.request_id in self.requests]
        if self.on_batch is not None and outputs:
            self.on_batch(len(outputs))
        since = {o.request_id: len(self.requests[o.request_id].record["tokens"]) for o in outputs}
        updates = self.monitor.take(list(since), since)
        for output in outputs:
            key = output.request_id
            request = self.requests[key]
            update = updates.get(key)
            if update is None or update.get("error"):
                self._fail(key, RuntimeError((update or {}).get("error") or "the request was not monitored"))
                continue
            request.merge(update)
            if request.done is not None:
                if output.finished:
                    self.requests.pop(key)
                    result = request.prepared.result(output, request.record)
                    request.loop.call_soon_threadsafe(_settle, request.done, result)
                continue
            completion = output.outputs[0]
            builder = request.prepared.builder
            events = builder.feed(
                len(output.prompt_token_ids), completion.token_ids, request.record, output.finished,
                completion.finish_reason,
            )  # fmt: skip
            for event in events:
                request.loop.call_soon_threadsafe(request.events.put_nowait, event)
            if builder.done or output.finished:
                self.requests.pop(key)
                request.loop.call_soon_threadsafe(request.events.put_nowait, None)
                if not output.finished:  # incision ended it first (the extra token, or a block)
                    self.engine.abort_request([key])

    def _fail(self, key: str, error: Exception) -> None:
        request = self.requests.pop(key, None)
        if request is None:
            return
        self.engine.abort_request([key])
        self.monitor.take([key])  # drops its record
        if request.events is not None:
            request.loop.call_soon_threadsafe(request.events.put_nowait, error)
        else:
            request.loop.call_soon_threadsafe(_settle, request.done, error)


def _settle(future: asyncio.Future, result) -> None:
    if future.done():
        return
    if isinstance(result, Exception):
        future.set_exception(result)
    else:
        future.set_result(result)


def _copy(control):
    """A fresh control per text (each request needs its own id)."""
    return None if control is None else dataclasses.replace(control, id=uuid.uuid4().hex)
