"""The one forward path: batching keeps every window once within its budget, a stopped pass reads what the
full model computes, edits and hooks come off (also on error), generation equals `model.generate`, and no
other module runs a stopped pass or pads on its own."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import torch

from incision import ConfigError, InputError
from incision.core import forward
from incision.core.tokens import text_mask

from .conftest import tiny_subject

TEXTS = ["the quick brown fox", "call me at 555-0142", "山田太郎の電話番号", "hi", "word " * 30]


@pytest.fixture(scope="module")
def subject():
    return tiny_subject("llama")


def test_batches_keep_every_window_once_within_the_budget(subject):
    windows = forward.windows_of([subject.encode(t) for t in TEXTS], window=10)
    assert {w.doc for w in windows} == set(range(len(TEXTS)))
    seen = []
    for batch in forward.batches(windows, pad_id=0, batch_tokens=24):
        assert len(batch) == 1 or batch.ids_BT.numel() <= 24
        for b, w in enumerate(batch.windows):
            n = len(w.ids)
            assert batch.ids_BT[b, :n].tolist() == w.ids and not batch.mask_BT[b, n:].any()
            assert batch.text_BT[b, :n].tolist() == list(w.text) and not batch.text_BT[b, n:].any()
            assert batch.kept_BT[b].nonzero()[:, 0].tolist() == list(range(w.keep_from, w.keep_to))
        seen += batch.windows
    assert sorted(seen, key=id) == sorted(windows, key=id)
    # kept tokens cover every token of every text exactly once
    for doc, text in enumerate(TEXTS):
        kept = sum(w.n_kept for w in windows if w.doc == doc)
        assert kept == len(subject.encode(text))


def test_window_text_masks_follow_the_one_rule(subject):
    for doc, text in enumerate(TEXTS):
        enc = subject.encode(text)
        assert enc.text_mask.tolist() == text_mask(enc.starts, enc.ends).tolist()
        assert not enc.text_mask[0]  # the tiny tokenizer adds a BOS: it carries no text
        for w in forward.windows_of([enc], window=8, first_doc=doc):
            kept = w.text[w.keep_from : w.keep_to]
            start = w.first_position
            assert list(kept) == enc.text_mask[start : start + w.n_kept].tolist()


def test_batch_size_and_order(subject):
    windows = forward.windows_of([subject.encode(t) for t in TEXTS[:3]], window=64)
    ordered = list(forward.batches(windows, 0, None, by_length=False, batch_size=2))
    assert [len(b) for b in ordered] == [2, 1]
    assert [w.doc for b in ordered for w in b.windows] == [0, 1, 2]
    left = forward.pad_windows(windows[:2], 0, side="left")
    assert left.mask_BT[:, -1].all() and left.kept_BT.sum() == sum(w.n_kept for w in windows[:2])


def test_stopped_pass_reads_what_the_full_model_computes_and_leaves_no_hooks(subject):
    batch = forward.pad_windows(forward.windows_of([subject.encode(t) for t in TEXTS[:3]], 64), 0)
    got = {}
    out = forward.run(
        subject, batch.ids_BT, batch.mask_BT, {"resid.0": lambda x: got.setdefault("r0", x)}, until="sites"
    )
    assert out is None
    assert all(not m._forward_hooks for m in subject.model.modules())
    with torch.no_grad():
        hidden = subject.model(
            input_ids=batch.ids_BT, attention_mask=batch.mask_BT, output_hidden_states=True
        ).hidden_states
    real = batch.mask_BT.bool()
    torch.testing.assert_close(got["r0"][real], hidden[1][real])


def hook_count(subject) -> int:
    """Hooks on the model (Hugging Face keeps its own after an `output_hidden_states` pass)."""
    return sum(len(m._forward_hooks) for m in subject.model.modules())


def test_edits_are_undone_on_error(subject):
    entered, exited = [], []

    class Edit:
        def __enter__(self):
            entered.append(1)

        def __exit__(self, *exc):
            exited.append(1)

    def boom(_x):
        raise RuntimeError("read failed")

    ids = torch.tensor([subject.encode("hello there").ids])
    before = hook_count(subject)
    with pytest.raises(RuntimeError, match="read failed"):
        forward.run(subject, ids, reads={"resid.1": boom}, edits=[Edit], until="sites")
    assert entered == exited == [1]
    assert hook_count(subject) == before
    with pytest.raises(ConfigError, match="site names"):
        forward.run(subject, ids, until="sites")
    with pytest.raises(InputError, match="no texts"):
        forward.pad_windows([], 0)


def test_generate_equals_model_generate_one_prompt_at_a_time(subject):
    prompts = ["the quick brown", "hi"]
    new = forward.generate(subject, [subject.encode(p) for p in prompts], max_new_tokens=5)
    for b, prompt in enumerate(prompts):
        ids = torch.tensor([subject.encode(prompt).ids])
        with torch.no_grad():
            alone = subject.model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=5,
                do_sample=False,
                pad_token_id=forward.pad_id_of(subject.tokenizer),
            )[0, ids.shape[1] :]
        assert new[b].tolist() == alone.tolist()


def test_no_other_module_runs_its_own_stopped_pass_or_padding():
    """One forward path: stopping a pass and padding batches live in forward.py (and hooks.py) only."""
    root = pathlib.Path(forward.__file__).parent.parent  # the whole package
    offenders = []
    for path in root.rglob("*.py"):
        if path.name in ("forward.py", "hooks.py"):
            continue
        source = path.read_text(encoding="utf-8")
        for needle in ("run_until_stop(", "add_stop_hook(", "padding_side", "all_special_ids"):
            if needle in source and not (needle == "all_special_ids" and path.name == "tokens.py"):
                offenders.append(f"{path.relative_to(root)}: {needle}")
    assert offenders == []


def test_text_mask_of_a_store_table_matches_encodings(tmp_path, subject):
    from incision import capture
    from incision.core.tokens import store_text_mask

    store = capture(subject, TEXTS, "resid.0", tmp_path / "store", progress=False)
    expected = np.concatenate([subject.encode(t).text_mask for t in TEXTS])
    assert store_text_mask(store.tokens).tolist() == expected.tolist()
