"""SAE inspection: top activations, histograms, promoted tokens and search, each against a brute-force
oracle, and the HTML dashboard (parses, escapes)."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pytest
import torch

from incision import ConfigError, InputError, capture
from incision.sae import SAEConfig, SparseAutoencoder
from incision.sae.dashboard import write_dashboard
from incision.sae.inspection import (
    FeatureHistogram,
    PromotedTokens,
    TopActivation,
    activation_histogram,
    promoted_tokens,
    search_features,
    top_activations,
)

from ..conftest import TEXTS, tiny_subject

SITE = "resid.1"
FEATURES = [0, 5, 17, 63]
# distinct first words: a causal model gives equal activations on equal prefixes, and ties would make the
# top-k order arbitrary
DOCS = [
    f"{w} {t}"
    for w, t in zip(
        ("alpha", "bravo", "cobalt", "dune", "echo", "fig", "gold", "hum"), TEXTS * 2, strict=True
    )
]


@pytest.fixture(scope="module")
def subject():
    return tiny_subject("llama")


@pytest.fixture(scope="module")
def store(subject, tmp_path_factory):
    out = tmp_path_factory.mktemp("inspect") / "store"
    return capture(subject, DOCS, [SITE], out, dtype="float32", progress=False)


@pytest.fixture(scope="module")
def sae():
    torch.manual_seed(0)
    model = SparseAutoencoder(SAEConfig(d_in=32, d_sae=64, architecture="relu"), seed=1)
    with torch.no_grad():
        model.b_enc_F.normal_(0, 0.5)  # a relu SAE so features fire on many tokens
    return model


def _text_mask(store) -> np.ndarray:
    t = store.tokens
    return t["char_end"].to_numpy() > t["char_start"].to_numpy()


def test_top_activations_equal_a_brute_force_argsort(sae, store):
    k = 5
    got = top_activations(sae, store, SITE, FEATURES, k=k, context=3, batch_tokens=7)
    with torch.no_grad():
        latents = sae.encode(store.to_tensor(SITE))
    text = _text_mask(store)
    tokens, docs = store.tokens, store.documents["text"].to_pylist()
    for f in FEATURES:
        acts = latents[:, f].numpy().copy()
        acts[~text] = -np.inf  # special tokens left out
        order = np.argsort(-acts, kind="stable")[:k]
        order = order[acts[order] > 0]
        recs = got[f]
        assert [r.row for r in recs] == order.tolist()
        np.testing.assert_allclose([r.value for r in recs], acts[order], rtol=1e-5)
        for r in recs:
            assert isinstance(r, TopActivation)
            assert (r.doc, r.position) == (tokens["doc"][r.row].as_py(), tokens["position"][r.row].as_py())
            start, end = tokens["char_start"][r.row].as_py(), tokens["char_end"][r.row].as_py()
            assert r.tokens[r.center] == docs[r.doc][start:end]
            assert r.acts[r.center] == pytest.approx(r.value, rel=1e-5)
            rows = np.arange(r.row - r.center, r.row - r.center + len(r.tokens))
            assert len(r.tokens) <= 7 and (tokens["doc"].to_numpy()[rows] == r.doc).all()
            expected = np.where(text[rows], latents[rows, f].numpy(), 0.0)
            np.testing.assert_allclose(r.acts, expected, rtol=1e-5, atol=1e-6)


def test_a_rare_feature_lists_only_where_it_fired(store):
    sae = SparseAutoencoder(SAEConfig(d_in=32, d_sae=64, architecture="relu"), seed=2)
    with torch.no_grad():
        sae.b_enc_F.fill_(-1e6)
    assert top_activations(sae, store, SITE, [3], k=4) == {3: []}
    hist = activation_histogram(sae, store, SITE, [3])[3]
    assert hist.n_fired == 0 and hist.counts.sum() == 0


def test_activation_histogram_matches_numpy(sae, store):
    got = activation_histogram(sae, store, SITE, FEATURES, bins=10, batch_tokens=9)
    with torch.no_grad():
        latents = sae.encode(store.to_tensor(SITE))[_text_mask(store)]
    for f in FEATURES:
        col = latents[:, f].numpy()
        counts, edges = np.histogram(col[col != 0], bins=10)
        h = got[f]
        assert isinstance(h, FeatureHistogram) and h.n_tokens == len(col)
        np.testing.assert_array_equal(h.counts, counts)
        np.testing.assert_allclose(h.edges, edges, rtol=1e-6)
        assert h.frequency == pytest.approx((col != 0).mean())


def test_promoted_tokens_equal_a_direct_matmul(sae, subject):
    got = promoted_tokens(sae, subject, FEATURES, k=4)
    model = subject.model
    logits = (sae.W_dec_FD.detach() * model.model.norm.weight.detach()) @ model.lm_head.weight.detach().T
    names = subject.tokenizer.convert_ids_to_tokens
    for f in FEATURES:
        p = got[f]
        assert isinstance(p, PromotedTokens)
        top = logits[f].topk(4)
        bottom = (-logits[f]).topk(4)
        assert [t for t, _ in p.promoted] == [names(int(i)) for i in top.indices]
        np.testing.assert_allclose([v for _, v in p.promoted], top.values.numpy(), rtol=1e-5)
        assert [t for t, _ in p.suppressed] == [names(int(i)) for i in bottom.indices]
        np.testing.assert_allclose([v for _, v in p.suppressed], -bottom.values.numpy(), rtol=1e-5)


GAINS = {  # the final norm's gain, named per family (Gemma's RMSNorm scales by 1 + weight)
    "gpt2": lambda m: m.transformer.ln_f.weight,
    "gpt_neox": lambda m: m.gpt_neox.final_layer_norm.weight,
    "llama": lambda m: m.model.norm.weight,
    "gemma3_text": lambda m: 1.0 + m.model.norm.weight,
}


@pytest.mark.parametrize("family", sorted(GAINS))
def test_promoted_tokens_go_through_each_familys_final_norm(family):
    subject = tiny_subject(family)
    sae = SparseAutoencoder(SAEConfig(d_in=32, d_sae=16, k=4), seed=0)
    with torch.no_grad():
        for module in subject.model.modules():
            if "norm" in type(module).__name__.lower() and getattr(module, "weight", None) is not None:
                module.weight.uniform_(0.5, 2.0)  # a gain of ones would hide a missing or wrong one
        gain = GAINS[family](subject.model)
        logits = (sae.W_dec_FD[2] * gain) @ subject.model.get_output_embeddings().weight.T
    got = promoted_tokens(sae, subject, [2], k=3)[2]
    np.testing.assert_allclose([v for _, v in got.promoted], logits.topk(3).values.numpy(), rtol=1e-5)


def test_search_features_equals_a_manual_encode(sae, subject, store):
    text = DOCS[3]
    got = search_features(sae, subject, SITE, text, k=6)
    enc = subject.encode(text)
    doc3 = store.tokens["doc"].to_numpy() == 3  # the same text captured into the store
    acts = store.to_tensor(SITE)[torch.from_numpy(doc3 & _text_mask(store))]
    with torch.no_grad():
        best, where = sae.encode(acts).max(dim=0)
    top = best.topk(6)
    assert [m.feature for m in got] == top.indices.tolist()
    np.testing.assert_allclose([m.value for m in got], top.values.numpy(), rtol=1e-4, atol=1e-5)
    text_positions = np.flatnonzero(np.asarray(enc.ends) > np.asarray(enc.starts))
    for m in got:
        assert m.position == text_positions[where[m.feature]]
        assert m.token == text[enc.starts[m.position] : enc.ends[m.position]]


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.data = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.data.append(data)


def test_dashboard_parses_and_escapes(sae, subject, store, tmp_path):
    top = top_activations(sae, store, SITE, FEATURES[:2], k=3)
    bad = TopActivation(99, 1.0, 0, 1, 1, ["a", "<script>alert(1)</script>", "b"], [0.1, 1.0, 0.0], 1)
    top[99] = [bad]
    hists = activation_histogram(sae, store, SITE, FEATURES[:2])
    promoted = promoted_tokens(sae, subject, FEATURES[:2], k=3)
    promoted[99] = PromotedTokens(99, [("<script>", 1.0)], [("&amp;", -1.0)])
    path = write_dashboard(tmp_path / "dash.html", top, hists, promoted, title="<b>t</b>")
    page = path.read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;script&gt;" in page and "&amp;amp;" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")  # self-contained
    parser = _Collect()
    parser.feed(page)
    assert "script" not in parser.tags and parser.tags.count("svg") == 2
    assert "<script>alert(1)</script>" in "".join(parser.data)
    assert page.count("class='card'") == 3


def test_bad_inputs_raise_clear_errors(sae, subject, store):
    wide = SparseAutoencoder(SAEConfig(d_in=16, d_sae=8, k=4), seed=0)
    with pytest.raises(ConfigError, match="width"):
        top_activations(wide, store, SITE, [0])
    with pytest.raises(ConfigError, match="features"):
        top_activations(sae, store, SITE, [64])
    with pytest.raises(ConfigError, match="width"):
        search_features(wide, subject, SITE, "hello")
    with pytest.raises(InputError, match="empty"):
        search_features(sae, subject, SITE, "")


def test_a_store_without_text_names_tokens_with_the_tokenizer(sae, subject, tmp_path):
    out = tmp_path / "notext"
    bare = capture(subject, DOCS[:3], [SITE], out, dtype="float32", progress=False, keep_text=False)
    with pytest.raises(InputError, match="tokenizer"):
        top_activations(sae, bare, SITE, [0], k=2)
    recs = top_activations(sae, bare, SITE, [0], k=2, context=2, tokenizer=subject.tokenizer)[0]
    names = subject.tokenizer.convert_ids_to_tokens
    ids = bare.tokens["token_id"].to_numpy()
    for r in recs:
        assert r.tokens[r.center] == names(int(ids[r.row]))
