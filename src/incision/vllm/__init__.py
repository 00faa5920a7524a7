"""incision inside vLLM: probes, policies and per-request edits in vLLM's own forward pass (docs/vllm.md).

`MonitoredLLM` is the offline API beside vLLM's `LLM`; `RequestControl` is what one request asks for. The
worker side (`worker.IncisionWorker`, `engine_monitor.EngineMonitor`) runs wherever vLLM holds the model.
Importing this package does not import vLLM; `MonitoredLLM` does.
"""

from .control import EngineSpec, RequestControl

__all__ = ["EngineSpec", "MonitoredLLM", "MonitoredOutput", "RequestControl"]


def __getattr__(name: str):
    if name in ("MonitoredLLM", "MonitoredOutput"):
        from . import llm

        return getattr(llm, name)
    raise AttributeError(f"module 'incision.vllm' has no attribute {name!r}")
