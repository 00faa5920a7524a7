"""Mixture-of-experts sites (router.L, experts.L, shared.L, expert.L.E) against Hugging Face's own outputs."""

from __future__ import annotations

from functools import cache

import pytest
import torch
import transformers as T

from incision import Subject, capture
from incision.core.hooks import add_output_hooks, add_replace_hook
from incision.errors import SiteError
from incision.steer.steering import generate, steer

from .conftest import TEXTS, _decoder_kwargs, make_tokenizer, tiny_subject

N_EXPERTS = 4


def _config(family: str, vocab: int):
    common = _decoder_kwargs(vocab) | dict(
        initializer_range=0.2,  # outputs well away from zero, so the comparisons below mean something
        num_experts_per_tok=2,
    )
    moe = dict(num_experts=N_EXPERTS, moe_intermediate_size=32)
    if family == "mixtral":
        return T.MixtralForCausalLM, T.MixtralConfig(**common, num_local_experts=N_EXPERTS)
    if family == "qwen2_moe":  # a shared expert; block 0 dense
        config = T.Qwen2MoeConfig(**common, **moe, shared_expert_intermediate_size=48, mlp_only_layers=[0])
        return T.Qwen2MoeForCausalLM, config
    if family == "qwen3_moe":  # block 1 dense: the MoE layers are not consecutive
        return T.Qwen3MoeForCausalLM, T.Qwen3MoeConfig(**common, **moe, head_dim=8, mlp_only_layers=[1])
    config = T.DeepseekV3Config(  # shared experts, grouped routing; block 0 dense
        **{**common, "num_key_value_heads": 4},
        n_routed_experts=N_EXPERTS,
        moe_intermediate_size=32,
        n_shared_experts=1,
        first_k_dense_replace=1,
        n_group=2,
        topk_group=1,
        kv_lora_rank=16,
        q_lora_rank=None,
        qk_rope_head_dim=8,
        qk_nope_head_dim=8,
        v_head_dim=8,
    )
    return T.DeepseekV3ForCausalLM, config


@cache
def moe_subject(family: str) -> Subject:
    tokenizer = make_tokenizer("bos")
    model_class, config = _config(family, len(tokenizer))
    torch.manual_seed(0)
    return Subject(model=model_class(config).eval(), tokenizer=tokenizer, name=f"tiny-{family}")


MOE_LAYERS = {"mixtral": [0, 1, 2], "qwen2_moe": [1, 2], "qwen3_moe": [0, 2], "deepseek_v3": [1, 2]}
FAMILIES = sorted(MOE_LAYERS)


def batch_ids(subject: Subject) -> torch.Tensor:
    return torch.randint(5, len(subject.tokenizer), (2, 7), generator=torch.Generator().manual_seed(1))


def read_sites(subject: Subject, sites: list[str], ids: torch.Tensor, **options) -> tuple[dict, object]:
    """Each site's output through incision's hooks, and the model's own output."""
    got: dict[str, torch.Tensor] = {}
    modules = {s: subject.resolve(s).module for s in sites}
    with torch.no_grad(), add_output_hooks(modules, lambda name, out: got.__setitem__(name, out)):
        out = subject.model(input_ids=ids, **options)
    return got, out


def plain_outputs(module: torch.nn.Module, subject: Subject, **inputs) -> tuple[list, object]:
    """The oracle: a module's outputs read with a plain PyTorch hook, and the model's own output."""
    outs: list = []
    handle = module.register_forward_hook(lambda m, i, o: outs.append(o))
    try:
        with torch.no_grad():
            return outs, subject.model(**inputs)
    finally:
        handle.remove()


@pytest.mark.parametrize("family", FAMILIES)
def test_router_equals_output_router_logits(family):
    subject, ids = moe_subject(family), batch_ids(moe_subject(family))
    layers = MOE_LAYERS[family]
    assert sorted(subject.site_map.moe) == layers
    got, out = read_sites(subject, [f"router.{L}" for L in layers], ids, output_router_logits=True)
    assert len(out.router_logits) == len(layers)
    for L, expected in zip(layers, out.router_logits, strict=True):
        assert got[f"router.{L}"].shape == (*ids.shape, N_EXPERTS)
        assert subject.width(f"router.{L}") == N_EXPERTS
        torch.testing.assert_close(got[f"router.{L}"].reshape(-1, N_EXPERTS), expected, rtol=0, atol=0)


@pytest.mark.parametrize("family", FAMILIES)
def test_experts_and_shared_reproduce_mlp_and_experts_sum_to_experts(family):
    subject, ids = moe_subject(family), batch_ids(moe_subject(family))
    sites = [s for s in subject.sites if s.split(".")[0] in ("mlp", "experts", "shared", "expert")]
    gates = {}
    for L in MOE_LAYERS[family]:  # Qwen2-MoE gates its shared expert by a sigmoid, outside the expert
        gate = getattr(subject.site_map.moe[L].block, "shared_expert_gate", None)
        if gate is not None:
            gates[L] = gate
    handles = [
        g.register_forward_hook(lambda m, i, o, L=L: gates.__setitem__(L, o)) for L, g in gates.items()
    ]
    try:
        got, _ = read_sites(subject, sites, ids)
    finally:
        for h in handles:
            h.remove()
    for L in MOE_LAYERS[family]:
        experts_BTD = got[f"experts.{L}"]
        assert experts_BTD.shape == (*ids.shape, subject.d_model)
        assert experts_BTD.abs().mean() > 1e-2
        total_BTD = experts_BTD
        if f"shared.{L}" in got:
            shared_BTD = got[f"shared.{L}"]
            scale = torch.sigmoid(gates[L]).reshape(*ids.shape, 1) if L in gates else 1.0
            total_BTD = experts_BTD + scale * shared_BTD
        torch.testing.assert_close(total_BTD, got[f"mlp.{L}"], rtol=1e-5, atol=1e-6)
        summed_BTD = sum(got[f"expert.{L}.{e}"] for e in range(N_EXPERTS))
        torch.testing.assert_close(summed_BTD, experts_BTD, rtol=1e-5, atol=1e-6)
    for L in set(range(subject.n_layers)) - set(MOE_LAYERS[family]):
        assert f"experts.{L}" not in got and f"mlp.{L}" in got


def test_an_expert_is_zero_where_it_was_not_routed():
    subject, ids = moe_subject("mixtral"), batch_ids(moe_subject("mixtral"))
    got, _ = read_sites(subject, ["router.1", "expert.1.2"], ids)
    chosen_BTK = got["router.1"].topk(2, dim=-1).indices
    routed_BT = (chosen_BTK == 2).any(-1)
    assert routed_BT.any() and not routed_BT.all()
    assert (got["expert.1.2"][~routed_BT] == 0).all()
    assert (got["expert.1.2"][routed_BT].abs().sum(-1) > 0).all()


def test_capture_router_and_experts_into_a_store_equals_hf(tmp_path):
    subject = moe_subject("mixtral")
    store = capture(
        subject, TEXTS, "router.*,experts.1", tmp_path / "s", dtype="float32", batch_tokens=64, progress=False
    )
    assert store.width("router.0") == N_EXPERTS and store.width("experts.1") == subject.d_model
    docs = store.tokens["doc"].to_numpy()
    experts = subject.site_map.moe[1].experts
    for doc, text in enumerate(TEXTS):
        rows = torch.from_numpy((docs == doc).nonzero()[0])
        enc = subject.tokenizer(text, return_tensors="pt")
        outs, out = plain_outputs(experts, subject, **enc, output_router_logits=True)
        for L in range(3):
            router = out.router_logits[L]
            torch.testing.assert_close(store.to_tensor(f"router.{L}")[rows], router, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(store.to_tensor("experts.1")[rows], outs[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("family", "site"), [("qwen2_moe", "experts.2"), ("deepseek_v3", "expert.1.3")])
def test_steering_experts_equals_adding_to_mlp(family, site):
    subject, ids = moe_subject(family), batch_ids(moe_subject(family))
    v_D = torch.randn(subject.d_model, generator=torch.Generator().manual_seed(2))
    mlp = subject.resolve(f"mlp.{site.split('.')[1]}").module
    with torch.no_grad():
        plain = subject.model(input_ids=ids).logits
        with add_replace_hook(mlp, lambda x: x + v_D):
            expected = subject.model(input_ids=ids).logits
        with steer(subject, {site: v_D}):
            steered = subject.model(input_ids=ids).logits
    assert not torch.allclose(plain, expected)
    torch.testing.assert_close(steered, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(subject.model(input_ids=ids).logits, plain)  # hooks gone


def test_steering_experts_under_generate_with_a_kv_cache():
    subject = moe_subject("mixtral")
    prompts = ["the quick brown fox", "hello"]
    v_D = 4 * torch.randn(subject.d_model, generator=torch.Generator().manual_seed(3))
    with steer(subject, {"experts.-1": v_D}) as steering:
        _, cached = generate(subject, prompts, steering, max_new_tokens=6)
        _, recomputed = generate(subject, prompts, steering, max_new_tokens=6, use_cache=False)
    assert cached.tolist() == recomputed.tolist()
    assert cached.tolist() != generate(subject, prompts, max_new_tokens=6)[1].tolist()


def test_the_router_cannot_be_replaced_and_hooks_are_removed():
    subject, ids = moe_subject("deepseek_v3"), batch_ids(moe_subject("deepseek_v3"))
    moe = subject.site_map.moe[1]
    parts = (moe.block, moe.router, moe.experts)
    before = [(dict(m._forward_hooks), dict(m._forward_pre_hooks)) for m in parts]  # HF keeps its own
    with (
        pytest.raises(SiteError, match="router.1"),
        add_replace_hook(subject.resolve("router.1").module, torch.zeros_like),
    ):
        subject.model(input_ids=ids)
    assert [(dict(m._forward_hooks), dict(m._forward_pre_hooks)) for m in parts] == before


def test_dense_blocks_have_no_moe_sites_and_errors_list_those_that_exist():
    subject = moe_subject("deepseek_v3")
    listing = "router.1..2, experts.1..2, shared.1..2, expert.1..2.0..3"
    assert subject.site_map.describe().endswith(listing)
    with pytest.raises(SiteError, match="block 0 is dense") as error:
        subject.resolve("router.0")
    assert listing in str(error.value)
    with pytest.raises(SiteError, match="router.1..2"):
        subject.resolve("expert.1.7")
    with pytest.raises(SiteError, match="out of range"):
        subject.resolve("router.3")
    assert "router.{0,2}" in moe_subject("qwen3_moe").site_map.describe()
    assert "shared" not in moe_subject("mixtral").site_map.describe()
    assert tiny_subject("llama").site_map.moe == {}


def test_patterns_and_forward_order():
    subject = moe_subject("qwen2_moe")
    assert subject.expand_sites("router.*") == ["router.1", "router.2"]
    assert subject.expand_sites("experts.*,shared.-1") == ["experts.1", "experts.2", "shared.2"]
    assert subject.expand_sites("expert.-1.*") == [f"expert.2.{e}" for e in range(N_EXPERTS)]
    assert len(subject.expand_sites("expert.*")) == 2 * N_EXPERTS
    block_1 = [s for s in subject.sites if s.split(".")[1:2] == ["1"]]
    assert block_1 == [
        "attn.1",
        "router.1",
        *(f"expert.1.{e}" for e in range(4)),
        "experts.1",
        "shared.1",
    ] + [
        "mlp.1",
        "resid.1",
    ]
    assert subject.resolve("router.-1").module is subject.resolve("router.2").module
