"""Japanese reviews and customer messages: positive or negative.

Written in Japanese, not translated. Same seven domains as the English table; each filler gives its casual
and polite form as `[casual|polite]` and the template's register picks one, so a text never switches
register mid-way. Templates are label-neutral; some fillers are near misses (悪くない, 期待してなかったけど,
見た目はいいけど).
"""

from __future__ import annotations

from . import Template as T
from .sentiment_ja_domains import SLOTS as DOMAIN_SLOTS

LABELS = ("positive", "negative")
DOMAINS = ("electronics", "clothing", "kitchen", "delivery", "support", "restaurant", "app")
GOODS = ("electronics", "clothing", "kitchen")
USED = ("electronics", "kitchen", "app")  # things one "uses" for weeks (not clothes, meals or parcels)


def P(id: str, text: str, **kw) -> T:  # noqa: N802 - reads like the template kind it makes
    return T(id, text, register="polite", **kw)


def C(id: str, text: str, **kw) -> T:  # noqa: N802
    return T(id, text, register="casual", **kw)


TRAIN = [
    C("t01", "{thing}、{pred}。"),
    P("t02", "{thing}は{pred}。{verdict}。"),
    C("t03", "{verdict}。{thing}、{pred}。"),
    P("t04", "{fact}。{verdict}。"),
    C("t05", "{fact}。{fact#2}。"),
    C("t06", "正直、{thing}は{pred}。{fact}。"),
    P("t07", "{first}。{fact}。{verdict}。"),
    C("t08", "星{stars}。{thing}、{pred}。"),
    P("t09", "追記です。{thing}は{pred}。"),
    P("t10", "注文番号{order}の件でご連絡しました。{fact}。{request}。", domains=(*GOODS, "delivery")),
    C("t11", "{first}。{thing}、{pred}。"),
    P("t12", "一言でまとめると、{thing}は{pred}。{fact}。"),
    P("t13", "{thing}を使い始めて{duration}になります。{fact}。", domains=USED),
    C("t14", "{fact}。{fact#2}。{verdict}。"),
    P("t15", "{fact}。総合的に見て、{overall}。"),
    C("t16", "このショップで買うのは三回目。{fact}。{verdict}。", domains=(*GOODS, "delivery")),
    C("t17", "参考までに。{thing}は{pred}。"),
    P("t18", "{thing}は{pred}。それに、{fact}。"),
    P("t19", "{fact}。{fact#2}。{fact#3}。"),
    C("t20", "{first}。結論から言うと、{overall}。"),
    C("t21", "長々と書かないけど、{thing}は{pred}。"),
    P("t22", "{verdict}。{fact}。"),
    P("t23", "{company}のご担当者様へ。{fact}。{request}。", domains=(*GOODS, "delivery", "support")),
    C("t24", "{duration}使ってからのレビュー。{fact}。{fact#2}。", domains=USED),
    P("t25", "購入を迷っている方へ。{thing}は{pred}。{verdict}。", domains=GOODS),
    C("t26", "{thing}について。{fact}。{verdict}。"),
    P("t27", "{stars_line}。{fact}。"),
    C("t28", "レビューを書くことってあんまりないけど、{thing}は{pred}。"),
    P(
        "t29",
        "{rel}に勧められて{thing}を試してみました。{fact}。{verdict}。",
        domains=(*GOODS, "restaurant", "app"),
    ),
    C("t30", "一応報告。{fact}。"),
]

HELDOUT = [
    C("h01", "{thing}が気になってる人へ。{pred}。", domains=(*GOODS, "restaurant", "app")),
    P("h02", "{fact}。言いたいことはそれだけです。"),
    P("h03", "長年利用している者です。{fact}。{fact#2}。"),
    P("h04", "お店の方に届くように書きます。{fact}。{request}。", domains=(*GOODS, "delivery", "support")),
    C("h05", "まとめると、{thing}は{pred}。"),
    P("h06", "{verdict}。理由を書いておきます。{fact}。{fact#2}。"),
    C("h07", "買ってから一か月たったので二回目のレビュー。{thing}、{pred}。", domains=USED),
    C("h08", "ぶっちゃけ、{fact}。{verdict}。"),
    P("h09", "知り合いにもよく聞かれるので書いておきます。{thing}は{pred}。"),
    C("h10", "{first}。感想を書いとく。{fact}。{overall}。"),
]

# fmt: off
SLOTS = {
    "order": ["48213", "51907", "30662", "77154", "62048", "19385", "84520", "27731"],
    "company": ["スマイル通販", "ハルノ商店", "ミナト家電", "あおばストア", "カスタマーセンター"],
    "rel": ["友達", "姉", "同僚", "夫", "妻", "母"],
    "duration": ["一週間", "一か月", "三か月", "半年", "一年"],
    "stars.positive": ["5", "5", "4"],
    "stars.negative": ["1", "1", "2"],
    "stars_line.positive": [
        "[星5つ。文句なし|星5つです]", "[星5|星5です]", "[星4。ほぼ満点|星4つ、ほぼ満点です]",
    ],
    "stars_line.negative": [
        "[星1|星1つです]", "[星1。これでもおまけ|星1つ、これでもおまけです]", "[星2|星2つです]",
    ],
    "request.positive": [
        "ありがとうございました", "スタッフの皆さまによろしくお伝えください", "これからも応援しています",
        "対応は不要です。お礼をお伝えしたかっただけです",
    ],
    "request.negative": [
        "至急返金をお願いします", "交換か全額返金をお願いします", "早急に対応してください",
        "四十八時間以内にご返信ください",
    ],
    "overall.positive": [
        "[満足|満足しています]", "[期待以上だった|期待以上でした]", "[いい体験だった|いい体験でした]",
        "[かなりよかった|とてもよかったです]", "[後悔はまったくない|まったく後悔していません]",
    ],
    "overall.negative": [
        "[期待外れだった|期待外れでした]", "[不満しかない|不満しかありません]",
        "[がっかりした|がっかりしました]", "[時間の無駄だった|時間の無駄でした]",
        "[後悔してる|後悔しています]",
    ],
    "verdict.positive": [
        "[大満足|大満足です]", "[かなりおすすめ|とてもおすすめです]", "[文句なし|文句なしです]",
        "[言うことなし|言うことはありません]", "[期待以上だった|期待以上でした]",
        "[本当によかった|本当によかったです]", "[これは当たり|当たりでした]",
    ],
    "verdict.negative": [
        "[がっかり|がっかりです]", "[正直おすすめしない|正直おすすめできません]",
        "[お金の無駄だった|お金の無駄でした]", "[期待してただけに残念|期待していただけに残念です]",
        "[ひどすぎる|ひどすぎます]", "[最悪|最悪でした]", "[これはハズレ|ハズレでした]",
    ],
    "verdict.positive.heldout": [
        "[大当たりだった|大当たりでした]", "[誰にでも勧めたい|誰にでも勧めたいです]",
    ],
    "verdict.negative.heldout": [
        "[時間とお金を返してほしい|時間とお金を返してほしいです]",
        "[絶対やめたほうがいい|絶対にやめたほうがいいです]",
    ],
    "verdict.restaurant.positive": ["[また行く|また伺います]"],
    "verdict.restaurant.negative": ["[もう行かない|もう行きません]"],
    "verdict.app.positive": ["[課金する価値あり|課金する価値があります]"],
    "verdict.app.negative": ["[即アンインストールした|すぐにアンインストールしました]"],
    "verdict.support.positive": ["[神対応だった|素晴らしい対応でした]"],
    "verdict.support.negative": ["[今まで受けた中で最悪の対応|今まで受けた中で最悪の対応でした]"],
    "verdict.delivery.positive": ["[次もここで頼む|次回もこちらで注文します]"],
    "verdict.delivery.negative": ["[次からは別の店で買う|次からは別のお店で買います]"],
}
# fmt: on
SLOTS.update(DOMAIN_SLOTS)
for _domain in GOODS:
    SLOTS[f"verdict.{_domain}.positive"] = ["[また買う|また買います]"]
    SLOTS[f"verdict.{_domain}.negative"] = ["[返品する|返品します]"]

TRANSFORMS: dict = {}
