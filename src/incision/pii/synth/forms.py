"""Web forms (key: value lines, fields drawn and shuffled) and signature blocks.

A form is a list of fields `"Key/Other key=value template"`; the first `keep` always appear, the rest
are drawn, and the order is shuffled more often than not. Training and the shifted split use
different forms and different layouts (`key: value` vs `key | value`, 【キー】 vs ＜キー＞). Forms, layouts
and signature lines are tables: tables/forms_en.json, forms_ja.json, signatures.json.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ...errors import InputError
from .builder import Piece
from .tables import get, path, rows, strings


@dataclass(frozen=True)
class Form:
    fields: tuple[str, ...]  # "Key/Other key=value template"
    keep: int = 2  # the first `keep` fields always appear
    headers: tuple[str, ...] = ("",)  # a title line above the fields, drawn ("" for none)


def forms(lang: str, split: str) -> dict[str, Form]:
    """The web forms of `lang` for `split`, by name (tables/forms_{lang}.json)."""
    name = f"forms_{lang}"
    return {key: _form(name, split, key) for key in get(name, split)}


def _form(name: str, split: str, key: str) -> Form:
    spec = get(name, split, key)
    if not isinstance(spec, Mapping) or set(spec) - {"fields", "keep", "headers"}:
        raise InputError(
            f"synth table {path(name)}: form {split}/{key} may hold only fields, keep and headers"
        )
    fields = strings(name, split, key, "fields")
    headers = strings(name, split, key, "headers") if "headers" in spec else ("",)
    keep = spec.get("keep", 2)
    if not all("=" in f for f in fields) or not isinstance(keep, int):
        raise InputError(
            f"synth table {path(name)}: form {split}/{key} needs 'key=value' fields and a whole-number keep"
        )
    return Form(fields, keep, headers)


def render_form(msg, form: Form, split: str) -> list[Piece]:
    rng = msg.rng
    fields = list(form.fields[: form.keep])
    rest = list(form.fields[form.keep :])
    fields += rng.sample(rest, rng.randint(min(1, len(rest)), len(rest)))
    if rng.random() < 0.65:
        rng.shuffle(fields)
    key_fmt, between, end = rng.choice(rows(f"forms_{msg.lang}", "layouts", split, width=3))
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
def signature(msg) -> list[Piece]:
    """A signature block: separator, name (and title, company), one to four contact lines."""
    rng = msg.rng
    seps, names, contacts = (strings("signatures", msg.lang, k) for k in ("separators", "names", "contacts"))
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
    return msg.fill(msg.rng.choice(strings("signatures", msg.lang, "mobile")))


COMPOSITES = {"sig": signature, "sig_mobile": signature_mobile}
