"""Site names: resolution, negative layers, patterns, and errors that list what exists."""

from __future__ import annotations

import pytest

from incision import SiteError

from .conftest import tiny_subject


def test_sites_listed_in_forward_order(llama_subject):
    assert llama_subject.sites == [
        "embed",
        "attn.0",
        "mlp.0",
        "resid.0",
        "attn.1",
        "mlp.1",
        "resid.1",
        "attn.2",
        "mlp.2",
        "resid.2",
    ]


def test_every_family_resolves_every_kind(family_subject):
    for kind in ("resid", "attn", "mlp"):
        assert family_subject.resolve(f"{kind}.0").module is not None
    assert family_subject.resolve("embed").module is not None


def test_negative_layers_count_from_the_end(llama_subject):
    assert llama_subject.resolve("resid.-1").name == "resid.2"
    assert llama_subject.resolve("mlp.-3").module is llama_subject.resolve("mlp.0").module


def test_patterns_expand_in_forward_order(llama_subject):
    assert llama_subject.expand_sites("resid.*") == ["resid.0", "resid.1", "resid.2"]
    assert llama_subject.expand_sites("resid.-1, embed,attn.1") == ["embed", "attn.1", "resid.2"]
    assert llama_subject.expand_sites(["mlp.1", "mlp.1"]) == ["mlp.1"]


@pytest.mark.parametrize("site", ["resid.3", "resid.-4", "attn.99"])
def test_out_of_range(llama_subject, site):
    with pytest.raises(SiteError, match=rf"{site}.*out of range.*0 to 2"):
        llama_subject.resolve(site)


@pytest.mark.parametrize("site", ["residual.1", "resid", "blocks.0", "resid.1.x", ""])
def test_unknown_site_lists_valid_ones(llama_subject, site):
    with pytest.raises(SiteError, match=r"embed, resid\.0\.\.2, attn\.0\.\.2, mlp\.0\.\.2"):
        llama_subject.expand_sites([site]) if site else llama_subject.expand_sites("")


def test_guessed_family_finds_its_parts():
    subject = tiny_subject("phi3")  # not in the family table
    block = subject.site_map.blocks[1]
    assert subject.resolve("attn.1").module is block.self_attn
    assert subject.resolve("mlp.1").module is block.mlp
    assert subject.resolve("embed").module is subject.model.get_input_embeddings()
