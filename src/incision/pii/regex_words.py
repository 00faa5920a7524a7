"""Word tables of the regex baseline: cue words per kind of number, prefectures, US states, street
suffixes, and words that stand where names stand but are not names."""

# Cue words, by the kind of number they announce. "neg" cues announce numbers that are not PII.
EN_CUES = {
    "phone": r"tel(?:ephone)?|phone|call(?: me)?(?: at| on)?|fax|mobile|cell|text me|whatsapp|"
    r"contact (?:no|number)",
    "card": r"(?:credit|debit) ?card|card|visa|master ?card|amex|american express|jcb|discover",
    # "My Number" only capitalised: "my number is ..." introduces a phone number
    "gov": r"ssn|social security(?: number| no)?|(?-i:My ?Number)|individual number|passport|"
    r"driver'?s? licen[cs]e|licen[cs]e|dl|national id|id card",
    "bank": r"iban|account|acct|a/c",
    "postal": r"zip(?: ?code)?|postal code|post ?code",
    "dob": r"dob|d\.o\.b\.?|date of birth|birth ?date|birthday|born(?: on| in)?",
    "neg": r"(?:gift|loyalty|points?|rewards?|member(?:ship)?|library) card|barcode|isbn|ean|upc|"
    r"order|tracking|track|invoice|sku|item|model|ref(?:erence)?|ticket|confirmation|booking|"
    r"reservation|serial|case|receipt|coupon|promo|member(?:ship)?|customer (?:id|no|number)|routing|"
    r"branch|sort code|swift|product|qty|quantity|price|total|deliver(?:y|ed)?|ship(?:ped|ping|s)?|"
    r"arriv(?:e|ed|al)|expir(?:y|es|ation)|valid|due|dated?|version|room|flight|parcel|package",
}


def _ascii(words: str) -> str:
    """`words` as written (the cues are compiled case-blind) and not inside a longer ASCII word."""
    return rf"(?<![A-Za-z])(?-i:{words})(?![A-Za-z])"


# Japanese has no word boundaries, so its cues match anywhere, except the ASCII ones: "JAN" must not
# match in "Janet" (TEL and FAX are English cues, bounded the same way).
JA_CUES = {
    "phone": r"電話|携帯|連絡先|ファックス|ファクス|でんわ",
    "card": r"カード|クレジット|クレカ",
    "gov": r"マイナンバー|個人番号|旅券|パスポート|免許",
    "bank": r"口座|普通預金|当座預金|普通|当座|貯金",
    "postal": r"郵便番号",
    "dob": r"生年月日|誕生日|生まれ年月日",
    "neg": rf"(?:ポイント|ギフト|会員|メンバーズ|プリペイド|図書|診察券|{_ascii('T')})カード|"
    rf"バーコード|{_ascii('JAN')}|"
    r"注文|追跡|伝票|請求|品番|型番|商品|予約|受付|問い?合わ?せ番号|管理番号|会員|ポイント|シリアル|"
    r"配送|配達|発送|到着|お届け|レシート|領収|クーポン|支店|店番|金融機関|銀行コード|合計|価格|金額|数量|"
    r"有効期限|期限|部屋|便名|荷物",
}

PREF = (
    "北海道|東京都|京都府|大阪府|(?:青森|岩手|宮城|秋田|山形|福島|茨城|栃木|群馬|埼玉|千葉|神奈川|新潟|富山|石川|"
    "福井|山梨|長野|岐阜|静岡|愛知|三重|滋賀|兵庫|奈良|和歌山|鳥取|島根|岡山|広島|山口|徳島|香川|愛媛|高知|福岡|"
    "佐賀|長崎|熊本|大分|宮崎|鹿児島|沖縄)県"
)

STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|"
    "NC|ND|"
    "OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY"
)
STREET_SUFFIX = (
    r"(?i:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|"
    r"circle|cir|parkway|pkwy|highway|hwy|square|sq|trail|plaza|alley)\.?"
)

NOT_NAME_WORDS = (  # kinship words, roles and greetings that precede honorifics and cues like names
    "客 皆 神 王 母 父 兄 姉 弟 妹 娘 嫁 孫 奥 息子 旦那 主人 店員 担当 担当者 運転手 配達員 社長 部長 課長 係長 "
    "店長 医者 患者 利用者 会員 購入者 各位 業者 管理人 大家 友達 先輩 後輩 看護師 皆さん 彼 彼女 "
    "ドライバー スタッフ オペレーター サポート お客 Customer Sir Madam Team Support Everyone All There Friend "
    "Guys Folks Valued Member User Client Hiring Manager Admin Mr Mrs Ms Miss Mx Dr Prof 様"
)
