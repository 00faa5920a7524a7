"""capture() against Hugging Face's own outputs, for every supported family."""

from __future__ import annotations

import importlib

import pytest
import torch

from incision import capture
from incision.core.hooks import add_output_hooks
from incision.core.store import writer as writer_module
from incision.core.tokens import plan_windows

from .conftest import TEXTS, tiny_subject

capture_module = importlib.import_module(
    "incision.core.capture"
)  # the package exports the function of that name

ADDITIVE = {"gpt2", "gpt_neox", "llama", "mistral", "qwen2", "qwen3", "phi3"}  # resid = prev + attn + mlp


def hf_forward(subject, text: str):
    enc = subject.tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        return subject.model(**enc, output_hidden_states=True).hidden_states


def block_outputs(subject, text: str) -> list[torch.Tensor]:
    """Each block's own output, read with a plain PyTorch hook (the oracle for the last block)."""
    outs: list[torch.Tensor] = []
    handles = [
        b.register_forward_hook(lambda m, i, o: outs.append(o[0] if isinstance(o, tuple) else o))
        for b in subject.site_map.blocks
    ]
    try:
        hf_forward(subject, text)
    finally:
        for h in handles:
            h.remove()
    return [o[0] for o in outs]


def rows_of(store, doc: int) -> torch.Tensor:
    return torch.from_numpy((store.tokens["doc"].to_numpy() == doc).nonzero()[0])


def test_resid_equals_hidden_states(family_subject, tmp_path):
    subject = family_subject
    n = subject.n_layers
    store = capture(subject, TEXTS, "embed,resid.*", tmp_path / "s", dtype="float32", progress=False)
    for doc, text in enumerate(TEXTS):
        hidden, blocks, rows = hf_forward(subject, text), block_outputs(subject, text), rows_of(store, doc)
        assert len(rows) == hidden[0].shape[1]
        torch.testing.assert_close(store.to_tensor("embed")[rows], hidden[0][0], atol=1e-5, rtol=1e-5)
        for layer in range(n):
            # decoders apply their final norm to the last hidden state: compare the last block with its own output
            expected = blocks[layer] if layer == n - 1 else hidden[layer + 1][0]
            torch.testing.assert_close(
                store.to_tensor(f"resid.{layer}")[rows], expected, atol=1e-5, rtol=1e-5
            )
        if (
            subject.model.config.model_type == "bert"
        ):  # no final norm: the last hidden state is the block output
            torch.testing.assert_close(
                store.to_tensor(f"resid.{n - 1}")[rows], hidden[n][0], atol=1e-5, rtol=1e-5
            )


@pytest.mark.parametrize("family", sorted(ADDITIVE))
def test_sublayers_add_up_to_the_residual_stream(family, tmp_path):
    subject = tiny_subject(family)
    store = capture(
        subject, TEXTS, "embed,resid.*,attn.*,mlp.*", tmp_path / "s", dtype="float32", progress=False
    )
    acts = {site: store.to_tensor(site) for site in store.sites}
    previous = acts["embed"]
    for layer in range(subject.n_layers):
        summed = previous + acts[f"attn.{layer}"] + acts[f"mlp.{layer}"]
        torch.testing.assert_close(summed, acts[f"resid.{layer}"], atol=1e-4, rtol=1e-4)
        previous = acts[f"resid.{layer}"]


@pytest.mark.parametrize("family", ["llama", "gemma3_text", "bert", "gpt2"])
def test_batched_equals_one_at_a_time(family, tmp_path):
    subject = tiny_subject(family)
    sites = "resid.0,attn.1,mlp.-1"
    batched = capture(
        subject, TEXTS, sites, tmp_path / "a", dtype="float32", batch_tokens=4096, progress=False
    )
    single = capture(subject, TEXTS, sites, tmp_path / "b", dtype="float32", batch_tokens=2, progress=False)
    assert batched.tokens.equals(single.tokens)
    for site in batched.sites:
        torch.testing.assert_close(batched.to_tensor(site), single.to_tensor(site), atol=1e-5, rtol=1e-5)


def test_never_stores_padding(llama_subject, tmp_path):
    store = capture(llama_subject, TEXTS, "resid.1", tmp_path / "s", progress=False)
    expected = sum(len(llama_subject.encode(t)) for t in TEXTS)
    assert store.n_tokens == expected == store.to_tensor("resid.1").shape[0]


def _hook_count(model) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def test_model_untouched_after_capture(llama_subject, tmp_path):
    ids = llama_subject.tokenizer(TEXTS[0], return_tensors="pt")
    before = llama_subject.model(**ids).logits
    state = {k: v.clone() for k, v in llama_subject.model.state_dict().items()}
    capture(llama_subject, TEXTS, "resid.*,attn.0", tmp_path / "s", progress=False)
    assert _hook_count(llama_subject.model) == 0
    torch.testing.assert_close(llama_subject.model(**ids).logits, before, atol=0, rtol=0)
    for k, v in llama_subject.model.state_dict().items():
        assert torch.equal(v, state[k]), k


def test_hooks_removed_when_capture_raises(llama_subject, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("writer broke")

    monkeypatch.setattr(writer_module.StoreWriter, "write_shard", broken)
    ids = llama_subject.tokenizer(TEXTS[0], return_tensors="pt")
    before = llama_subject.model(**ids).logits
    with pytest.raises(RuntimeError, match="writer broke"):
        capture(llama_subject, TEXTS, "resid.1", tmp_path / "s", progress=False)
    assert _hook_count(llama_subject.model) == 0
    torch.testing.assert_close(llama_subject.model(**ids).logits, before, atol=0, rtol=0)


def test_stops_after_the_deepest_site(llama_subject, tmp_path):
    ran = []
    with add_output_hooks({"last": llama_subject.site_map.blocks[-1]}, lambda name, out: ran.append(name)):
        capture(llama_subject, TEXTS, "resid.0", tmp_path / "s", progress=False)
    assert ran == []  # block 2 never ran: the pass stopped after block 0


LONG = (
    " ".join(["the quick brown fox jumps over the lazy dog"] * 6) + " 山田太郎の電話番号は090-1234-5678です。"
)


@pytest.mark.parametrize("family,overlap", [("llama", None), ("llama", 3), ("bert", 5), ("qwen2", 0)])
def test_windowed_capture_of_a_long_text(family, overlap, tmp_path):
    subject, window = tiny_subject(family), 16
    enc = subject.encode(LONG)
    assert len(enc) > 3 * window
    store = capture(
        subject,
        [LONG],
        "resid.1",
        tmp_path / "s",
        dtype="float32",
        window=window,
        overlap=overlap,
        progress=False,
    )
    # every token stored exactly once, in order
    assert store.tokens["position"].to_pylist() == list(range(len(enc)))
    assert store.tokens["token_id"].to_pylist() == enc.ids
    acts = store.to_tensor("resid.1")
    min_context = (window - enc.n_prefix - enc.n_suffix) // 2 if overlap is None else overlap
    for w in plan_windows(0, enc, window, overlap):
        assert len(w.ids) <= window
        body_context = w.keep_from - enc.n_prefix
        assert w.first_position == 0 or body_context >= min_context
        hidden = hf_forward_ids(subject, w.ids)[2][0]  # resid.1 = hidden_states[2]
        got = acts[w.first_position : w.first_position + w.n_kept]
        torch.testing.assert_close(got, hidden[w.keep_from : w.keep_to], atol=1e-5, rtol=1e-5)


def hf_forward_ids(subject, ids: list[int]):
    with torch.no_grad():
        return subject.model(input_ids=torch.tensor([ids]), output_hidden_states=True).hidden_states


def test_huge_text_is_windowed_not_truncated(llama_subject, tmp_path):
    text = "the quick brown fox jumps over the lazy dog. 山田太郎 090-1234-5678. " * 600  # ~40k characters
    n_tokens = len(llama_subject.encode(text))
    assert n_tokens > 90 * llama_subject.context_length
    store = capture(llama_subject, [text, "short"], "resid.2", tmp_path / "s", progress=False)
    assert store.documents["n_tokens"].to_pylist()[0] == n_tokens
    tokens = store.tokens.filter(store.tokens["doc"].to_numpy() == 0)
    assert tokens["position"].to_pylist() == list(range(n_tokens))
    assert tokens["char_end"].to_pylist()[-1] == len(text)
    assert torch.isfinite(store.to_tensor("resid.2")).all()


def test_gathered_copy_path_equals_direct_copy(llama_subject, tmp_path, monkeypatch):
    """The path used on GPUs (gather on the device, one transfer), exercised on the CPU."""
    direct = capture(llama_subject, TEXTS, "resid.0,mlp.2", tmp_path / "a", shard_tokens=16, progress=False)
    monkeypatch.setattr(capture_module, "DIRECT_COPY_DEVICES", ())
    gathered = capture(llama_subject, TEXTS, "resid.0,mlp.2", tmp_path / "b", shard_tokens=16, progress=False)
    for site in direct.sites:
        assert torch.equal(direct.to_tensor(site), gathered.to_tensor(site))
