"""The activation store: a round trip against the tokenizer and a plain forward pass, reading, and corruption."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from incision import ActivationStore, SiteError, StoreError, capture
from incision.core.store import layout

from .conftest import TEXTS, tiny_subject

DOCS = TEXTS + [
    "write to anna@example.com or call 555-0142 today",
    "the lazy dog sleeps",
    "full-width ＡＢＣ and 😀",
]
SITES = ["embed", "resid.1"]


def _capture(subject, out, texts=DOCS, **options) -> ActivationStore:
    options = {"dtype": "float32", "shard_tokens": 16, "batch_tokens": 32, "progress": False, **options}
    return capture(subject, texts, SITES, out, **options)


@pytest.fixture
def store(llama_subject, tmp_path) -> ActivationStore:
    store = _capture(llama_subject, tmp_path / "store")
    assert len(store.shards) >= 3, "the tests below need several shards"
    return store


def _flip_byte(path: Path, where: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * where)] ^= 0xFF
    path.write_bytes(bytes(data))


def _files_on_disk(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


# -- round trip -------------------------------------------------------------------------------


def test_token_table_is_the_tokenizers_own_encoding(llama_subject, store):
    expected = []
    for doc, text in enumerate(DOCS):
        enc = llama_subject.encode(text)
        assert enc.ids == llama_subject.tokenizer(text)["input_ids"]  # the tokenizer itself, no incision code
        expected += [(doc, p, enc.ids[p], enc.starts[p], enc.ends[p]) for p in range(len(enc))]
    columns = ("doc", "position", "token_id", "char_start", "char_end")
    assert store.tokens.column_names[:5] == list(columns)
    assert list(zip(*(store.tokens.column(c).to_pylist() for c in columns), strict=True)) == expected

    documents = store.documents.to_pydict()
    assert documents["doc"] == list(range(len(DOCS)))
    assert documents["n_tokens"] == [len(llama_subject.encode(t)) for t in DOCS]
    assert documents["text"] == DOCS


def test_char_spans_cover_the_text(store):
    tokens = store.tokens.to_pydict()
    for doc, text in enumerate(DOCS):
        rows = [r for r, d in enumerate(tokens["doc"]) if d == doc]
        spans = [(tokens["char_start"][r], tokens["char_end"][r]) for r in rows]
        assert all(0 <= s <= e <= len(text) for s, e in spans)
        assert spans[0] == (0, 0)  # the BOS token sits on the start of the text
        assert max(e for _, e in spans) == len(text)


def test_store_facts(llama_subject, store):
    n_tokens = sum(len(llama_subject.encode(t)) for t in DOCS)
    assert store.n_tokens == len(store) == store.tokens.num_rows == n_tokens
    assert store.n_docs == len(DOCS)
    assert store.complete
    assert store.sites == SITES
    assert store.dtype == torch.float32
    assert store.model["d_model"] == llama_subject.d_model
    for site in SITES:
        assert store.width(site) == llama_subject.d_model
        assert store.to_tensor(site).shape == (n_tokens, llama_subject.d_model)
    bounds = [tuple(s["docs"]) for s in store.shards]
    assert bounds[0][0] == 0 and bounds[-1][1] == len(DOCS)
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:], strict=False))  # whole documents, no gaps
    assert _files_on_disk(store.root) == {layout.MANIFEST} | {f for s in store.shards for f in s["files"]}
    store.verify()


def test_values_equal_a_plain_forward_pass(llama_subject, store):
    tokens_doc = store.tokens.column("doc").to_numpy()
    acts = {site: store.to_tensor(site) for site in SITES}
    for doc, text in enumerate(DOCS):
        ids = torch.tensor([llama_subject.tokenizer(text)["input_ids"]])
        with torch.no_grad():
            hidden = llama_subject.model(input_ids=ids, output_hidden_states=True).hidden_states
        rows = torch.from_numpy(np.flatnonzero(tokens_doc == doc))
        torch.testing.assert_close(acts["embed"][rows], hidden[0][0], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(acts["resid.1"][rows], hidden[2][0], rtol=1e-4, atol=1e-5)


def test_to_tensor_equals_the_batches_in_order(store):
    for site in SITES:
        batches = list(store.iter_batches(site, batch_tokens=7))
        assert [len(b) for b in batches[:-1]] == [7] * (len(batches) - 1)
        assert 1 <= len(batches[-1]) <= 7
        assert torch.equal(torch.cat(batches), store.to_tensor(site))


def _multiset(rows: torch.Tensor) -> Counter:
    return Counter(r.numpy().tobytes() for r in rows)


def test_shuffled_batches_are_a_seeded_permutation(store):
    site = "resid.1"
    full = store.to_tensor(site)
    shuffled = torch.cat(list(store.iter_batches(site, batch_tokens=7, shuffle=True, seed=1)))
    assert _multiset(shuffled) == _multiset(full)  # every row exactly once
    assert not torch.equal(shuffled, full)
    again = torch.cat(list(store.iter_batches(site, batch_tokens=5, shuffle=True, seed=1)))
    assert torch.equal(again, shuffled)  # the order depends on the seed, not on the batch size
    other = torch.cat(list(store.iter_batches(site, batch_tokens=7, shuffle=True, seed=2)))
    assert _multiset(other) == _multiset(full) and not torch.equal(other, shuffled)
    # rows of every site move together, so batches of two sites stay aligned token by token
    embed = torch.cat(list(store.iter_batches("embed", batch_tokens=7, shuffle=True, seed=1)))
    pairs, shuffled_pairs = torch.cat([store.to_tensor("embed"), full], 1), torch.cat([embed, shuffled], 1)
    assert _multiset(shuffled_pairs) == _multiset(pairs)


def test_iter_batches_casts_and_checks_batch_tokens(store):
    batch = next(store.iter_batches("embed", batch_tokens=4, dtype=torch.bfloat16))
    assert batch.dtype == torch.bfloat16
    assert torch.equal(batch, store.to_tensor("embed")[:4].to(torch.bfloat16))
    for bad in (0, -3, 2.5):
        with pytest.raises(ValueError, match="batch_tokens must be a positive integer"):
            next(store.iter_batches("embed", batch_tokens=bad))


def _mapped_file(address: int) -> str | None:
    with open("/proc/self/maps") as maps:
        for line in maps:
            parts = line.split(maxsplit=5)
            low, high = (int(x, 16) for x in parts[0].split("-"))
            if low <= address < high:
                return parts[5].strip() if len(parts) == 6 else None
    return None


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc/self/maps (Linux)")
def test_shards_are_memory_mapped(store):
    for site in SITES:
        for shard in store.shards:
            path = store.root / layout.site_path(site, shard["index"])
            tensor = store.shard(site, shard["index"])
            assert torch.equal(tensor, load_file(path)["acts"])  # the safetensors library as oracle
            assert len(tensor) == shard["n_tokens"]
            assert Path(_mapped_file(tensor.data_ptr())).resolve() == path.resolve()


def test_writing_to_a_mapped_shard_never_changes_the_file(store):
    tensor = store.shard("resid.1", 0)
    original = tensor.clone()
    tensor += 1.0
    reopened = ActivationStore.open(store.root)
    assert torch.equal(reopened.shard("resid.1", 0), original)
    reopened.verify()


def test_unknown_site_lists_the_stores_sites(store):
    expected = r"site 'resid\.2' is not in store .*; it has \['embed', 'resid\.1'\]"
    with pytest.raises(SiteError, match=expected):
        store.shard("resid.2", 0)
    with pytest.raises(SiteError, match=expected):
        store.to_tensor("resid.2")
    with pytest.raises(SiteError, match=expected):
        store.width("resid.2")
    with pytest.raises(SiteError, match=expected):
        next(store.iter_batches("resid.2", batch_tokens=4))


# -- dtypes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_stored_in_the_dtype_asked_for(llama_subject, tmp_path, dtype):
    expected = getattr(torch, dtype)
    store = _capture(llama_subject, tmp_path / "store", dtype=dtype)
    assert store.dtype == expected
    assert json.loads((store.root / layout.MANIFEST).read_text())["settings"]["dtype"] == dtype
    for site in SITES:
        assert store.to_tensor(site).dtype == expected
        assert next(store.iter_batches(site, batch_tokens=3)).dtype == expected
        for shard in store.shards:
            on_disk = load_file(store.root / layout.site_path(site, shard["index"]))["acts"]
            assert on_disk.dtype == expected
            assert torch.equal(store.shard(site, shard["index"]), on_disk)


def test_half_precision_is_the_rounded_float32_capture(llama_subject, tmp_path):
    full = _capture(llama_subject, tmp_path / "f32")
    for dtype in (torch.float16, torch.bfloat16):
        half = _capture(llama_subject, tmp_path / str(dtype), dtype=str(dtype).removeprefix("torch."))
        for site in SITES:
            # the forward pass runs in float32 either way; only the stored values are rounded
            assert torch.equal(half.to_tensor(site), full.to_tensor(site).to(dtype))
            torch.testing.assert_close(
                half.to_tensor(site, dtype=torch.float32),
                full.to_tensor(site),
                rtol=2**-7 if dtype == torch.bfloat16 else 2**-10,
                atol=1e-5,
            )


def test_float16_overflow_suggests_bfloat16(tmp_path):
    subject = tiny_subject("llama")
    with torch.no_grad():
        subject.model.get_input_embeddings().weight.mul_(1e8)
        logits = subject.model(input_ids=torch.tensor([[1, 40, 41]])).logits
    wide = _capture(subject, tmp_path / "bf16", dtype="bfloat16")
    assert wide.to_tensor("embed").float().abs().max() > torch.finfo(torch.float16).max
    with pytest.raises(
        ValueError,
        match=r"site embed has activations up to .*beyond float16's range; "
        r"capture with dtype='bfloat16'",
    ):
        _capture(subject, tmp_path / "f16", dtype="float16")
    assert not any(m._forward_hooks for m in subject.model.modules())
    with torch.no_grad():
        assert torch.equal(subject.model(input_ids=torch.tensor([[1, 40, 41]])).logits, logits)
    failed = tmp_path / "f16"
    assert ActivationStore.open(failed).n_tokens == 0  # the manifest is written before the first shard


# -- corruption -------------------------------------------------------------------------------


def test_flipped_byte_fails_its_checksum(store):
    rel = layout.site_path("resid.1", 1)
    _flip_byte(store.root / rel)
    reopened = ActivationStore.open(store.root)  # the size still matches: only reading finds it
    reopened.shard("resid.1", 0)
    reopened.to_tensor("embed")  # other sites are fine
    with pytest.raises(StoreError, match=rf"{rel}.*fails its checksum"):
        reopened.to_tensor("resid.1")
    with pytest.raises(StoreError, match="checksum"):
        list(reopened.iter_batches("resid.1", batch_tokens=4))  # fails on reaching the bad shard
    with pytest.raises(StoreError, match="checksum"):
        reopened.verify()


def test_flipped_byte_in_a_table_fails_its_checksum(store):
    _flip_byte(store.root / layout.tokens_path(0))
    reopened = ActivationStore.open(store.root)
    with pytest.raises(StoreError, match=r"tokens/000000\.parquet.*checksum"):
        _ = reopened.tokens
    _flip_byte(store.root / layout.docs_path(1), where=0.3)
    with pytest.raises(StoreError, match=r"docs/000001\.parquet.*checksum"):
        _ = reopened.documents


def test_truncated_shard_is_refused_on_open(store):
    path = store.root / layout.site_path("embed", 1)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(StoreError, match=r"shards/embed/000001\.safetensors .*is truncated or missing"):
        ActivationStore.open(store.root)


def test_missing_shard_is_refused_on_open(store):
    (store.root / layout.tokens_path(2)).unlink()
    with pytest.raises(StoreError, match=r"tokens/000002\.parquet .*truncated or missing \(missing\)"):
        ActivationStore.open(store.root)


def test_deleted_manifest(store):
    (store.root / layout.MANIFEST).unlink()
    with pytest.raises(StoreError, match=r"is not an activation store: it has no manifest\.json"):
        ActivationStore.open(store.root)


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe\x00", b"half"])
def test_garbage_manifest(store, content):
    path = store.root / layout.MANIFEST
    if content == b"half":
        content = path.read_bytes()[: len(path.read_bytes()) // 2]
    path.write_bytes(content)
    with pytest.raises(StoreError, match=r"manifest\.json is corrupted"):
        ActivationStore.open(store.root)


def test_manifest_of_another_format_version(store):
    path = store.root / layout.MANIFEST
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(StoreError, match=r"format_version 99; this incision reads version 1"):
        ActivationStore.open(store.root)


def test_open_a_folder_that_does_not_exist(tmp_path):
    with pytest.raises(StoreError, match="is not an activation store"):
        ActivationStore.open(tmp_path / "nothing")


# -- the out folder ---------------------------------------------------------------------------


@pytest.mark.parametrize("overwrite", [False, True])
def test_foreign_folder_is_refused_and_untouched(llama_subject, tmp_path, overwrite):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my own notes")
    with pytest.raises(StoreError, match=r"folder '.*mine' is not empty and is not an activation store"):
        _capture(llama_subject, out, overwrite=overwrite)
    assert _files_on_disk(out) == {"notes.txt"}
    assert (out / "notes.txt").read_text() == "my own notes"


def test_out_path_that_is_a_file(llama_subject, tmp_path):
    out = tmp_path / "file.bin"
    out.write_bytes(b"data")
    with pytest.raises(StoreError, match="is a file"):
        _capture(llama_subject, out)
    assert out.read_bytes() == b"data"


def test_empty_existing_folder_is_fine(llama_subject, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert _capture(llama_subject, out, texts=TEXTS[:2]).n_docs == 2


def test_overwrite_replaces_a_store(llama_subject, tmp_path):
    out = tmp_path / "store"
    old = _capture(llama_subject, out, shard_tokens=8)
    with pytest.raises(StoreError, match="different settings"):
        _capture(llama_subject, out, texts=TEXTS[:2], shard_tokens=32)
    new = _capture(llama_subject, out, texts=TEXTS[:2], shard_tokens=32, overwrite=True)
    assert len(new.shards) < len(old.shards)
    assert new.n_docs == 2 and new.documents.column("text").to_pylist() == TEXTS[:2]
    listed = {layout.MANIFEST} | {f for s in new.shards for f in s["files"]}
    assert _files_on_disk(out) == listed  # nothing stale is left from the old store
    reference = _capture(llama_subject, tmp_path / "fresh", texts=TEXTS[:2], shard_tokens=32)
    for site in SITES:
        assert torch.equal(new.to_tensor(site), reference.to_tensor(site))
    assert new.tokens.equals(reference.tokens)


def test_overwrite_deletes_only_the_stores_own_files(llama_subject, tmp_path):
    out = tmp_path / "store"
    _capture(llama_subject, out)
    (out / "notes.txt").write_text("mine")
    (out / "shards" / "mine.bin").write_bytes(b"x")  # inside a store folder: the store owns it
    store = _capture(llama_subject, out, texts=DOCS[:2], overwrite=True)
    assert (out / "notes.txt").read_text() == "mine"
    assert not (out / "shards" / "mine.bin").exists()
    assert store.n_docs == 2


def test_overwrite_refuses_a_folder_whose_manifest_is_not_a_stores(llama_subject, tmp_path):
    out = tmp_path / "webapp"
    out.mkdir()
    (out / "manifest.json").write_text('{"name": "my web app"}')
    with pytest.raises(StoreError, match="not an activation store"):
        _capture(llama_subject, out, overwrite=True)
    assert (out / "manifest.json").read_text() == '{"name": "my web app"}'


def test_negative_layers_count_from_the_end_of_the_captured_model(llama_subject, tmp_path):
    last = llama_subject.n_layers - 1
    stored = capture(llama_subject, DOCS[:3], ["resid.-1"], tmp_path / "s", dtype="float32", progress=False)
    assert stored.sites == [f"resid.{last}"]
    assert stored.resolve("resid.-1") == f"resid.{last}"
    assert torch.equal(stored.to_tensor("resid.-1"), stored.to_tensor(f"resid.{last}"))
    assert torch.equal(stored.shard("resid.-1", 0), stored.shard(f"resid.{last}", 0))
    assert torch.equal(stored.gather("resid.-1", [2, 0]), stored.gather(f"resid.{last}", [2, 0]))
    assert torch.equal(
        next(stored.iter_batches("resid.-1", 4)), next(stored.iter_batches(f"resid.{last}", 4))
    )
    assert stored.width("resid.-1") == llama_subject.d_model
    with pytest.raises(SiteError, match=r"'resid\.-99' is out of range.*has \['resid\.2'\]"):
        stored.to_tensor("resid.-99")
    with pytest.raises(SiteError, match=r"site 'resid\.-2' is not in store .*; it has \['resid\.2'\]"):
        stored.to_tensor("resid.-2")
