"""The SAE trainer: dictionary recovery, exact resume, metrics, schedule and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import pytest
import torch

from incision import ConfigError, InputError
from incision.sae import SAEConfig, SAETrainConfig, train_sae
from incision.sae.trainer import rechunk

from .helpers import sparse_batches, sparse_dictionary


def test_training_recovers_a_known_sparse_dictionary():
    atoms_AD = sparse_dictionary(d_in=32, n_atoms=64)
    steps = 600
    cfg = SAETrainConfig(lr=3e-3, warmup_steps=20, batch_size=256, total_tokens=256 * steps, progress=False)
    sae_cfg = SAEConfig(d_in=32, d_sae=128, k=4, dead_after_tokens=256 * 50, aux_k=32)
    result = train_sae(sae_cfg, sparse_batches(atoms_AD, steps), cfg)
    best_cosine_A = (atoms_AD @ result.sae.W_dec_FD.detach().T).max(-1).values
    assert (best_cosine_A >= 0.9).float().mean() >= 0.9
    assert result.steps == steps and result.tokens == 256 * steps
    torch.testing.assert_close(result.sae.W_dec_FD.norm(dim=-1), torch.ones(128))  # unit rows after steps
    assert result.metrics["fvu"] < 0.3 and result.metrics["l0"] == 4.0


def _settings(**changes):
    cfg = dict(lr=3e-3, warmup_steps=5, batch_size=64, total_tokens=64 * 20, checkpoint_every=8, log_every=4)
    return SAETrainConfig(**{**cfg, **changes, "progress": False})


def _stream(n_batches=40, fail_at=None):
    """Batches of 48 rows (not a multiple of the step's 64); raises KeyboardInterrupt when asked for batch
    `fail_at`, like a run killed mid-way."""
    for i, batch in enumerate(sparse_batches(sparse_dictionary(), n_batches, batch=48, seed=5)):
        if i == fail_at:
            raise KeyboardInterrupt
        yield batch


@pytest.mark.parametrize("architecture", ["topk", "batchtopk"])
def test_resume_gives_the_same_weights_as_an_uninterrupted_run(tmp_path, architecture):
    sae_cfg = SAEConfig(d_in=32, d_sae=64, k=4, architecture=architecture, dead_after_tokens=64 * 3, aux_k=16)
    whole = train_sae(sae_cfg, _stream(), _settings(), tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):  # 14 batches = 672 tokens = 10 steps; checkpoint at step 8
        train_sae(sae_cfg, _stream(fail_at=14), _settings(), tmp_path / "cut")
    resumed = train_sae(sae_cfg, _stream(), _settings(), tmp_path / "cut", resume=True)
    assert resumed.steps == whole.steps == 20
    expected, got = whole.sae.state_dict(), resumed.sae.state_dict()
    assert expected.keys() == got.keys()
    for name in expected:
        assert torch.equal(expected[name], got[name]), name
    records = [json.loads(line) for line in (tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [4, 8, 12, 16, 20]
    files = {p.suffix for p in (tmp_path / "cut" / "checkpoints").rglob("*") if p.is_file()}
    assert files == {".safetensors", ".json"}  # no pickle anywhere


def test_metrics_jsonl_and_callbacks(tmp_path):
    seen = []

    def spliced_loss(context):
        seen.append((context.step, context.batch_BD.shape))
        return {"spliced_loss": 1.5 + context.record["fvu"]}

    cfg = _settings(total_tokens=64 * 8, checkpoint_every=0)
    sae_cfg = SAEConfig(d_in=32, d_sae=64, k=4)
    train_sae(sae_cfg, _stream(), cfg, tmp_path, callbacks=[spliced_loss])
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [4, 8]
    for r in records:
        assert {"mse", "fvu", "l0", "dead_fraction", "aux", "lr", "tokens", "loss"} <= set(r)
        assert r["spliced_loss"] == pytest.approx(1.5 + r["fvu"])
        assert 0 <= r["dead_fraction"] <= 1 and r["l0"] == 4.0
    assert seen == [(4, torch.Size([64, 32])), (8, torch.Size([64, 32]))]
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["step_00000008"]  # the end only


def test_learning_rate_schedule():
    cfg = SAETrainConfig(lr=1.0, warmup_steps=10, decay_fraction=0.2, batch_size=1, total_tokens=100)
    lrs = [cfg.lr_at(s) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == 1.0 and lrs[50] == 1.0 and lrs[80] == 1.0
    assert lrs[90] == pytest.approx(0.5) and lrs[99] == pytest.approx(0.05)


def test_rechunk_gives_exact_steps_and_skips_tokens():
    stream = [
        torch.arange(n * 2, dtype=torch.float32).view(n, 2) + 100 * i for i, n in enumerate([3, 5, 1, 7])
    ]
    rows = torch.cat(stream)
    chunks = list(rechunk(stream, 4, 2, skip_tokens=5))
    assert [c.shape[0] for c in chunks] == [4, 4]  # 16 rows - 5 skipped = 11: two steps, 3 rows left over
    torch.testing.assert_close(torch.cat(chunks), rows[5:13])


def test_bad_batches_and_settings_raise_clear_errors(tmp_path):
    sae_cfg = SAEConfig(d_in=4, d_sae=8, k=2)
    bad = [torch.zeros(3, 4), torch.tensor([[0.0, 1.0, float("nan"), 0.0]])]
    with pytest.raises(InputError, match="token 3"):
        train_sae(sae_cfg, bad, _settings(batch_size=2, total_tokens=4))
    with pytest.raises(InputError, match=r"shape \[B, 4\], got \[2, 5\]"):
        train_sae(sae_cfg, [torch.zeros(2, 5)], _settings(batch_size=2, total_tokens=4))
    with pytest.raises(ConfigError, match="total_tokens"):
        SAETrainConfig(batch_size=10, total_tokens=5)
    batches = [torch.randn(2, 4) for _ in range(4)]
    train_sae(sae_cfg, batches, _settings(batch_size=2, total_tokens=8), tmp_path)
    with pytest.raises(ConfigError, match="already holds checkpoints"):
        train_sae(sae_cfg, batches, _settings(batch_size=2, total_tokens=8), tmp_path)
    with pytest.raises(ConfigError, match="lr=0.003, not 0.01"):
        train_sae(sae_cfg, batches, _settings(batch_size=2, total_tokens=8, lr=0.01), tmp_path, resume=True)


def test_tensorboard_gets_the_same_metrics_when_installed(tmp_path, monkeypatch):
    scalars = []

    class Writer:  # stands in for torch.utils.tensorboard.SummaryWriter
        def __init__(self, log_dir, purge_step=None):
            self.log_dir = log_dir

        def add_scalar(self, tag, value, step):
            scalars.append((tag, step))

        def close(self):
            scalars.append(("closed", None))

    module = types.ModuleType("torch.utils.tensorboard")
    module.SummaryWriter = Writer
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", module)
    train_sae(SAEConfig(d_in=32, d_sae=64, k=4), _stream(), _settings(total_tokens=64 * 4), tmp_path)
    assert (
        ("sae/fvu", 4) in scalars and ("sae/dead_fraction", 4) in scalars and scalars[-1] == ("closed", None)
    )


def test_the_sae_package_imports_no_transformers():
    code = "import sys, incision.sae; assert 'transformers' not in sys.modules, 'transformers was imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
