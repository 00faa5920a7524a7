"""Micro-batching: requests that arrive together share one model pass.

Each request submits its items (texts) with a weight (their tokens). A worker takes the first waiting
request, gathers more for up to `window_s` or until `max_weight`, runs them as one batch on the model's
single thread, and hands each request its own results. With batching off, every request is its own
batch. Items are checked before they are submitted, so one bad text never fails its neighbours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass


@dataclass
class _Job:
    items: Sequence
    weight: int
    future: asyncio.Future


class MicroBatcher:
    """`await batcher.submit(items, weight)` -> `run(all items of a batch)` split back per request."""

    def __init__(
        self,
        run: Callable[[list], list],
        executor: Executor,
        enabled: bool = True,
        window_s: float = 0.002,
        max_weight: int = 8192,
        on_batch: Callable[[int], None] | None = None,
    ):
        self.run, self.executor, self.enabled = run, executor, enabled
        self.window_s, self.max_weight, self.on_batch = window_s, max_weight, on_batch
        self.queue: asyncio.Queue[_Job] = asyncio.Queue()
        self.worker: asyncio.Task | None = None

    def start(self) -> None:
        self.worker = asyncio.get_running_loop().create_task(self._work())

    async def stop(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            await asyncio.gather(self.worker, return_exceptions=True)

    async def submit(self, items: Sequence, weight: int) -> list:
        job = _Job(items, weight, asyncio.get_running_loop().create_future())
        await self.queue.put(job)
        return await job.future

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        carried: _Job | None = None  # a job that did not fit the last batch starts the next one
        while True:
            first = carried or await self.queue.get()
            jobs, carried = await self._gather(first)
            jobs = [j for j in jobs if not j.future.done()]  # requests that timed out meanwhile
            if not jobs:
                continue
            items = [item for job in jobs for item in job.items]
            if self.on_batch:
                self.on_batch(len(items))
            try:
                results = await loop.run_in_executor(self.executor, self.run, items)
            except Exception as e:  # a model failure fails this batch's requests, not the worker
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(e)
                continue
            cursor = 0
            for job in jobs:
                if not job.future.done():
                    job.future.set_result(results[cursor : cursor + len(job.items)])
                cursor += len(job.items)

    async def _gather(self, first: _Job) -> tuple[list[_Job], _Job | None]:
        """The batch that starts with `first`: whatever waits after one window, up to the weight limit.
        (Requests also pile up while the model thread is busy, so a loaded server batches by itself.)"""
        if not self.enabled:
            return [first], None
        if self.window_s > 0:
            await asyncio.sleep(self.window_s)
        jobs, weight = [first], first.weight
        while not self.queue.empty():
            job = self.queue.get_nowait()
            if weight + job.weight > self.max_weight:
                return jobs, job
            jobs.append(job)
            weight += job.weight
        return jobs, None
