"""Capture on a local Ray cluster (two CPU workers, one model each) writes the store that single-process
capture writes, file for file (the manifests, with every file's sha256, are equal); it resumes a store
either kind of run started; errors come back as incision's own."""

from __future__ import annotations

import json

import pytest
import torch

import incision
from incision import SiteError
from incision.cli import main
from incision.distributed.ray_capture import capture_on_ray
from incision.distributed.ray_config import RayConfig

from ..conftest import save_tiny_model

ray = pytest.importorskip("ray")

SITES = "embed,resid.0,attn.1,mlp.2"
TEXTS = [f"record {i}: " + "the quick brown fox jumps over the lazy dog " * (i % 5 + 1) for i in range(24)]
OPTIONS = {"shard_tokens": 96, "window": 32, "overlap": 8, "progress": False}  # long texts cross windows


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return str(save_tiny_model(tmp_path_factory.mktemp("ray") / "model"))


@pytest.fixture(scope="module")
def single(folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("single") / "store"
    incision.capture(incision.load(folder), TEXTS, SITES, out, **OPTIONS)
    return out


def manifest(store) -> dict:
    return json.loads((store / "manifest.json").read_text())


def test_two_workers_write_the_single_process_store(cluster, folder, single, tmp_path):
    store = capture_on_ray(folder, TEXTS, SITES, tmp_path / "ray", RayConfig(workers=2), **OPTIONS)
    expected = manifest(single)
    assert len(expected["shards"]) >= 6 and expected["complete"]
    assert manifest(tmp_path / "ray") == expected  # settings, widths, shard ranges and every file's sha256
    reference = incision.ActivationStore.open(single)
    for site in reference.sites:
        assert torch.equal(store.to_tensor(site), reference.to_tensor(site))
    assert store.tokens.equals(reference.tokens) and store.documents.equals(reference.documents)


def test_resumes_a_store_single_process_capture_left_unfinished(cluster, folder, single, tmp_path):
    out = tmp_path / "resumed"
    incision.capture(incision.load(folder), TEXTS, SITES, out, **OPTIONS)
    cut = manifest(out)
    cut["shards"], cut["complete"], cut["n_docs"] = cut["shards"][:2], False, None
    (out / "manifest.json").write_text(json.dumps(cut))  # as if interrupted after two shards
    (out / "shards/resid.0/000003.safetensors").write_bytes(b"half a file")  # a shard that was in flight
    capture_on_ray(folder, TEXTS, SITES, out, RayConfig(workers=2), **OPTIONS)
    assert manifest(out) == manifest(single)


def test_errors_come_back_as_incision_errors(cluster, folder, tmp_path):
    with pytest.raises(SiteError, match="resid.9"):
        capture_on_ray(folder, TEXTS, "resid.9", tmp_path / "bad", RayConfig(workers=1), **OPTIONS)
    assert not (tmp_path / "bad").exists()  # refused before the store was created


def test_cli_captures_on_the_running_cluster(cluster, folder, single, tmp_path, capsys):
    texts = tmp_path / "texts.jsonl"
    texts.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS))
    argv = ["capture", "--ray", "--workers", "2", "--model", folder, "--sites", SITES, "--input", str(texts)]
    argv += ["--out", str(tmp_path / "cli"), "--shard-tokens", "96", "--window", "32", "--overlap", "8"]
    assert main([*argv, "--no-progress"]) == 0
    assert manifest(tmp_path / "cli")["shards"] == manifest(single)["shards"]
