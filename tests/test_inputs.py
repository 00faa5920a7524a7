"""Input documents: every supported source reads to the same documents, and bad input fails before any work."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from incision import InputError, SiteError, capture
from incision.core.inputs import Document, read_documents

from .conftest import TEXTS

RECORDS = [
    {"text": TEXTS[0], "label": 1, "source": "web", "score": 0.5, "spans": [[4, 9]]},
    {"text": TEXTS[1], "label": 0, "source": "mail", "score": 1.5, "spans": []},
    {"text": TEXTS[2], "label": 1, "source": "web", "score": -2.0, "spans": [[0, 4], [5, 7]]},
]


def _capture(subject, source, out, **options):
    options = {"dtype": "float32", "shard_tokens": 16, "progress": False, **options}
    return capture(subject, source, "resid.1", out, **options)


def _nothing_written(out) -> bool:
    return not out.exists() or not any(out.rglob("*"))


def _write_jsonl(path, records) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


# -- sources that read ------------------------------------------------------------------------


def test_list_of_strings():
    docs = read_documents(TEXTS)
    assert docs == [Document(text=t, fields={}) for t in TEXTS]


def test_generator_and_document_objects():
    assert read_documents(t for t in TEXTS) == read_documents(TEXTS)
    doc = Document(text="hello there", fields={"id": 7})
    assert read_documents(doc) == [doc]
    assert read_documents([doc]) == [doc]


def test_list_of_records_keeps_extra_fields():
    docs = read_documents(RECORDS)
    assert [d.text for d in docs] == [r["text"] for r in RECORDS]
    assert [d.fields for d in docs] == [{k: v for k, v in r.items() if k != "text"} for r in RECORDS]


def test_other_text_field():
    docs = read_documents([{"body": "some words", "id": 3}], text_field="body")
    assert docs == [Document(text="some words", fields={"id": 3})]


def test_fields_land_in_documents_and_scalar_ones_in_tokens(llama_subject, tmp_path):
    store = _capture(llama_subject, RECORDS, tmp_path / "store")
    assert len(store.shards) >= 2  # fields must survive the concatenation of shards
    documents = store.documents.to_pydict()
    for key in ("label", "source", "score", "spans"):
        assert documents[key] == [r[key] for r in RECORDS]
    assert documents["text"] == [r["text"] for r in RECORDS]

    tokens = store.tokens.to_pydict()
    assert "spans" not in tokens  # a list per document cannot be broadcast to tokens
    lengths = [len(llama_subject.encode(r["text"])) for r in RECORDS]
    for key in ("label", "source", "score"):
        expected = [r[key] for r, n in zip(RECORDS, lengths, strict=True) for _ in range(n)]
        assert tokens[key] == expected
    assert tokens["doc"] == [d for d, n in enumerate(lengths) for _ in range(n)]


def test_field_missing_from_some_records_is_null(llama_subject, tmp_path):
    records = [{"text": TEXTS[0], "topic": "animals"}, {"text": TEXTS[2]}]
    store = _capture(llama_subject, records, tmp_path / "store")
    assert store.documents.column("topic").to_pylist() == ["animals", None]
    n0 = len(llama_subject.encode(TEXTS[0]))
    assert store.tokens.column("topic").to_pylist() == ["animals"] * n0 + [None] * (store.n_tokens - n0)


def test_jsonl(tmp_path):
    path = tmp_path / "in.jsonl"
    _write_jsonl(path, RECORDS)
    with open(path, "a", encoding="utf-8") as f:
        f.write("\n   \n")  # blank lines are skipped
    assert read_documents(path) == read_documents(RECORDS)
    assert read_documents(str(path)) == read_documents(RECORDS)


def test_jsonl_with_byte_order_mark(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(RECORDS[0], ensure_ascii=False).encode())
    assert read_documents(path) == read_documents(RECORDS[:1])


def test_json(tmp_path):
    path = tmp_path / "in.json"
    path.write_text(json.dumps(RECORDS, ensure_ascii=False), encoding="utf-8")
    assert read_documents(path) == read_documents(RECORDS)


def test_csv(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text('text,label\n"a, quoted ""text""",1\n' + f"{TEXTS[1]},0\n", encoding="utf-8")
    docs = read_documents(path)
    assert docs == [Document('a, quoted "text"', {"label": "1"}), Document(TEXTS[1], {"label": "0"})]


def test_csv_row_with_surplus_values(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("text,label\nfine,1\nAlice Smith,0,extra\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 3 of .*in\.csv' has more values than its header") as info:
        read_documents(path)
    assert "Alice" not in str(info.value)


def test_list_fields_must_keep_one_structure(tmp_path):
    records = [{"text": "a", "spans": [1, 2]}, {"text": "b", "spans": ["x"]}]
    with pytest.raises(
        InputError, match=r"field 'spans' in the input list holds lists whose elements differ"
    ):
        read_documents(records)
    read_documents(
        [{"text": "a", "spans": [[0, 1]]}, {"text": "b", "spans": []}]
    )  # empty lists fit any structure


def test_parquet(tmp_path):
    path = tmp_path / "in.parquet"
    table = pa.table({"text": TEXTS[:3], "label": [1, 0, 1], "score": [0.5, float("nan"), None]})
    pq.write_table(table, path)
    docs = read_documents(path)
    assert [d.text for d in docs] == TEXTS[:3]
    missing = None  # parquet's NaN and null both read as a missing value
    assert [d.fields for d in docs] == [
        {"label": 1, "score": 0.5},
        {"label": 0, "score": missing},
        {"label": 1, "score": missing},
    ]


def test_txt_one_document_per_non_empty_line(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text(f"{TEXTS[0]}\n\n   \n{TEXTS[1]}\n{TEXTS[2]}", encoding="utf-8")
    docs = read_documents(path)
    assert docs == [
        Document(TEXTS[0], {"line": 1}),
        Document(TEXTS[1], {"line": 4}),
        Document(TEXTS[2], {"line": 5}),
    ]


def test_txt_ignores_text_field(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("one line\nanother line\n", encoding="utf-8")
    assert [d.text for d in read_documents(path, text_field="body")] == ["one line", "another line"]


def test_every_file_format_captures_the_same_store(llama_subject, tmp_path):
    records = [{"text": r["text"], "label": r["label"]} for r in RECORDS]
    jsonl, parquet = tmp_path / "in.jsonl", tmp_path / "in.parquet"
    _write_jsonl(jsonl, records)
    pq.write_table(pa.Table.from_pylist(records), parquet)
    stores = [
        _capture(llama_subject, src, tmp_path / name)
        for name, src in (("list", records), ("jsonl", jsonl), ("parquet", parquet))
    ]
    for other in stores[1:]:
        assert other.tokens.equals(stores[0].tokens)
        assert other.documents.equals(stores[0].documents)
        assert (other.to_tensor("resid.1") == stores[0].to_tensor("resid.1")).all()


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, match",
    [
        ([], r"no texts to capture: .*list is empty"),
        ([""], r"record #0 in the input list has an empty or whitespace-only text"),
        (["fine", " \n\t "], r"record #1 in the input list has an empty or whitespace-only text"),
        ([None], r"record #0 .*has text None"),
        (None, r"input must be a list of texts or records, or a file path, got NoneType"),
        (42, r"got int"),
        ({"text": "a dict, not a list"}, r"got dict"),
        (b"bytes", r"got bytes"),
        (["fine", 7], r"record #1 .*text of type int; texts must be strings"),
        (
            [{"text": "ok"}, {"body": "x", "id": 2}],
            r"record #1 .*no field 'text'; its fields are \['body', 'id'\]",
        ),
        ([{"text": "ok", "position": 3}], r"record #0 .*\['position'\].*clash with the store's own columns"),
        ([{"text": "ok", "doc": 1, "char_end": 2}], r"\['char_end', 'doc'\].*clash"),
        ("", r"input is the blank string ''"),
        ("   ", r"input is the blank string '   '"),
    ],
)
def test_bad_input_is_refused_before_any_work(llama_subject, tmp_path, source, match):
    with pytest.raises(InputError, match=match):
        read_documents(source)
    out = tmp_path / "store"
    with pytest.raises(InputError, match=match):
        _capture(llama_subject, source, out)
    assert _nothing_written(out)


def test_missing_file(llama_subject, tmp_path):
    with pytest.raises(InputError, match=r"input file '.*nowhere\.jsonl' does not exist$"):
        read_documents(tmp_path / "nowhere.jsonl")
    with pytest.raises(InputError, match=r"^got a string of 14 characters .*pass it inside a list$") as info:
        read_documents("just some text")
    assert "some text" not in str(info.value)  # a text passed by mistake may be PII: never quoted
    for text in ("x" * 300, "two\nlines.txt", "nul\0.jsonl"):  # too long for a file name; newline; NUL
        with pytest.raises(InputError, match=rf"^got a string of {len(text)} characters") as info:
            read_documents(text)
        assert text not in str(info.value)
    out = tmp_path / "store"
    with pytest.raises(InputError, match="does not exist"):
        _capture(llama_subject, tmp_path / "nowhere.csv", out)
    assert _nothing_written(out)


def test_empty_file(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no texts to capture: .*in\.jsonl is empty"):
        read_documents(path)


def test_unsupported_suffix(llama_subject, tmp_path):
    path = tmp_path / "in.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(
        InputError, match=r"unsupported input file type '\.xlsx' for '.*in\.xlsx'; use one of"
    ):
        read_documents(path)
    out = tmp_path / "store"
    with pytest.raises(InputError, match="unsupported input file type"):
        _capture(llama_subject, path, out)
    assert _nothing_written(out)


def test_non_utf8_file_names_the_line(llama_subject, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(json.dumps({"text": "secret name Alice Smith"}).encode() + b"\n" + b"\xff\xfe bad\n")
    with pytest.raises(InputError, match=r"in\.jsonl' is not valid UTF-8 \(byte \d+, line 2\)") as info:
        read_documents(path)
    assert "Alice" not in str(info.value)
    out = tmp_path / "store"
    with pytest.raises(InputError, match="not valid UTF-8"):
        _capture(llama_subject, path, out)
    assert _nothing_written(out)


def test_invalid_json_line(llama_subject, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "secret name Alice Smith"}\n\n{"text": "Bob Jones"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"line 3 of '.*in\.jsonl' is not valid JSON") as info:
        read_documents(path)
    assert "Alice" not in str(info.value) and "Bob" not in str(info.value)
    out = tmp_path / "store"
    with pytest.raises(InputError, match="not valid JSON"):
        _capture(llama_subject, path, out)
    assert _nothing_written(out)


def test_invalid_json_file(tmp_path):
    path = tmp_path / "in.json"
    path.write_text('[{"text": "a"},\n {"text": "b"]', encoding="utf-8")
    with pytest.raises(InputError, match=r"line 2 of '.*in\.json' is not valid JSON"):
        read_documents(path)
    path.write_text('{"text": "a"}', encoding="utf-8")
    with pytest.raises(InputError, match=r"must hold a list of records, got dict"):
        read_documents(path)


def test_unreadable_parquet(tmp_path):
    path = tmp_path / "in.parquet"
    path.write_bytes(b"not a parquet file at all")
    with pytest.raises(InputError, match=r"cannot read parquet file '.*in\.parquet'"):
        read_documents(path)


def test_bad_record_in_a_file_names_the_file(tmp_path):
    path = tmp_path / "in.jsonl"
    _write_jsonl(path, [{"text": "fine"}, {"text": ""}])
    with pytest.raises(InputError, match=r"record #1 in .*in\.jsonl has an empty"):
        read_documents(path)


def test_unknown_site_costs_nothing(llama_subject, tmp_path):
    out = tmp_path / "store"
    with pytest.raises(SiteError, match=r"unknown site 'resid\.x'"):
        capture(llama_subject, TEXTS, "resid.x", out, progress=False)
    assert _nothing_written(out)


@pytest.mark.parametrize(
    "records",
    [
        ["secret name Alice Smith", ""],
        ["secret name Alice Smith", "   "],
        ["secret name Alice Smith", None],
        ["secret name Alice Smith", 3],
        [{"text": "secret name Alice Smith"}, {"body": "x"}],
        [{"text": "secret name Alice Smith"}, {"text": "x", "position": 1}],
    ],
)
def test_errors_never_quote_a_valid_neighbour(records):
    with pytest.raises(InputError) as info:
        read_documents(records)
    assert "Alice" not in str(info.value)


def test_mixed_field_types_error_does_not_quote_values(llama_subject, tmp_path):
    records = [{"text": "a b", "name": 1}, {"text": "b c", "name": "Alice Smith"}]
    with pytest.raises(InputError, match="'name'") as info:
        _capture(llama_subject, records, tmp_path / "store")
    assert "Alice" not in str(info.value)


def test_mixed_field_types_across_shards_refused_up_front(llama_subject, tmp_path):
    records = [{"text": t, "label": 1 if i < 2 else "one"} for i, t in enumerate(TEXTS)]
    out = tmp_path / "store"
    with pytest.raises(InputError, match="'label'"):
        _capture(llama_subject, records, out, shard_tokens=16)
    assert _nothing_written(out)


@pytest.mark.parametrize(
    "records,text_field,field",
    [
        ([{"text": "a b", "n_tokens": 999}], "text", "n_tokens"),
        ([{"body": "a b", "text": "a label"}], "body", "text"),
    ],
)
def test_fields_cannot_overwrite_the_stores_own_columns(llama_subject, tmp_path, records, text_field, field):
    with pytest.raises(InputError, match=rf"\['{field}'\].*clash with the store's own columns"):
        _capture(llama_subject, records, tmp_path / "store", text_field=text_field)
