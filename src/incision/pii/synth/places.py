"""Place tables written for this project: real cities and towns, so addresses read as real ones.

Postal codes and lot numbers are random; only the names are real. Tables are written as strings to
stay readable: `pairs("本町:Honcho 中央:Chuo")` (an underscore stands for a space), and `rows()`
with one `|`-separated row a line.
"""

from __future__ import annotations


def pairs(text: str) -> list[tuple[str, str]]:
    return [(a.replace("_", " "), b.replace("_", " ")) for a, b in (item.split(":") for item in text.split())]


def rows(text: str) -> list[tuple[str, ...]]:
    return [tuple(line.strip().split("|")) for line in text.strip().splitlines()]


# United States: (city, state)
CITIES = pairs(
    """
    Austin:TX Dallas:TX Houston:TX Plano:TX San_Antonio:TX Denver:CO Boulder:CO Portland:OR Eugene:OR
    Seattle:WA Spokane:WA Chicago:IL Naperville:IL Columbus:OH Cleveland:OH Phoenix:AZ Tucson:AZ
    Atlanta:GA Savannah:GA Boston:MA Cambridge:MA Brooklyn:NY Buffalo:NY San_Diego:CA Oakland:CA
    Sacramento:CA Irvine:CA Fresno:CA San_Jose:CA Tampa:FL Orlando:FL Miami:FL Raleigh:NC Asheville:NC
    Nashville:TN Memphis:TN Louisville:KY Madison:WI Minneapolis:MN St._Louis:MO Kansas_City:MO Omaha:NE
    Boise:ID Salt_Lake_City:UT Las_Vegas:NV Albuquerque:NM Pittsburgh:PA Philadelphia:PA Baltimore:MD
    Richmond:VA Newark:NJ Hartford:CT Providence:RI Burlington:VT Honolulu:HI Anchorage:AK Des_Moines:IA
    Indianapolis:IN Detroit:MI Ann_Arbor:MI New_Orleans:LA Birmingham:AL Charleston:SC
    """
)
CA_CITIES = rows(
    """
    Toronto|ON|M
    Vancouver|BC|V
    Montreal|QC|H
    Calgary|AB|T
    """
)  # (city, province, first letter of its postal codes)
UK_CITIES = ["London", "Manchester", "Birmingham", "Leeds", "Edinburgh", "Glasgow", "Bristol", "Oxford"]
UK_AREAS = ["SW1A", "NW1", "E14", "M1", "B3", "LS1", "EH1", "G2", "BS1", "CB2", "OX1", "N7", "SE15", "W2"]

# Japan: (prefecture, romaji, city or ward, romaji)
PLACES = rows(
    """
    東京都|Tokyo|渋谷区|Shibuya-ku
    東京都|Tokyo|世田谷区|Setagaya-ku
    東京都|Tokyo|新宿区|Shinjuku-ku
    東京都|Tokyo|杉並区|Suginami-ku
    東京都|Tokyo|練馬区|Nerima-ku
    東京都|Tokyo|品川区|Shinagawa-ku
    東京都|Tokyo|江東区|Koto-ku
    東京都|Tokyo|大田区|Ota-ku
    東京都|Tokyo|八王子市|Hachioji-shi
    東京都|Tokyo|武蔵野市|Musashino-shi
    東京都|Tokyo|町田市|Machida-shi
    神奈川県|Kanagawa|横浜市港北区|Yokohama-shi Kohoku-ku
    神奈川県|Kanagawa|川崎市中原区|Kawasaki-shi Nakahara-ku
    神奈川県|Kanagawa|藤沢市|Fujisawa-shi
    神奈川県|Kanagawa|相模原市南区|Sagamihara-shi Minami-ku
    埼玉県|Saitama|さいたま市浦和区|Saitama-shi Urawa-ku
    埼玉県|Saitama|川口市|Kawaguchi-shi
    埼玉県|Saitama|所沢市|Tokorozawa-shi
    千葉県|Chiba|船橋市|Funabashi-shi
    千葉県|Chiba|柏市|Kashiwa-shi
    千葉県|Chiba|千葉市美浜区|Chiba-shi Mihama-ku
    大阪府|Osaka|大阪市北区|Osaka-shi Kita-ku
    大阪府|Osaka|大阪市中央区|Osaka-shi Chuo-ku
    大阪府|Osaka|豊中市|Toyonaka-shi
    大阪府|Osaka|吹田市|Suita-shi
    大阪府|Osaka|堺市堺区|Sakai-shi Sakai-ku
    京都府|Kyoto|京都市左京区|Kyoto-shi Sakyo-ku
    京都府|Kyoto|宇治市|Uji-shi
    兵庫県|Hyogo|神戸市中央区|Kobe-shi Chuo-ku
    兵庫県|Hyogo|西宮市|Nishinomiya-shi
    兵庫県|Hyogo|姫路市|Himeji-shi
    愛知県|Aichi|名古屋市中区|Nagoya-shi Naka-ku
    愛知県|Aichi|名古屋市千種区|Nagoya-shi Chikusa-ku
    愛知県|Aichi|岡崎市|Okazaki-shi
    北海道|Hokkaido|札幌市中央区|Sapporo-shi Chuo-ku
    北海道|Hokkaido|旭川市|Asahikawa-shi
    宮城県|Miyagi|仙台市青葉区|Sendai-shi Aoba-ku
    福岡県|Fukuoka|福岡市博多区|Fukuoka-shi Hakata-ku
    福岡県|Fukuoka|北九州市小倉北区|Kitakyushu-shi Kokurakita-ku
    広島県|Hiroshima|広島市中区|Hiroshima-shi Naka-ku
    静岡県|Shizuoka|浜松市中央区|Hamamatsu-shi Chuo-ku
    新潟県|Niigata|新潟市中央区|Niigata-shi Chuo-ku
    長野県|Nagano|松本市|Matsumoto-shi
    岡山県|Okayama|岡山市北区|Okayama-shi Kita-ku
    熊本県|Kumamoto|熊本市中央区|Kumamoto-shi Chuo-ku
    鹿児島県|Kagoshima|鹿児島市|Kagoshima-shi
    沖縄県|Okinawa|那覇市|Naha-shi
    石川県|Ishikawa|金沢市|Kanazawa-shi
    茨城県|Ibaraki|つくば市|Tsukuba-shi
    栃木県|Tochigi|宇都宮市|Utsunomiya-shi
    群馬県|Gunma|高崎市|Takasaki-shi
    奈良県|Nara|奈良市|Nara-shi
    滋賀県|Shiga|大津市|Otsu-shi
    三重県|Mie|四日市市|Yokkaichi-shi
    岐阜県|Gifu|岐阜市|Gifu-shi
    愛媛県|Ehime|松山市|Matsuyama-shi
    香川県|Kagawa|高松市|Takamatsu-shi
    青森県|Aomori|八戸市|Hachinohe-shi
    富山県|Toyama|富山市|Toyama-shi
    長崎県|Nagasaki|佐世保市|Sasebo-shi
    """
)
# Town names found in many cities, so any pairing with PLACES reads as real.
TOWNS = pairs(
    """
    本町:Honcho 中央:Chuo 緑町:Midoricho 栄町:Sakaemachi 旭町:Asahicho 桜町:Sakuracho 若葉:Wakaba
    東町:Higashimachi 元町:Motomachi 錦町:Nishikicho 泉町:Izumicho 松原:Matsubara 富士見:Fujimi
    青葉台:Aobadai 桜ケ丘:Sakuragaoka 緑が丘:Midorigaoka 住吉町:Sumiyoshicho 新町:Shinmachi 宮前:Miyamae
    港町:Minatomachi 春日:Kasuga 百合が丘:Yurigaoka 西町:Nishimachi 南町:Minamimachi 北町:Kitamachi
    昭和町:Showacho 幸町:Saiwaicho 末広町:Suehirocho 寿町:Kotobukicho 平和町:Heiwacho 八幡町:Hachimancho
    東原:Higashihara 西原:Nishihara 若松町:Wakamatsucho 清水:Shimizu 山手町:Yamatecho 大町:Omachi
    日の出町:Hinodecho 朝日町:Asahimachi
    """
)
BUILDINGS = pairs(
    """
    サン:Sun グラン:Gran メゾン:Maison パーク:Park ロイヤル:Royal シティ:City リバー:River コスモ:Cosmo
    ベル:Belle フォレスト:Forest ステラ:Stella グリーン:Green エクセル:Excel アーバン:Urban ノース:North
    """
)
BUILDING_KINDS = pairs(
    """
    ハイツ:Heights コーポ:Corp レジデンス:Residence マンション:Mansion パレス:Palace ヒルズ:Hills
    テラス:Terrace コート:Court タワー:Tower
    """
)
