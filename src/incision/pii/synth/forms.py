"""Web forms (key: value lines, fields drawn and shuffled) and signature blocks.

A form is a list of fields `"Key/Other key=value template"`; the first `keep` always appear, the rest
are drawn, and the order is shuffled more often than not. Training and the shifted split use
different forms and different layouts (`key: value` vs `key | value`, 【キー】 vs ＜キー＞).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .builder import Piece


@dataclass(frozen=True)
class Form:
    fields: tuple[str, ...]  # "Key/Other key=value template"
    keep: int = 2  # the first `keep` fields always appear
    headers: tuple[str, ...] = ("",)  # a title line above the fields, drawn ("" for none)


def form(text: str, keep: int = 2, headers: tuple[str, ...] = ("",)) -> Form:
    """A form written one field a line."""
    fields = tuple(line.strip() for line in text.strip().splitlines() if line.strip())
    if not all("=" in f for f in fields):
        raise ValueError(f"every form field needs 'key=value': {fields}")
    return Form(fields, keep, headers)


LAYOUTS = {  # (key format, between key and value, line end); {k} key, {K} in capitals, {s} snake_case
    ("en", "train"): [
        ("{k}", ": ", "\n"), ("{k}", " - ", "\n"), ("{K}", ": ", "\n"), ("{k}", ":\t", "\n"),
        ("* {k}", ": ", "\n"), ("{k}", ":", "\n"),
    ],
    ("en", "shifted"): [
        ("{k}", " | ", "\n"), ("{k}", "\n    ", "\n"), ('"{s}"', ': "', '",\n'), ("{s}", "=", "; "),
    ],
    ("ja", "train"): [
        ("{k}", "：", "\n"), ("【{k}】", "", "\n"), ("■{k}", "\n", "\n"), ("・{k}", "\u3000", "\n"),
        ("{k}", ": ", "\n"), ("{k}", "：", "\n\n"),
    ],
    ("ja", "shifted"): [
        ("{k}", "→", "\n"), ("＜{k}＞", "", "\n"), ("{k}", "｜", "\n"), ("◆{k}", "：", "\n"),
        ("［{k}］", "", "\n"),
    ],
}  # fmt: skip


def render_form(msg, form: Form, split: str) -> list[Piece]:
    rng = msg.rng
    fields = list(form.fields[: form.keep])
    rest = list(form.fields[form.keep :])
    fields += rng.sample(rest, rng.randint(min(1, len(rest)), len(rest)))
    if rng.random() < 0.65:
        rng.shuffle(fields)
    key_fmt, between, end = rng.choice(LAYOUTS[(msg.lang, split)])
    header = rng.choice(form.headers)
    pieces: list[Piece] = [(header + "\n" + ("\n" if rng.random() < 0.5 else ""), None)] if header else []
    for field in fields:
        keys, value = field.split("=", 1)
        key = rng.choice(keys.split("/"))
        snake = re.sub(r"\W+", "_", key.lower()).strip("_")
        pieces.append((key_fmt.format(k=key, K=key.upper(), s=snake) + between, None))
        pieces += msg.fill(value)
        pieces.append((end, None))
    return pieces


# -- signatures ---------------------------------------------------------------------------------------
SIG = {  # (separators, name lines, contact lines)
    "en": (
        ["--", "—", "___", "", "Best,", "Regards,"],
        ["{name}", "{name}\n{title}, {biz}", "{name}\n{title} | {biz}", "{name} | {title}", "{name}\n{biz}"],
        ["T: {tel}", "Tel: {tel}", "Phone: {phone}", "M: {phone}", "Mobile: {phone}", "Cell {phone}",
         "Fax: {fax}", "F: {fax}", "E: {email}", "Email: {email}", "{email}", "{addr}", "{addr_block}",
         "{site}", "Direct: {tel}", "{tel} (office) | {phone} (cell)", "O: {tel} | F: {fax}"],
    ),
    "ja": (
        ["――――――――――――――", "-------------------------", "＝＝＝＝＝＝＝＝＝＝＝＝",
         "**************************", "━━━━━━━━━━━━━━"],
        ["{name}", "{name}（{romaji}）", "{dept} {title} {name}", "{biz}\n{dept}\u3000{name}",
         "{biz}\n{name} / {romaji}", "{biz} {dept}\n{name}（{kana}）"],
        ["{addr}", "{addr_block}", "TEL：{tel}", "TEL {tel} / FAX {fax}", "携帯：{phone}", "Mobile: {phone}",
         "FAX：{fax}", "Mail：{email}", "E-mail: {email}", "URL：https://{site}", "直通：{tel}",
         "TEL:{tel}（代表）"],
    ),
}  # fmt: skip
SIG_MOBILE = {
    "en": ["Sent from my iPhone", "-{first}", "— {first} ({phone})", "{name} | {phone}",
           "Get Outlook for Android", "{first}\nSent from my Galaxy",
           "{name}\n{phone}\nsent from mobile, excuse typos"],
    "ja": ["iPhoneから送信", "{sei}（携帯：{phone}）", "――\n{name}\n{phone}", "Sent from my iPhone",
           "{name}\nスマートフォンから送信", "{sei} {phone}"],
}  # fmt: skip


def signature(msg) -> list[Piece]:
    """A signature block: separator, name (and title, company), one to four contact lines."""
    rng = msg.rng
    seps, names, contacts = SIG[msg.lang]
    lines = [rng.choice(seps), rng.choice(names)]
    lines += rng.sample(contacts, rng.randint(1, 4))
    if "{addr}" in lines and "{addr_block}" in lines:  # one address per signature
        lines.remove("{addr_block}")
    pieces: list[Piece] = []
    for k, line in enumerate(line for line in lines if line):
        if k:
            pieces.append(("\n", None))
        pieces += msg.fill(line)
    return pieces


def signature_mobile(msg) -> list[Piece]:
    return msg.fill(msg.rng.choice(SIG_MOBILE[msg.lang]))


COMPOSITES = {"sig": signature, "sig_mobile": signature_mobile}
