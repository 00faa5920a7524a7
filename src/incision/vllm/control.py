"""What crosses from the caller to vLLM's worker, as JSON: the engine's monitor (`EngineSpec`, sent once at
start-up) and each request's control (`RequestControl`, in `SamplingParams.extra_args["incision"]`, or in
the `incision` field of a request to `incision serve --backend vllm`).

    EngineSpec(probes={"pii": "out/detector/probe"}, policies={"pii": {"action": "redact"}},
               edits=[{"kind": "ablate", "direction": "dirs/refusal"}],          # every request, every token
               named_edits={"calm": {"kind": "steer", "direction": "dirs/anger", "alpha": -4}})
    RequestControl(probes=["pii"], policies={"pii": {"action": "block", "threshold": 0.9}},
                   edits=[{"name": "calm", "alpha": -2}])                          # this request only

A request names probes, policies and edits the engine was started with (its artifacts load once, in the
worker); anything else is refused with one sentence naming it. A request's policies replace the engine's
defaults for the probes they name; a steer policy's `edit` names one of the engine's named edits.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field

from ..errors import InputError

EXTRA_KEY = "incision"  # the key of SamplingParams.extra_args that carries a RequestControl


@dataclass
class EngineSpec:
    """The monitor an engine starts with; artifacts are named by folder so that any worker process can
    load them. `model` and `config_sha256` name the model as the caller checked the artifacts against it;
    `eos_ids`: the tokens a `block` policy ends a request with."""

    model: str
    config_sha256: str
    probes: dict[str, str]
    policies: dict[str, dict] = field(default_factory=dict)
    edits: list[dict] = field(default_factory=list)
    named_edits: dict[str, dict] = field(default_factory=dict)
    eos_ids: list[int] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> EngineSpec:
        return cls(**json.loads(text))


@dataclass
class RequestControl:
    """One request's monitoring: which probes it reads (None: all), policies that replace the defaults for
    the probes they name, the named edits it turns on (each `{"name", "alpha"?}`), and the prompt positions
    that carry no text (specials such as BOS), which pooled scores leave out as offline probes do."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    probes: list[str] | None = None
    policies: dict[str, dict] = field(default_factory=dict)
    edits: list[dict] = field(default_factory=list)
    skip: list[int] = field(default_factory=list)

    def to_extra(self) -> dict:
        return {EXTRA_KEY: asdict(self)}

    @classmethod
    def from_extra(cls, extra: dict | None, spec: EngineSpec, default_id: str) -> RequestControl:
        """The control a request's SamplingParams.extra_args carry (none: every probe, the default policies),
        checked against the engine: an unknown probe, policy setting or edit is an InputError naming it."""
        return cls._read((extra or {}).get(EXTRA_KEY) or {}, spec, {"id", "skip"}, default_id)

    @classmethod
    def from_request(cls, data, spec: EngineSpec) -> RequestControl:
        """The control an HTTP request's `incision` field asks for (the server sets id and skip)."""
        return cls._read(data, spec, set(), uuid.uuid4().hex)

    @classmethod
    def _read(cls, data, spec: EngineSpec, internal: set[str], default_id: str) -> RequestControl:
        if not isinstance(data, dict):
            raise InputError(
                f"the request's '{EXTRA_KEY}' field must be an object, got {type(data).__name__}"
            )
        unknown = sorted(set(data) - {"probes", "policies", "edits"} - internal)
        if unknown:
            raise InputError(
                f"the request's '{EXTRA_KEY}' field has unknown keys {unknown}; use probes, policies, edits"
            )
        control = cls(**{"id": default_id, **data})
        control.check(spec)
        return control

    def check(self, spec: EngineSpec) -> None:
        if self.probes is not None:
            if not isinstance(self.probes, list) or not all(isinstance(p, str) for p in self.probes):
                raise InputError(f"the request's probes must be a list of names, got {self.probes!r}")
            _known("probe", self.probes, spec.probes)
        if not isinstance(self.policies, dict):
            raise InputError(
                f"the request's policies must be an object keyed by probe, got {self.policies!r}"
            )
        _known("policy's probe", self.policies, self.active_probes(spec))
        for name, policy in self.policies.items():
            edit = policy.get("edit") if isinstance(policy, dict) else None
            if edit is not None:
                _known(f"edit of policy {name!r}", [edit], spec.named_edits)
        if not isinstance(self.edits, list) or not all(isinstance(e, dict) for e in self.edits):
            raise InputError(
                f"the request's edits must be a list like [{{'name': 'calm'}}], got {self.edits!r}"
            )
        for edit in self.edits:
            if set(edit) - {"name", "alpha"} or "name" not in edit:
                raise InputError(
                    f"a request's edit takes 'name' and optionally 'alpha', got keys {sorted(edit)}"
                )
            _known("edit", [edit["name"]], spec.named_edits)
            alpha = edit.get("alpha")
            if alpha is not None and (not isinstance(alpha, int | float) or isinstance(alpha, bool)):
                raise InputError(f"edit {edit['name']!r} has alpha {alpha!r}; it must be a number")
        if not all(isinstance(p, int) and p >= 0 for p in self.skip):
            raise InputError("the request's skip must list prompt positions (non-negative integers)")

    def active_probes(self, spec: EngineSpec) -> list[str]:
        return list(spec.probes) if self.probes is None else list(self.probes)

    def policy_configs(self, spec: EngineSpec) -> dict[str, dict]:
        """The engine's default policies for this request's probes, replaced where the request names one."""
        active = self.active_probes(spec)
        return {n: p for n, p in {**spec.policies, **self.policies}.items() if n in active}


def _known(what: str, names, known) -> None:
    for name in names:
        if name not in known:
            raise InputError(f"unknown {what} {name!r}; this engine has {sorted(known)}")
