"""Japanese near-miss values and word lists (see nearmiss.py)."""

from __future__ import annotations

import random

from faker import Faker

from .common import date_ja, digits, group, old_date, recent_date, zen_digits
from .nearmiss import ALNUM as _ALNUM
from .nearmiss import UP as _UP
from .nearmiss import Near
from .nearmiss import w as _w

JA = {
    "company": _w(
        "ヤマト運輸|佐川急便|日本郵便|Amazon|楽天|ヨドバシカメラ|ユニクロ|ニトリ|無印良品|ビックカメラ|"
        "ZOZOTOWN|メルカリ|ヤフーショッピング|髙島屋|三越|イオン"
    ),
    "shop": _w(
        "ナチュラルキッチン|和み堂|ハルカゼ雑貨店|北欧家具ノルド|こもれび珈琲|まるや茶舗|キッズステップ|"
        "スタイルマート|アトリエ結|グリーンリーフ"
    ),
    "handle": _w(  # brand accounts on social media
        "nagomido_official|harukaze_zakka|nord_kagu|komorebi_coffee|stylemart_jp|atelier_yui|greenleaf_cs|"
        "naturalkitchen_jp"
    ),
    "store": _w(
        "渋谷店|梅田店|名古屋栄店|札幌駅前店|天神店|イオンモール幕張新都心店|横浜ポルタ店|ららぽーと豊洲店|"
        "仙台一番町店|京都河原町店|アウトレット店|本店"
    ),
    "station": _w(
        "新宿駅|渋谷駅|梅田駅|博多駅|名古屋駅|横浜駅の西口|品川駅|京都駅|仙台駅|札幌駅|最寄り駅|大宮駅"
    ),
    "venue": _w(
        "東京ドーム|幕張メッセ|東京ビッグサイト|羽田空港|成田空港|大阪城ホール|ディズニーランド|市役所|"
        "近くのコンビニ|さいたまスーパーアリーナ"
    ),
    "city": _w("札幌|大阪|福岡|横浜|京都|仙台|名古屋|沖縄|神戸|広島|金沢|世田谷区|浜松|つくば"),
    "celeb": _w(
        "大谷翔平|羽生結弦|米津玄師|村上春樹|宮崎駿|新垣結衣|木村拓哉|藤井聡太|星野源|石原さとみ|松岡修造|"
        "明石家さんま|浜崎あゆみ|北川景子|イチロー|夏目漱石|坂本龍馬|徳川家康|ドラえもん|ピカチュウ|"
        "マツコ・デラックス|近藤麻理恵"
    ),
    "brand": _w(
        "イッセイ ミヤケ|ヨウジヤマモト|コシノジュンコ|ポール・スミス|ラルフローレン|吉田カバン|ミキハウス|"
        "カシオ|ミズノ|シマノ|ヤマハ|ホンダ|トヨタ|スズキ"
    ),
    "kin": _w("母|父|主人|夫|妻|嫁|息子|娘|祖母|義母|姉|兄|妹|弟|子ども|家族|母親|うちの母|旦那|義父|孫"),
    "wear": _w(
        "ワンピース|スニーカー|ダウンジャケット|Tシャツ|パンツ|ブーツ|コート|パジャマ|ニット|スカート"
    ),
    "appliance": _w(
        "加湿器|電気ケトル|炊飯器|ワイヤレスイヤホン|空気清浄機|コーヒーメーカー|ノートパソコン|ドライヤー"
    ),
    "item": _w(
        "ワイヤレスイヤホン|加湿器|羽毛布団|リュック|スニーカー|コーヒーメーカー|電気ケトル|子供用の長靴|"
        "ダウンジャケット|ハンドクリーム|お米10kg|ギフトセット|スマホケース|ノートパソコン|炊飯器|マグカップ|"
        "ベビーカー|ランドセル|ワンピース|ソファカバー|空気清浄機|お歳暮のハム|水筒|枕"
    ),
    "color": _w("ブラック|ネイビー|白|ベージュ|グレー|カーキ|ピンク|ホワイト|黒|赤"),
    "size": _w("M|L|S|XL|24.5cm|Sサイズ|Lサイズ|フリーサイズ|26cm|シングル|ダブル|110cm"),
    "coupon": _w("SUMMER10|WELCOME500|HAPPY2024|SPRING15|THANKS300|NEW1000"),
    "bank": _w(
        "三菱UFJ銀行|三井住友銀行|みずほ銀行|りそな銀行|ゆうちょ銀行|楽天銀行|住信SBIネット銀行|PayPay銀行|"
        "横浜銀行|静岡銀行|千葉銀行|福岡銀行"
    ),
    "branch": _w(
        "渋谷支店|梅田支店|新宿支店|本店営業部|〇一八支店|名古屋支店|札幌支店|二三八支店|横浜駅前支店|"
        "博多支店"
    ),
    "carrier": _w("ヤマト運輸|佐川急便|日本郵便|西濃運輸|ゆうパック|クロネコ|配送業者"),
    "day": _w("明日|今週の土曜日|来週の月曜日|週明け|今日中|明後日|今週末|来月|土曜日|水曜"),
    "pastday": _w("昨日|先週の金曜|おととい|今朝|先週末"),
    "time": _w("14時|午前10時|19:00|夕方|15時半|朝9時|正午|21時過ぎ"),
    "timewin": _w("午前中|14〜16時|18-20時|19時〜21時|夜間|16時から18時|12時〜14時|夕方以降"),
    "dept": _w("営業部|総務部|購買部|カスタマーサポート部|経理部|商品企画部|店舗運営部|管理本部"),
    "title": _w("主任|課長|部長|担当|マネージャー|代表取締役|係長"),
    "msg": _w(
        "商品が届きません。|返品したいです。|サイズ交換を希望します。|請求金額が違うようです。|"
        "電話で連絡をください。|注文をキャンセルしたいです。|領収書の発行をお願いします。"
    ),
    "hi": _w(
        "お世話になっております。|いつもお世話になっております。|こんにちは。|突然のご連絡失礼いたします。|"
        "初めて利用させていただきました。|お疲れ様です。|お問い合わせです。|はじめまして。|"
        "いつも楽しく利用しています。"
    ),
    "bye": _w(
        "よろしくお願いいたします。|よろしくお願いします。|"
        "お手数をおかけしますが、よろしくお願いいたします。|以上、よろしくお願いします。|"
        "宜しくお願い致します。|ご確認のほどよろしくお願いいたします。|"
        "お忙しいところ恐れ入りますが、よろしくお願いいたします。|よろしくです！"
    ),
}


class NearJa(Near):
    """Japanese near-miss values for one message; digits go full width with the message's `zen`."""

    def __init__(self, rng: random.Random, fake: Faker, zen: bool = False):
        super().__init__(rng, fake)
        self.zen = zen

    def _z(self, text: str) -> str:
        return zen_digits(text) if self.zen else text

    def pick(self, key: str) -> str:
        return self.rng.choice(JA[key])

    def order(self) -> str:
        r = self.rng
        d = recent_date(r)
        return self._z(
            r.choice(
                [
                    f"{d:%Y%m%d}{digits(r, 5)}",
                    f"ORD-{d:%Y%m%d}-{digits(r, 4)}",
                    f"{digits(r, 3)}-{digits(r, 7)}-{digits(r, 7)}",
                    digits(r, 5),
                    f"R-{d:%Y-%m}-{digits(r, 4)}",
                    f"D{d:%y%m%d}-{digits(r, 4)}",
                    digits(r, 10),
                ]
            )
        )

    def sku(self) -> str:
        r = self.rng
        return r.choice(
            [
                f"{r.choice(_UP)}{r.choice(_UP)}-{digits(r, 4)}",
                f"{r.choice(_UP)}{r.choice(_UP)}-{digits(r, 4)}-{r.choice(['BK', 'WH', 'NV'])}",
                f"SKU{digits(r, 5)}",
                f"49{digits(r, 11)}",
            ]
        )

    def tracking(self) -> str:
        r = self.rng
        number = digits(r, 12, "123456789")
        return self._z(
            r.choice(
                [
                    group(number, (4, 4, 4), "-"),
                    number,
                    group(number, (4, 4, 4), " "),
                    f"{r.choice(_UP)}{r.choice(_UP)}{digits(r, 9)}JP",
                ]
            )
        )

    def invoice(self) -> str:
        r = self.rng
        return r.choice(
            [f"INV-{recent_date(r):%Y-%m}-{digits(r, 3)}", f"No.{digits(r, 6)}", f"R-{digits(r, 5)}"]
        )

    def ticket(self) -> str:
        r = self.rng
        return self._z(
            r.choice(
                [f"#{r.choice(_UP)}-{digits(r, 5)}", f"{recent_date(r):%y%m%d}-{digits(r, 4)}", digits(r, 8)]
            )
        )

    def price(self) -> str:
        r = self.rng
        yen = r.choice([r.randint(1, 99) * 10 + 9, r.randint(10, 300) * 100 - 20, r.randint(3, 150) * 100])
        value = f"{yen:,}"
        text = r.choice(
            [f"{value}円", f"{value}円", f"¥{value}", f"￥{value}", f"{value}円（税込）", f"税込{value}円"]
        )
        return self._z(text)

    def price2(self) -> str:
        return self.price()

    def qty(self) -> str:
        return self._z(self.rng.choice(["1", "2", "3", "5", "10"]))

    def date(self) -> str:
        r = self.rng
        return self._z(date_ja(recent_date(r), r, with_year=r.random() < 0.5))

    def date2(self) -> str:
        return self.date()

    def olddate(self) -> str:
        return self._z(date_ja(old_date(self.rng), self.rng, era=self.rng.random() < 0.2))

    def model(self) -> str:
        r = self.rng
        return r.choice(
            [
                f"KJ-{r.randint(43, 75)}X{digits(r, 2)}L",
                f"NP-{r.choice(_UP)}{r.choice(_UP)}{digits(r, 2)}-W",
                f"SR-{r.choice(_UP)}{r.choice(_UP)}{digits(r, 3)}",
                f"MC-SR{digits(r, 3)}K",
                f"KX-PD{digits(r, 3)}DL",
                f"{r.choice(_UP)}{r.choice(_UP)}-{digits(r, 3)}-{digits(r, 4)}",
            ]
        )

    def member(self) -> str:
        r = self.rng
        return self._z(r.choice([digits(r, 8), f"M-{digits(r, 8)}", digits(r, 10)]))

    def points(self) -> str:
        return self._z(f"{self.rng.randint(1, 60) * 50:,}")

    def last4(self) -> str:
        return self._z(digits(self.rng, 4))

    def branch_no(self) -> str:
        return self._z(digits(self.rng, 3))

    def giftcode(self) -> str:
        r = self.rng
        return "".join(r.choice(_ALNUM) for _ in range(16))

    def age(self) -> str:
        return self._z(str(self.rng.randint(18, 90)))

    def company(self) -> str:
        return self.pick("company") if self.rng.random() < 0.5 else self.fake.company()

    def shop(self) -> str:
        return self.pick("shop")

    def biz(self) -> str:
        return self.fake.company()
