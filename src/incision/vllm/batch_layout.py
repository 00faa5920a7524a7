"""Which request each row of a vLLM step belongs to. vLLM runs every scheduled request's tokens as one flat
batch [num_tokens, hidden] (continuous batching): request i owns rows query_start_loc[i]:query_start_loc[i+1],
at positions num_computed_tokens[i] onwards, and row i of the step's logits. These are read from the V1
model runner (`vllm.v1.worker.gpu_model_runner`, which the CPU runner extends) right before the forward
pass; this module is the one place that knows its attribute names."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StepRequest:
    """One request's share of a step."""

    req_id: str  # vLLM's internal id
    row: int  # its row in the step's logits
    start: int  # its tokens: rows start:end of the flat batch
    end: int
    first_position: int  # the position in its sequence of its first token this step
    prompt_len: int
    extra: dict | None  # its SamplingParams.extra_args

    @property
    def positions(self) -> np.ndarray:
        return np.arange(self.first_position, self.first_position + self.end - self.start)


def step_layout(runner) -> list[StepRequest]:
    """The requests of the step the runner is about to run (none during vLLM's warm-up passes)."""
    batch = runner.input_batch
    n = batch.num_reqs
    if n == 0:
        return []
    starts = runner.query_start_loc.np[: n + 1]
    computed = batch.num_computed_tokens_cpu[:n]
    requests = []
    for i, req_id in enumerate(batch.req_ids[:n]):
        state = runner.requests[req_id]
        params = state.sampling_params
        requests.append(
            StepRequest(
                req_id,
                i,
                int(starts[i]),
                int(starts[i + 1]),
                int(computed[i]),
                len(state.prompt_token_ids or ()),
                getattr(params, "extra_args", None),
            )
        )
    return requests


def live_request_ids(runner) -> set[str]:
    """The requests the runner still holds (a finished or aborted one leaves at the next step)."""
    return set(runner.requests)
