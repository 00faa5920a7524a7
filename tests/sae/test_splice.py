"""The SAE spliced into a model: exact reconstructions recover all the loss, zero ablation matches a manual
computation, the model is untouched afterwards, and the trainer records it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from incision import ConfigError, InputError
from incision.sae import SAEConfig, SAETrainConfig, SparseAutoencoder, train_sae
from incision.sae.splice import (
    SpliceEval,
    SpliceEvalConfig,
    loss_recovered,
    loss_recovered_callback,
    splice_sae,
    zero_ablate,
)

from ..conftest import TEXTS, tiny_subject


def identity_sae(d: int) -> SparseAutoencoder:
    """relu(x) - relu(-x) = x: latents [x, -x], decoder rows +e_i and -e_i (unit norm), no biases."""
    sae = SparseAutoencoder(SAEConfig(d_in=d, d_sae=2 * d, architecture="relu"))
    eye = torch.eye(d)
    with torch.no_grad():
        sae.W_enc_DF.copy_(torch.cat([eye, -eye], dim=1))
        sae.W_dec_FD.copy_(torch.cat([eye, -eye], dim=0))
        sae.b_enc_F.zero_()
        sae.b_dec_D.zero_()
    return sae.eval()


def _logits(subject, text: str) -> torch.Tensor:
    ids = torch.tensor([subject.encode(text).ids])
    with torch.no_grad():
        return subject.model(input_ids=ids).logits


def _no_hooks_left(model) -> bool:
    return all(not m._forward_hooks for m in model.modules())


@pytest.mark.parametrize("family", ["llama", "gpt2", "gemma3_text"])
def test_an_exact_reconstruction_recovers_all_the_loss(family):
    subject = tiny_subject(family)
    sae = identity_sae(subject.d_model)
    x = torch.randn(5, 7, subject.d_model) * 100
    assert torch.equal(sae.decode(sae.encode(x)), x)  # bit for bit
    result = loss_recovered(subject, sae, "resid.1", TEXTS, batch_tokens=40)
    assert result.spliced == result.clean and result.fraction_recovered == 1.0
    assert result.zero != result.clean and result.n_tokens > 0  # a random model: either way
    assert _no_hooks_left(subject.model)


def test_the_model_is_untouched_after_splicing():
    subject = tiny_subject("llama")
    sae = SparseAutoencoder(SAEConfig(d_in=32, d_sae=64, k=4), seed=1).eval()
    before = _logits(subject, TEXTS[0])
    with splice_sae(subject, sae, "resid.1"):
        during = _logits(subject, TEXTS[0])
    assert not torch.allclose(before, during)  # a random SAE changes the outputs...
    torch.testing.assert_close(_logits(subject, TEXTS[0]), before, rtol=0, atol=0)  # ...until removed
    with pytest.raises(RuntimeError, match="boom"), zero_ablate(subject, "mlp.0"):
        raise RuntimeError("boom")
    torch.testing.assert_close(_logits(subject, TEXTS[0]), before, rtol=0, atol=0)
    assert _no_hooks_left(subject.model)
    handle = splice_sae(subject, sae, "resid.1")  # a handle without `with`
    handle.remove()
    assert _no_hooks_left(subject.model)


def _manual_losses(subject, texts, site, zero_all=False):
    """Each text on its own (no padding), its site output zeroed by a hook written here, by hand:
    at text tokens (every token with zero_all). Mean CE over predictions between two text tokens."""
    module = subject.resolve(site).module
    total, count = {"clean": 0.0, "zero": 0.0}, 0
    for text in texts:
        enc = subject.encode(text)
        ids = torch.tensor([enc.ids])
        text_T = torch.tensor(enc.ends) > torch.tensor(enc.starts)
        keep_T = torch.ones_like(text_T) if zero_all else text_T
        pairs = (keep_T[:-1] & keep_T[1:]).nonzero().squeeze(-1)

        def zero(_m, _i, output, keep_T=keep_T):
            hidden = output[0] if isinstance(output, tuple) else output
            hidden = hidden * (~keep_T)[None, :, None].to(hidden.dtype)
            return (hidden, *output[1:]) if isinstance(output, tuple) else hidden

        for name in ("clean", "zero"):
            handle = module.register_forward_hook(zero) if name == "zero" else None
            try:
                with torch.no_grad():
                    log_p = subject.model(input_ids=ids).logits[0].double().log_softmax(-1)
            finally:
                if handle is not None:
                    handle.remove()
            total[name] -= float(log_p[pairs, ids[0, pairs + 1]].sum())
        count += len(pairs)
    return total["clean"] / count, total["zero"] / count, count


@pytest.mark.parametrize("site", ["resid.0", "mlp.1", "attn.2"])
def test_zero_ablation_and_clean_losses_match_a_manual_computation(site):
    subject = tiny_subject("gemma3_text")
    evaluation = SpliceEval(subject, site, TEXTS, batch_tokens=64)  # several texts per padded batch
    clean, zero, count = _manual_losses(subject, TEXTS, site)
    assert evaluation.n_tokens == count
    assert evaluation.clean() == pytest.approx(clean, rel=1e-5)
    assert evaluation.zero() == pytest.approx(zero, rel=1e-5)
    everything = SpliceEval(subject, site, TEXTS, batch_tokens=64, include_special=True)
    clean_all, zero_all, count_all = _manual_losses(subject, TEXTS, site, zero_all=True)
    assert everything.n_tokens == count_all > count
    assert everything.clean() == pytest.approx(clean_all, rel=1e-5)
    assert everything.zero() == pytest.approx(zero_all, rel=1e-5)


def test_texts_are_cut_and_a_random_sae_recovers_less():
    subject = tiny_subject("llama")
    sae = SparseAutoencoder(SAEConfig(d_in=32, d_sae=64, k=2), seed=3)
    result = loss_recovered(subject, sae, "resid.1", TEXTS, max_tokens=6)
    # at most 6 tokens each (BOS + 5 of text): 4 predictions between text tokens
    assert result.n_tokens == sum(min(len(subject.encode(t)), 6) - 2 for t in TEXTS) < 4 * 4
    assert result.fraction_recovered < 1 and result.spliced != result.clean
    assert set(result.to_dict()) == {"clean", "spliced", "zero", "fraction_recovered", "n_tokens"}
    assert sae.training  # measuring puts it in eval mode and back


def test_bad_inputs_raise_clear_errors():
    subject = tiny_subject("llama")
    with pytest.raises(
        ConfigError, match="the SAE reads width 16, but site 'resid.1' of 'tiny-llama' has width 32"
    ):
        loss_recovered(subject, identity_sae(16), "resid.1", TEXTS)
    with pytest.raises(ConfigError, match="has no language-model head"):
        loss_recovered(tiny_subject("bert"), identity_sae(32), "resid.1", TEXTS)
    with pytest.raises(InputError, match="make no next-token prediction"):
        loss_recovered(subject, identity_sae(32), "resid.1", ["a"])
    mask = torch.ones(1, 3, dtype=torch.bool)
    with (
        pytest.raises(InputError, match=r"the splice mask has shape \[1, 3\]"),
        splice_sae(subject, identity_sae(32), "resid.1", mask),
    ):
        _logits(subject, TEXTS[0])
    assert _no_hooks_left(subject.model)
    with pytest.raises(ConfigError, match="eval_docs must be an integer >= 0, got -1"):
        SpliceEvalConfig(eval_docs=-1)


def test_the_trainer_records_loss_recovered(tmp_path):
    subject = tiny_subject("llama")
    evaluation = SpliceEval(subject, "resid.1", TEXTS)
    forwards = []
    subject.model.register_forward_pre_hook(lambda *_: forwards.append(1))
    callback = loss_recovered_callback(evaluation, every=4)
    rows = torch.randn(64 * 10, 32) * 3
    cfg = SAETrainConfig(batch_size=64, total_tokens=64 * 10, log_every=2, warmup_steps=1, progress=False)
    train_sae(SAEConfig(d_in=32, d_sae=64, k=4), rows.split(100), cfg, tmp_path, callbacks=[callback])
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    measured = [r["step"] for r in records if "loss_recovered" in r]
    assert measured == [4, 8, 10]  # multiples of every, and the last step
    assert len({r["ce_loss_clean"] for r in records if "ce_loss_clean" in r}) == 1
    assert all(np.isfinite(r["ce_loss_spliced"]) for r in records if "ce_loss_spliced" in r)
    n_batches = 1  # the 4 short texts fit one padded batch
    assert len(forwards) == n_batches * (2 + len(measured))  # clean and zero computed once


@pytest.mark.embedded
def test_gemma_identity_splice_recovers_everything_and_zeroing_hurts(gemma_subject):
    texts = ["The capital of France is Paris, and the capital of Japan is Tokyo.", "東京は日本の首都です。"]
    result = loss_recovered(gemma_subject, identity_sae(gemma_subject.d_model), "resid.6", texts)
    assert result.spliced == result.clean and result.fraction_recovered == 1.0
    assert result.zero > result.clean + 1  # the residual stream carries the prediction
    assert _no_hooks_left(gemma_subject.model)
