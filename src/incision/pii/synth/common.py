"""Helpers shared by the English and Japanese value makers: checksums, digit grouping, widths, dates."""

from __future__ import annotations

import datetime as dt
import random
import string
import unicodedata
from functools import cache

# Full-width forms of printable ASCII (U+FF01..U+FF5E mirror U+0021..U+007E); the space becomes U+3000.
_ZEN = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)} | {" ": "\u3000"}
_ZEN_DIGITS = str.maketrans({**{d: _ZEN[d] for d in string.digits}, "-": "－"})
_ZEN_ALL = str.maketrans(_ZEN)


def zen_digits(text: str, dash: str = "－") -> str:
    """Digits to full width, hyphens to `dash` (people type －, ー or ‐ in Japanese forms)."""
    return text.translate(_ZEN_DIGITS).replace("－", dash)


def zen_all(text: str) -> str:
    """Every ASCII character to full width, the way some Japanese IMEs leave a whole field."""
    return text.translate(_ZEN_ALL)


@cache
def _hankaku_table() -> dict[str, str]:
    """Full-width katakana -> half-width, derived from Unicode's own compatibility mappings."""
    table = {}
    for code in range(0xFF66, 0xFF9E):
        half = chr(code)
        table[unicodedata.normalize("NFKC", half)] = half
        for mark in ("\uff9e", "\uff9f"):  # voiced and semi-voiced sound marks
            full = unicodedata.normalize("NFKC", half + mark)
            if len(full) == 1:
                table[full] = half + mark
    table["\u3000"] = " "
    return table


def hankaku_kana(text: str) -> str:
    """Katakana to half width (ﾔﾏﾀﾞ ﾀﾛｳ), as old order systems and bank forms still print them."""
    table = _hankaku_table()
    return "".join(table.get(ch, ch) for ch in text)


def hira_to_kata(text: str) -> str:
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


def digits(rng: random.Random, n: int, first: str = "0123456789") -> str:
    return rng.choice(first) + "".join(rng.choice(string.digits) for _ in range(n - 1))


def group(text: str, sizes: tuple[int, ...], sep: str) -> str:
    """'4111111111111111', (4, 4, 4, 4), ' ' -> '4111 1111 1111 1111'."""
    parts, at = [], 0
    for size in sizes:
        parts.append(text[at : at + size])
        at += size
    if at < len(text):
        parts.append(text[at:])
    return sep.join(p for p in parts if p)


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    """A number of `length` digits starting with `prefix` whose last digit makes the Luhn sum right."""
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    total = 0
    for k, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if k % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def card_number(rng: random.Random, jcb: float) -> str:
    """A Luhn-valid card number of a common brand, grouped the way people paste them (or not)."""
    x = rng.random()
    if x < 0.1:  # American Express: 15 digits in 4-6-5
        number, sizes = luhn_complete(rng.choice(["34", "37"]), 15, rng), (4, 6, 5)
    else:
        if x < 0.1 + jcb:
            prefix = str(rng.randint(3528, 3589))
        elif x < 0.15 + jcb:
            prefix = "6011"
        elif x < 0.5 + jcb:
            prefix = str(rng.randint(51, 55))
        else:
            prefix = "4"
        number, sizes = luhn_complete(prefix, 16, rng), (4, 4, 4, 4)
    sep = rng.choice([" ", " ", " ", "-", "-", ""])
    return group(number, sizes, sep) if sep else number


def iban(country: str, bban: str) -> str:
    """An IBAN with correct ISO 7064 mod-97 check digits for `bban`."""
    moved = bban + country + "00"
    numeric = "".join(str(int(c, 36)) for c in moved)
    check = 98 - int(numeric) % 97
    return f"{country}{check:02d}{bban}"


def my_number(rng: random.Random) -> str:
    """A 12-digit Japanese individual number whose check digit follows the published rule."""
    body = digits(rng, 11)
    total = sum(int(p) * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(reversed(body), start=1))
    rest = total % 11
    return body + str(0 if rest <= 1 else 11 - rest)


def birth_date(rng: random.Random) -> dt.date:
    """Customers are 16 to 85 years old."""
    return dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 68))


def old_date(rng: random.Random) -> dt.date:
    """A date decades back that is not a birth date (member since, first order): DOB is not 'any old date'."""
    return dt.date(1995, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 26))


def recent_date(rng: random.Random) -> dt.date:
    """Order, delivery and visit dates: within a couple of years of now."""
    return dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 3))


MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip


def date_en(d: dt.date, rng: random.Random, with_year: bool = True) -> str:
    """An English date in one of the ways people write them."""
    m, mon = MONTHS[d.month - 1], MONTHS[d.month - 1][:3]
    if not with_year:
        return rng.choice([f"{m} {d.day}", f"{mon} {d.day}", f"{d.month}/{d.day}", f"the {_nth(d.day)}"])
    return rng.choice(
        [
            f"{d.month:02d}/{d.day:02d}/{d.year}",
            f"{d.month}/{d.day}/{d.year}",
            f"{d.month}/{d.day}/{d.year % 100:02d}",
            f"{m} {d.day}, {d.year}",
            f"{mon} {d.day} {d.year}",
            f"{d.day} {m} {d.year}",
            f"{mon}. {d.day}, {d.year}",
            f"{d.year}-{d.month:02d}-{d.day:02d}",
            f"{m} {_nth(d.day)}, {d.year}",
            f"{d.month:02d}-{d.day:02d}-{d.year}",
        ]
    )


def _nth(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


_ERAS = (  # (first day, name, initial, year offset)
    (dt.date(2019, 5, 1), "令和", "R", 2018),
    (dt.date(1989, 1, 8), "平成", "H", 1988),
    (dt.date(1926, 12, 25), "昭和", "S", 1925),
)


def _era(d: dt.date) -> tuple[str, str, int]:
    for first, name, short, offset in _ERAS:
        if d >= first:
            return name, short, d.year - offset
    return "大正", "T", d.year - 1911


def date_ja(d: dt.date, rng: random.Random, with_year: bool = True, era: bool = False) -> str:
    """A Japanese date; `era` allows 昭和60年 and S60.4.12, as birth dates on forms are often written."""
    if not with_year:
        wd = "月火水木金土日"[d.weekday()]
        return rng.choice([f"{d.month}月{d.day}日", f"{d.month}/{d.day}", f"{d.month}月{d.day}日（{wd}）"])
    styles = [
        f"{d.year}年{d.month}月{d.day}日",
        f"{d.year}/{d.month}/{d.day}",
        f"{d.year}/{d.month:02d}/{d.day:02d}",
        f"{d.year}.{d.month}.{d.day}",
        f"{d.year}-{d.month:02d}-{d.day:02d}",
        f"{d.year}年{d.month:02d}月{d.day:02d}日",
    ]
    if era:
        name, short, year = _era(d)
        ja_year = "元" if year == 1 else str(year)
        styles += [
            f"{name}{ja_year}年{d.month}月{d.day}日",
            f"{short}{year}.{d.month}.{d.day}",
            f"{name}{year}年{d.month}月{d.day}日",
        ]
    return rng.choice(styles)
