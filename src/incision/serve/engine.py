"""The service's model side: one Monitor (probes, detector, policies, edits) and the thread that runs it.

Every model pass runs on one thread, so passes never contend for the CPU cores or the GPU and hooks
never overlap: scoring and scrubbing go through micro-batchers (batcher.py); a chat completion advances
one token per turn on the same thread, so concurrent chats and batches interleave token by token.
Requests are checked (types, emptiness, token limits) before they queue, on the event loop's side.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import torch

from ..core.edits import Edit, edit_from_config
from ..core.tokens import Encoding, clean_text, encode
from ..errors import ConfigError, InputError
from ..monitor import Monitor, StreamEvent, TextReading
from ..monitor.monitor import encode_scorable
from ..monitor.policies import policy_from_config
from ..pii.records import Span
from .batcher import MicroBatcher
from .config import ServeConfig


@dataclass
class ChatPrompt:
    text: str
    tokens: int


class EngineBase:
    """What the backends share: request checks (texts, chat template, token limits) and the text spans point
    into. A backend sets `config`, `subject` (for its tokenizer), `monitor` (its probes and policies),
    `thresholds`, `detector` and `context_length`, and provides start, stop, warm_up, score, find_spans and
    chat."""

    config: ServeConfig

    @property
    def model_name(self) -> str:
        return self.config.model

    def _encode_all(self, texts: list[str]) -> list[Encoding]:
        encodings = [encode_scorable(self.subject.tokenizer, t, k) for k, t in enumerate(texts)]
        context = self.context_length
        # the library scores longer texts in windows; the service keeps each request within one context
        for k, enc in enumerate(encodings):
            if len(enc) > context:
                raise InputError(
                    f"text {k} has {len(enc)} tokens, more than the model's context of {context}; split it"
                )
        self._check_tokens(sum(len(e) for e in encodings))
        return encodings

    @staticmethod
    def detector_text(text: str) -> str:
        """The text spans point into (lone surrogates replaced one for one, as the detector reads it)."""
        return clean_text(text)

    def chat_prompt(self, messages: list[dict]) -> ChatPrompt:
        """The conversation in the model's chat template, ending where the assistant speaks; a BOS the
        template writes is left to the tokenizer, which adds its own."""
        tokenizer = self.subject.tokenizer
        if not getattr(tokenizer, "chat_template", None):
            raise ConfigError(f"model {self.model_name!r} has no chat template; use /v1/score instead")
        try:
            text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        except Exception as e:  # jinja raises its own errors for roles the template refuses
            raise InputError(
                f"the model's chat template rejects these messages ({type(e).__name__})"
            ) from None
        bos = tokenizer.bos_token
        if bos and text.startswith(bos) and encode(tokenizer, "a").n_prefix:
            text = text[len(bos) :]
        tokens = len(encode_scorable(tokenizer, text))
        self._check_tokens(tokens)
        return ChatPrompt(text, tokens)

    def new_tokens(self, prompt: ChatPrompt, requested: int | None) -> int:
        """How many tokens to generate: as asked, within the server's limit and the model's context."""
        allowed = min(self.config.max_new_tokens, self.context_length - prompt.tokens)
        if requested is not None and requested > allowed:
            raise InputError(
                f"max_tokens {requested} is more than this server generates for this prompt ({allowed})"
            )
        return requested or allowed

    def control(self, data: dict | None):
        """A request's `incision` field (per-request probes, policies and edits): the vLLM backend's."""
        if data is not None:
            raise ConfigError(
                "per-request control (the 'incision' field) needs the vLLM backend (--backend vllm)"
            )
        return None

    def _check_tokens(self, tokens: int) -> None:
        if tokens > self.config.max_tokens:
            raise InputError(
                f"the request has {tokens} tokens, more than this server's limit of {self.config.max_tokens}"
            )


class Engine(EngineBase):
    """The Hugging Face backend, built from a ServeConfig (or given a loaded `subject`, for tests and
    notebooks)."""

    def __init__(self, config: ServeConfig, subject=None, on_batch=None):
        from .. import load
        from ..pii import Detector
        from ..probes import LinearProbe

        self.config = config
        self.subject = subject or load(config.model, dtype=config.dtype, device=config.device)
        probes = {n: LinearProbe.load(folder, subject=self.subject) for n, folder in config.probes.items()}
        self.detector = Detector.load(config.detector, subject=self.subject) if config.detector else None
        if self.detector is not None:
            probes["pii"] = self.detector.probe
        policies = {
            name: policy_from_config(name, spec, self._edit) for name, spec in config.policies.items()
        }
        edits = [self._edit(spec) for spec in config.edits]
        self.monitor = Monitor(self.subject, probes, edits, policies)
        self.thresholds = {n: getattr(policies.get(n), "threshold", 0.5) for n in probes}
        self.context_length = self.subject.context_length
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="incision-model")
        batching = dict(
            enabled=config.batching,
            window_s=config.batch_window_ms / 1000,
            max_weight=config.max_batch_tokens,
        )
        self.scorer = MicroBatcher(self.monitor.read, self.executor, **batching, on_batch=on_batch)
        self.finder = MicroBatcher(self._find_spans, self.executor, **batching, on_batch=on_batch)

    def start(self) -> None:
        self.scorer.start()
        self.finder.start()

    async def stop(self) -> None:
        await self.scorer.stop()
        await self.finder.stop()
        self.executor.shutdown(wait=True)

    def warm_up(self) -> None:
        """One tiny pass of each kind, so the first request does not pay for lazy initialisation."""
        self.monitor.score(["warm up"])
        if self.detector is not None:
            self.detector.find("warm up")

    # -- score ------------------------------------------------------------------------------------
    async def score(self, texts: list[str], control=None) -> list[TextReading]:
        encodings = await asyncio.to_thread(self._encode_all, texts)
        return await self.scorer.submit(encodings, sum(len(e) for e in encodings))

    # -- scrub ------------------------------------------------------------------------------------
    async def find_spans(self, texts: list[str]) -> list[list[Span]]:
        """PII spans of each text, pointing into `detector_text(text)`."""
        if self.detector is None:
            raise ConfigError("this server has no PII detector; start it with --detector FOLDER to scrub")
        texts = [self.detector_text(t) for t in texts]
        tokens = await asyncio.to_thread(self._count_tokens, texts)
        return await self.finder.submit(texts, tokens)

    def _count_tokens(self, texts: list[str]) -> int:
        tokenizer = self.subject.tokenizer
        tokens = sum(len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"])
        self._check_tokens(tokens)
        return max(tokens, 1)

    def _find_spans(self, texts: list[str]) -> list[list[Span]]:
        return self.detector.find_batch(texts)

    # -- chat -------------------------------------------------------------------------------------
    async def chat(self, prompt: ChatPrompt, max_new_tokens: int, control=None) -> AsyncIterator[StreamEvent]:
        """The monitor's stream, one token per turn on the model thread."""
        loop = asyncio.get_running_loop()
        events = self.monitor.stream(prompt.text, max_new_tokens)
        try:
            while (event := await loop.run_in_executor(self.executor, next, events, None)) is not None:
                yield event
        finally:  # a timeout or a client gone may leave a step running: close after it, on its thread
            self.executor.submit(events.close)

    def _edit(self, spec) -> Edit:
        """An edit from its config (`incision.core.edits`), its artifacts checked against the served model."""
        return edit_from_config(spec, self.subject)


def reading_json(reading: TextReading, thresholds: dict[str, float]) -> dict:
    """One text's scores as the API returns them."""
    probes = {}
    for name, r in reading.probes.items():
        probes[name] = {
            "labels": r.labels,
            "score": r.score,
            "proba": _rounded(r.proba_C),
            "fired": r.score >= thresholds[name],
            "token_scores": [round(x, 6) for x in r.token_scores],
        }
    return {"starts": reading.starts, "ends": reading.ends, "probes": probes}


def _rounded(t: torch.Tensor) -> list[float]:
    return [round(float(x), 6) for x in t]
