"""Shared pieces of the vLLM tests: a tiny random Llama that vLLM's CPU attention takes (head size 32),
random probes, and engines built the same way on both backends."""

from __future__ import annotations

import torch
import transformers as T

import incision
from incision.probes.linear import LinearProbe

from ..conftest import make_tokenizer
from ..monitor.test_monitor import probe
from ..serve.conftest import CHAT_TEMPLATE

TEXTS = ["the quick brown fox", "a much longer sentence that pads the others in the batch", "hi"]
ENGINE = dict(enforce_eager=True, max_model_len=256, max_num_seqs=8)


def save_tiny_llama(folder) -> str:
    tokenizer = make_tokenizer("bos")
    config = T.LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=3,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=256,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    T.LlamaForCausalLM(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def three_probes(subject, sites=("resid.1", "attn.2", "mlp.0")) -> dict[str, LinearProbe]:
    """A token-level, a mean-pooled and a last-pooled probe, at a block's output, an attention and an MLP."""
    return {
        "tokens": probe(subject, sites[0], 3, None, 0),
        "mean": probe(subject, sites[1], 2, "mean", 1),
        "last": probe(subject, sites[2], 2, "last", 2),
    }


def hf_subject(model: str):
    return incision.load(model)
