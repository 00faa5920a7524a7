"""Data-parallel training over 2 gloo processes on CPU equals the single-process run (same seed and global
batch): SAEs of each variant, their dead-latent counters and checkpoints, probe fits and streamed AdamW.
One spawn of 2 processes runs every case; the parent runs the same cases alone and compares."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

from incision import capture
from incision.cli import main
from incision.distributed.ddp import all_sum, init_from_env, shard_batch, shard_bounds, world
from incision.errors import ConfigError, InputError
from incision.probes import LinearProbe
from incision.probes.adamw import adamw_stream
from incision.reduce import process_reducer
from incision.sae import SAEConfig, train_sae
from incision.sae.trainer import SAETrainConfig

from ..conftest import tiny_subject
from ..probes.test_train import planted_records
from ..sae.helpers import sparse_batches, sparse_dictionary

WORLD = 2
D_IN, D_SAE, STEPS, BATCH = 16, 64, 20, 64
SAE_CASES = {
    # dead latents within a few steps, so aux-k and the counters matter
    "topk": {"k": 4, "aux_k": 8, "dead_after_tokens": 128, "normalise_activations": "expected_average"},
    "batchtopk": {"architecture": "batchtopk", "k": 4, "aux_k": 8, "dead_after_tokens": 128},
    "relu": {"architecture": "relu", "l1_coefficient": 0.5},
    "jumprelu": {"architecture": "jumprelu", "l0_coefficient": 0.1},
}
TRAIN = dict(lr=1e-3, warmup_steps=2, batch_size=BATCH, total_tokens=BATCH * STEPS, log_every=5,
             checkpoint_every=10, progress=False, tensorboard=False)  # fmt: skip
METRICS = ("loss", "fvu", "l0", "mse", "aux", "dead_fraction")
SAE_ATOL, PROBE_RTOL = 1e-5, 1e-6


def _run_all(out: Path) -> dict[str, torch.Tensor]:
    """Every case, in this process's world: SAE states and last metrics, probes, AdamW probes."""
    rank, size = world()
    tensors: dict[str, torch.Tensor] = {}
    for name, options in SAE_CASES.items():
        batches = sparse_batches(sparse_dictionary(D_IN, 48), n_batches=2 * STEPS, batch=BATCH // 2)
        folder = out / f"sae_{name}" if name == "topk" else None
        result = train_sae(SAEConfig(D_IN, D_SAE, **options), batches, SAETrainConfig(**TRAIN), folder)
        for key, value in result.sae.state_dict().items():
            tensors[f"{name}.{key}"] = value
        tensors[f"{name}.metrics"] = torch.tensor([result.metrics[m] for m in METRICS], dtype=torch.float64)
    x, y_binary, y_multi = _probe_data()
    lo, hi = shard_bounds(len(x), rank, size)  # 101 and 102 rows: shards need not be equal
    for name, y in (("binary", y_binary), ("multi", y_multi)):
        probe = LinearProbe.fit(x[lo:hi], y[lo:hi], l2=0.5, class_weight="balanced")
        for key in ("mean_D", "std_D", "weight_CD", "bias_C"):
            tensors[f"probe_{name}.{key}"] = getattr(probe, key)
    for k, solution in enumerate(_adamw(x, y_multi, rank, size)):
        tensors[f"adamw.{k}.weight"], tensors[f"adamw.{k}.bias"] = solution.weight_CD, solution.bias_C
    if size > 1:
        with pytest.raises(ConfigError, match="divisible"):
            train_sae(SAEConfig(D_IN, D_SAE), [torch.zeros(63, D_IN)], SAETrainConfig(batch_size=63))
        with pytest.raises(InputError, match="different first batches"):  # each rank its own stream
            different = [torch.full((BATCH, D_IN), float(rank))]
            train_sae(SAEConfig(D_IN, D_SAE), different, SAETrainConfig(batch_size=BATCH, progress=False))
    return tensors


def _probe_data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(203, 8, generator=g) * torch.linspace(0.5, 3, 8) + 1.0
    logits = x @ torch.randn(8, 3, generator=g)
    y_multi = (logits + torch.randn(203, 3, generator=g)).argmax(1)
    return x.double(), (logits[:, 0] > logits[:, 0].median()).long(), y_multi


def _adamw(x, y, rank: int, size: int):
    z = (x - x.mean(0)) / x.std(0)

    def batches(epoch: int):
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(epoch))
        for start in range(0, len(x), 50):  # the last batch (3 rows) splits unevenly
            pick = shard_batch(order[start : start + 50], rank, size)
            yield z[pick].float(), y[pick], torch.ones(len(pick))

    options = {"epochs": 3, "lr": 0.05, "steps_per_epoch": 5, "reducer": process_reducer()}
    return adamw_stream(batches, 8, 3, [0.1, 10.0], len(x), **options)


def _worker(rank: int, port: int, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD)
    try:
        tensors = _run_all(Path(out))
        save_file({k: v.contiguous() for k, v in tensors.items()}, Path(out) / f"rank{rank}.safetensors")
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """(folder of the 2-process run, its per-rank tensors, the single-process tensors)."""
    out = tmp_path_factory.mktemp("ddp")
    mp.spawn(_worker, args=(_free_port(), str(out)), nprocs=WORLD, join=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        single = _run_all(out / "single")
    finally:
        torch.set_num_threads(threads)
    return out, [load_file(out / f"rank{r}.safetensors") for r in range(WORLD)], single


def _max_diff(ranks, single, prefix: str) -> float:
    worst = 0.0
    for key, expected in single.items():
        if key.startswith(prefix):
            assert torch.equal(ranks[0][key], ranks[1][key]), f"ranks disagree on {key}"
            worst = max(worst, float((ranks[0][key].double() - expected.double()).abs().max()))
    return worst


@pytest.mark.parametrize("name", list(SAE_CASES))
def test_sae_equals_single_process(runs, name):
    _, ranks, single = runs
    assert _max_diff(ranks, single, f"{name}.W_") <= SAE_ATOL
    assert _max_diff(ranks, single, f"{name}.b_") <= SAE_ATOL
    assert _max_diff(ranks, single, f"{name}.log_threshold_F") <= SAE_ATOL
    # the counters of tokens since each latent fired are integers: exactly equal
    assert torch.equal(ranks[0][f"{name}.tokens_since_fired_F"], single[f"{name}.tokens_since_fired_F"])
    if name in ("topk", "batchtopk"):  # some latents sat out a batch (the L1 variants fire them all here)
        assert float(single[f"{name}.tokens_since_fired_F"].max()) > 0
        assert _max_diff(ranks, single, f"{name}.threshold") <= SAE_ATOL
    assert torch.allclose(ranks[0][f"{name}.metrics"], single[f"{name}.metrics"], rtol=1e-5, atol=1e-7)


def test_topk_really_had_dead_latents_for_aux_k(runs):
    _, ranks, single = runs
    aux, dead = single["topk.metrics"][METRICS.index("aux")], single["topk.metrics"][-1]
    assert dead > 0 and aux > 0


def test_a_two_process_checkpoint_resumes_in_one_process(runs, tmp_path):
    out, ranks, single = runs
    lines = (out / "sae_topk" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == STEPS // TRAIN["log_every"]  # written once, by rank 0
    folder = tmp_path / "resumed"
    shutil.copytree(out / "sae_topk", folder)
    shutil.rmtree(folder / "checkpoints" / f"step_{STEPS:08d}")
    batches = sparse_batches(sparse_dictionary(D_IN, 48), n_batches=2 * STEPS, batch=BATCH // 2)
    sae_cfg = SAEConfig(D_IN, D_SAE, **SAE_CASES["topk"])
    result = train_sae(sae_cfg, batches, SAETrainConfig(**TRAIN), folder, resume=True)
    for key, value in result.sae.state_dict().items():
        assert torch.allclose(value.double(), single[f"topk.{key}"].double(), rtol=0, atol=SAE_ATOL), key


@pytest.mark.parametrize("name", ["binary", "multi"])
def test_probe_fit_equals_single_process(runs, name):
    _, ranks, single = runs
    for key in ("mean_D", "std_D", "weight_CD", "bias_C"):
        expected = single[f"probe_{name}.{key}"]
        assert torch.equal(ranks[0][f"probe_{name}.{key}"], ranks[1][f"probe_{name}.{key}"])
        error = (ranks[0][f"probe_{name}.{key}"] - expected).abs().max() / expected.abs().max()
        assert error <= PROBE_RTOL, (key, float(error))


def test_streamed_adamw_equals_single_process(runs):
    _, ranks, single = runs
    assert _max_diff(ranks, single, "adamw.") <= 1e-5


def test_helpers_are_the_identity_without_a_process_group(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert world() == (0, 1) and init_from_env() == (0, 1)
    x = torch.arange(10.0)
    assert all_sum(x) is x
    assert torch.equal(torch.cat([shard_batch(x, r, 3) for r in range(3)]), x)
    with pytest.raises(Exception, match="divisible by 3"):
        shard_batch(x, 0, 3, even=True)


def test_cli_under_torchrun_writes_what_one_process_writes(tmp_path):
    """`torchrun --nproc-per-node 2 -m incision sae train | probe train` equals the plain command."""
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        pytest.skip("torchrun is not installed next to this python")
    store = capture(tiny_subject("llama"), planted_records(), "resid.0", tmp_path / "store", progress=False)
    commands = {
        "sae": ["sae", "train", "--store", str(store.root), "--site", "resid.0", "--d-sae", "64", "--k", "4",
                "--batch-size", "64", "--total-tokens", "640", "--log-every", "5", "--eval-docs", "0",
                "--no-progress", "--no-tensorboard"],
        "probe": ["probe", "train", "--store", str(store.root), "--sites", "resid.0", "--n-bootstrap", "0"],
    }  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for name, argv in commands.items():
        assert main([*argv, "--out", str(tmp_path / f"{name}1")]) == 0
        launch = [
            str(torchrun),
            "--standalone",
            "--nproc-per-node",
            str(WORLD),
            "-m",
        ]  # torchrun picks its port
        command = [*launch, "incision", *argv, "--out", str(tmp_path / f"{name}2")]
        run = subprocess.run(command, env=env, capture_output=True)
        if b"(exitcode: -" in run.stderr:  # a worker killed by a signal at start-up (~1 in 5 here): once more
            run = subprocess.run(command, env=env, capture_output=True)
        assert run.returncode == 0, run.stderr.decode()[-2000:]
    for name, weights in (("sae", "sae_weights"), ("probe", "weights")):
        one = load_file(tmp_path / f"{name}1" / f"{weights}.safetensors")
        two = load_file(tmp_path / f"{name}2" / f"{weights}.safetensors")
        for key, value in one.items():
            assert torch.allclose(two[key], value, rtol=PROBE_RTOL, atol=SAE_ATOL), (name, key)
    lines = [(tmp_path / f"sae{n}" / "metrics.jsonl").read_text().splitlines() for n in (1, 2)]
    assert len(lines[0]) == len(lines[1]) == 2  # rank 0 alone wrote records
