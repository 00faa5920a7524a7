"""An interrupted capture, run again, ends as the store an uninterrupted capture makes; failures leave it consistent."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytest
import torch

from incision import ActivationStore, ConfigError, StoreError, Subject, capture
from incision.core.capture import _CaptureRun
from incision.core.store import layout
from incision.core.store.writer import StoreWriter

from .conftest import TEXTS, tiny_subject

DOCS = TEXTS + [
    "write to anna@example.com or call 555-0142 today",
    "the lazy dog sleeps",
    "full-width ＡＢＣ and 😀",
]
SITES = ["embed", "resid.1"]
PROBE = torch.tensor([[1, 40, 41, 42, 43, 44]])


def _capture(subject, out, texts=DOCS, **options) -> ActivationStore:
    options = {"dtype": "float32", "shard_tokens": 16, "batch_tokens": 32, "progress": False, **options}
    return capture(subject, texts, options.pop("sites", SITES), out, **options)


@pytest.fixture
def reference(llama_subject, tmp_path) -> ActivationStore:
    store = _capture(llama_subject, tmp_path / "reference")
    assert len(store.shards) >= 4, "the tests below need several shards"
    return store


def _logits(subject) -> torch.Tensor:
    with torch.no_grad():
        return subject.model(input_ids=PROBE).logits


def _assert_model_untouched(subject, logits_before: torch.Tensor) -> None:
    for name, module in subject.model.named_modules():
        assert not module._forward_hooks, f"hook left on {name or 'the model'}"
        assert not module._forward_pre_hooks, f"pre-hook left on {name or 'the model'}"
    assert torch.equal(_logits(subject), logits_before)


def _assert_consistent(root: Path, n_shards: int) -> ActivationStore:
    """The store on disk opens, lists exactly `n_shards` finished shards, and every listed file is intact."""
    store = ActivationStore.open(root)
    assert not store.complete
    assert len(store.shards) == n_shards
    assert [s["index"] for s in store.shards] == list(range(n_shards))
    store.verify()
    assert not [p for p in root.rglob("*.tmp")]
    if n_shards:
        assert store.tokens.num_rows == store.n_tokens
        for site in SITES:
            assert len(store.to_tensor(site)) == store.n_tokens
    return store


def _assert_same_store(store: ActivationStore, reference: ActivationStore) -> None:
    assert store.complete
    assert store.n_docs == reference.n_docs
    assert [s["docs"] for s in store.shards] == [s["docs"] for s in reference.shards]
    assert store.tokens.equals(reference.tokens)
    assert store.documents.equals(reference.documents)
    keys = list(zip(store.tokens["doc"].to_pylist(), store.tokens["position"].to_pylist(), strict=True))
    assert len(set(keys)) == len(keys), "duplicated (doc, position) rows"
    for site in SITES:
        assert torch.equal(store.to_tensor(site), reference.to_tensor(site))
    # every file byte for byte: what the manifest records of each shard is the same
    assert store.shards == reference.shards
    store.verify()


class _FailOnCall:
    """Wraps a function to raise `error` on its `n`th call (1-based); counts every call."""

    def __init__(self, function, n: int, error: BaseException):
        self.function, self.n, self.error, self.calls = function, n, error, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.n:
            raise self.error
        return self.function(*args, **kwargs)

    def as_method(self):
        """A plain function that wraps this object, so that setting it on a class binds `self`."""
        return lambda obj, *args, **kwargs: self(obj, *args, **kwargs)


def _interrupt_writes(subject, out, monkeypatch, n_shards: int) -> ActivationStore:
    """Capture DOCS into `out`, interrupted (Ctrl-C) while handing over shard `n_shards`."""
    flaky = _FailOnCall(StoreWriter.write_shard, n_shards + 1, KeyboardInterrupt())
    with monkeypatch.context() as patch:
        patch.setattr(StoreWriter, "write_shard", flaky.as_method())
        with pytest.raises(KeyboardInterrupt):
            _capture(subject, out)
    assert flaky.calls == n_shards + 1
    return _assert_consistent(out, n_shards)


def _count_shard_writes(monkeypatch) -> _FailOnCall:
    counter = _FailOnCall(StoreWriter.write_shard, 0, AssertionError("never"))
    monkeypatch.setattr(StoreWriter, "write_shard", counter.as_method())
    return counter


# -- interruption -----------------------------------------------------------------------------


def test_interrupted_capture_resumes_to_the_same_store(llama_subject, reference, tmp_path, monkeypatch):
    before = _logits(llama_subject)
    out = tmp_path / "run"
    partial = _interrupt_writes(llama_subject, out, monkeypatch, n_shards=2)
    _assert_model_untouched(llama_subject, before)
    assert partial.shards == reference.shards[:2]
    assert partial.n_docs == reference.shards[1]["docs"][1]
    assert partial.tokens.equals(reference.tokens.slice(0, partial.n_tokens))
    for site in SITES:
        assert torch.equal(partial.to_tensor(site), reference.to_tensor(site)[: partial.n_tokens])

    writes = _count_shard_writes(monkeypatch)
    resumed = _capture(llama_subject, out)
    assert writes.calls == len(reference.shards) - 2  # finished shards are not captured again
    _assert_same_store(resumed, reference)
    _assert_same_store(ActivationStore.open(out), reference)
    _assert_model_untouched(llama_subject, before)


def test_ctrl_c_during_a_forward_pass_keeps_the_shard_being_written(
    llama_subject, reference, tmp_path, monkeypatch
):
    before = _logits(llama_subject)
    out = tmp_path / "run"
    flaky = _FailOnCall(_CaptureRun.forward_shard, 3, KeyboardInterrupt())
    with monkeypatch.context() as patch:
        patch.setattr(_CaptureRun, "forward_shard", flaky.as_method())
        with pytest.raises(KeyboardInterrupt):
            _capture(llama_subject, out)
    _assert_model_untouched(llama_subject, before)
    _assert_consistent(out, 2)  # shard 1 was being written in the background: it is finished, not lost
    _assert_same_store(_capture(llama_subject, out), reference)


def test_rerunning_a_complete_capture_does_no_work(llama_subject, reference, monkeypatch):
    manifest = reference.root / layout.MANIFEST
    stamp, content = manifest.stat().st_mtime_ns, manifest.read_bytes()

    def boom(*args, **kwargs):
        raise AssertionError("a complete capture ran again")

    monkeypatch.setattr(StoreWriter, "write_shard", boom)
    monkeypatch.setattr(layout, "write_atomic", boom)
    monkeypatch.setattr(llama_subject.model.base_model, "forward", boom)
    again = _capture(llama_subject, reference.root)
    monkeypatch.undo()
    _assert_same_store(again, reference)
    assert manifest.stat().st_mtime_ns == stamp and manifest.read_bytes() == content


@pytest.mark.parametrize(
    "change, named",
    [
        ({"sites": ["resid.1"]}, "sites"),
        ({"sites": ["embed", "resid.0"]}, "sites"),
        ({"dtype": "bfloat16"}, "dtype"),
        ({"shard_tokens": 32}, "shard_tokens"),
        ({"window": 64}, "window"),
        ({"keep_text": False}, "keep_text"),
    ],
)
def test_resuming_with_other_settings_is_refused(llama_subject, tmp_path, monkeypatch, change, named):
    out = tmp_path / "run"
    _interrupt_writes(llama_subject, out, monkeypatch, n_shards=2)
    manifest = (out / layout.MANIFEST).read_bytes()
    with pytest.raises(
        StoreError, match=rf"captured with different settings \({named}\); pass overwrite=True"
    ):
        _capture(llama_subject, out, **change)
    assert (out / layout.MANIFEST).read_bytes() == manifest
    _assert_consistent(out, 2)


def test_rerunning_a_complete_capture_with_other_settings_is_refused(llama_subject, reference):
    with pytest.raises(StoreError, match=r"different settings \(dtype\)"):
        _capture(llama_subject, reference.root, dtype="float16")
    _assert_same_store(ActivationStore.open(reference.root), reference)


@pytest.mark.parametrize(
    "inputs",
    [
        pytest.param(["another first text"] + DOCS[1:], id="changed-text"),
        pytest.param([{"text": t, "label": 1} for t in DOCS], id="added-field"),
        pytest.param(DOCS[1:], id="removed-first"),
        pytest.param(DOCS[:1], id="fewer-than-captured"),
    ],
)
def test_resuming_with_other_inputs_is_refused(llama_subject, tmp_path, monkeypatch, inputs):
    out = tmp_path / "run"
    _interrupt_writes(llama_subject, out, monkeypatch, n_shards=2)
    with pytest.raises(
        StoreError, match=r"holds documents 0\.\.\d+ from different inputs; pass overwrite=True"
    ):
        _capture(llama_subject, out, texts=inputs)
    _assert_consistent(out, 2)


def test_overwrite_restarts_an_interrupted_store(llama_subject, reference, tmp_path, monkeypatch):
    out = tmp_path / "run"
    _interrupt_writes(llama_subject, out, monkeypatch, n_shards=2)
    store = _capture(llama_subject, out, texts=DOCS[:2], overwrite=True)
    fresh = _capture(llama_subject, tmp_path / "fresh", texts=DOCS[:2])
    _assert_same_store(store, fresh)


# -- corruption found on resume ---------------------------------------------------------------


@pytest.mark.parametrize("complete", [False, True], ids=["interrupted", "complete"])
@pytest.mark.parametrize(
    "rel_of", [lambda: layout.site_path("resid.1", 1), lambda: layout.docs_path(1)], ids=["shard", "table"]
)
def test_corrupted_shard_is_captured_again(llama_subject, reference, tmp_path, monkeypatch, complete, rel_of):
    out = tmp_path / "run"
    if complete:
        _capture(llama_subject, out)
    else:
        _interrupt_writes(llama_subject, out, monkeypatch, n_shards=3)
    path = out / rel_of()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    writes = _count_shard_writes(monkeypatch)
    resumed = _capture(llama_subject, out)
    assert writes.calls == len(reference.shards) - 1  # shard 0 is kept, shard 1 and after are captured again
    _assert_same_store(resumed, reference)


def test_truncated_shard_is_captured_again(llama_subject, reference, tmp_path, monkeypatch):
    out = tmp_path / "run"
    _interrupt_writes(llama_subject, out, monkeypatch, n_shards=3)
    path = out / layout.site_path("embed", 2)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(StoreError, match="truncated"):
        ActivationStore.open(out)
    _assert_same_store(_capture(llama_subject, out), reference)


# -- full disk --------------------------------------------------------------------------------


class _FailingWrite:
    """Patches the store's write_atomic so that the first write `when(rel, data)` picks fails with `code`.

    The failing write still runs the real write_atomic, with fsync failing (where a full disk often shows),
    so its temporary file is really created and must really be cleaned up. Writes are picked by what they
    write, not by counting, so the tests do not depend on how many files a shard takes.
    """

    def __init__(self, monkeypatch, root: Path, when: Callable[[str, bytes], bool], code: int = errno.ENOSPC):
        self.root, self.when, self.code = root, when, code
        self.real = layout.write_atomic
        self.written: list[str] = []
        self.failed: str | None = None
        monkeypatch.setattr(layout, "write_atomic", self)

    def __call__(self, path: Path, data: bytes) -> None:
        rel = Path(path).relative_to(self.root).as_posix()
        self.written.append(rel)
        if self.failed is None and self.when(rel, data):
            self.failed = rel
            with mock.patch.object(os, "fsync", side_effect=OSError(self.code, os.strerror(self.code))):
                self.real(path, data)
            raise AssertionError("the failing write did not fail")
        self.real(path, data)


def _manifest_listing(n_shards: int, complete: bool = False) -> Callable[[str, bytes], bool]:
    def when(rel: str, data: bytes) -> bool:
        if rel != layout.MANIFEST:
            return False
        manifest = json.loads(data)
        return len(manifest["shards"]) == n_shards and manifest["complete"] == complete

    return when


def _file(rel_wanted: str) -> Callable[[str, bytes], bool]:
    return lambda rel, _data: rel == rel_wanted


@pytest.mark.parametrize(
    "when, finished",
    [
        pytest.param(_file(layout.site_path("embed", 1)), 1, id="shard1-first-file"),
        pytest.param(_file(layout.tokens_path(1)), 1, id="shard1-tokens"),
        pytest.param(_manifest_listing(2), 1, id="shard1-manifest"),
        pytest.param(_file(layout.docs_path(2)), 2, id="shard2-docs"),
        pytest.param(
            _file(layout.site_path("resid.1", 0)),
            0,
            id="shard0-second-file",
        ),
        pytest.param(
            _manifest_listing(1),
            0,
            id="shard0-manifest",
        ),
    ],
)
def test_disk_full_keeps_the_store_consistent(
    llama_subject, reference, tmp_path, monkeypatch, when, finished
):
    before = _logits(llama_subject)
    out = tmp_path / "run"
    with monkeypatch.context() as patch:
        write = _FailingWrite(patch, out, when)
        with pytest.raises(
            StoreError,
            match=r"disk full while writing (.+); free space and run the same capture "
            r"again to resume",
        ) as info:
            _capture(llama_subject, out)
    assert write.failed is not None and write.failed in str(info.value)
    assert write.written[-1] == write.failed  # nothing was written after the failure
    assert not [p for p in out.rglob("*.tmp")]
    _assert_model_untouched(llama_subject, before)
    partial = _assert_consistent(out, finished)
    assert partial.shards == reference.shards[:finished]
    _assert_same_store(_capture(llama_subject, out), reference)
    _assert_model_untouched(llama_subject, before)


def test_disk_full_when_marking_the_store_complete(llama_subject, reference, tmp_path, monkeypatch):
    out = tmp_path / "run"
    n_shards = len(reference.shards)
    with monkeypatch.context() as patch:
        _FailingWrite(patch, out, _manifest_listing(n_shards, complete=True))
        with pytest.raises(StoreError, match=r"disk full while writing manifest\.json"):
            _capture(llama_subject, out)
    _assert_consistent(out, n_shards)  # every shard is there, but the store does not claim to be complete
    writes = _count_shard_writes(monkeypatch)
    _assert_same_store(_capture(llama_subject, out), reference)
    assert writes.calls == 0


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_disk_full_raised_by_write_atomic(llama_subject, reference, tmp_path, monkeypatch, code):
    out, failing = tmp_path / "run", layout.site_path("resid.1", 1)
    real = layout.write_atomic

    def write_atomic(path: Path, data: bytes) -> None:
        if Path(path) == out / failing:
            raise OSError(code, os.strerror(code))
        real(path, data)

    with monkeypatch.context() as patch:
        patch.setattr(layout, "write_atomic", write_atomic)
        with pytest.raises(StoreError, match=rf"disk full while writing {failing}"):
            _capture(llama_subject, out)
    _assert_consistent(out, 1)
    _assert_same_store(_capture(llama_subject, out), reference)


def test_other_os_errors_are_not_called_disk_full(llama_subject, tmp_path, monkeypatch):
    out = tmp_path / "run"
    with monkeypatch.context() as patch:
        _FailingWrite(patch, out, _file(layout.site_path("embed", 1)), code=errno.EIO)
        with pytest.raises(OSError) as info:
            _capture(llama_subject, out)
    assert info.value.errno == errno.EIO and not isinstance(info.value, StoreError)
    _assert_consistent(out, 1)


def test_files_of_an_unfinished_shard_are_not_part_of_the_store(llama_subject, tmp_path, monkeypatch):
    out = tmp_path / "run"
    with monkeypatch.context() as patch:
        _FailingWrite(
            patch, out, _manifest_listing(2)
        )  # shard 1's files are written, its manifest entry is not
        with pytest.raises(StoreError):
            _capture(llama_subject, out)
    manifest = json.loads((out / layout.MANIFEST).read_text())
    assert [s["index"] for s in manifest["shards"]] == [0]
    assert manifest["complete"] is False
    assert (out / layout.site_path("resid.1", 1)).exists()  # on disk, but not listed: not part of the store
    assert len(ActivationStore.open(out).to_tensor("resid.1")) == manifest["shards"][0]["n_tokens"]


def test_resuming_with_another_model_is_refused(llama_subject, tmp_path, monkeypatch):
    out = tmp_path / "run"
    _interrupt_writes(llama_subject, out, monkeypatch, n_shards=1)
    other = tiny_subject("llama", seed=1)  # same name and architecture, other weights
    with pytest.raises(StoreError, match=r"captured with different settings \(model\)"):
        _capture(other, out)
    with pytest.raises(StoreError, match=r"captured with different settings \(model\)"):
        _capture(
            Subject(llama_subject.model.to(torch.bfloat16), llama_subject.tokenizer, name="tiny-llama"), out
        )


def test_extending_a_complete_store_marks_it_incomplete_until_done(
    llama_subject, reference, tmp_path, monkeypatch
):
    out = tmp_path / "run"
    _capture(llama_subject, out, texts=DOCS[:2])
    flaky = _FailOnCall(StoreWriter.write_shard, 2, KeyboardInterrupt())
    with monkeypatch.context() as patch:
        patch.setattr(StoreWriter, "write_shard", flaky.as_method())
        with pytest.raises(KeyboardInterrupt):
            _capture(llama_subject, out)  # the same first documents, and more
    assert not ActivationStore.open(out).complete
    _assert_same_store(_capture(llama_subject, out), reference)


@pytest.mark.parametrize(
    "options,match",
    [
        ({"window": 2}, "window 2 must lie between 3 and"),
        ({"window": 4096}, "window 4096 must lie between .* context of 128"),
        ({"window": 8, "overlap": 7}, "overlap 7 leaves no room"),
    ],
)
def test_bad_window_is_refused_before_the_store_is_touched(
    llama_subject, reference, tmp_path, options, match
):
    out = tmp_path / "run"
    _capture(llama_subject, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(ConfigError, match=match):
        _capture(llama_subject, out, overwrite=True, **options)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
