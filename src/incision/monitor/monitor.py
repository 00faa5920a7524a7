"""Monitor: a model with probes attached to its own forward pass. One pass returns the model's outputs and
every probe's scores, per token and pooled; each probe reads its site's output where the model left it
(one small product per token, heads.py), so nothing is copied out of the forward pass.

Edits (context-manager factories, e.g. `lambda: ablate(subject, v)`) are entered around every pass, so
probes read the edited model. Scores cover the tokens that carry text, as offline probes do (BOS and
other added specials are left out), so a Monitor's score of a text equals `probe.score` of it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from ..errors import InputError
from ..hooks import add_output_hooks, add_stop_hook, run_until_stop
from ..probes.linear import LinearProbe
from ..probes.live import check_compatible
from ..tokens import Encoding, clean_text, encode
from .heads import ProbeHead, probabilities
from .policies import check_policies

Edit = Callable[[], contextlib.AbstractContextManager]


@dataclass
class ProbeReading:
    """One probe on one text: class probabilities per scored token [T, C] and pooled [C]. A pooled probe's
    pooled score is its sequence score; a token-level probe's is its highest-scoring token."""

    labels: list[str]
    token_proba_TC: torch.Tensor
    proba_C: torch.Tensor

    @property
    def token_scores(self) -> list[float]:
        """Per token: the positive class's probability (binary) or 1 - P(first class)."""
        return _score(self.token_proba_TC).tolist()

    @property
    def score(self) -> float:
        return float(_score(self.proba_C[None])[0])


@dataclass
class TextReading:
    """Every probe's reading of one text, with the scored tokens' ids and character spans."""

    token_ids: list[int]
    starts: list[int]
    ends: list[int]
    probes: dict[str, ProbeReading]


@dataclass
class MonitorPass:
    """One forward pass: the model's output and, per probe, token logits [B, T, C] and pooled [B, C]."""

    output: object
    token_logits: dict[str, torch.Tensor]
    pooled_logits: dict[str, torch.Tensor]


class Monitor:
    """`Monitor(subject, probes={"harmful": probe, ...}, edits=[...], policies={"harmful": Policy("block")})`;
    `score(texts)`, `forward(...)` or `stream(prompt)`."""

    def __init__(
        self,
        subject,
        probes: dict[str, LinearProbe],
        edits: list[Edit] | tuple = (),
        policies: dict | None = None,
    ):
        if not probes:
            raise InputError("a Monitor needs at least one probe, e.g. probes={'harmful': probe}")
        self.subject, self.probes, self.edits = subject, dict(probes), list(edits)
        token_level = {name for name, p in self.probes.items() if p.pooling is None}
        self.policies = check_policies(policies or {}, self.probes, token_level)
        self.heads_by_site: dict[str, list[ProbeHead]] = {}
        for name, probe in self.probes.items():
            site = subject.resolve(check_compatible(probe, subject)).name
            head = ProbeHead.of(name, probe, subject.input_device)
            self.heads_by_site.setdefault(site, []).append(head)
        deepest = max((subject.resolve(site) for site in self.heads_by_site), key=lambda s: s.layer)
        # scoring alone ends the pass after the deepest block a probe reads, as offline probes do
        self.last_module = subject.site_map.blocks[deepest.layer] if deepest.layer >= 0 else deepest.module

    @torch.inference_mode()
    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        keep_BT=None,
        scores_only=False,
        **model_kwargs,
    ):
        """Run the model once with every probe attached; `keep_BT` marks the tokens pooled scores cover
        (default: the attention mask). Extra arguments go to the model (e.g. `logits_to_keep`). With
        `scores_only` the pass ends after the deepest probe's block, and the output is None."""
        keep = (attention_mask if keep_BT is None else keep_BT).bool()
        token_logits, pooled_logits = {}, {}

        def read(site: str, acts_BTD: torch.Tensor) -> None:
            for head in self.heads_by_site[site]:
                logits = head.token_logits(acts_BTD)
                token_logits[head.name] = logits
                if head.probe.pooling is not None:
                    pooled_logits[head.name] = head.pooled_logits(acts_BTD, logits, keep)

        modules = {site: self.subject.resolve(site).module for site in self.heads_by_site}
        inputs = dict(input_ids=input_ids, attention_mask=attention_mask)
        inputs = {k: v.to(self.subject.input_device) for k, v in inputs.items()} | model_kwargs
        with self._edited(), add_output_hooks(modules, read):
            if not scores_only:
                return MonitorPass(self.subject.model(**inputs), token_logits, pooled_logits)
            with add_stop_hook(self.last_module):
                run_until_stop(self.subject.model, **inputs)
        return MonitorPass(None, token_logits, pooled_logits)

    def score(self, texts: list[str], **model_kwargs) -> list[TextReading]:
        """Every probe's reading of each text, from one batched forward pass."""
        return self.read([self.encode(text, k) for k, text in enumerate(texts)], **model_kwargs)

    def read(self, encodings: list[Encoding], **model_kwargs) -> list[TextReading]:
        """`score` of texts already checked and tokenised by `encode` (a server checks each request's
        texts before they join a batch)."""
        ids, mask, keep = self._batch(encodings)
        if hasattr(self.subject.model.config, "use_cache"):
            model_kwargs.setdefault("use_cache", False)  # nothing is generated: a cache would only cost
        result = self.forward(ids, mask, keep, scores_only=True, **model_kwargs)
        readings = []
        for b, enc in enumerate(encodings):
            rows = keep[b].nonzero()[:, 0]
            probes = {}
            for name, probe in self.probes.items():
                token_proba = probabilities(result.token_logits[name][b, rows].cpu())
                if probe.pooling is None:
                    pooled = token_proba[_score(token_proba).argmax()]
                else:
                    pooled = probabilities(result.pooled_logits[name][b : b + 1].cpu())[0]
                probes[name] = ProbeReading(probe.label_names, token_proba, pooled)
            kept = rows.tolist()
            readings.append(
                TextReading(
                    [enc.ids[i] for i in kept],
                    [enc.starts[i] for i in kept],
                    [enc.ends[i] for i in kept],
                    probes,
                )
            )
        return readings

    def stream(self, prompt: str, max_new_tokens: int = 64):
        """Greedy generation from `prompt`, one StreamEvent per token with scores and policy actions."""
        from .stream import stream

        return stream(self, prompt, max_new_tokens, self.policies)

    def encode(self, text, k: int = 0) -> Encoding:
        """`text` (the k-th of a request) tokenised with offsets; a clear error when it cannot be scored."""
        if not isinstance(text, str):
            raise InputError(f"text {k} is a {type(text).__name__}, not a string")
        if not text.strip():
            raise InputError(
                f"text {k} is empty or whitespace only ({len(text)} characters); there is nothing to score"
            )
        enc = encode(self.subject.tokenizer, clean_text(text))  # offsets stay: one character for one
        if len(enc) > self.subject.context_length:
            raise InputError(
                f"text {k} has {len(enc)} tokens, more than the model's context of "
                f"{self.subject.context_length}; split it before scoring"
            )
        return enc

    def _batch(self, encodings: list[Encoding]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Right-padded ids, attention mask, and the tokens that carry text (`text_tokens`)."""
        if not encodings:
            raise InputError("no texts given; score at least one text")
        length = max(len(e) for e in encodings)
        pad = self.subject.tokenizer.pad_token_id
        ids = torch.full((len(encodings), length), pad if pad is not None else 0, dtype=torch.long)
        mask = torch.zeros_like(ids)
        keep = torch.zeros_like(ids, dtype=torch.bool)
        for b, enc in enumerate(encodings):
            ids[b, : len(enc)] = torch.tensor(enc.ids)
            mask[b, : len(enc)] = 1
            keep[b, : len(enc)] = text_tokens(enc)
        return ids, mask, keep

    @contextlib.contextmanager
    def _edited(self) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            for edit in self.edits:
                stack.enter_context(edit())
            yield


def text_tokens(enc: Encoding) -> torch.Tensor:
    """[T] bool: the tokens that carry text (all of them when none does), as offline scoring keeps."""
    covers = torch.tensor(enc.ends) > torch.tensor(enc.starts)
    return covers if covers.any() else torch.ones_like(covers)


def _score(proba_NC: torch.Tensor) -> torch.Tensor:
    return proba_NC[:, 1] if proba_NC.shape[1] == 2 else 1 - proba_NC[:, 0]
