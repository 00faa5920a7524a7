"""One edit shape: every kind changes what the model computes while applied, leaves it exactly as it was after
(on error too), and reads back from its config to the same edit; in-memory orthogonalisation equals the hooked
ablation and puts a tied head back; the Monitor, the forward path and policies take edits in this shape."""

from __future__ import annotations

import pytest
import torch

from incision import ConfigError
from incision.core import forward
from incision.core.edits import KINDS, Applied, Edit, applied, as_edit, edit_from_config
from incision.monitor import Monitor
from incision.sae.config import SAEConfig
from incision.sae.formats import save as save_sae
from incision.sae.model import SparseAutoencoder
from incision.steer import Direction, LeaceFitter
from incision.steer.edit_kinds import (
    Ablate,
    ClampFeature,
    Erase,
    KeepMeansAblate,
    Orthogonalize,
    ProjectOut,
    Steer,
)

from ..conftest import tiny_subject
from .test_edits import tied_llama

TEXT = "the quick brown fox jumps over the lazy dog"


@pytest.fixture(scope="module")
def subject():
    return tiny_subject("llama")


def logits(subject) -> torch.Tensor:
    return forward.run(subject, torch.tensor([subject.encode(TEXT).ids])).logits


def direction(subject, seed: int = 0, site: str = "resid.1") -> Direction:
    g = torch.Generator().manual_seed(seed)
    return Direction({site: torch.randn(subject.d_model, generator=g) * 3})


@pytest.fixture(scope="module")
def edits(subject, tmp_path_factory):
    """One edit of every kind, each made from an artifact saved to a folder (so it has a config)."""
    root = tmp_path_factory.mktemp("edits")
    d = direction(subject)
    d.save(root / "direction")
    second = direction(subject, 1, "resid.0")
    second.save(root / "second")
    g = torch.Generator().manual_seed(2)
    fitter = LeaceFitter()
    fitter.update(torch.randn(400, subject.d_model, generator=g), torch.randint(0, 2, (400,), generator=g))
    eraser = fitter.eraser(meta={"site": "resid.1", "model": subject.name})
    eraser.save(root / "eraser")
    sae = SparseAutoencoder(SAEConfig(d_in=subject.d_model, d_sae=2 * subject.d_model, k=4), seed=0)
    save_sae(sae, root / "sae")
    texts = ["a calm sentence", "another plain line of text"]
    return {
        "steer": Steer(d, 4.0, folder=root / "direction"),
        "ablate": Ablate(d, folder=root / "direction"),
        "keep_means_ablate": KeepMeansAblate(d, folder=root / "direction", texts=None),
        "keep_means_custom": KeepMeansAblate(d, texts=texts),
        "project_out": ProjectOut([d, second], [str(root / "direction"), str(root / "second")]),
        "erase": Erase(eraser, folder=root / "eraser"),
        "clamp_feature": ClampFeature(sae, "resid.1", 3, 5.0, folder=root / "sae"),
        "orthogonalize": Orthogonalize(d, folder=root / "direction"),
    }


def test_every_kind_is_registered_and_tested(edits):
    assert set(KINDS) <= set(edits) and all(isinstance(e, Edit) for e in edits.values())


@pytest.mark.parametrize(
    "kind",
    ["steer", "ablate", "keep_means_ablate", "keep_means_custom", "project_out", "erase", "clamp_feature",
     "orthogonalize"],
)  # fmt: skip
def test_an_edit_changes_the_model_while_applied_and_leaves_it_as_it_was(subject, edits, kind):
    edit = edits[kind]
    clean = logits(subject)
    params = {n: p.detach().clone() for n, p in subject.model.named_parameters()}
    with edit.apply(subject) as edited:
        assert edited is subject
        changed = logits(subject)
    assert not torch.allclose(changed, clean, atol=1e-4)
    assert torch.equal(logits(subject), clean)
    assert all(torch.equal(p, params[n]) for n, p in subject.model.named_parameters())
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in subject.model.modules())
    if kind == "keep_means_custom":  # calibrated on given texts: refuses to write them into a config
        with pytest.raises(ConfigError, match="no config"):
            edit.to_config()
        return
    again = edit_from_config(edit.to_config(), subject)
    assert type(again) is type(edit) and again.to_config() == edit.to_config()
    with again.apply(subject):
        torch.testing.assert_close(logits(subject), changed, atol=1e-6, rtol=1e-6)


def test_orthogonalize_in_memory_equals_the_hooked_ablation_and_reties_the_head():
    subject = tied_llama()
    d = direction(subject, 3)
    clean = logits(subject)
    with Ablate(d).apply(subject):
        hooked = logits(subject)
    with Orthogonalize(d).apply(subject):
        assert subject.model.lm_head.weight is not subject.model.model.embed_tokens.weight
        torch.testing.assert_close(logits(subject), hooked, atol=1e-4, rtol=1e-4)
    assert subject.model.lm_head.weight is subject.model.model.embed_tokens.weight
    assert subject.model.config.tie_word_embeddings is True
    assert torch.equal(logits(subject), clean)


def test_edits_are_undone_when_the_block_fails(subject, edits):
    clean = logits(subject)
    with (
        pytest.raises(RuntimeError, match="inside"),
        applied(subject, [edits["steer"], edits["orthogonalize"]]),
    ):
        raise RuntimeError("inside")
    assert torch.equal(logits(subject), clean)
    handle = edits["ablate"].apply(subject)
    assert isinstance(handle, Applied)
    handle.remove()
    handle.remove()  # twice is harmless
    assert torch.equal(logits(subject), clean)


def test_configs_written_before_kinds_still_read(subject, edits):
    folder = edits["steer"].folder
    assert isinstance(edit_from_config({"direction": str(folder), "alpha": 2}, subject), Steer)
    assert isinstance(edit_from_config({"direction": str(folder), "ablate": True}, subject), Ablate)


def test_bad_configs_are_clear_errors(subject, edits):
    with pytest.raises(ConfigError, match="is not one of"):
        edit_from_config({"kind": "shrink", "direction": "x"})
    with pytest.raises(ConfigError, match="missing \\['alpha'\\]"):
        edit_from_config({"kind": "steer", "direction": str(edits["steer"].folder)})
    with pytest.raises(ConfigError, match="unknown \\['alhpa'\\]"):
        edit_from_config({"kind": "steer", "direction": "x", "alpha": 1, "alhpa": 2})
    with pytest.raises(ConfigError, match="must be a table"):
        edit_from_config(["steer"])
    with pytest.raises(ConfigError, match="no folder"):
        Steer(direction(subject), 1.0).to_config()
    with pytest.raises(ConfigError, match="has no config"):
        as_edit(lambda: torch.no_grad()).to_config()


def test_the_monitor_reads_the_edited_model_with_an_edit_object(subject, edits):
    from incision.probes.linear import LinearProbe

    g = torch.Generator().manual_seed(7)
    probe = LinearProbe.fit(
        torch.randn(100, subject.d_model, generator=g), torch.randint(0, 2, (100,), generator=g)
    )
    probe.pooling, probe.meta = "mean", {"site": "resid.1", "model": subject.name}
    plain = Monitor(subject, {"p": probe}).score([TEXT])[0].probes["p"].score
    by_object = Monitor(subject, {"p": probe}, edits=[edits["steer"]]).score([TEXT])[0].probes["p"].score
    by_factory = Monitor(subject, {"p": probe}, edits=[lambda: edits["steer"].apply(subject)])
    assert by_object != pytest.approx(plain)
    assert by_factory.score([TEXT])[0].probes["p"].score == pytest.approx(by_object)
