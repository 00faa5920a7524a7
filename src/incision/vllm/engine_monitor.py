"""The monitor inside vLLM's worker: probes read the activations of every request in a continuous batch, each
request's policies act on its own scores, and each request's edits touch only its own tokens.

One step of the engine, as the hooks see it:

1. before the forward pass (`_before_step`): the step's layout (batch_layout.py) says which rows belong to which
   request; each request's record is found or made from its control (control.py); each edit's per-row weight
   is set from the requests that have it on (always-on edits, the request's own, a steer policy that fired);
2. at each hooked module (`_at_module`): the edits in effect there, then the probes that read its site;
3. after the deepest probe (`_after_reads`): each request's new tokens are scored and its policies run, on
   the CPU copy of the step's logits (one copy a step);
4. at the logits (`_at_logits`): a request that a `block` policy stopped gets its EOS token forced, so vLLM
   ends it at this very step.

Prompt tokens count when they carry text (the request's `skip` lists the others, as `Monitor.encode` would
leave them out); generated tokens all count. vLLM feeds a generated token back one step after sampling
it, so a token's score arrives with the next token, exactly as in the Hugging Face stream.
Prefix caching must be off: a cached prefix is never run, so it could be neither read nor edited.
"""

from __future__ import annotations

import collections
import logging
from dataclasses import dataclass, field

import numpy as np
import torch

from ..core.edits import edit_from_config
from ..errors import ConfigError, IncisionError
from ..monitor.heads import ProbeHead
from ..monitor.policies import Policy, PolicyRun, check_policies, policy_from_config
from ..monitor.running import STREAMABLE, RunningScores
from ..probes.linear import LinearProbe
from ..serve.logs import where
from .batch_layout import StepRequest, live_request_ids, step_layout
from .control import EngineSpec, RequestControl
from .model_view import ModelView, stream_of
from .token_edits import TokenEdit, token_edit

log = logging.getLogger("incision.vllm")
KEEP_FINISHED = 4096  # records of finished requests kept for the caller to take; older ones are dropped


@dataclass
class Record:
    """What one request's monitoring has gathered: each step's token logits (all probes' columns), the
    prompt's scores and actions, one entry per generated token, and how it ended."""

    control: RequestControl
    probes: list[str]
    run: PolicyRun
    running: RunningScores
    prompt_len: int
    skip: frozenset[int] = frozenset()
    columns: dict[str, slice] = field(default_factory=dict)  # its probes' columns of the step's logits
    last_position: int = -1
    blocks: list[tuple[int, np.ndarray]] = field(default_factory=list)  # (first position, logits [n, C])
    prompt: dict | None = None
    tokens: list[dict] = field(default_factory=list)
    blocked: str | None = None
    error: str | None = None
    taken: bool = False  # the caller has its results: nothing is kept once the request leaves

    def to_json(self, columns: dict[str, slice], since: int = 0) -> dict:
        """Everything, or (`since` > 0) only the generated tokens after the first `since` and their logits."""
        first = self.prompt_len + since if since else 0
        logits = {}
        for start, block in self.blocks:
            for i in range(max(0, first - start), len(block)):
                logits[str(start + i)] = {n: block[i, columns[n]].tolist() for n in self.probes}
        return {
            "prompt": self.prompt,
            "tokens": self.tokens[since:],
            "logits": logits,
            "blocked": self.blocked,
            "error": self.error,
        }


class EngineMonitor:
    """The monitor on one worker's model runner (`IncisionWorker.incision_install` builds it); `take(ids)`
    hands over requests' records, `remove()` takes its hooks off."""

    def __init__(self, runner, spec: EngineSpec):
        self.runner, self.spec = runner, spec
        model = runner.model
        self.view = ModelView(model, runner.model_config.hf_config, spec.model, spec.config_sha256)
        self.probes = {name: _probe(name, folder, self.view) for name, folder in spec.probes.items()}
        self.token_level = {n for n, p in self.probes.items() if p.pooling is None}
        self.heads: dict[str, list[ProbeHead]] = {}
        for name, probe in self.probes.items():
            site = self.view.readable(probe.meta["site"]).name
            self.heads.setdefault(site, []).append(ProbeHead.of(name, probe))
        self.last_read_site = max(self.heads, key=self.view.sites.index) if self.heads else None
        widths = [p.weight_CD.shape[0] for p in self.probes.values()]  # a binary probe has one logit
        offsets = np.cumsum([0, *widths])
        self.columns = {
            n: slice(int(a), int(b)) for n, a, b in zip(self.probes, offsets[:-1], offsets[1:], strict=True)
        }
        # edits: the always-on ones first, then the named ones; a key per edit indexes its per-step weights
        self.edit_objects = [edit_from_config(c, self.view) for c in spec.edits]
        self.named = {name: edit_from_config(c, self.view) for name, c in spec.named_edits.items()}
        self.token_edits: list[TokenEdit] = [token_edit(e, self.view) for e in self.edit_objects]
        self.named_keys, self.named_by_key = {}, {}
        for name, edit in self.named.items():
            self.named_keys[name] = len(self.token_edits)
            self.named_by_key[len(self.token_edits)] = edit
            self.token_edits.append(token_edit(edit, self.view))
        self._policies(spec.policies, list(self.probes))  # the defaults, checked at start-up
        self.eos = spec.eos_ids[0] if spec.eos_ids else None
        self.records: dict[str, Record] = {}  # by control id
        self.req_keys: dict[str, str] = {}  # vLLM's request id -> control id
        self.finished: collections.OrderedDict[str, Record] = collections.OrderedDict()
        self.step: list[tuple[StepRequest, Record]] = []
        self.weights: dict[int, torch.Tensor | None | bool] = {}  # per edit this step (see _weight)
        self.step_logits: dict[str, torch.Tensor] = {}
        self.handles = []
        self._install(model)

    # -- hooks ------------------------------------------------------------------------------------
    def _install(self, model) -> None:
        modules: dict[torch.nn.Module, dict] = {}
        for key, edit in enumerate(self.token_edits):
            for module, op in edit.ops:
                modules.setdefault(module, {"edits": [], "site": None})["edits"].append((key, op))
        for site in self.heads:
            modules.setdefault(self.view.readable(site).module, {"edits": [], "site": None})["site"] = site
        self.handles.append(model.register_forward_pre_hook(lambda m, a: self._before_step()))
        for module, work in modules.items():
            self.handles.append(module.register_forward_hook(self._hook(work["edits"], work["site"])))
        logits_module = getattr(model, "logits_processor", None)
        if logits_module is None:
            raise ConfigError(
                "this vLLM model has no logits_processor module; block policies cannot end requests"
            )
        self.handles.append(logits_module.register_forward_hook(lambda m, a, out: self._at_logits(out)))

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()

    def _hook(self, edits, site):
        def hook(_module, _inputs, output):
            if not self.step:
                return None
            for key, op in edits:
                w = self._weight(key, _rows(output))
                if w is not False:
                    output = op(output, w)
            if site is not None:
                acts = stream_of(output)
                for head in self.heads[site]:
                    self.step_logits[head.name] = head.token_logits(acts[None])[0]
                if site == self.last_read_site:
                    self._after_reads()
            return output

        return hook

    def _before_step(self) -> None:
        self.step_logits, self.weights = {}, {}
        self._retire_finished()
        self.step = []
        for request in step_layout(self.runner):
            record = self._record(request)
            if record is not None:
                self.step.append((request, record))

    def _weight(self, key: int, rows: int):
        """The edit's weight per row this step: None for every row at 1, False where no row has it."""
        if key not in self.weights:
            edit, w, everywhere = self.token_edits[key], np.zeros(rows, np.float32), True
            for request, record in self.step:
                alpha = self._alpha(key, record)
                span = _positions_mask(request, edit.positions)
                if alpha is None or not span.any():
                    everywhere = False
                    continue
                w[request.start : request.end][span] = alpha
                everywhere &= bool(span.all()) and alpha == 1.0
            covered = self.step[-1][0].end == rows if self.step else False
            self.weights[key] = (
                None if everywhere and covered else (torch.from_numpy(w) if w.any() else False)
            )
        return self.weights[key]

    def _alpha(self, key: int, record: Record) -> float | None:
        """The edit's weight on this request's tokens this step, or None when it is off for the request."""
        if key < len(self.edit_objects):
            return self.token_edits[key].alpha
        named = {self.named_keys[e["name"]]: e.get("alpha") for e in record.control.edits}
        if key in named:
            return float(named[key]) if named[key] is not None else self.token_edits[key].alpha
        steering = any(edit is self.named_by_key[key] for edit in record.run.edits())  # a steer policy fired
        return self.token_edits[key].alpha if steering else None

    def _after_reads(self) -> None:
        """Score each request's new tokens and run its policies (on one CPU copy of the step's logits)."""
        if not self.step_logits:
            return
        table = torch.cat([self.step_logits[n].float() for n in self.probes], dim=1).cpu().numpy()
        for request, record in self.step:
            if record.blocked or record.error:
                continue
            try:
                self._score(request, record, table)
            except Exception as e:  # one request's failure must not end the others' (nor the engine)
                record.error = f"monitoring failed ({type(e).__name__})"
                log.error("monitoring a request failed: %s", where(e))

    def _score(self, request: StepRequest, record: Record, table: np.ndarray) -> None:
        block, first = table[request.start : request.end], request.first_position
        if first <= record.last_position:  # a preempted request recomputes positions it already had
            block, first = block[record.last_position + 1 - first :], record.last_position + 1
        if not len(block):
            return
        record.blocks.append((first, block))
        record.last_position = first + len(block) - 1
        cols = record.columns
        in_prompt = max(0, min(len(block), record.prompt_len - first))
        if in_prompt:
            rows = block[:in_prompt]
            if record.skip:
                rows = rows[[first + i not in record.skip for i in range(in_prompt)]]
            record.running.add({n: rows[:, c] for n, c in cols.items()})
            if first + in_prompt == record.prompt_len:  # the prompt ends here
                last = block[in_prompt - 1]
                scores = record.running.scores({n: last[c] for n, c in cols.items()})
                blocked = record.run.prompt(scores)
                record.prompt = {"scores": scores, "actions": [[blocked, "block"]] if blocked else []}
                record.blocked = blocked
        for i in range(in_prompt, len(block)):
            if record.blocked:
                break
            row = block[i]
            scores = record.running.step({n: row[c] for n, c in cols.items()})
            step = record.run.token(scores)
            actions = [list(a) for a in step.actions]
            record.tokens.append({"position": first + i, "scores": scores, "actions": actions})
            record.blocked = step.blocked

    def _at_logits(self, logits):
        """Force EOS for the requests a policy blocked (row i of the logits is request i of the step)."""
        if logits is None or not self.step or self.eos is None or logits.shape[0] != len(self.step):
            return None
        rows = [request.row for request, record in self.step if record.blocked]
        if not rows:
            return None
        logits = logits.clone()
        logits[rows] = float("-inf")
        logits[rows, self.eos] = 0.0
        return logits

    # -- requests ---------------------------------------------------------------------------------
    def _record(self, request: StepRequest) -> Record | None:
        key = self.req_keys.get(request.req_id)
        if key is not None:
            return self.records[key]
        try:
            control = RequestControl.from_extra(request.extra, self.spec, request.req_id)
            probes = control.active_probes(self.spec)
            policies = self._policies(control.policy_configs(self.spec), probes)
        except IncisionError as e:  # the caller checked it already; a raw vLLM request may not have been
            log.error("a request's incision control was refused: %s", e)
            return None
        record = Record(
            control,
            probes,
            PolicyRun(policies, self.token_level & set(probes)),
            RunningScores({n: self.probes[n] for n in probes}),
            request.prompt_len,
            frozenset(control.skip),
            {n: self.columns[n] for n in probes},
        )
        self.records[control.id] = record
        self.req_keys[request.req_id] = control.id
        return record

    def _policies(self, configs: dict[str, dict], probes: list[str]) -> dict[str, Policy]:
        policies = {n: policy_from_config(n, c, self._named_edit) for n, c in configs.items()}
        return check_policies(policies, {n: self.probes[n] for n in probes}, self.token_level)

    def _named_edit(self, name):
        if not isinstance(name, str) or name not in self.named:
            raise ConfigError(
                f"a steer policy's edit must name one of the engine's edits {sorted(self.named)}"
            )
        return self.named[name]

    def _retire_finished(self) -> None:
        live = live_request_ids(self.runner)
        for req_id in [r for r in self.req_keys if r not in live]:
            key = self.req_keys.pop(req_id)
            record = self.records.pop(key)
            if not record.taken:
                self.finished[key] = record
        while len(self.finished) > KEEP_FINISHED:
            self.finished.popitem(last=False)

    def take(self, ids: list[str], since: dict[str, int] | None = None) -> dict[str, dict]:
        """The records of these requests (by control id), handed over once finished; unknown ids are left
        out. `since[id]`: generated tokens the caller has already (a stream asks for what is new)."""
        out = {}
        for key in ids:
            record = self.finished.pop(key, None) or self.records.get(key)
            if record is not None:
                record.taken = True
                out[key] = record.to_json(self.columns, (since or {}).get(key, 0))
        return out


def _probe(name: str, folder: str, view: ModelView) -> LinearProbe:
    probe = LinearProbe.load(folder, subject=view)
    if probe.pooling not in STREAMABLE:
        raise ConfigError(
            f"probe {name!r} pools by {probe.pooling!r}; the vLLM backend scores token-level, mean and last probes"
        )
    return probe


def _rows(output) -> int:
    return (output[0] if isinstance(output, tuple) else output).shape[0]


def _positions_mask(request: StepRequest, positions: str) -> np.ndarray:
    where = request.positions
    if positions == "prompt":
        return where < request.prompt_len
    if positions == "generated":
        return where >= request.prompt_len
    return np.ones(len(where), dtype=bool)
