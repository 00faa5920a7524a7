"""Japanese PII values: names (kanji, kana, romaji), e-mails, phones, 〒 addresses, cards, IDs, accounts.

Surnames and given names with their readings come from `japanese-personal-name-dataset`; faker's
ja_JP name pairs add the most common kanji spellings. Values never include 様/さん or a "TEL:" label.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from functools import cache
from itertools import accumulate

from faker import Faker

from .common import (
    birth_date,
    card_number,
    date_ja,
    digits,
    group,
    hankaku_kana,
    hira_to_kata,
    iban,
    my_number,
    zen_all,
    zen_digits,
)
from .places import jp_building_kinds, jp_buildings, jp_places, jp_towns
from .tables import strings

IDSP = "\u3000"  # the ideographic (full-width) space


def _words(key: str) -> tuple[str, ...]:
    return strings("values_ja", key)


@cache
def _name_tables():
    """(surnames, cumulative weights) and, per sex, given names as (reading, romaji, likely spellings)."""
    from japanese_personal_name_dataset import load_dataset

    men, women, last = load_dataset(kind="opti", include_last_names=True)
    surnames = [(k, v["reading"], v["en"]) for k, v in last.items()]
    # sqrt of the population: common names stay common, rare ones still appear
    weights = list(accumulate(v["count"] ** 0.5 for v in last.values()))
    # The dataset lists every spelling of a reading, most of them rare; a spelling whose rarest
    # character is common across all names is a likely one (太郎 over 汰朗).
    freq = Counter(ch for names in (men, women) for v in names.values() for k in v["kanji"] for ch in set(k))
    given = {}
    for sex, names in (("m", men), ("f", women)):
        rows = []
        for reading, v in names.items():
            spellings = sorted((k for k in v["kanji"] if len(k) <= 3), key=lambda k: -min(freq[c] for c in k))
            if spellings:
                rows.append((reading, v["en"], spellings[:3]))
        given[sex] = rows
    return surnames, weights, given


def _hepburn(romaji: str, rng: random.Random) -> str:
    """The dataset writes 'satou'; passports and mail write 'Sato' (sometimes 'Satou', 'Satoh')."""
    x = rng.random()
    if x < 0.75:
        romaji = romaji.replace("ou", "o").replace("uu", "u")
    elif x < 0.82:
        romaji = romaji.replace("ou", "oh")
    return romaji.capitalize()


@dataclass
class PersonJa:
    sei: str
    mei: str
    sei_kana: str
    mei_kana: str
    sei_roma: str
    mei_roma: str
    sex: str
    email: str | None = None


class JaPii:
    """Japanese PII values for one message; `zen` writes its digits full width, as some customers do."""

    def __init__(self, rng: random.Random, fake: Faker, zen: bool = False):
        self.rng, self.fake, self.zen = rng, fake, zen
        self.people: dict[int, PersonJa] = {}
        self.kin_words: dict[int, str] = {}

    def _z(self, text: str) -> str:
        return zen_digits(text, self.rng.choice("－－－ー‐")) if self.zen else text

    # -- people ---------------------------------------------------------------------------------------
    def person(self, k: int = 1) -> PersonJa:
        if k not in self.people:
            sex = self.rng.choice("mf")
            self.people[k] = self._from_faker(sex) if self.rng.random() < 0.4 else self._from_dataset(sex)
        return self.people[k]

    def _from_dataset(self, sex: str) -> PersonJa:
        r = self.rng
        surnames, weights, given = _name_tables()
        sei, sei_reading, sei_en = r.choices(surnames, cum_weights=weights)[0]
        reading, en, spellings = r.choice(given[sex])
        mei = reading if sex == "f" and r.random() < 0.06 else r.choice(spellings)  # some names are kana only
        kana = hira_to_kata(sei_reading), hira_to_kata(reading)
        return PersonJa(sei, mei, *kana, _hepburn(sei_en, r), _hepburn(en, r), sex)

    def _from_faker(self, sex: str) -> PersonJa:
        f = self.fake
        sei, sei_kana, sei_roma = f.last_name_pair()
        mei, mei_kana, mei_roma = f.first_name_female_pair() if sex == "f" else f.first_name_male_pair()
        return PersonJa(sei, mei, sei_kana, mei_kana, sei_roma, mei_roma, sex)

    def kin(self, k: int = 2) -> str:
        """A kinship word that fits person k (母 for a woman), for "{kin2}の名前（{name2}）"."""
        if k not in self.kin_words:  # the same word every time the message names them
            self.kin_words[k] = self.rng.choice(_words("kin_f" if self.person(k).sex == "f" else "kin_m"))
        return self.kin_words[k]

    def romaji_parts(self, k: int = 1) -> tuple[str, str]:
        p = self.person(k)
        return p.mei_roma, p.sei_roma

    def _kanji(self, p: PersonJa) -> str:
        return p.sei + self.rng.choice([" ", " ", "", "", "\u3000"]) + p.mei

    def name(self) -> str:
        return self._kanji(self.person(1))

    def name2(self) -> str:
        return self._kanji(self.person(2))

    def sei(self) -> str:
        return self.person(1).sei

    def mei(self) -> str:
        return self.person(1).mei

    def sei2(self) -> str:
        return self.person(2).sei

    def staff(self) -> str:
        return self.person(9).sei

    def staff_full(self) -> str:
        return self._kanji(self.person(9))

    def kana(self, k: int = 1) -> str:
        p, r = self.person(k), self.rng
        text = p.sei_kana + r.choice([" ", "", "\u3000"]) + p.mei_kana
        x = r.random()
        if x < 0.15:
            return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)  # hiragana
        return hankaku_kana(text) if x < 0.22 else text

    def kana2(self) -> str:
        return self.kana(2)

    def sei_kana(self) -> str:
        return self.person(1).sei_kana

    def romaji(self, k: int = 1) -> str:
        p, r = self.person(k), self.rng
        return r.choice(
            [
                f"{p.mei_roma} {p.sei_roma}",
                f"{p.sei_roma.upper()} {p.mei_roma}",
                f"{p.sei_roma} {p.mei_roma}",
                f"{p.mei_roma} {p.sei_roma}".lower(),
                f"{p.mei_roma[0]}. {p.sei_roma}",
            ]
        )

    def card_holder(self) -> str:
        p = self.person(1)
        return f"{p.mei_roma} {p.sei_roma}".upper()

    def foreign(self) -> str:
        """A non-Japanese customer, in katakana as a Japanese form asks, or as written."""
        r = self.rng
        first, last = r.choice(_words("foreign_first")), r.choice(_words("foreign_last"))
        return f"{first}{r.choice(['・', '・', ' ', '＝'])}{last}"

    # -- e-mail ---------------------------------------------------------------------------------------
    def email(self, k: int = 1) -> str:
        p, r = self.person(k), self.rng
        if p.email is None:
            sei, mei = p.sei_roma.lower(), p.mei_roma.lower()
            mail_words = _words("mail_words")
            num = r.choice(
                [
                    str(r.randint(1, 99)),
                    f"{r.randint(1, 12):02d}{r.randint(1, 28):02d}",
                    str(r.randint(1970, 2005)),
                ]
            )
            local = r.choice(
                [
                    f"{mei}.{sei}",
                    f"{sei}.{mei}",
                    f"{sei}.{mei[0]}",
                    f"{mei[0]}-{sei}",
                    f"{mei}_{num}",
                    f"{sei}{mei[:3]}",
                    f"{mei}{sei}{num[-2:]}",
                    f"{r.choice(mail_words)}.{mei}",
                    f"{r.choice(mail_words)}{num}",
                    f"{mei}-{r.choice(mail_words)}",
                ]
            )
            domain = r.choice(_words("mail_domains")) if r.random() < 0.8 else self._company_domain()
            p.email = f"{local}@{domain}"
            x = r.random()
            if x < 0.04:
                p.email = p.email.replace("@", "＠")  # typed in the wrong width, or to dodge scrapers
            elif x < 0.06:
                p.email = zen_all(p.email)
        return p.email

    def email2(self) -> str:
        return self.email(2)

    def email_biz(self) -> str:
        r = self.rng
        local = r.choice(["info", "support", "shop", "order", "cs", "contact", "otoiawase"])
        return f"{local}@{self._company_domain()}"

    def _company_domain(self) -> str:
        r = self.rng
        kind = r.choice(["shoji", "kogyo", "design", "net", "store", "shop", "trading"])
        return f"{self.fake.last_romanized_name().lower()}-{kind}.{r.choice(['co.jp', 'co.jp', 'jp', 'com'])}"

    # -- phones ---------------------------------------------------------------------------------------
    def phone(self, landline: float = 0.15, ext: float = 0.0, business: bool = False) -> str:
        r = self.rng
        if r.random() >= landline:
            a, b, c = r.choice(["090", "080", "070"]), digits(r, 4), digits(r, 4)
        elif business and r.random() < 0.2:  # free dial and navi dial: 0120-123-456
            a, b, c = r.choice(["0120", "0120", "0570"]), digits(r, 3), digits(r, 3)
        else:
            a = r.choice(["03", "06", "045", "052", "011", "092", "075", "078", "022", "0466", "048"])
            b, c = digits(r, 6 - len(a), "123456789"), digits(r, 4)  # 10 digits in all
        text = r.choice(
            [
                f"{a}-{b}-{c}",
                f"{a}-{b}-{c}",
                f"{a}-{b}-{c}",
                f"{a}{b}{c}",
                f"{a} {b} {c}",
                f"{a}({b}){c}",
                f"{a}（{b}）{c}",
                f"+81 {a[1:]}-{b}-{c}",
                f"+81-{a[1:]}-{b}-{c}",
                f"+81{a[1:]}{b}{c}",
                f"({a}){b}-{c}",
            ]
        )
        if r.random() < ext and not a.startswith(("090", "080", "070")):  # extensions are on office lines
            text += r.choice([" 内線", " 内線 ", " 内線：", " ext."]) + str(r.randint(10, 999))
        return self._z(text)

    def phone2(self) -> str:
        return self.phone()

    def tel(self) -> str:
        return self.phone(landline=0.85, ext=0.25, business=True)

    def fax(self) -> str:
        return self.phone(landline=1.0)

    # -- addresses ------------------------------------------------------------------------------------
    def _zip(self) -> str:
        r = self.rng
        code = f"{r.randint(1, 999):03d}-{r.randint(0, 9999):04d}"
        return code.replace("-", "") if r.random() < 0.1 else code

    def _lot(self) -> str:
        """丁目-番-号 in one of its spellings."""
        r = self.rng
        c, b, g = r.randint(1, 9), r.randint(1, 40), r.randint(1, 30)
        if r.random() < 0.15:
            return f"{b}-{g}" if r.random() < 0.5 else f"{r.randint(100, 2999)}-{r.randint(1, 9)}"  # no 丁目
        kan = "〇一二三四五六七八九"[c]
        return r.choice(
            [
                f"{c}-{b}-{g}",
                f"{c}-{b}-{g}",
                f"{c}丁目{b}-{g}",
                f"{c}丁目{b}番{g}号",
                f"{kan}丁目{b}番{g}号",
                f"{c}丁目{b}番地{g}",
            ]
        )

    def _building(self) -> tuple[str, str]:
        r = self.rng
        (pre, pre_r), (kind, kind_r) = r.choice(jp_buildings()), r.choice(jp_building_kinds())
        room = str(r.randint(1, 12) * 100 + r.randint(1, 12))
        x = r.random()
        if x < 0.15:
            return f"{self.fake.last_name()}ビル{r.randint(1, 9)}F", ""
        if x < 0.25:
            return f"{self.fake.last_name()}荘{r.randint(1, 2)}0{r.randint(1, 6)}", ""
        return (
            f"{pre}{kind}{r.choice(['', '', ' '])}{r.choice(_words('rooms')).format(n=room)}",
            f"{pre_r} {kind_r} {room}",
        )

    def _street(self) -> str:
        r = self.rng
        pref, _, city, _ = r.choice(jp_places())
        town = r.choice(jp_towns())[0] if r.random() < 0.75 else self.fake.town()
        text = f"{pref}{city}" if r.random() < 0.8 else city
        text += town + self._lot()
        if r.random() < 0.45:
            text += r.choice([" ", "", IDSP]) + self._building()[0]
        elif r.random() < 0.1:
            text += f"-{r.randint(1, 9)}0{r.randint(1, 9)}"  # room number straight after the lot
        return text

    def addr(self) -> str:
        """One line: [〒code] 都道府県 市区 町 丁目-番-号 [building room]."""
        r = self.rng
        text = self._street()
        if r.random() < 0.45:
            text = r.choice(["〒", "〒", "〒 ", ""]) + self._zip() + r.choice([" ", IDSP, ""]) + text
        return self._z(text)

    def addr_block(self) -> str:
        """〒 code on its own line above the address; one span, the newline inside it."""
        return self._z(f"〒{self._zip()}\n{self._street()}")

    def zip_plain(self) -> str:
        return self._z(self._zip())

    def zip(self) -> str:
        r = self.rng
        return self._z(f"{r.choice(['〒', '〒', ''])}{self._zip()}")

    def addr_romaji(self) -> str:
        r = self.rng
        _, pref, _, city = r.choice(jp_places())
        c, b, g = r.randint(1, 9), r.randint(1, 40), r.randint(1, 30)
        lead = f"{self._building()[1] or 'Sun Heights 101'}, " if r.random() < 0.4 else ""
        text = f"{lead}{c}-{b}-{g} {r.choice(jp_towns())[1]}, {city}, {pref}"
        if r.random() < 0.7:
            text += f"{r.choice([' ', ', '])}{self._zip()}"
        return text + (", Japan" if r.random() < 0.5 else "")

    # -- cards, IDs, accounts -------------------------------------------------------------------------
    def card(self) -> str:
        return self._z(card_number(self.rng, jcb=0.25))

    def mynumber(self) -> str:
        r = self.rng
        number = my_number(r)
        return self._z(
            r.choice([number, number, group(number, (4, 4, 4), " "), group(number, (4, 4, 4), "-")])
        )

    def license(self) -> str:
        r = self.rng
        return self._z(f"{r.randint(10, 97)}{digits(r, 10)}")

    def passport(self) -> str:
        r = self.rng
        text = f"{r.choice(['TK', 'TR', 'TZ', 'MU', 'MZ', 'RE', 'TS', 'TT'])}{digits(r, 7)}"
        return zen_all(text) if self.zen else text

    def govid(self) -> str:
        return self.rng.choice([self.mynumber, self.mynumber, self.license, self.passport])()

    def dob(self) -> str:
        return self._z(date_ja(birth_date(self.rng), self.rng, era=True))

    def acct(self) -> str:
        return self._z(digits(self.rng, 7))

    def yucho(self) -> str:
        """Japan Post Bank: 記号 (5 digits) and 番号 (8), one account number."""
        r = self.rng
        return self._z(f"1{digits(r, 3)}0{r.choice(['-', '-', ' ', ''])}{digits(r, 7)}1")

    def iban(self) -> str:
        r = self.rng
        return group(iban("DE", digits(r, 18)), (4,) * 6, " ")
