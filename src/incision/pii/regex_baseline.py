"""A regex PII baseline for English and Japanese, written for this project (no ML, no borrowed patterns).

Matching runs on an NFKC-normalised copy of the text (full-width digits and punctuation become ASCII,
dash look-alikes become "-") with a per-character map back to the original, so offsets stay exact even
where normalisation changes lengths ("㈱" becomes three characters). Numbers are found once as digit runs
and typed by the nearest cue word before them (電話, Account No., 注文番号, ...), their digit count and shape,
and checksums (Luhn for cards, mod 97 for IBANs). Overlaps are resolved by priority, then length.
Japanese has no word boundaries, so no pattern relies on `\\b`; ASCII look-arounds bound numbers and words.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

from ..errors import InputError
from .decode import trim_bounds
from .records import Span
from .regex_words import EN_CUES, JA_CUES, NOT_NAME_WORDS, PREF, STATES, STREET_SUFFIX

_DASHES = "‐‑‒–—―−"  # NFKC keeps these; people type them as hyphens in phone numbers and postcodes
_CUE_WINDOW = 40  # a cue types a number only if it ends at most this many characters before it
_K = "\u4e00-\u9fff々〆ヶ"  # kanji
_KATA = "ァ-ヺー"
_KNUM = "一二三四五六七八九十"

_CUES = re.compile(
    "(?<![A-Za-z])(?=[A-Za-z])(?:"  # the look-ahead makes non-letters fail fast
    + "|".join(f"(?P<{k}>{p})" for k, p in EN_CUES.items())
    + ")(?![A-Za-z])|"
    + "|".join(f"(?P<{k}_ja>{p})" for k, p in JA_CUES.items()),
    re.IGNORECASE,
)

_RUN = re.compile(
    r"(?<![0-9])(?:\+[0-9]{1,3}[ .-]?(?:\(0\)[ .-]?)?)?(?:\([0-9]{1,5}\)[ .-]?)?[0-9]+"
    r"(?:(?:[.-]|[ ](?=[0-9]{2})|[ .-]?\([0-9]{1,5}\)[ .-]?)[0-9]+)*(?![0-9])"
)
_EXT = re.compile(r"\s?[(,]?\s?(?:ext\.?|extension|x|内線|#)\s?[0-9]{1,6}\)?", re.IGNORECASE)
_PRICE_BEFORE = re.compile(r"[¥$€£]\s?$|(?:usd|jpy|eur)\s?$", re.IGNORECASE)
_PRICE_AFTER = re.compile(
    r"\s?(?:円|万|千|ドル|%|個|点|件|名|分|時間|日)|\s?(?:yen|dollars?|usd|jpy|kg|g)(?![A-Za-z])",
    re.IGNORECASE,
)
_SSN = re.compile(r"[0-9]{3}-[0-9]{2}-[0-9]{4}")
_CARD_SHAPE = re.compile(
    r"[0-9]{13,19}|[0-9]{4}(?:[ -][0-9]{4}){2}[ -][0-9]{1,7}|[0-9]{4}[ -][0-9]{6}[ -][0-9]{5}"
)
_PHONE_SHAPES = re.compile(
    r"\+[0-9]{1,3}[ .-]?[0-9( )./-]{6,}"  # international
    r"|\(?0[0-9]{1,4}\)?[ -]?\(?[0-9]{1,4}\)?[ -]?[0-9]{3,4}"  # Japanese, checked for 10-11 digits below
    r"|(?:1[ .-]?)?(?:\([0-9]{3}\)|[0-9]{3})[ .-]?[0-9]{3}[ .-][0-9]{4}"  # North American
)

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"[0-9]{1,2}(?:st|nd|rd|th)?"
_DATE = re.compile(
    rf"(?<![0-9A-Za-z])(?:{_MONTH}\s+{_DAY},?\s+[0-9]{{4}}|{_DAY}\s+(?:of\s+)?{_MONTH},?\s+[0-9]{{4}}"
    r"|[0-9]{1,2}/[0-9]{1,2}/(?:[0-9]{4}|[0-9]{2})|[0-9]{1,2}[.-][0-9]{1,2}[.-][0-9]{4}"
    r"|[0-9]{4}[/.-][0-9]{1,2}[/.-][0-9]{1,2}"
    r"|(?:[0-9]{4}|(?:昭和|平成|令和|[SHR])\s?(?:[0-9]{1,2}|元))\s?年\s?[0-9]{1,2}\s?月\s?[0-9]{1,2}\s?日"
    rf"|[0-9]{{1,2}}\s?月\s?[0-9]{{1,2}}\s?日|{_MONTH}\s+{_DAY})(?![0-9A-Za-z])",
    re.IGNORECASE,
)
_BORN_AFTER = re.compile(r"\s?(?:生まれ|生)")

_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_URL = re.compile(r"(?:https?://|www\.)[A-Za-z0-9._~:/?#@!$&'*+,;=%-]+", re.IGNORECASE)
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])"
)
_ALNUM_ID = re.compile(r"(?<![A-Za-z0-9])[A-Z]{1,2}-?[0-9]{3,}(?:[ -][0-9]{2,}){0,3}(?![A-Za-z0-9])")

_BUILDING = (
    "ビル|マンション|ハイツ|荘|コーポ|タワー|レジデンス|アパート|ヒルズ|パレス|メゾン|ハウス|コート|棟|館"
)
_JA_ADDRESS = re.compile(
    rf"(?:〒\s?[0-9]{{3}}-?[0-9]{{4}}\s*)?(?:(?:{PREF})\s?)?"
    rf"(?:さいたま市|つくば市|いわき市|[{_K}{_KATA}]{{1,6}}?[市区町村郡])(?:[{_K}{_KATA}]{{1,5}}?[区町村])?\s?"
    rf"(?:[{_K}{_KATA}がのケ]|[0-9]+条){{0,12}}?\s?"  # 条: Sapporo's grid ("北1条西2丁目")
    rf"(?:[0-9{_KNUM}]+丁目(?:\s?[0-9]+(?:番地?\s?[0-9]+号?|番地?|-[0-9]+)?)?|[0-9]+番地?(?:\s?[0-9]+号?)?"
    r"|[0-9]+(?:-[0-9]+){1,3}号?)"
    rf"(?:(?:\s?[{_K}{_KATA}A-Za-z・]{{0,15}}?(?:{_BUILDING})){{1,2}}\s?(?:[0-9]{{1,4}}(?:号室|室|F|階)?)?"
    r"|\s?[0-9]{1,4}(?:号室|室|F|階))?"
)
_POSTAL_JA = re.compile(r"〒\s?[0-9]{3}-?[0-9]{4}(?![0-9])")
_ADDRESS_LEAD = re.compile(r"^.*?(?:住所|所在地|届け?先|送付先|宛先|送り先)[はがを:\s]*")
_CITY_STATE_ZIP = (
    rf"(?:[A-Z][a-z]+\s?){{1,3}},?\s?(?:{STATES})(?:\s[0-9]{{5}}(?:-[0-9]{{4}})?)?(?![A-Za-z0-9])"
)
_EN_ADDRESS = re.compile(
    r"(?<![A-Za-z0-9])(?:[0-9]{1,6}[A-Za-z]?\s"
    rf"(?:(?:[A-Z][a-z]+|[0-9]{{1,3}}(?:st|nd|rd|th)|[NSEW]\.?)\s){{1,3}}"
    rf"{STREET_SUFFIX}(?:\s(?:[NS][EW]?|[EW])\.?)?|P\.?\s?O\.?\s?Box\s[0-9]+)(?![A-Za-z])"
    r"(?:,?\s?(?i:apt|apartment|suite|ste|unit|room|fl(?:oor)?)\.?\s?#?\s?[A-Za-z0-9-]{1,6}"
    r"|,?\s?#\s?[0-9A-Za-z-]{1,6})?"
    rf"(?:,\s?{_CITY_STATE_ZIP})?"
)
_ZIP_EN = re.compile(
    rf"(?<![A-Za-z])(?:[A-Z][a-z]+(?:\s[A-Z][a-z]+){{0,2}},\s?)?(?:{STATES})"
    r"\s[0-9]{5}(?:-[0-9]{4})?(?![0-9])"
)

_NAME_JA = rf"(?:[{_K}]{{1,4}}(?:[ ・]?[{_K}]{{1,4}})?|[{_KATA}]{{2,8}}(?:[ ・][{_KATA}]{{2,8}})?)"
_WORD_EN = r"(?:O['’]|Mc|Mac)?[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
_NAME_EN = rf"{_WORD_EN}(?:\s[A-Z]\.)?(?:\s{_WORD_EN}){{0,2}}"
_PERSON = [
    re.compile(
        rf"(?<![{_K}{_KATA}])({_NAME_JA}|{_NAME_EN})(?=[\s)]?(?:様|さま|さん|くん|君|ちゃん|殿|先生|氏))"
    ),
    re.compile(rf"(?<![{_K}{_KATA}])({_NAME_JA})(?=\s?(?:と申します|と申し|といいます|と言います))"),
    re.compile(rf"(?:^|\n)\s*({_NAME_JA})(?=\s?です[。、,.!！])"),  # a message opening "山田です。"
    re.compile(
        r"(?:氏名|お?名前|担当者?名?|宛名|名義人?|契約者名?|申込者名?|受取人名?|送り主|差出人)\s?(?:は|:|\s)\s?"
        rf"({_NAME_JA}|{_NAME_EN})"
    ),
    re.compile(rf"(?<![A-Za-z])(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s({_NAME_EN})"),
    re.compile(
        r"(?<![A-Za-z])(?i:my name is|(?:full |first |last |customer |cardholder |account holder )?name"
        r"(?: on (?:the )?(?:card|passport|account|licen[cs]e))?\s?:|"
        rf"cardholder|account holder|dear|hi|hello|attn\.?:?|attention:|from:|signed:?)\s?({_NAME_EN})"
    ),
    re.compile(rf"(?<![A-Za-z])(?:I'm|I am|[Tt]his is)\s({_WORD_EN}\s{_WORD_EN})"),  # a full name only
    re.compile(
        rf"(?i:regards|sincerely|thanks|thank you|cheers|best|yours(?: truly)?),?\s*\n\s*({_NAME_EN})"
    ),
    re.compile(rf"(?i:regards|thanks|thank you|cheers|best),\s?({_NAME_EN})\.?\s*$", re.MULTILINE),
    re.compile(rf"({_NAME_EN})(?=-?\s?(?:san|sama|sensei|kun|chan)(?![a-z]))"),
]
_NOT_NAMES = set(NOT_NAME_WORDS.split())
_NAME_HEAD = re.compile(
    r"^(?:担当者?|営業|店長|部長|課長|係長|社長|主任|係|先輩|後輩|同僚|上司|部下|宛|本日|今日|先日|昨日|毎回)"
    r"|^.*(?:株式会社|有限会社|合同会社|\(株\)|\(有\)|商事|商店|銀行|病院|工業|産業|電機|物産|営業部|総務部|経理部|"
    r"人事部|事業部|支店|本社|事務所)\s?"
    r"|^(?:(?:Hello|Hi|Hey|Dear|Thanks|Thank|Please|Contact|Call|Ask|Tell|Email|From|To|And|Or|The|Our|Your|"
    r"My|This|That|With|For)\s)+"
)
_NAME_TAIL = re.compile(r"[ ・](?:電話|住所|携帯|連絡|生年|メール|口座|番号|様|さん).*$")

_PRIORITY = {
    "URL": 10,
    "EMAIL": 9,
    "CREDIT_CARD": 8,
    "BANK_ACCOUNT": 8,
    "GOV_ID": 7,
    "DATE_OF_BIRTH": 6,
    "DATE": 6,
    "PHONE": 5,
    "ADDRESS": 4,
    "PERSON": 3,
}


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    label: str  # a PII label, or "URL"/"DATE": matched only to keep other patterns off them, never output


def normalize(text: str) -> tuple[str, list[int]]:
    """NFKC per character, dash look-alikes as "-", and for each output character its index in `text`.

    The map has one extra entry, len(text), so `origin[end]` works for a span ending at the text's end.
    """
    if text.isascii():
        return text, list(range(len(text) + 1))
    chars, origin = [], []
    for i, ch in enumerate(text):
        norm = unicodedata.normalize("NFKC", ch)
        # "ー" (long vowel mark) doubles as a hyphen between digits; elsewhere it is part of a word.
        if ch in _DASHES or (norm == "ー" and chars and chars[-1].isdigit()):
            norm = "-"
        chars.append(norm)
        origin.extend([i] * len(norm))
    origin.append(len(text))
    return "".join(chars), origin


def luhn_ok(digits: str) -> bool:
    """Whether a string of digits passes the Luhn check that card numbers carry."""
    total = 0
    for k, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if k % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def iban_ok(code: str) -> bool:
    """Whether an IBAN (spaces allowed) has a valid ISO 13616 mod-97 check."""
    s = code.replace(" ", "").upper()
    if not 15 <= len(s) <= 34 or not s.isalnum():
        return False
    return int("".join(str(int(c, 36)) for c in s[4:] + s[:4])) % 97 == 1


class RegexBaseline:
    """Rule-based PII spans: `find(text)` returns sorted, non-overlapping `Span`s, trimmed as the
    detector's are (`trim_bounds`)."""

    def find(self, text: str) -> list[Span]:
        """PII spans of `text`. It takes no language: patterns of both always run, as mixed-script
        messages are common."""
        if not isinstance(text, str):
            raise InputError(f"text must be a string, got {type(text).__name__}")
        norm, origin = normalize(text)
        cues = [(m.end(), m.lastgroup.removesuffix("_ja")) for m in _CUES.finditer(norm)]
        runs = list(_RUN.finditer(norm))
        ctx = _Context(norm, cues, [m.end() for m in runs])
        candidates = [*self._patterns(ctx), *self._numbers(ctx, runs), *self._persons(norm)]
        spans = []
        for c in _resolve(candidates, len(norm)):
            if c.label in ("URL", "DATE"):
                continue
            # trimmed on the original text, as the detector's and Presidio's spans are
            bounds = trim_bounds(text, origin[c.start], origin[c.end - 1] + 1)
            if bounds is not None:
                spans.append(Span(*bounds, c.label))
        return sorted(spans)

    def _patterns(self, ctx: _Context) -> list[_Candidate]:
        norm, out = ctx.norm, []
        out += [_Candidate(m.start(), m.end(), "URL") for m in _URL.finditer(norm)]
        out += [_Candidate(m.start(), m.end(), "EMAIL") for m in _EMAIL.finditer(norm)]
        for m in _IBAN.finditer(norm):
            if iban_ok(m.group()) or ctx.cue(m.start()) == "bank":
                out.append(_Candidate(m.start(), m.end(), "BANK_ACCOUNT"))
        for m in _ALNUM_ID.finditer(norm):
            if ctx.cue(m.start()) == "gov" and sum(ch.isdigit() for ch in m.group()) >= 6:
                out.append(_Candidate(m.start(), m.end(), "GOV_ID"))
        for m in _DATE.finditer(norm):
            birth = ctx.cue(m.start(), barrier=False) == "dob" or _BORN_AFTER.match(norm, m.end())
            out.append(_Candidate(m.start(), m.end(), "DATE_OF_BIRTH" if birth else "DATE"))
        for m in _JA_ADDRESS.finditer(norm):
            start = m.start() + _address_lead(m.group())
            out.append(_Candidate(start, m.end(), "ADDRESS"))
        for pattern in (_POSTAL_JA, _EN_ADDRESS, _ZIP_EN):
            out += [_Candidate(m.start(), m.end(), "ADDRESS") for m in pattern.finditer(norm)]
        return out

    def _numbers(self, ctx: _Context, runs: list[re.Match]) -> list[_Candidate]:
        out = []
        for m in runs:
            label = _classify(ctx, m.start(), m.end())
            pieces = [(m.start(), m.end(), label)]
            if label is None and " " in m.group():
                # "090-1234-5678 03-1234-5678": two numbers that the run joined at a space
                pieces, pos = [], m.start()
                for part in m.group().split(" "):
                    pieces.append((pos, pos + len(part), _classify(ctx, pos, pos + len(part))))
                    pos += len(part) + 1
            for start, end, lab in pieces:
                if lab == "PHONE" and (ext := _EXT.match(ctx.norm, end)):
                    # keep a closing parenthesis only when the opening one is inside the span too
                    end = ext.end() - (ext.group().endswith(")") and "(" not in ext.group())
                if lab is not None:
                    out.append(_Candidate(start, end, lab))
        return out

    def _persons(self, norm: str) -> list[_Candidate]:
        out = []
        for pattern in _PERSON:
            for m in pattern.finditer(norm):
                start, end = m.span(1)
                name = m.group(1)
                if head := _NAME_HEAD.match(name):
                    start += head.end()
                if tail := _NAME_TAIL.search(name):
                    end -= len(name) - tail.start()
                name = norm[start:end]
                if name and name not in _NOT_NAMES and name.split(" ")[0] not in _NOT_NAMES:
                    out.append(_Candidate(start, end, "PERSON"))
        return out


@dataclass
class _Context:
    """The normalised text with its cue words and the end of every digit run, for typing numbers."""

    norm: str
    cues: list[tuple[int, str]]  # (end, kind), sorted by end
    run_ends: list[int]

    def cue(self, pos: int, barrier: bool = True) -> str | None:
        """Kind of the nearest cue ending before `pos` (with `barrier`: and after the previous number)."""
        k = bisect.bisect_right(self.cues, (pos, "~")) - 1
        if k < 0 or pos - self.cues[k][0] > _CUE_WINDOW:
            return None
        end, kind = self.cues[k]
        if barrier:
            j = bisect.bisect_right(self.run_ends, pos) - 1
            if j >= 0 and self.run_ends[j] > end:
                return None
        return kind


def _classify(ctx: _Context, start: int, end: int) -> str | None:
    """The PII type of the number norm[start:end], or None."""
    s = ctx.norm[start:end]
    digits = re.sub(r"[^0-9]", "", s)
    d, cue = len(digits), ctx.cue(start)
    if _PRICE_BEFORE.search(ctx.norm, max(0, start - 5), start) or _PRICE_AFTER.match(ctx.norm, end):
        return None
    if cue in ("neg", "dob"):  # birth dates are found whole by the date pattern
        return None
    # without a cue only the common lengths (Diners 14, Amex 15, most 16) with a valid check digit
    card_like = cue == "card" or (14 <= d <= 16 and luhn_ok(digits) and digits[0] in "3456")
    if 13 <= d <= 19 and card_like and _CARD_SHAPE.fullmatch(s):
        return "CREDIT_CARD"
    if cue == "gov" and 6 <= d <= 12:
        return "GOV_ID"
    if _SSN.fullmatch(s) and cue != "phone":
        return "GOV_ID"
    if cue == "bank" and 6 <= d <= 18:
        return "BANK_ACCOUNT"
    if cue == "postal" and re.fullmatch(r"[0-9]{3}-?[0-9]{4}|[0-9]{5}(?:-[0-9]{4})?", s):
        return "ADDRESS"
    if cue == "phone" and 7 <= d <= 15:
        return "PHONE"
    if cue in (None, "phone") and _phone_shape(s, d):
        return "PHONE"
    return None


def _phone_shape(s: str, d: int) -> bool:
    """Whether a number looks like a phone number without any cue word."""
    if s.startswith("+"):
        return 8 <= d <= 15 and _PHONE_SHAPES.fullmatch(s) is not None
    if re.fullmatch(r"0[5789]0[0-9]{8}|0120[0-9]{6}", s):
        return True  # mobile and free-dial numbers are recognisable without separators
    if not _PHONE_SHAPES.fullmatch(s):
        return False
    # A Japanese number (leading 0) needs 10-11 digits and a separator; other shapes are North American.
    return not s.lstrip("(").startswith("0") or (d in (10, 11) and re.search(r"[ ()-]", s) is not None)


def _address_lead(matched: str) -> int:
    """How many leading characters of a Japanese address match are a cue word, not the address."""
    pref = re.search(PREF, matched)
    if pref and pref.start() > 0 and not matched.startswith("〒"):
        return pref.start()
    lead = _ADDRESS_LEAD.match(matched)
    return lead.end() if lead else 0


def _resolve(candidates: list[_Candidate], length: int) -> list[_Candidate]:
    """Non-overlapping candidates, higher priority first, then longer."""
    ranked = sorted(candidates, key=lambda c: (-_PRIORITY[c.label], c.start - c.end, c.start))
    taken, free = [], bytearray(b"\x01") * length
    for c in ranked:
        if free.count(1, c.start, c.end) == c.end - c.start:
            free[c.start : c.end] = bytes(c.end - c.start)
            taken.append(c)
    return taken
