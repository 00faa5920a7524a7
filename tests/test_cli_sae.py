"""`incision sae train` (from a store and from live capture) and `incision sae inspect`, run in-process on a
tiny model."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
import torch

from incision import capture
from incision.cli import main
from incision.core.store import ActivationStore
from incision.sae import SAEConfig, SparseAutoencoder, load, save
from incision.sae.inspection import activation_histogram, search_features

from .conftest import TEXTS, tiny_subject

SMALL = ["--d-sae", "64", "--k", "4", "--batch-size", "16", "--total-tokens", "128", "--warmup-steps", "1"]
QUIET = ["--no-progress", "--no-tensorboard", "--log-every", "2", "--eval-every", "4", "--eval-docs", "3"]


@pytest.fixture(scope="module")
def model_dir(saved_model_dir):
    return saved_model_dir


@pytest.fixture(scope="module")
def store_dir(model_dir):
    from incision import load as load_model

    out = model_dir.parent / "store"
    capture(load_model(model_dir), TEXTS * 4, "resid.1,resid.2", out, dtype="float32", progress=False)
    return out


def _records(folder) -> list[dict]:
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def test_sae_train_from_a_store(store_dir, model_dir, tmp_path, capsys):
    out = tmp_path / "sae"
    argv = ["sae", "train", "--store", str(store_dir), "--site", "resid.1", "--out", str(out), *SMALL, *QUIET]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "8 steps, 128 tokens" in printed and "loss_recovered" in printed
    sae = load(out)
    assert (sae.cfg.d_in, sae.cfg.d_sae, sae.cfg.k) == (32, 64, 4)
    assert sae.meta["site"] == "resid.1" and sae.meta["model"] == str(model_dir) and sae.meta["tokens"] == 128
    records = _records(out)
    assert [r["step"] for r in records] == [2, 4, 6, 8]
    assert [r["step"] for r in records if "loss_recovered" in r] == [4, 8]
    assert {"ce_loss_clean", "ce_loss_spliced", "ce_loss_zero", "fvu", "l0", "dead_fraction"} <= set(
        records[-1]
    )
    assert (out / "checkpoints").is_dir() and json.loads((out / "cfg.json").read_text())["metadata"][
        "hook_name"
    ] == "resid.1"

    # resuming a finished run trains no more and gives the same SAE
    assert main([*argv, "--resume"]) == 0
    assert torch.equal(load(out).W_dec_FD, sae.W_dec_FD)


def test_sae_train_from_live_capture(model_dir, tmp_path):
    data = tmp_path / "texts.jsonl"
    data.write_text(
        "\n".join(json.dumps({"body": t}, ensure_ascii=False) for t in TEXTS * 4), encoding="utf-8"
    )
    out = tmp_path / "live"
    live = ["sae", "train", "--model", str(model_dir), "--input", str(data), "--text-field", "body"]
    assert main([*live, "--site", "resid.-1", "--out", str(out), *SMALL, *QUIET, "--epochs", "3"]) == 0
    sae = load(out)
    assert sae.meta["site"] == "resid.2" and [r["step"] for r in _records(out) if "loss_recovered" in r] == [
        4,
        8,
    ]


def test_sae_train_reports_bad_input(store_dir, model_dir, tmp_path, capsys):
    base = ["sae", "train", "--site", "resid.1", "--out", str(tmp_path / "x"), *SMALL, *QUIET]

    def error(*argv) -> str:
        assert main([*base, *argv]) == 2
        return capsys.readouterr().err.strip().splitlines()[-1]

    assert "give either --store DIR" in error("--store", str(store_dir), "--input", "texts.txt")
    assert "give either --store DIR" in error()
    assert error("--store", str(store_dir), "--site", "resid.0").startswith(
        "error: site 'resid.0' is not in store"
    )
    assert "cannot hold out 16 of 16 documents" in error("--store", str(store_dir), "--eval-docs", "16")
    assert "eval_every (3) must be a multiple of log_every (2)" in error(
        "--store", str(store_dir), "--eval-every", "3"
    )
    assert "k must be at most d_sae (64), got 65" in error("--store", str(store_dir), "--k", "65")
    other = tmp_path / "other"
    subject = tiny_subject("llama", seed=1)
    subject.model.config.num_hidden_layers = 3
    subject.model.config.hidden_act = "gelu"  # another config
    subject.model.save_pretrained(other)
    subject.tokenizer.save_pretrained(other)
    assert "is not the one store" in error("--store", str(store_dir), "--model", str(other))


# -- incision sae inspect ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sae_dir(model_dir):
    """A relu SAE on resid.1 with biased encoders, so that features fire on many tokens."""
    out = model_dir.parent / "inspect-sae"
    sae = SparseAutoencoder(
        SAEConfig(d_in=32, d_sae=64, architecture="relu"), seed=1, meta={"site": "resid.1"}
    )
    with torch.no_grad():
        sae.b_enc_F.normal_(0, 0.02, generator=torch.Generator().manual_seed(0))  # pre-activations: std ~0.02
    save(sae, out)
    return out


class _Cards(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cards, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if attrs.get("class") == "card":
            self.cards.append(int(attrs["id"].removeprefix("f")))


def _inspect(store_dir, sae_dir, out, *argv) -> list[int]:
    """Run the command; the features of the dashboard's cards, in order."""
    base = ["sae", "inspect", "--sae", str(sae_dir), "--store", str(store_dir), "--out", str(out)]
    assert main([*base, "--k", "3", "--context", "2", *argv]) == 0
    parser = _Cards()
    parser.feed(out.read_text(encoding="utf-8"))
    assert parser.tags.count("svg") == len(parser.cards)  # a histogram per card
    return parser.cards


def test_sae_inspect_writes_a_card_per_feature(store_dir, sae_dir, tmp_path, capsys):
    out = tmp_path / "dash.html"
    assert _inspect(store_dir, sae_dir, out, "--features", "9,1,5,1", "--site", "resid.1") == [9, 1, 5]
    page = out.read_text(encoding="utf-8")
    assert page.count("promoted / suppressed tokens") == 3 and page.count("top activations") == 3
    printed = capsys.readouterr().out
    assert "3 features (9, 1, 5)" in printed and str(out) in printed
    words = {w for t in TEXTS for w in re.findall(r"\w{3,}", t)}
    assert not any(w in printed for w in words)  # the store's text goes into the file only


def test_sae_inspect_top_picks_the_most_frequent_features(store_dir, sae_dir, tmp_path):
    cards = _inspect(store_dir, sae_dir, tmp_path / "top.html", "--top", "5", "--no-promoted")
    hists = activation_histogram(load(sae_dir), ActivationStore.open(store_dir), "resid.1", range(64))
    fired = {f: h.n_fired for f, h in hists.items()}
    assert cards == sorted(fired, key=lambda f: (-fired[f], f))[:5]
    assert len(set(fired.values())) > 5  # the choice is not just ties
    assert "promoted" not in (tmp_path / "top.html").read_text(encoding="utf-8")


def test_sae_inspect_search_picks_the_features_most_active_on_a_text(store_dir, sae_dir, model_dir, tmp_path):
    from incision import load as load_model

    text = "the lazy dog jumps again"
    cards = _inspect(store_dir, sae_dir, tmp_path / "s.html", "--search", text, "--top", "4", "--no-promoted")
    found = search_features(load(sae_dir), load_model(model_dir), "resid.1", text, k=4)
    assert cards == [m.feature for m in found]


def test_sae_inspect_reports_bad_input(store_dir, sae_dir, tmp_path, capsys):
    base = ["sae", "inspect", "--store", str(store_dir), "--out", str(tmp_path / "x.html"), "--no-promoted"]

    def error(*argv, sae=sae_dir) -> str:
        assert main([*base, "--sae", str(sae), *argv]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1  # no traceback
        return err[0]

    assert error("--features", "3,64") == "error: feature 64 is not in the SAE, whose ids run from 0 to 63"
    assert "got 'x' in '1,x'" in error("--features", "1,x")
    assert "--top must be between 1 and the SAE's 64 features, got 65" in error("--top", "65")
    assert "not both" in error("--features", "1", "--top", "2")
    assert "choose features" in error()
    assert error("--features", "1", "--site", "resid.0").startswith("error: site 'resid.0' is not in store")
    wide = tmp_path / "wide"
    save(SparseAutoencoder(SAEConfig(d_in=16, d_sae=8, k=4), seed=0, meta={"site": "resid.1"}), wide)
    assert "the SAE reads width 16, but site 'resid.1'" in error("--features", "1", sae=wide)
    assert not (tmp_path / "x.html").exists()
