"""incision.pii.evaluation on small cases whose scores are computed by hand."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from incision import InputError
from incision.pii.evaluation import PiiReport, evaluate_spans, iou, match_spans, table
from incision.pii.records import PII_LABELS, Span, read_records, write_records
from incision.pii.report import COLOURS, write_html


def rec(text: str, spans: list[tuple[int, int, str]], lang: str | None = "en") -> dict:
    record = {
        "id": text[:8],
        "text": text,
        "spans": [{"start": a, "end": b, "label": lb} for a, b, lb in spans],
    }
    if lang is not None:
        record["lang"] = lang
    return record


def one(text, gold, pred, lang="en") -> PiiReport:
    return evaluate_spans([rec(text, gold, lang)], [[Span(*p) for p in pred]])


def test_partial_overlap_counts_characters_and_matches_the_span():
    # gold "555-1234" (8 characters), predicted "555-1": 5 right, 3 missed, IoU 5/8
    r = one("call 555-1234 now", [(5, 13, "PHONE")], [(5, 10, "PHONE")]).overall
    assert (r.chars.tp, r.chars.fp, r.chars.fn) == (5, 0, 3)
    assert r.chars.precision == 1.0
    assert r.chars.recall == pytest.approx(5 / 8)
    assert r.chars.f1 == pytest.approx(2 * (5 / 8) / (1 + 5 / 8))
    assert (r.spans.tp, r.spans.fp, r.spans.fn) == (1, 0, 0)
    assert r.labels["PHONE"].spans.f1 == 1.0


def test_prediction_spilling_onto_a_neighbour_is_a_false_positive():
    # gold "Ann" [0, 3); predicted "Ann Lee" [0, 7): 3 right, "Lee" 3 false positives (the space ignored)
    r = one("Ann Lee called", [(0, 3, "PERSON")], [(0, 7, "PERSON")]).overall
    assert (r.chars.tp, r.chars.fp, r.chars.fn) == (3, 3, 0)
    assert r.chars.precision == 0.5
    assert iou(Span(0, 3, "PERSON"), Span(0, 7, "PERSON")) == pytest.approx(3 / 7)
    assert (r.spans.tp, r.spans.fp, r.spans.fn) == (0, 1, 1)


def test_whitespace_is_ignored_in_character_scores():
    # gold covers "a b c d" (4 non-space characters); the prediction "a b" covers 2 of them
    r = one("a b c d", [(0, 7, "ADDRESS")], [(0, 3, "ADDRESS")]).overall
    assert (r.chars.tp, r.chars.fp, r.chars.fn) == (2, 0, 2)
    assert r.labels["ADDRESS"].chars_gold == 4
    assert r.labels["ADDRESS"].char_recall == 0.5
    # a prediction that swallows trailing spaces loses no precision
    r = one("ab  x", [(0, 2, "PERSON")], [(0, 4, "PERSON")]).overall
    assert (r.chars.tp, r.chars.fp, r.chars.fn) == (2, 0, 0)


@pytest.mark.parametrize(("end", "matched"), [(51, True), (50, True), (49, False)])
def test_iou_threshold_is_inclusive_at_one_half(end, matched):
    text = "x" * 100
    r = one(text, [(0, 100, "GOV_ID")], [(0, end, "GOV_ID")]).overall
    assert r.spans.tp == int(matched)
    assert r.labels["GOV_ID"].spans.f1 == (1.0 if matched else 0.0)
    assert r.chars.tp == end  # character scores do not care about the threshold


def test_label_mismatch_costs_spans_but_not_characters():
    r = one("0312345678", [(0, 10, "PHONE")], [(0, 10, "GOV_ID")]).overall
    assert r.chars.f1 == 1.0
    assert (r.spans.tp, r.spans.fp, r.spans.fn) == (0, 1, 1)
    assert r.labels["PHONE"].spans.recall == 0.0
    assert r.labels["GOV_ID"].spans.precision == 0.0
    assert r.labels["PHONE"].char_recall == 1.0  # scrubbed under the wrong label is not a leak


def test_matching_is_one_to_one_and_greedy_by_iou():
    gold = [Span(0, 10, "PERSON"), Span(10, 20, "PERSON")]
    pred = [Span(0, 12, "PERSON"), Span(5, 20, "PERSON"), Span(0, 9, "PERSON")]
    pairs = match_spans(gold, pred)
    # (0,10)~(0,12) IoU 10/12 loses to (0,10)~(0,9) IoU 0.9; (10,20)~(5,20) IoU 10/15; (0,12) left over
    assert pairs == [(gold[0], pred[2]), (gold[1], pred[1])]
    r = one(
        "x" * 20,
        [(0, 10, "PERSON"), (10, 20, "PERSON")],
        [(0, 12, "PERSON"), (5, 20, "PERSON"), (0, 9, "PERSON")],
    )
    assert (r.overall.spans.tp, r.overall.spans.fp, r.overall.spans.fn) == (2, 1, 0)


def test_empty_gold_and_empty_predictions():
    both_empty = one("nothing here", [], []).overall
    assert (both_empty.chars.precision, both_empty.chars.recall, both_empty.chars.f1) == (1.0, 1.0, 1.0)
    assert both_empty.chars.support == 0
    missed = one("call 555-1234", [(5, 13, "PHONE")], []).overall
    assert (missed.chars.precision, missed.chars.recall, missed.chars.f1) == (1.0, 0.0, 0.0)
    assert (missed.spans.tp, missed.spans.fp, missed.spans.fn) == (0, 0, 1)
    invented = one("order 1234-5678", [], [(6, 15, "PHONE")]).overall
    assert (invented.chars.precision, invented.chars.recall, invented.chars.f1) == (0.0, 1.0, 0.0)
    assert invented.labels["PHONE"].spans.fp == 1
    empty = evaluate_spans([], [])
    assert empty.overall.records == 0 and empty.by_lang == {}


def test_per_language_groups_and_overall_sum():
    records = [
        rec("mail a@b.co now", [(5, 11, "EMAIL")], "en"),
        rec("山田様に電話", [(0, 2, "PERSON")], "ja"),
        rec("田中です", [(0, 2, "PERSON")], "ja"),
        rec("no language", [], None),
    ]
    preds = [[Span(5, 11, "EMAIL")], [Span(0, 3, "PERSON")], [], [Span(0, 2, "PHONE")]]
    report = evaluate_spans(records, preds)
    assert list(report.by_lang) == ["en", "ja"]
    en, ja, all_ = report.by_lang["en"], report.by_lang["ja"], report.overall
    assert (en.records, en.chars.tp, en.chars.fp, en.chars.fn) == (1, 6, 0, 0)
    # ja: "山田" found plus "様" extra; "田中" missed
    assert (ja.records, ja.chars.tp, ja.chars.fp, ja.chars.fn) == (2, 2, 1, 2)
    assert ja.labels["PERSON"].spans.to_dict()["tp"] == 1  # IoU 2/3
    assert (ja.labels["PERSON"].spans.fp, ja.labels["PERSON"].spans.fn) == (0, 1)
    assert ja.labels["PERSON"].char_recall == 0.5
    # overall also counts the record without a language ("no" as PHONE: 2 false positives)
    assert (all_.records, all_.chars.tp, all_.chars.fp, all_.chars.fn) == (4, 8, 3, 2)
    assert all_.chars.precision == pytest.approx(8 / 11)
    assert all_.spans.f1 == pytest.approx(2 * (2 / 3) * (2 / 3) / (4 / 3))


def test_to_dict_is_json_and_complete():
    report = one("call 555-1234 now", [(5, 13, "PHONE")], [(5, 10, "PHONE")])
    d = json.loads(json.dumps(report.to_dict()))
    assert set(d) == {"overall", "by_lang"} and set(d["by_lang"]) == {"en"}
    assert set(d["overall"]["labels"]) == set(PII_LABELS)
    assert d["overall"]["char"]["recall"] == pytest.approx(5 / 8)
    assert d["overall"]["labels"]["PHONE"]["span"]["f1"] == 1.0


def test_table_compares_systems_per_language():
    records = [rec("call 555-1234", [(5, 13, "PHONE")], "en"), rec("山田様", [(0, 2, "PERSON")], "ja")]
    reports = {
        "incision": evaluate_spans(records, [[Span(5, 13, "PHONE")], [Span(0, 2, "PERSON")]]),
        "regex": evaluate_spans(records, [[Span(5, 13, "PHONE")], []]),
    }
    text = table(reports)
    blocks = text.split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == [
        "== all (2 records) ==",
        "== en (1 records) ==",
        "== ja (1 records) ==",
    ]
    header = blocks[2].splitlines()[1].split()
    assert header == ["incision", "regex"]
    rows = {cells[0]: cells[1:] for cells in (re.split(r"\s{2,}", ln) for ln in blocks[2].splitlines()[2:])}
    assert rows["char recall"] == ["1.000", "0.000"]
    assert rows["PERSON span F1"] == ["1.000", "0.000"]
    assert "EMAIL span F1" not in rows and "PHONE char recall" not in rows  # no support in this language
    en_rows = {
        cells[0]: cells[1:] for cells in (re.split(r"\s{2,}", ln) for ln in blocks[1].splitlines()[2:])
    }
    assert en_rows["char precision"] == ["1.000", "1.000"]
    nothing = table({"silent": evaluate_spans(records, [[], []])}).split("\n\n")[0].splitlines()
    assert re.split(r"\s{2,}", nothing[2]) == ["char precision", "-"]  # nothing predicted: no precision
    with pytest.raises(InputError):
        table({})


def test_bad_inputs_are_named():
    records = [rec("call 555-1234", [(5, 13, "PHONE")])]
    with pytest.raises(InputError, match="1 gold records"):
        evaluate_spans(records, [])
    with pytest.raises(InputError, match="record 0"):
        evaluate_spans(records, [[Span(5, 99, "PHONE")]])
    with pytest.raises(InputError, match="record 0"):
        evaluate_spans(records, [[Span(5, 9, "NAME")]])
    with pytest.raises(InputError, match="record 0"):
        evaluate_spans([rec("abc", [(0, 9, "PHONE")])], [[]])


class _ReportParser(HTMLParser):
    """Text and per-character labels of every track of every record in a report page."""

    VOID = {"br", "meta", "hr", "img", "link", "input"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict]] = []
        self.text: dict[tuple[int, str], str] = {}
        self.marks: dict[tuple[int, str], dict[int, tuple[str, str, str]]] = {}
        self.summary = ""

    def _where(self):
        record = track = None
        in_txt = False
        for _, attrs in self.stack:
            record = int(attrs["data-record"]) if "data-record" in attrs else record
            track = attrs.get("data-track", track)
            in_txt = in_txt or attrs.get("class") == "txt"
        return record, track, in_txt

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1][0] == tag, f"unbalanced </{tag}>"
        self.stack.pop()

    def handle_data(self, data):
        record, track, in_txt = self._where()
        if self.stack and self.stack[-1][1].get("class") == "summary":
            self.summary += data
        if not in_txt:
            return
        key = (record, track)
        pos = len(self.text.get(key, ""))
        self.text[key] = self.text.get(key, "") + data
        attrs = self.stack[-1][1]
        if "data-start" in attrs:
            assert int(attrs["data-start"]) <= pos and pos + len(data) <= int(attrs["data-end"])
            for i in range(pos, pos + len(data)):
                self.marks.setdefault(key, {})[i] = (attrs["data-gold"], attrs["data-pred"], attrs["class"])


def test_html_report_escapes_text_and_marks_the_right_characters(tmp_path):
    records = [
        rec('<b>Ann</b> & "Bo" call 555-1234', [(3, 6, "PERSON"), (23, 31, "PHONE")], "en"),
        rec("山田様\nTEL 090-1234-5678", [(0, 2, "PERSON"), (8, 21, "PHONE")], "ja"),
    ]
    systems = {
        "regex": [
            [Span(23, 31, "PHONE"), Span(12, 16, "PERSON")],
            [Span(0, 3, "PERSON"), Span(8, 21, "GOV_ID")],
        ],
        "none": [[], []],
    }
    assert tuple(COLOURS) == PII_LABELS
    path = write_html(tmp_path / "out" / "report.html", records, systems, title="PII <eval>")
    page = path.read_text(encoding="utf-8")
    assert "<b>" not in page and "&lt;b&gt;" in page and "&lt;/b&gt; &amp; &quot;Bo&quot; call " in page
    assert "<title>PII &lt;eval&gt;</title>" in page
    parser = _ReportParser()
    parser.feed(page)
    parser.close()
    assert not parser.stack
    assert "char recall" in parser.summary and "regex" in parser.summary
    for k, record in enumerate(records):
        for track in ("gold", "regex", "none"):
            assert parser.text[(k, track)] == record["text"]
    gold0 = parser.marks[(0, "gold")]
    assert sorted(i for i, (g, _, _) in gold0.items() if g == "PERSON") == [3, 4, 5]
    assert sorted(i for i, (g, _, _) in gold0.items() if g == "PHONE") == list(range(23, 31))
    regex0 = parser.marks[(0, "regex")]
    assert sorted(i for i, (_, p, _) in regex0.items() if p == "PERSON") == [12, 13, 14, 15]  # '"Bo"'
    assert all("fp" in regex0[i][2] for i in (12, 13, 14, 15))
    assert all("miss" in regex0[i][2] for i in (3, 4, 5))
    assert all(regex0[i][:2] == ("PHONE", "PHONE") and regex0[i][2] == "seg" for i in range(23, 31))
    regex1 = parser.marks[(1, "regex")]
    assert "fp" in regex1[2][2]  # "様" predicted, not gold
    assert all("wrong" in regex1[i][2] for i in range(8, 21))  # PHONE scrubbed as GOV_ID
    assert all("miss" in parser.marks[(1, "none")][i][2] for i in (0, 1, *range(8, 21)))


def test_html_report_survives_control_characters_and_lone_surrogates(tmp_path):
    text = "a\x00b\ud800c 555-1234"
    records = [rec(text, [(6, 14, "PHONE")], None)]
    path = write_html(tmp_path / "r.html", records, {"x": [[Span(6, 14, "PHONE")]]}, title="t")
    parser = _ReportParser()
    parser.feed(path.read_text(encoding="utf-8"))
    shown = parser.text[(0, "x")]
    assert len(shown) == len(text) and shown[6:] == text[6:]
    assert sorted(parser.marks[(0, "x")]) == list(range(6, 14))
    with pytest.raises(InputError, match="'x' has spans for 0 records"):
        write_html(tmp_path / "r.html", records, {"x": []}, title="t")


def test_gold_files_round_trip_and_name_their_bad_line(tmp_path):
    """U+2028 inside a text is not a line break of the file; a lone surrogate is read as U+FFFD."""
    texts = ["Anna\u2028Smith\u0085ok", "bad \ud800 here"]
    path = tmp_path / "gold.jsonl"
    path.write_text(
        "\n".join(json.dumps({"id": k, "lang": "en", "text": t, "spans": []}) for k, t in enumerate(texts)),
        encoding="utf-8",
    )
    records = read_records(path)
    assert [r["text"] for r in records] == [texts[0], "bad \ufffd here"]
    assert read_records(write_records(records, tmp_path / "again.jsonl")) == records
    path.write_text(path.read_text(encoding="utf-8") + '\n{"text": "x", "spans": [}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"gold\.jsonl line 3 is not valid JSON"):
        read_records(path)
