"""TrainingMonitor: looks happen at the right steps, in a plain loop and in a Trainer; a look leaves
parameters, gradients, random state and every module's train/eval flag as they were; its measures equal
a direct computation; alerts fire once per crossing."""

from __future__ import annotations

import json

import pytest
import torch
import transformers as T

from incision import ConfigError, InputError
from incision.training import Alert, TrainingMonitor
from incision.training.callback import IncisionCallback

from ..conftest import tiny_subject

GOOD = [
    f"the quick brown fox {w}" for w in ("jumps", "runs", "sleeps", "eats", "waits", "sits", "hides", "plays")
]
BAD = [
    f"call me at 555-0142 {w}" for w in ("now", "later", "today", "soon", "again", "twice", "maybe", "please")
]
TEXTS, LABELS = GOOD + BAD, ["fox"] * 8 + ["phone"] * 8


@pytest.fixture
def subject():
    return tiny_subject("llama")


def train_steps(model, n: int, monitor=None, seed: int = 0):
    """A few SGD steps on next-token loss, with dropout on (the monitor must not change its masks)."""
    torch.manual_seed(seed)
    model.train()
    optimiser = torch.optim.SGD(model.parameters(), lr=0.05)
    ids = torch.randint(5, 300, (4, 12), generator=torch.Generator().manual_seed(1))
    for step in range(n):
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        if monitor is not None:
            monitor.step(model, step)
        optimiser.step()
        optimiser.zero_grad()
        torch.rand(1)  # training's own draws after the look: must be the same with or without it
    return [p.detach().clone() for p in model.parameters()]


def test_a_look_changes_nothing_training_sees(subject):
    model = subject.model
    model.train()
    model.model.layers[0].eval()  # a frozen part kept in eval on purpose
    ids = torch.randint(5, 300, (2, 8), generator=torch.Generator().manual_seed(2))
    model(input_ids=ids, labels=ids).loss.backward()
    params = [p.detach().clone() for p in model.parameters()]
    grads = [p.grad.clone() for p in model.parameters()]
    modes = [m.training for m in model.modules()]
    torch.manual_seed(7)
    rng = torch.get_rng_state()
    monitor = TrainingMonitor(subject.tokenizer, TEXTS, LABELS, sites=["resid.1"], every=1)

    def draws(*_):  # a layer that uses randomness even in eval mode
        torch.rand(3)

    noisy = model.model.layers[1].register_forward_pre_hook(draws)
    assert monitor.step(model, 0) is not None
    noisy.remove()
    assert all(torch.equal(a, b) for a, b in zip(params, model.parameters(), strict=True))
    assert all(torch.equal(a, p.grad) for a, p in zip(grads, model.parameters(), strict=True))
    assert [m.training for m in model.modules()] == modes
    assert torch.equal(torch.get_rng_state(), rng)


def test_training_with_looks_ends_where_training_without_them_does():
    plain = train_steps(tiny_subject("llama").model, 6)
    watched_subject = tiny_subject("llama")
    monitor = TrainingMonitor(watched_subject.tokenizer, TEXTS, LABELS, sites=["resid.1"], every=2)
    watched = train_steps(watched_subject.model, 6, monitor)
    assert [r["step"] for r in monitor.records] == [0, 2, 4]
    assert all(torch.equal(a, b) for a, b in zip(plain, watched, strict=True))


def test_measures_equal_a_direct_computation(subject, tmp_path):
    g = torch.Generator().manual_seed(3)
    v = torch.randn(subject.d_model, generator=g)
    monitor = TrainingMonitor(
        subject.tokenizer, TEXTS, LABELS, sites=["resid.1"], directions={"v": {"resid.1": v * 5}}, every=1,
        log_dir=tmp_path,
    )  # fmt: skip
    record = monitor.step(subject.model, 0)
    with torch.no_grad():
        batch = subject.tokenizer(TEXTS, return_tensors="pt", padding=True)
        hidden = subject.model(**batch, output_hidden_states=True).hidden_states[2]  # after block 1
        specials = torch.isin(batch["input_ids"], torch.tensor(subject.tokenizer.all_special_ids))
        assert specials.any()  # the texts below carry a special token: pooling leaves it out
        m = (batch["attention_mask"] * ~specials)[..., None].float()
        pooled = (hidden * m).sum(1) / m.sum(1)
    proj = pooled @ (v / v.norm())
    assert record["proj/v/resid.1"] == pytest.approx(float(proj.mean()), abs=1e-4)
    assert record["proj/v/resid.1/phone"] == pytest.approx(float(proj[8:].mean()), abs=1e-4)
    assert record["probe_acc/resid.1"] == 1.0  # the two kinds of text differ in every token
    assert (
        record["drift_from_start/resid.1"] == pytest.approx(0.0, abs=1e-9) and "drift/resid.1" not in record
    )
    second = monitor.step(subject.model, 1)
    assert second["drift/resid.1"] == pytest.approx(0.0, abs=1e-9)  # the same model: nothing moved
    assert second["shift_t/v/resid.1"] == 0.0
    lines = (tmp_path / "monitor.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [0, 1]
    assert (tmp_path / "monitor.csv").read_text().splitlines()[0].startswith("step,proj/v/resid.1")


def test_alerts_fire_once_per_crossing(subject):
    fired = []
    alert = Alert("proj/v/resid.1", above=0.0, then=lambda metric, value, step: fired.append(step))
    monitor = TrainingMonitor(
        subject.tokenizer, TEXTS, sites=["resid.1"], directions={"v": {"resid.1": torch.ones(subject.d_model)}},
        every=1, alerts=[alert],
    )  # fmt: skip
    values = iter([-1.0, 1.0, 2.0, -1.0, 3.0])
    monitor._measure = lambda pooled: {"proj/v/resid.1": next(values)}
    for step in range(5):
        monitor.step(subject.model, step)
    assert fired == [1, 4] and [r["alerts"] for r in monitor.records][1] == ["proj/v/resid.1"]


def test_the_trainer_callback_looks_every_n_optimiser_steps(subject, tmp_path):
    ids = torch.randint(5, 300, (8, 10), generator=torch.Generator().manual_seed(4))
    data = [{"input_ids": row, "labels": row} for row in ids]
    monitor = TrainingMonitor(subject.tokenizer, TEXTS, LABELS, sites=["resid.1"], every=2)
    args = T.TrainingArguments(
        output_dir=str(tmp_path), max_steps=5, per_device_train_batch_size=2, report_to=[], use_cpu=True,
        save_strategy="no", logging_strategy="no", disable_tqdm=True,
    )  # fmt: skip
    T.Trainer(
        model=subject.model, args=args, train_dataset=data, callbacks=[IncisionCallback(monitor)]
    ).train()
    assert [r["step"] for r in monitor.records] == [0, 2, 4]


def test_bad_setups_are_named(subject):
    with pytest.raises(InputError, match="16 texts but 3 labels"):
        TrainingMonitor(subject.tokenizer, TEXTS, ["a", "b", "c"])
    with pytest.raises(InputError, match="at least two classes"):
        TrainingMonitor(subject.tokenizer, TEXTS, ["a"] * 16)
    with pytest.raises(ConfigError, match="every must be a positive"):
        TrainingMonitor(subject.tokenizer, TEXTS, every=0)
    with pytest.raises(ConfigError, match="zero or not finite"):
        TrainingMonitor(subject.tokenizer, TEXTS, directions={"v": {"resid.1": torch.zeros(4)}})
    with pytest.raises(ConfigError, match="exactly one of"):
        Alert("x")


def test_shift_t_is_the_paired_t_test_against_the_first_look(subject):
    from scipy.stats import ttest_rel

    v = torch.randn(subject.d_model, generator=torch.Generator().manual_seed(4))
    monitor = TrainingMonitor(
        subject.tokenizer, TEXTS, LABELS, sites=(), directions={"v": {"resid.1": v}}, every=1
    )
    monitor.step(subject.model, 0)
    before = monitor.last_projections["v"]["resid.1"].clone()
    train_steps(subject.model, 3)
    record = monitor.step(subject.model, 3)
    after = monitor.last_projections["v"]["resid.1"]
    assert not torch.equal(before, after)
    assert record["shift_t/v/resid.1"] == pytest.approx(ttest_rel(after, before).statistic, rel=1e-4)
    phone = torch.arange(len(TEXTS)) >= 8
    assert record["shift_t/v/resid.1/phone"] == pytest.approx(
        ttest_rel(after[phone], before[phone]).statistic, rel=1e-4
    )
