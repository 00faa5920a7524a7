"""Micro-batching gathers concurrent requests into one pass and hands each its own results; batching
off runs each alone. Config files and flags give the same ServeConfig; bad settings are named."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
import uvicorn

from incision import ConfigError
from incision.cli import build_parser
from incision.cli.serve import run_serve
from incision.serve import ServeConfig, read_config_file
from incision.serve.batcher import MicroBatcher


def run_batches(enabled: bool, jobs: list[list[int]], max_weight: int = 100) -> tuple[list, list[list]]:
    batches = []

    def run(items):
        batches.append(list(items))
        return [x * 10 for x in items]

    async def main():
        with ThreadPoolExecutor(1) as executor:
            batcher = MicroBatcher(run, executor, enabled, window_s=0.05, max_weight=max_weight)
            batcher.start()
            results = await asyncio.gather(*(batcher.submit(job, len(job)) for job in jobs))
            await batcher.stop()
        return results

    return asyncio.run(main()), batches


def test_concurrent_requests_share_a_batch_and_get_their_own_results():
    jobs = [[1, 2], [3], [4, 5, 6]]
    results, batches = run_batches(True, jobs)
    assert results == [[10, 20], [30], [40, 50, 60]]
    assert batches == [[1, 2, 3, 4, 5, 6]]


def test_batching_off_runs_each_request_alone_and_weight_caps_a_batch():
    jobs = [[1, 2], [3], [4, 5, 6]]
    results, batches = run_batches(False, jobs)
    assert results == [[10, 20], [30], [40, 50, 60]] and batches == jobs
    results, batches = run_batches(True, jobs, max_weight=3)
    assert results == [[10, 20], [30], [40, 50, 60]] and batches == [[1, 2, 3], [4, 5, 6]]


def test_a_failing_batch_fails_its_requests_and_the_worker_goes_on():
    calls = []

    def run(items):
        calls.append(items)
        if len(calls) == 1:
            raise RuntimeError("model failed")
        return items

    async def main():
        with ThreadPoolExecutor(1) as executor:
            batcher = MicroBatcher(run, executor, window_s=0)
            batcher.start()
            with pytest.raises(RuntimeError):
                await batcher.submit([1], 1)
            assert await batcher.submit([2], 1) == [2]
            await batcher.stop()

    asyncio.run(main())


def test_yaml_toml_and_flags_make_the_same_config(tmp_path, monkeypatch):
    (tmp_path / "s.yaml").write_text(
        "model: m\nprobes: {harmful: p}\npolicies:\n  harmful: {action: block, threshold: 0.8}\nmax_in_flight: 9\n"
    )
    (tmp_path / "s.toml").write_text(
        'model = "m"\nmax_in_flight = 9\n[probes]\nharmful = "p"\n[policies.harmful]\naction = "block"\nthreshold = 0.8\n'
    )
    yaml_config = ServeConfig(**read_config_file(tmp_path / "s.yaml"))
    assert yaml_config == ServeConfig(**read_config_file(tmp_path / "s.toml"))
    assert yaml_config.max_in_flight == 9 and yaml_config.policies == {
        "harmful": {"action": "block", "threshold": 0.8}
    }

    seen = {}
    args = build_parser().parse_args(
        ["serve", "--config", str(tmp_path / "s.yaml"), "--max-in-flight", "3", "--policy", "pii=redact:0.4",
         "--probe", "extra=q", "--no-batching"]
    )  # fmt: skip
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    run_serve(args)
    config = seen["app"].state.service.config
    assert config.max_in_flight == 3 and config.batching is False and config.model == "m"
    assert config.probes == {"harmful": "p", "extra": "q"}
    assert config.policies["pii"] == {"action": "redact", "threshold": 0.4}
    assert seen["access_log"] is False and seen["timeout_graceful_shutdown"] == 30.0


@pytest.mark.parametrize(
    "text, suffix, says",
    [
        ("model: [unclosed", ".yaml", "does not parse"),
        ("mdoel = 'x'", ".toml", "unknown settings ['mdoel']"),
        ("- a list", ".yaml", "table of settings"),
        ("{}", ".ini", "must end in"),
    ],
)
def test_bad_config_files_are_named(tmp_path, text, suffix, says):
    path = tmp_path / f"bad{suffix}"
    path.write_text(text)
    with pytest.raises(ConfigError, match=says.replace("[", r"\[").replace("]", r"\]")):
        read_config_file(path)


def test_bad_settings_are_named():
    with pytest.raises(ConfigError, match="max_in_flight must be a positive integer, got 0"):
        ServeConfig(probes={"a": "b"}, max_in_flight=0)
    with pytest.raises(ConfigError, match="nothing to serve"):
        ServeConfig()
    with pytest.raises(ConfigError, match="'pii' is the detector's"):
        ServeConfig(probes={"pii": "x"}, detector="d")
    with pytest.raises(ConfigError, match="backend must be one of \\['hf', 'vllm'\\], got 'tgi'"):
        ServeConfig(probes={"a": "b"}, backend="tgi")
    with pytest.raises(ConfigError, match="needs backend: vllm"):
        ServeConfig(probes={"a": "b"}, named_edits={"calm": {"kind": "steer"}})
    with pytest.raises(ConfigError, match="tensor_parallel_size must be a positive integer, got 0"):
        ServeConfig(probes={"a": "b"}, backend="vllm", tensor_parallel_size=0)


def test_the_vllm_backend_is_chosen_by_flag():
    args = build_parser().parse_args(
        [
            "serve",
            "--probe",
            "a=b",
            "--backend",
            "vllm",
            "--tensor-parallel-size",
            "2",
            "--max-model-len",
            "512",
        ]
    )
    flags = {k: getattr(args, k) for k in ("backend", "tensor_parallel_size", "max_model_len")}
    assert flags == {"backend": "vllm", "tensor_parallel_size": 2, "max_model_len": 512}
