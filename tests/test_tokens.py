"""Character offsets of tokens, checked against an independent byte-level account of each token."""

from __future__ import annotations

import pytest

from incision import InputError
from incision.core.tokens import encode, plan_windows

from .conftest import make_tokenizer

SAMPLES = [
    "The patient, Maria Lopez, called 555-0142 on Friday.",
    "山田太郎の電話番号は090-1234-5678です。",
    "emoji 😀 family 👩‍👩‍👧 flag 🇯🇵 end",
    "全角数字：１２３４５６ と ＡＢＣ、半角 123",
    "  leading spaces and trailing  ",
    "mixed 東京 Tokyo 2024年 café naïve",
]


def _byte_decoder() -> dict[str, int]:
    """Inverse of the GPT-2 byte-to-unicode table that byte-level BPE vocabularies are written in."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)] = b
            extra += 1
    return chars


def token_bytes_byte_level(tokenizer, token_id: int) -> bytes:
    decoder = _byte_decoder()
    return bytes(decoder[c] for c in tokenizer.convert_ids_to_tokens(token_id))


def token_bytes_sentencepiece(tokenizer, token_id: int) -> bytes:
    piece = tokenizer.convert_ids_to_tokens(token_id)
    if piece.startswith("<0x") and piece.endswith(">") and len(piece) == 6:
        return bytes([int(piece[3:5], 16)])
    return piece.replace("▁", " ").encode("utf-8")


def expected_spans(text: str, pieces: list[bytes]) -> list[tuple[int, int]]:
    """Char span of each token from its bytes: the characters its bytes touch."""
    assert b"".join(pieces) == text.encode("utf-8"), "tokens do not spell the text"
    char_of_byte = [i for i, ch in enumerate(text) for _ in ch.encode("utf-8")]
    spans, pos = [], 0
    for piece in pieces:
        spans.append((char_of_byte[pos], char_of_byte[pos + len(piece) - 1] + 1))
        pos += len(piece)
    return spans


def check_offsets(tokenizer, text: str, token_bytes) -> None:
    enc = encode(tokenizer, text)
    body = range(enc.n_prefix, len(enc) - enc.n_suffix)
    pieces = [token_bytes(tokenizer, enc.ids[k]) for k in body]
    got = [(enc.starts[k], enc.ends[k]) for k in body]
    assert got == expected_spans(text, pieces)
    assert all(enc.starts[k] == enc.ends[k] == 0 for k in range(enc.n_prefix))


@pytest.mark.embedded
@pytest.mark.parametrize("text", SAMPLES)
def test_offsets_gemma(gemma_tokenizer, text):
    check_offsets(gemma_tokenizer, text, token_bytes_sentencepiece)


@pytest.mark.embedded
@pytest.mark.parametrize("text", SAMPLES)
def test_offsets_smollm2(smollm2_tokenizer, text):
    check_offsets(smollm2_tokenizer, text, token_bytes_byte_level)


@pytest.mark.parametrize("text", SAMPLES)
def test_offsets_trained_byte_level(text):
    check_offsets(make_tokenizer("bos"), text, token_bytes_byte_level)


@pytest.mark.embedded
def test_gemma_splits_digits_and_keeps_bos(gemma_tokenizer):
    text = "電話番号は090-1234"
    enc = encode(gemma_tokenizer, text)
    assert enc.n_prefix == 1 and enc.ids[0] == gemma_tokenizer.bos_token_id
    spans = [text[s:e] for s, e in zip(enc.starts, enc.ends, strict=True)][1:]
    assert spans[-8:] == list("090-1234")


def test_special_tokens_sit_on_text_boundaries():
    tokenizer, text = make_tokenizer("cls_sep"), "the lazy dog"
    enc = encode(tokenizer, text)
    assert (enc.n_prefix, enc.n_suffix) == (1, 1)
    assert (enc.starts[0], enc.ends[0]) == (0, 0)
    assert (enc.starts[-1], enc.ends[-1]) == (len(text), len(text))


@pytest.mark.parametrize("style", ["bos", "cls_sep", "none"])
@pytest.mark.parametrize("window,overlap", [(8, None), (8, 0), (8, 5), (12, 3), (5, 1)])
def test_windows_cover_each_token_once_with_left_context(style, window, overlap):
    tokenizer = make_tokenizer(style)
    enc = encode(tokenizer, "the quick brown fox jumps over the lazy dog " * 4)
    windows = plan_windows(7, enc, window, overlap)
    stored = [p for w in windows for p in range(w.first_position, w.first_position + w.n_kept)]
    assert stored == list(range(len(enc)))
    capacity = window - enc.n_prefix - enc.n_suffix
    context = capacity // 2 if overlap is None else overlap
    for w in windows:
        assert w.doc == 7 and len(w.ids) <= window
        assert w.ids[: enc.n_prefix] == enc.ids[: enc.n_prefix]  # every window starts like the text does
        kept = w.ids[w.keep_from : w.keep_to]
        assert kept == enc.ids[w.first_position : w.first_position + w.n_kept]
        if w.first_position > 0:
            assert w.keep_from - enc.n_prefix >= context


def test_window_too_small_for_overlap():
    enc = encode(make_tokenizer("bos"), "the quick brown fox jumps over the lazy dog")
    with pytest.raises(InputError, match="overlap 7"):
        plan_windows(0, enc, 8, 7)
