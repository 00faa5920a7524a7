"""The grokking task's model, and the Fourier progress measures on constructed cases whose answers are known."""

import math

import pytest
import torch

from incision.errors import ConfigError
from incision.training.grokking import fourier
from incision.training.grokking.detect import CircuitDetector, phases
from incision.training.grokking.progress import Look, final_key_measures, train
from incision.training.grokking.task import GrokConfig, ModularAddition, OneLayerTransformer

P = 17


def pairs(p):
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    return a.reshape(-1, 1), b.reshape(-1, 1)


def circuit_logits(p, frequencies, scale=1.0):
    """Logits of the ideal Fourier circuit: sum over k of cos(w_k (a + b - c))."""
    a, b = pairs(p)
    a, b, c = a.double(), b.double(), torch.arange(p, dtype=torch.float64)
    return scale * sum(torch.cos(2 * math.pi * k / p * (a + b - c)) for k in frequencies)


def fourier_embedding(p, frequencies, width=16):
    """An embedding whose columns are cos(w_k x) and sin(w_k x) of the chosen frequencies, zeros elsewhere."""
    x = torch.arange(p, dtype=torch.float64)
    w = torch.zeros(p, width, dtype=torch.float64)
    for i, k in enumerate(frequencies):
        w[:, 2 * i], w[:, 2 * i + 1] = torch.cos(2 * math.pi * k * x / p), torch.sin(2 * math.pi * k * x / p)
    return w


def test_basis_is_orthonormal():
    basis = fourier.fourier_basis(P)
    assert torch.allclose(basis @ basis.T, torch.eye(P, dtype=torch.float64), atol=1e-12)


def test_embedding_of_chosen_frequencies():
    chosen = [3, 7]
    norms = fourier.frequency_norms(fourier_embedding(P, chosen))
    # cos and sin of a frequency each have squared length p / 2 over Z_p: the frequency's norm is sqrt(p)
    expected = torch.zeros(fourier.n_frequencies(P), dtype=torch.float64)
    expected[[k - 1 for k in chosen]] = math.sqrt(P)
    assert torch.allclose(norms, expected, atol=1e-9)
    n = fourier.n_frequencies(P)
    assert fourier.gini(norms) == pytest.approx((n - len(chosen)) / n)
    assert fourier.gini(torch.ones(n)) == pytest.approx(0.0)


def test_energy_and_key_frequencies_of_the_ideal_circuit():
    chosen = [2, 5, 6]
    logits = circuit_logits(P, chosen, scale=3.0)
    energy = fourier.frequency_energy(logits, P)
    # each cos(w_k (a + b - c)) has sum of squares p^3 / 2 over (a, b, c), times scale^2
    expected = torch.zeros(fourier.n_frequencies(P), dtype=torch.float64)
    expected[[k - 1 for k in chosen]] = 9 * P**3 / 2
    assert torch.allclose(energy, expected, rtol=1e-9, atol=1e-6)
    assert sorted(fourier.key_frequencies(energy)) == chosen
    assert energy.sum() == pytest.approx(fourier.centred_energy(logits))


def test_restricted_and_excluded_logits():
    chosen, noise_frequency = [2, 5], 7
    a, b = pairs(P)
    circuit = circuit_logits(P, chosen, scale=4.0)
    memorised = torch.randn(P * P, P, generator=torch.Generator().manual_seed(0))
    other = circuit_logits(P, [noise_frequency])
    logits = circuit + memorised + other
    # restricting to the chosen frequencies leaves the circuit, plus the memorised part's own share of them
    restricted = fourier.restricted_logits(logits, P, chosen)
    assert torch.allclose(restricted, circuit + fourier.restricted_logits(memorised, P, chosen), atol=1e-9)
    assert torch.allclose(fourier.restricted_logits(circuit, P, chosen), circuit, atol=1e-9)
    # excluding them removes the circuit and nothing of the other frequency
    assert fourier.excluded_logits(circuit, P, chosen).abs().max() < 1e-9
    assert torch.allclose(fourier.excluded_logits(other, P, chosen), other, atol=1e-9)
    answers = ((a + b) % P).flatten()
    assert fourier.loss(fourier.excluded_logits(circuit, P, chosen), answers) == pytest.approx(math.log(P))
    # the ideal circuit scores every pair right: its loss falls towards 0 as the scale grows
    assert fourier.loss(circuit_logits(P, chosen, scale=30.0), answers) < 1e-3
    with pytest.raises(ValueError, match="frequency 9"):
        fourier.restricted_logits(circuit, P, [9])


def test_memorised_logits_have_no_key_frequencies():
    a, b = pairs(P)
    answers = ((a + b) % P).flatten()
    data = ModularAddition.build(P, 0.3, seed=0)
    memorised = torch.zeros(P * P, P, dtype=torch.float64)
    memorised[data.train_rows, answers[data.train_rows]] = 10.0  # one-hot on the training pairs only
    energy = fourier.frequency_energy(memorised, P)
    # a delta in a + b is flat in frequency: no frequency stands out
    assert fourier.key_frequencies(energy) == []


def test_table_attention_equals_the_textbook_computation():
    cfg = GrokConfig(p=P, d_model=32, n_heads=4, d_mlp=64)
    torch.manual_seed(0)
    model = OneLayerTransformer(cfg)
    data = ModularAddition.build(P, 0.3, seed=0)
    fast = model(data.inputs_N3)
    slow = model.reference_readout(data.inputs_N3)
    assert torch.allclose(fast, slow, atol=1e-5)
    grads = [
        torch.autograd.grad(f.logsumexp(-1).sum(), model.W_QKV)[0] for f in (model(data.inputs_N3), slow)
    ]
    assert torch.allclose(grads[0], grads[1], atol=1e-4)


def test_split_and_config():
    data = ModularAddition.build(P, 0.3, seed=1)
    assert len(data.train_rows) == int(0.3 * P * P)
    assert set(data.train_rows.tolist()).isdisjoint(data.test_rows.tolist())
    assert len(data.train_rows) + len(data.test_rows) == P * P
    assert torch.equal(data.answers_N, (data.inputs_N3[:, 0] + data.inputs_N3[:, 1]) % P)
    with pytest.raises(ConfigError, match="p must be an odd"):
        GrokConfig(p=100)
    with pytest.raises(ConfigError, match="n_heads 3"):
        GrokConfig(n_heads=3)


def test_a_short_run_memorises_and_replays():
    run = train(GrokConfig(p=P, d_model=32, d_mlp=64, steps=300, every=100, lr=3e-3), progress=False)
    assert [look.step for look in run.looks] == [0, 100, 200, 300]
    assert run.looks[0].train_acc < 0.3 and run.looks[-1].train_acc == 1.0
    replayed = final_key_measures(run)
    assert len(replayed["restricted_loss"]) == len(run.looks)
    # the replayed weights are the ones measured: the last look's excluded loss comes back the same
    if replayed["key"] == run.looks[-1].key_now:
        assert replayed["excluded_loss"][-1] == pytest.approx(run.looks[-1].excluded_loss_now)


def look(step, train_acc, excluded, test_acc=0.0):
    return Look(
        step=step, seconds=step / 10, train_loss=0.0, test_loss=1.0, train_acc=train_acc, test_acc=test_acc,
        weight_norm=1.0, embed_gini=0.0, key_now=[], key_share_now=0.0, restricted_loss_now=1.0,
        excluded_loss_now=excluded, embed_norms=[], logit_energy=[],
    )  # fmt: skip


def test_detector_waits_for_memorisation_and_a_streak():
    looks = [
        look(0, 0.0, 4.0),  # untrained: excluded loss is high, but nothing is memorised yet
        look(100, 1.0, 0.0),
        look(200, 1.0, 1.5),
        look(300, 1.0, 1.5),
        look(400, 1.0, 0.5),  # the streak breaks
        look(500, 1.0, 2.0),
        look(600, 1.0, 2.0),
        look(700, 1.0, 2.0, test_acc=0.3),  # third in a row: fires here
        look(800, 1.0, 3.0, test_acc=0.6),
        look(900, 1.0, 3.0, test_acc=0.95),
    ]
    detector = CircuitDetector(threshold=1.0, patience=3)
    fired = [detector.update(x) for x in looks]
    assert fired == [False] * 7 + [True, False, False] and detector.fired_at == 700
    named = phases(looks, CircuitDetector(threshold=1.0, patience=3))
    assert (named.memorised, named.detected, named.grokked, named.generalised) == (100, 700, 800, 900)
    assert named.lead_steps == 100 and named.lead_seconds == pytest.approx(10.0)
    never = phases(looks[:5], CircuitDetector())
    assert never.detected is None and never.lead_steps is None


def test_incision_grok_writes_its_outputs(tmp_path):
    import json

    from safetensors.torch import load_file

    from incision.cli import main

    out = tmp_path / "grok"
    args = ["grok", "--p", "11", "--d-model", "16", "--d-mlp", "32", "--steps", "40", "--every", "20"]
    assert main([*args, "--out", str(out), "--threads", "1"]) == 0
    for name in ("report.md", "curves.png", "fourier.png", "history.json", "model/model.safetensors"):
        assert (out / name).stat().st_size > 0
    history = json.loads((out / "history.json").read_text())
    assert [look["step"] for look in history["looks"]] == [0, 20, 40]
    assert history["config"]["p"] == 11 and history["phases"]["rule"]["threshold"] == 1.0
    model = OneLayerTransformer(GrokConfig(**history["config"]))
    model.load_state_dict(load_file(out / "model" / "model.safetensors"))  # the saved weights load back
    assert "p = 11" in (out / "report.md").read_text()
