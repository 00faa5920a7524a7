"""`MonitoredLLM`: vLLM's offline `LLM` with incision's probes, policies and edits inside its forward pass.

    from incision.vllm import MonitoredLLM, RequestControl
    llm = MonitoredLLM("smollm2-135m-instruct", probes={"pii": "out/demo/detector/probe"},
                       policies={"pii": {"action": "redact"}}, named_edits={"calm": {...}})
    results = llm.generate(["Hi!"], SamplingParams(max_tokens=32), controls=[RequestControl(edits=[...])])
    results[0].output          # vLLM's RequestOutput (its text is the model's own: unredacted)
    results[0].events          # one StreamEvent per generated token: text (redacted), scores, actions
    llm.score(["a text"])      # TextReadings, as Monitor.score gives them

Everything a request may use is checked here before vLLM starts, against a weightless copy of the model
(`core.models.skeleton`): probes trained on another model or width, unknown sites, edit kinds the backend
lacks. Prompts are tokenised by incision (character spans: scores point into the text, and specials are
left out of pooled scores as offline probes leave them out) and given to vLLM as token ids.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..core.edits import edit_from_config
from ..core.models.loading import _resolve_source, skeleton
from ..errors import ConfigError, InputError
from ..monitor import StreamEvent, TextReading
from ..monitor.monitor import encode_scorable
from ..monitor.policies import check_policies, policy_from_config
from ..monitor.running import STREAMABLE
from ..monitor.stream import eos_ids
from ..probes.linear import LinearProbe
from ..probes.live import check_compatible
from .control import EngineSpec, RequestControl
from .model_view import READABLE
from .results import EventBuilder, events_of, reading_of
from .token_edits import SUPPORTED
from .worker import QUALNAME

DEFAULTS = {
    "enable_prefix_caching": False
}  # a cached prefix is never run: it could be neither read nor edited


@dataclass
class Prepared:
    """A request ready for vLLM, and what turns its output and record into incision's results."""

    encoding: object  # the prompt's Encoding
    control: RequestControl
    params: object  # vllm.SamplingParams, carrying the control
    probes: dict
    builder: EventBuilder

    def result(self, output, record: dict | None) -> MonitoredOutput:
        if record is None or record.get("error"):
            reason = (record or {}).get("error") or "its record was not found"
            raise RuntimeError(f"the engine did not monitor request {self.control.id}: {reason}")
        reading = reading_of(self.encoding, record, self.probes)
        return MonitoredOutput(output, reading, events_of(output, record, self.builder), record)


@dataclass
class MonitoredOutput:
    """vLLM's output for one request, with incision's: the prompt's reading, one event per generated token
    (as `Monitor.stream` yields them) and the raw record from the engine."""

    output: object  # vllm.RequestOutput
    prompt: TextReading
    events: list[StreamEvent]
    record: dict

    @property
    def text(self) -> str:
        """The reply as the client should see it: redactions applied, a block's message in its place."""
        return "".join(e.text for e in self.events)

    @property
    def finish_reason(self) -> str | None:
        return self.events[-1].finish_reason if self.events else None


class MonitoredLLM:
    """A vLLM engine whose forward pass carries incision's monitor. `probes` map names to probe folders (or
    saved LinearProbes), `policies` name probes ({action, threshold, message, edit}), `edits` apply to every
    request, `named_edits` are edit configs that requests (and steer policies) turn on by name. Other
    keyword arguments go to `vllm.LLM` (e.g. `tensor_parallel_size`, `max_model_len`, `dtype`)."""

    def __init__(
        self,
        model: str,
        probes: dict[str, str | Path | LinearProbe],
        policies: dict[str, dict] | None = None,
        edits: list[dict] = (),
        named_edits: dict[str, dict] | None = None,
        **llm_options,
    ):
        # the batch layout reads the V1 model runner (batch_layout.py), which vLLM picks on CPUs and this
        # asks for on GPUs
        os.environ.setdefault("VLLM_USE_V2_MODEL_RUNNER", "0")
        from vllm import LLM

        self.subject = skeleton(model)
        self._folders = tempfile.TemporaryDirectory(prefix="incision-vllm-")
        self.probe_folders: dict[str, str] = {}
        self.probes = {n: self._probe(n, p) for n, p in probes.items()}
        named_edits = dict(named_edits or {})
        for config in [*edits, *named_edits.values()]:
            self._check_edit(config)
        self.spec = EngineSpec(
            model=self.subject.name,
            config_sha256=self.subject.config_sha256,
            probes=self.probe_folders,
            policies=dict(policies or {}),
            edits=list(edits),
            named_edits=named_edits,
            eos_ids=_eos_first(self.subject),
        )
        self.stops = eos_ids(self.subject)
        self.policies = self._policies(self.spec.policies, list(self.probes))
        options = {**DEFAULTS, "dtype": "float32", **llm_options, "worker_extension_cls": QUALNAME}
        if options["enable_prefix_caching"]:
            raise ConfigError("the monitor needs enable_prefix_caching=False: a cached prefix is never run")
        if not options["enforce_eager"]:
            raise ConfigError(
                "the monitor needs enforce_eager=True: its hooks do not run inside a captured CUDA graph"
            )
        self.llm = LLM(model=_resolve_source(model), **options)
        self.sites = self.llm.collective_rpc("incision_install", args=(self.spec.to_json(),))[0]
        self.context_length = self.llm.llm_engine.model_config.max_model_len

    # -- requests ---------------------------------------------------------------------------------
    def prepare(
        self, text: str, sampling_params=None, control: RequestControl | None = None, k: int = 0
    ) -> Prepared:
        """One request, checked and ready for vLLM: `text` (already in its chat template, if any) tokenised by
        incision, its control checked against the engine, its sampling params carrying the control. No
        sampling params: the prompt's pass only (one token, not returned), for its reading."""
        from vllm import SamplingParams

        prompt_only = sampling_params is None
        sampling_params = sampling_params or SamplingParams(max_tokens=1, temperature=0.0)
        enc = self._encode(text, k)
        control = dataclasses.replace(
            control or RequestControl(), skip=[i for i, t in enumerate(enc.text_mask) if not t]
        )
        control.check(self.spec)
        probes = {n: self.probes[n] for n in control.active_probes(self.spec)}
        policies = self._policies(control.policy_configs(self.spec), list(probes))
        params = self._params(sampling_params, control, policies, extra_token=not prompt_only)
        returned = 0 if prompt_only else sampling_params.max_tokens  # events for the tokens it returns
        builder = EventBuilder(policies, probes, self.subject.tokenizer, returned, self.stops)
        return Prepared(enc, control, params, probes, builder)

    def generate(self, prompts: list[str], sampling_params=None, controls=None) -> list[MonitoredOutput]:
        """Generate from each prompt (already in its chat template, if any) under its control (default: every
        probe, the default policies, no edits of its own); vLLM batches them continuously. No sampling
        params: the prompts' passes only (their readings)."""
        if isinstance(prompts, str) or not prompts:
            raise InputError("prompts must be a non-empty list of strings")
        controls = list(controls) if controls is not None else [None] * len(prompts)
        if len(controls) != len(prompts):
            raise InputError(f"got {len(controls)} controls for {len(prompts)} prompts; give one per prompt")
        prepared = [
            self.prepare(p, sampling_params, c, k)
            for k, (p, c) in enumerate(zip(prompts, controls, strict=True))
        ]
        requests = [{"prompt_token_ids": list(p.encoding.ids)} for p in prepared]
        outputs = self.llm.generate(requests, [p.params for p in prepared], use_tqdm=False)
        records = self.take([p.control.id for p in prepared])
        return [
            p.result(output, records.get(p.control.id)) for p, output in zip(prepared, outputs, strict=True)
        ]

    def score(self, texts: list[str], controls=None) -> list[TextReading]:
        """Every probe's reading of each text (its prompt pass only), as `Monitor.score` gives it."""
        return [r.prompt for r in self.generate(texts, None, controls)]

    def take(self, ids: list[str], since: dict[str, int] | None = None) -> dict[str, dict]:
        """The engine's records of these requests (rank 0's: every rank computes the same)."""
        return self.llm.collective_rpc("incision_take", args=(ids, since))[0]

    # -- checks -----------------------------------------------------------------------------------
    def _encode(self, text: str, k: int):
        enc = encode_scorable(self.subject.tokenizer, text, k)
        if len(enc) > self.context_length:
            raise InputError(
                f"text {k} has {len(enc)} tokens, more than this engine's context of {self.context_length}"
            )
        return enc

    def _params(self, base, control: RequestControl, policies, extra_token: bool = True):
        if base.n != 1:
            raise ConfigError(f"a monitored request returns one sequence: n must be 1, got {base.n}")
        if any(p.action == "block" for p in policies.values()) and (base.min_tokens or base.ignore_eos):
            raise ConfigError(
                "a block policy ends a request with EOS: it needs min_tokens=0 and ignore_eos=False"
            )
        extra = {**(base.extra_args or {}), **control.to_extra()}
        # one more token than asked: vLLM runs a token through the model only when it samples the next one,
        # so the extra step is what scores the last token the caller receives
        params = base.clone()
        params.max_tokens, params.extra_args = base.max_tokens + extra_token, extra
        return params

    def _probe(self, name: str, probe) -> LinearProbe:
        if not isinstance(probe, LinearProbe):
            folder = probe
            probe = LinearProbe.load(folder, subject=self.subject)
        else:
            folder = Path(self._folders.name) / name
            probe.save(folder)
        site = check_compatible(probe, self.subject)
        resolved = self.subject.resolve(site)
        if resolved.name.split(".")[0] not in READABLE:
            raise ConfigError(
                f"probe {name!r} reads site {site!r}; the vLLM backend reads resid, attn and mlp sites"
            )
        if probe.pooling not in STREAMABLE:
            raise ConfigError(
                f"probe {name!r} pools by {probe.pooling!r}; the vLLM backend scores token-level, mean and last probes"
            )
        self.probe_folders[name] = str(folder)
        return probe

    def _check_edit(self, config: dict) -> None:
        edit = edit_from_config(config, self.subject)  # loads and checks its artifacts against the model
        if edit.kind not in SUPPORTED:
            raise ConfigError(
                f"edit kind {edit.kind!r} is not available on the vLLM backend; it offers {list(SUPPORTED)}"
            )

    def _policies(self, configs: dict[str, dict], probes: list[str]):
        def named(name):
            if not isinstance(name, str) or name not in self.spec.named_edits:
                raise ConfigError(f"a steer policy's edit must name one of {sorted(self.spec.named_edits)}")
            return edit_from_config(self.spec.named_edits[name], self.subject)

        policies = {n: policy_from_config(n, c, named) for n, c in configs.items()}
        token_level = {n for n, p in self.probes.items() if p.pooling is None}
        return check_policies(policies, {n: self.probes[n] for n in probes}, token_level)


def _eos_first(subject) -> list[int]:
    """The EOS ids, the tokenizer's first: the one a block forces, which vLLM always stops on."""
    first = subject.tokenizer.eos_token_id
    return [first] * (first is not None) + sorted(eos_ids(subject) - {first})
