"""The worker side of the vLLM backend: a worker extension (vLLM's `worker_extension_cls`), so that every
worker process (one per tensor-parallel rank) carries the monitor and the caller reaches it by method name
through `collective_rpc`, in-process or not. Every rank runs the same hooks on the same (replicated)
hidden states; the caller reads rank 0's results."""

from __future__ import annotations

from .control import EngineSpec

QUALNAME = "incision.vllm.worker.IncisionWorker"


class IncisionWorker:
    """Mixed into vLLM's worker class; `self.model_runner` is the worker's."""

    def incision_install(self, spec_json: str) -> list[str]:
        """Attach the monitor described by `spec_json` (an EngineSpec) to this worker's model; returns the
        sites it offers. Installing again replaces the previous monitor."""
        from .engine_monitor import EngineMonitor

        self.incision_remove()
        self._incision = EngineMonitor(self.model_runner, EngineSpec.from_json(spec_json))
        return self._incision.view.sites

    def incision_remove(self) -> None:
        """Take the monitor's hooks off the model (the plain engine, e.g. for a baseline)."""
        monitor = getattr(self, "_incision", None)
        if monitor is not None:
            monitor.remove()
        self._incision = None

    def incision_take(self, ids: list[str], since: dict[str, int] | None = None) -> dict[str, dict]:
        """The records of these requests (finished ones are handed over once); `since[id]` generated tokens
        the caller already has are left out."""
        monitor = getattr(self, "_incision", None)
        return {} if monitor is None else monitor.take(list(ids), since)
