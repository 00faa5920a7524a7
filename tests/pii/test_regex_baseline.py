"""incision.pii.regex_baseline: every label in English and Japanese, near-misses, exact offsets."""

from __future__ import annotations

import pytest

from incision import InputError
from incision.pii.records import check_spans
from incision.pii.regex_baseline import RegexBaseline, iban_ok, luhn_ok, normalize

RB = RegexBaseline()


def found(text: str) -> list[tuple[str, str]]:
    spans = RB.find(text)
    check_spans(text, [s.to_dict() for s in spans], "regex output")  # in range, known labels, no overlaps
    for s in spans:
        assert text[s.start] == text[s.start].strip() and text[s.end - 1] == text[s.end - 1].strip()
    return [(text[s.start : s.end], s.label) for s in spans]


POSITIVES = [
    # English
    ("Write to anna.lee+orders@example.co.uk today", [("anna.lee+orders@example.co.uk", "EMAIL")]),
    ("Call me at (555) 123-4567 ext. 89 after 5", [("(555) 123-4567 ext. 89", "PHONE")]),
    ("my cell is 555.867.5309", [("555.867.5309", "PHONE")]),
    ("my number is 415 555 0134, call back", [("415 555 0134", "PHONE")]),  # not "My Number" (a GOV_ID)
    ("Reach me on +44 20 7946 0958.", [("+44 20 7946 0958", "PHONE")]),
    ("Card 4111 1111 1111 1111 exp 12/27", [("4111 1111 1111 1111", "CREDIT_CARD")]),
    ("SSN 123-45-6789 please", [("123-45-6789", "GOV_ID")]),
    ("passport number X12345678", [("X12345678", "GOV_ID")]),
    ("IBAN GB82 WEST 1234 5698 7654 32 thanks", [("GB82 WEST 1234 5698 7654 32", "BANK_ACCOUNT")]),
    ("Account No. 00123456789 at the bank", [("00123456789", "BANK_ACCOUNT")]),
    (
        "Ship to 12 Main Street, Apt 4B, Springfield, IL 62704.",
        [("12 Main Street, Apt 4B, Springfield, IL 62704", "ADDRESS")],
    ),
    ("DOB: 04/12/1985", [("04/12/1985", "DATE_OF_BIRTH")]),
    ("I was born on July 4th, 1990.", [("July 4th, 1990", "DATE_OF_BIRTH")]),
    ("Dear Ms. Johnson, thanks", [("Johnson", "PERSON")]),
    ("Hi, I'm John Smith from Ohio", [("John Smith", "PERSON")]),
    ("Best regards,\nEmily Carter", [("Emily Carter", "PERSON")]),
    # Japanese
    ("山田太郎様の電話番号は090-1234-5678です。", [("山田太郎", "PERSON"), ("090-1234-5678", "PHONE")]),
    ("メールはtaro@example.co.jpまで", [("taro@example.co.jp", "EMAIL")]),
    ("TEL03-1234-5678 携帯09012345678", [("03-1234-5678", "PHONE"), ("09012345678", "PHONE")]),
    ("国際 +81 90-1234-5678 へ", [("+81 90-1234-5678", "PHONE")]),
    ("大阪の06(6123)4567にどうぞ", [("06(6123)4567", "PHONE")]),
    ("カード番号は4111111111111111です", [("4111111111111111", "CREDIT_CARD")]),
    ("マイナンバー：1234 5678 9012", [("1234 5678 9012", "GOV_ID")]),
    ("パスポート番号はTK1234567です", [("TK1234567", "GOV_ID")]),
    ("口座番号 普通 1234567 渋谷支店 店番123", [("1234567", "BANK_ACCOUNT")]),
    (
        "〒150-0041 東京都渋谷区神南1-2-3 渋谷ヒルズ301号室に住んでいます",
        [("〒150-0041 東京都渋谷区神南1-2-3 渋谷ヒルズ301号室", "ADDRESS")],
    ),
    ("住所東京都港区六本木6丁目10番1号", [("東京都港区六本木6丁目10番1号", "ADDRESS")]),
    ("北海道札幌市中央区北1条西2丁目まで", [("北海道札幌市中央区北1条西2丁目", "ADDRESS")]),
    ("郵便番号 100-0001 です", [("100-0001", "ADDRESS")]),
    ("生年月日は1985年4月12日です", [("1985年4月12日", "DATE_OF_BIRTH")]),
    ("平成2年3月4日生まれ", [("平成2年3月4日", "DATE_OF_BIRTH")]),
    ("担当者山田様、田中先生とスミスさん", [("山田", "PERSON"), ("田中", "PERSON"), ("スミス", "PERSON")]),
    ("氏名：佐藤 花子 電話 03-1111-2222", [("佐藤 花子", "PERSON"), ("03-1111-2222", "PHONE")]),
]


@pytest.mark.parametrize(("text", "expected"), POSITIVES, ids=[t[:24] for t, _ in POSITIVES])
def test_finds_each_label(text, expected):
    assert found(text) == expected


NEAR_MISSES = [
    "注文番号 1234-5678-9012 の配送状況を教えてください。",  # order number: a cue that says "not PII"
    "お問い合わせ伝票番号：1234-5678-9012、配達予定日は2024年5月12日です。",
    "1234-5678-9012",  # 4-4-4 with no cue: not a phone shape; My Number needs its cue
    "商品コード SKU-2023-0456、価格は¥12,800（税込）です。",
    "Order #123-456-7890 shipped on March 3, 2024. Total $1,234.56.",
    "Your tracking number is 9400 1000 0000 0000 0000 00.",
    "ポイントカード番号 1234 5678 9012 3456 は使えますか",
    "バーコード 4901234567894 の商品を探しています。",
    "予約番号は A1234567 です。フライトはJL123便。",
    "The model number is AB1234567 and the serial is 123456789012.",
    "Meet me at Shibuya Station at 3pm. I live in Kyoto.",
    "新宿駅の東口で待ち合わせしましょう。東京都渋谷区に住んでいます。",  # city level: not ADDRESS
    "お客様各位、いつもありがとうございます。お母さんと皆さんによろしく。",
    "合計金額 12,345円、数量 3個、会員番号 12345678",
    "Version 2.13.0 released 2024-05-01 with 1,234 fixes.",
    "Delivery date: 04/12/2024",  # a date, but not a birth date
]


@pytest.mark.parametrize("text", NEAR_MISSES, ids=[t[:24] for t in NEAR_MISSES])
def test_near_misses_are_not_flagged(text):
    assert found(text) == []


def test_the_nearest_cue_decides():
    text = "電話 090-1111-2222、注文番号 0120-123-456"
    assert found(text) == [("090-1111-2222", "PHONE")]
    text = "注文番号 12345678、電話 03-1234-5678"
    assert found(text) == [("03-1234-5678", "PHONE")]


def test_ascii_japanese_cues_do_not_match_inside_english_words():
    assert found("Janet 03-1234-5678") == [("03-1234-5678", "PHONE")]  # not the JAN (barcode) cue
    assert found("Please ask Janet: 555-123-4567") == [("555-123-4567", "PHONE")]
    assert found("my hotel 12345678") == []  # not the TEL cue
    assert found("Intel 12345678") == []
    assert found("JANコード 4901234567894") == [] and found("JAN 4901234567894") == []
    assert found("Tカード 1234567890123456") == []


def test_spans_are_trimmed_like_the_detectors():
    # trim_bounds, not a trimmer of its own: an unpaired bracket or a full stop is not part of a value
    assert found("(call 03-1234-5678)") == [("03-1234-5678", "PHONE")]
    assert found("Ship to 12 Main St. now") == [("12 Main St", "ADDRESS")]


def test_card_number_needs_luhn_without_a_cue():
    assert found("paid with 4111 1111 1111 1112 ok") == []
    assert found("card 4111 1111 1111 1112 ok") == [("4111 1111 1111 1112", "CREDIT_CARD")]
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("DE89 3704 0044 0532 0130 00") and not iban_ok("DE89 3704 0044 0532 0130 01")


def test_offsets_exact_on_full_width_input():
    text = "ＴＥＬ：０９０ー１２３４ー５６７８、〒１００－０００１"
    assert found(text) == [("０９０ー１２３４ー５６７８", "PHONE"), ("〒１００－０００１", "ADDRESS")]
    # "㈱" becomes three characters under NFKC and "ﬁ" two: offsets after them must still be right
    text = "㈱ﬁ商事　山田様　ＴＥＬ ０３－１２３４－５６７８（内線１２）"
    spans = RB.find(text)
    assert [(s.start, s.end, s.label) for s in spans] == [(5, 7, "PERSON"), (13, 31, "PHONE")]
    assert text[13:31] == "０３－１２３４－５６７８（内線１２）"


def test_normalize_maps_every_character_back():
    text = "㈱ＡＢＣ　０３‐1234—5678 ｶﾞ"
    norm, origin = normalize(text)
    assert len(origin) == len(norm) + 1 and origin[-1] == len(text)
    assert norm.startswith("(株)ABC 03-1234-5678")
    assert origin[:4] == [0, 0, 0, 1]
    assert origin == sorted(origin)


def test_bad_and_awkward_input():
    assert RB.find("") == []
    assert found("\x00電話\x07 090-1234-5678\ud800") == [("090-1234-5678", "PHONE")]
    line = "注文番号 1234-5678-9012。山田様 090-1234-5678\n"
    big = line * (1_000_000 // len(line))
    spans = RB.find(big)
    assert {(big[s.start : s.end], s.label) for s in spans} == {
        ("山田", "PERSON"),
        ("090-1234-5678", "PHONE"),
    }
    assert len(spans) == 2 * big.count("\n")
    with pytest.raises(InputError, match="bytes"):
        RB.find(b"hello")
