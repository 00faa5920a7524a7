"""Monitor: a model with probes attached to its own forward pass. One pass returns the model's outputs and
every probe's scores, per token and pooled; each probe reads its site's output where the model left it
(one small product per token, heads.py), so nothing is copied out of the forward pass.

Edits (`incision.core.edits`: `Steer`, `Ablate`, `Erase`, ...) are in effect during every pass, so probes read
the edited model. Scores cover the tokens that carry text, as offline probes do (BOS and
other added specials are left out), and texts longer than the window are split the way capture splits
them (`forward.py`), so a Monitor's score of a text equals `probe.score` of it.

How the model runs is one seam, the Monitor's `backend`: anything with `forward.run`'s signature (reads keyed
by site, edits, early stop). The default is `incision.core.forward` (Hugging Face hooks). Probes and policies only
see the [B, T, D] activations handed to a read, so another backend (vLLM) provides sites, hooks and edits
without touching them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Protocol

import torch

from ..core import forward as hf_forward
from ..core.edits import Edit, as_edit
from ..core.forward import batches, pad_id_of, windows_of, without_cache
from ..core.inputs import check_text
from ..core.tokens import Encoding, clean_text, encode
from ..errors import InputError
from ..probes.linear import LinearProbe
from ..probes.live import check_compatible
from .heads import ProbeHead, positive_score, probabilities
from .policies import check_policies


class Backend(Protocol):
    """How a Monitor's passes run (`forward.run` is the reference): one pass over `ids_BT`, each read called
    with its site's [B, T, D] output, the edits in effect, stopped after the deepest read with
    until="sites"; returns the model's output (None when stopped)."""

    def run(self, subject, ids_BT, mask_BT=None, reads=None, edits=(), until="logits", **model_kwargs): ...


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
        return positive_score(self.token_proba_TC).tolist()

    @property
    def score(self) -> float:
        return float(positive_score(self.proba_C[None])[0])


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
        window: int | None = None,
        batch_tokens: int | None = None,
        backend: Backend | None = None,
    ):
        if not probes:
            raise InputError("a Monitor needs at least one probe, e.g. probes={'harmful': probe}")
        self.subject, self.probes, self.edits = subject, dict(probes), [as_edit(e) for e in edits]
        token_level = {name for name, p in self.probes.items() if p.pooling is None}
        self.policies = check_policies(policies or {}, self.probes, token_level)
        self.heads_by_site: dict[str, list[ProbeHead]] = {}
        for name, probe in self.probes.items():
            site = subject.resolve(check_compatible(probe, subject)).name
            head = ProbeHead.of(name, probe, subject.input_device)
            self.heads_by_site.setdefault(site, []).append(head)
        # long texts are split as capture splits them; `batch_tokens` bounds one pass (None: one pass)
        self.window, self.batch_tokens = window or subject.default_window, batch_tokens
        self.pad_id = pad_id_of(subject.tokenizer)
        self.backend = backend if backend is not None else hf_forward

    @torch.inference_mode()
    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        keep_BT=None,
        scores_only=False,
        collect=None,
        **model_kwargs,
    ):
        """Run the model once with every probe attached; `keep_BT` marks the tokens pooled scores cover
        (default: the attention mask). Extra arguments go to the model (e.g. `logits_to_keep`). With
        `scores_only` the pass ends after the deepest probe's block, and the output is None. `collect(site,
        acts_BTD)` also sees every probed site's output."""
        keep = (attention_mask if keep_BT is None else keep_BT).bool()
        token_logits, pooled_logits = {}, {}

        def read(site: str, acts_BTD: torch.Tensor) -> None:
            for head in self.heads_by_site[site]:
                logits = head.token_logits(acts_BTD)
                token_logits[head.name] = logits
                if head.probe.pooling is not None:
                    pooled_logits[head.name] = head.pooled_logits(acts_BTD, logits, keep)
            if collect is not None:
                collect(site, acts_BTD)

        reads = {site: functools.partial(read, site) for site in self.heads_by_site}
        until = "sites" if scores_only else "logits"
        output = self.backend.run(
            self.subject, input_ids, attention_mask, reads, self.edits, until, **model_kwargs
        )
        return MonitorPass(output, token_logits, pooled_logits)

    def score(self, texts: list[str], **model_kwargs) -> list[TextReading]:
        """Every probe's reading of each text, from one batched forward pass."""
        return self.read([self.encode(text, k) for k, text in enumerate(texts)], **model_kwargs)

    def read(self, encodings: list[Encoding], **model_kwargs) -> list[TextReading]:
        """`score` of texts already checked and tokenised by `encode` (a server checks each request's
        texts before they join a batch)."""
        if not encodings:
            raise InputError("no texts given; score at least one text")
        model_kwargs = without_cache(self.subject) | model_kwargs
        texts = [_TextParts() for _ in encodings]
        windows = windows_of(encodings, self.window)
        for batch in batches(windows, self.pad_id, self.batch_tokens, by_length=False):
            keep_BT = batch.kept_BT & batch.text_BT
            long_rows = [b for b, w in enumerate(batch.windows) if texts[w.doc].is_long(w, encodings[w.doc])]

            def collect(site, acts_BTD, keep_BT=keep_BT, batch=batch, long_rows=long_rows):
                for b in long_rows:
                    texts[batch.windows[b].doc].acts.setdefault(site, []).append(
                        acts_BTD[b, keep_BT[b].to(acts_BTD.device)].float()
                    )

            result = self.forward(batch.ids_BT, batch.mask_BT, keep_BT, True, collect, **model_kwargs)
            for b, w in enumerate(batch.windows):
                texts[w.doc].add(w, keep_BT[b], result, b)
        return [self._reading(enc, parts) for enc, parts in zip(encodings, texts, strict=True)]

    def _reading(self, enc: Encoding, parts: _TextParts) -> TextReading:
        """One text's reading from its windows (in document order): token scores stitched, pooled scores
        from the one window, or pooled afresh over every window's tokens."""
        positions = torch.cat(parts.positions).tolist()
        probes = {}
        for name, probe in self.probes.items():
            logits_TC = torch.cat([logits[name] for logits in parts.token_logits])
            token_proba = probabilities(logits_TC.cpu())
            if probe.pooling is None:
                pooled = token_proba[positive_score(token_proba).argmax()]
            elif len(parts.pooled) == 1:
                pooled = probabilities(parts.pooled[0][name][None].cpu())[0]
            else:
                head = self._head(name)
                acts_TD = torch.cat(parts.acts[head_site(self, name)]) if probe.pooling != "mean" else None
                all_1T = torch.ones(1, len(logits_TC), dtype=torch.bool)
                pooled_logits = head.pooled_logits(
                    acts_TD[None] if acts_TD is not None else None, logits_TC[None], all_1T
                )
                pooled = probabilities(pooled_logits.cpu())[0]
            probes[name] = ProbeReading(probe.label_names, token_proba, pooled)
        return TextReading(
            [enc.ids[i] for i in positions],
            [enc.starts[i] for i in positions],
            [enc.ends[i] for i in positions],
            probes,
        )

    def stream(self, prompt: str, max_new_tokens: int = 64):
        """Greedy generation from `prompt`, one StreamEvent per token with scores and policy actions."""
        from .stream import stream

        return stream(self, prompt, max_new_tokens, self.policies)

    def encode(self, text, k: int = 0) -> Encoding:
        """`text` (the k-th of a request) tokenised with offsets; a clear error when it cannot be scored."""
        return encode_scorable(self.subject.tokenizer, text, k)

    def _head(self, name: str) -> ProbeHead:
        return next(h for heads in self.heads_by_site.values() for h in heads if h.name == name)


def encode_scorable(tokenizer, text, k: int = 0) -> Encoding:
    """`text` (the k-th of a request) checked and tokenised with offsets; an InputError when no token of it
    carries text (nothing to score)."""
    check_text(text, f"text {k}")
    enc = encode(tokenizer, clean_text(text))  # offsets stay: one character for one
    if not enc.text_mask.any():
        raise InputError(
            f"text {k} holds no token that carries text ({len(text)} characters); nothing to score"
        )
    return enc


def head_site(monitor: Monitor, name: str) -> str:
    """The site the probe `name` reads."""
    return next(site for site, heads in monitor.heads_by_site.items() if any(h.name == name for h in heads))


@dataclass
class _TextParts:
    """What the windows of one text gave: kept text-token positions, token logits and pooled logits per
    window, and (for a text of several windows) the probed sites' activations at those tokens."""

    positions: list[torch.Tensor] = field(default_factory=list)
    token_logits: list[dict[str, torch.Tensor]] = field(default_factory=list)
    pooled: list[dict[str, torch.Tensor]] = field(default_factory=list)
    acts: dict[str, list[torch.Tensor]] = field(default_factory=dict)

    @staticmethod
    def is_long(window, enc: Encoding) -> bool:
        return window.keep_from > 0 or window.keep_to - window.keep_from < len(enc)

    def add(self, window, keep_T: torch.Tensor, result: MonitorPass, b: int) -> None:
        rows = keep_T.nonzero()[:, 0]
        self.positions.append(window.first_position + rows.cpu() - window.keep_from)
        self.token_logits.append({name: logits[b, rows] for name, logits in result.token_logits.items()})
        self.pooled.append({name: logits[b] for name, logits in result.pooled_logits.items()})


def text_tokens(enc: Encoding) -> torch.Tensor:
    """[T] bool: the tokens of `enc` that carry text (`tokens.text_mask`)."""
    return torch.from_numpy(enc.text_mask)
