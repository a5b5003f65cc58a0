"""PII detection and masking for customer-service text (Chinese and English).

Pure standard library; must never import Django so that it can be used from
workers, scripts and the logging configuration alike.

Public API
----------
``PII_TYPES``
    Tuple of the placeholder types, in detection priority order.
``find_pii(text) -> list[tuple[str, int, int]]``
    Non-overlapping ``(type, start, end)`` spans, sorted by ``start``.
``mask_pii(text) -> str``
    ``text`` with every span replaced by ``[TYPE]``.
``PiiLogFilter``
    ``logging.Filter`` that masks the fully formatted log message.

Detection order is EMAIL, ID, CARD, PHONE: a span claimed by an earlier type
is never re-claimed by a later one (so a valid resident ID that happens to
pass Luhn stays ``[ID]`` and an e-mail local part made of a mobile number
stays ``[EMAIL]``).

Digits are delimited with explicit ``(?<!\\d)`` / ``(?!\\d)`` lookarounds
rather than ``\\b`` because CJK characters are word characters in Python's
``re`` and ``\\b`` would not fire in ``手机13800138000谢谢``.
"""

from __future__ import annotations

import datetime
import logging
import re

__all__ = [
    "PII_TYPES",
    "find_pii",
    "mask_pii",
    "PiiLogFilter",
    "luhn_valid",
    "prc_id_valid",
    "prc_id_check_char",
]

PII_TYPES: tuple[str, ...] = ("EMAIL", "ID", "CARD", "PHONE")

# --------------------------------------------------------------------------
# Checksum helpers
# --------------------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"  # index = (sum of weighted digits) mod 11


def prc_id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits of an ID."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS))
    return _ID_CHECK[total % 11]


_THIS_YEAR = datetime.date.today().year
_DAYS_IN_MONTH = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _valid_date(year: int, month: int, day: int) -> bool:
    """Plausible birth date: 1900..this year (+1 for long-running processes)."""
    if year < 1900 or year > _THIS_YEAR + 1 or not 1 <= month <= 12:
        return False
    if day < 1 or day > _DAYS_IN_MONTH[month]:
        return False
    if month == 2 and day == 29:
        return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return True


def prc_id_valid(number: str) -> bool:
    """Validate an 18-digit (region, birth date, MOD 11-2 check char) or
    15-digit (region, birth date 19YYMMDD) PRC resident ID number.
    Spaces/dashes are ignored."""
    if " " in number or "-" in number:
        number = number.replace(" ", "").replace("-", "")
    n = len(number)
    if n == 18:
        if not number[:17].isdigit() or number[0] not in "12345678":
            return False
        if not _valid_date(int(number[6:10]), int(number[10:12]), int(number[12:14])):
            return False
        return prc_id_check_char(number[:17]) == number[17].upper()
    if n == 15:
        if not number.isdigit() or number[0] not in "12345678":
            return False
        return _valid_date(
            1900 + int(number[6:8]), int(number[8:10]), int(number[10:12])
        )
    return False


_LUHN_DOUBLE = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def luhn_valid(number: str) -> bool:
    """Luhn (mod 10) check over the ASCII digits of ``number``; any other
    characters (separators) are ignored."""
    digits = [ord(c) - 48 for c in number if "0" <= c <= "9"]
    if not digits:
        return False
    total = sum(digits[-1::-2])
    for d in digits[-2::-2]:
        total += _LUHN_DOUBLE[d]
    return total % 10 == 0


# --------------------------------------------------------------------------
# Patterns
# --------------------------------------------------------------------------

_EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+-])"
    r"[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
    r"\.[A-Za-z]{2,24}"
    r"(?![A-Za-z0-9-])",
    re.A,
)

# Performance note: every digit pattern starts with a plain character class
# and only then checks what precedes it with a *shifted* lookbehind
# (``[1-9](?<![0-9A-Za-z].)`` == "the char before this one is not
# alphanumeric").  A leading class lets ``re`` skip quickly to candidate
# characters; a leading lookbehind would force a full attempt at every
# position (3-6x slower).

# Letters directly before a digit run usually mean a tracking / order code
# (SF1234..., JD2024...), so IDs and cards also refuse an ASCII letter before.
_ID18_RE = re.compile(
    r"[1-8](?<![0-9A-Za-z].)\d{5}[ -]?(?:19|20)\d{6}[ -]?\d{3}[0-9Xx](?![0-9A-Za-z])",
    re.A,
)
_ID15_RE = re.compile(r"[1-8](?<![0-9A-Za-z].)\d{14}(?![0-9A-Za-z])", re.A)

_CARD_PLAIN_RE = re.compile(r"[1-9](?<![0-9A-Za-z].)\d{12,18}(?!\d)", re.A)
# 4-4-4[-4[-4]][-1..3] with one consistent separator, or Amex 4-6-5.
_CARD_GROUPED_RE = re.compile(
    r"[1-9](?<![0-9A-Za-z].)(?:"
    r"\d{3}(?P<s>[ -])\d{4}(?:(?P=s)\d{4}){1,3}(?:(?P=s)\d{1,3})?"
    r"|(?<=3)[47]\d{2}(?P<a>[ -])\d{6}(?P=a)\d{5}"
    r")(?!\d)",
    re.A,
)

# Chinese mobile 1[3-9]x + 8 digits, optionally split 3-4-4 by spaces or
# dashes, with optional prefix +86 / 0086 / 86 / (+86) / (86).
_MOBILE_RE = re.compile(
    r"[(+018](?<!\d.)"
    r"(?:(?<=\()(?:\+|00)?86\)[ -]?1"  # (+86) (0086) (86)
    r"|(?<=\+)86[ -]?1"  # +86
    r"|(?<=0)086[ -]?1"  # 0086
    r"|(?<=8)6[ -]?1"  # 86
    r"|(?<=1)"  # bare number: the class consumed its leading 1
    r")[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)",
    re.A,
)
# Chinese landline: (0AA)/0AA(A) area code, 7-8 digit local number,
# optional extension.
_LANDLINE_RE = re.compile(
    r"[(0](?<!\d.)"
    r"(?:(?<=\()0(?:10|2\d|[3-9]\d{2})\)[ -]?|(?<=0)(?:10|2\d|[3-9]\d{2})[ -]?)"
    r"[1-9]\d{2,3}[ -]?\d{4}"
    r"(?:[ ]?(?:转|分机|ext\.?|x|#)[ ]?\d{1,5}|-\d{1,4})?(?!\d)",
    re.A,
)
# International: + or 00, country code, then 2-6 digit groups.
_INTL_RE = re.compile(
    r"[+0](?<![\d+].)(?:(?<=0)0(?=[1-9])|(?<=\+))[1-9]\d{0,2}"
    r"(?:[ .-]?(?:\(\d{1,4}\)|\d{1,4})){2,6}(?!\d)",
    re.A,
)
# North-American style without country code, separators required:
# (415) 555-2671, 415-555-2671, 415.555.2671.  400/800 hotlines are public
# company numbers and are left alone (checked in _find_phone).
_NANP_RE = re.compile(
    r"[(2-9](?<![\d+].)"
    r"(?:(?<=\()[2-9]\d{2}\)[ ]?|(?<=[2-9])\d{2}[-. ])"
    r"[2-9]\d{2}[-. ]\d{4}(?!\d)",
    re.A,
)
_HOTLINE_PREFIXES = ("400", "800", "(400)", "(800)")
# UK national numbers: 0 + 9-10 digits, 01/02/03 geographic and non-geographic, 07 mobile,
# 08 special rate; spaces or dashes anywhere ("07700 900123", "0161 496 0000").
_UK_RE = re.compile(r"0(?<![\d+].)[12378](?:\d[ -]?){7,8}\d(?!\d)", re.A)

# Full-width forms (U+FF01..U+FF5E) and the ideographic space, as typed with Chinese input
# methods ("１３８００１３８０００", "＋８６"): detection reads their ASCII twins. The mapping
# is one character to one character, so spans found in the folded text fit the original.
_FOLD_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FOLD_WIDTH[0x3000] = 0x20

_HAS_CANDIDATE = re.compile(r"[0-9@]", re.A).search
_NON_DIGIT = re.compile(r"\D", re.A)


# --------------------------------------------------------------------------
# Detectors: each yields (start, end) spans that passed validation.
# --------------------------------------------------------------------------


def _find_email(text):
    if "@" not in text:
        return
    for m in _EMAIL_RE.finditer(text):
        yield m.start(), m.end()


def _find_id(text):
    for m in _ID18_RE.finditer(text):
        if prc_id_valid(m.group()):
            yield m.start(), m.end()
    for m in _ID15_RE.finditer(text):
        if prc_id_valid(m.group()):
            yield m.start(), m.end()


_MOBILE_LIKE = re.compile(r"(?:0{0,2}86)?1[3-9]\d{9}", re.A)


def _card_digits_ok(digits: str) -> bool:
    return (
        13 <= len(digits) <= 19
        and not _MOBILE_LIKE.fullmatch(digits)
        and luhn_valid(digits)
    )


def _find_card(text):
    for m in _CARD_PLAIN_RE.finditer(text):
        if _card_digits_ok(m.group()):
            yield m.start(), m.end()
    for m in _CARD_GROUPED_RE.finditer(text):
        s = m.group()
        sep = m.group("s") or m.group("a")
        groups = s.split(sep)
        # If the full run fails, a trailing group may be an unrelated number
        # ("4111 1111 1111 1111 20"): retry without it.
        while len(groups) >= 3:
            digits = "".join(groups)
            if _card_digits_ok(digits):
                end = m.start() + len(sep.join(groups))
                yield m.start(), end
                break
            groups.pop()


def _continues_group(text: str, start: int) -> bool:
    """True if ``start`` follows "<1-4 digits><space|dash>", i.e. the match
    would be the tail of a grouped number such as "6258 0772 6372 9121"
    (not a landline 0772-63729121).  A preceding full phone number
    ("13800138000 13900139000") does not count."""
    if start < 2 or text[start - 1] not in " -" or not "0" <= text[start - 2] <= "9":
        return False
    j = start - 2
    while j >= 0 and "0" <= text[j] <= "9":
        j -= 1
    return start - 2 - j <= 4


def _find_phone(text):
    for start, end in _phone_candidates(text):
        if not _continues_group(text, start):
            yield start, end


def _phone_candidates(text):
    # Mobile first, then international (so "+1 415 555 2671" is claimed whole
    # before the bare North-American pattern sees "415 555 2671").
    for m in _MOBILE_RE.finditer(text):
        yield m.start(), m.end()
    for m in _INTL_RE.finditer(text):
        s = m.group()
        n = len(_NON_DIGIT.sub("", s))
        if n < 8:
            continue
        start, end = m.start(), m.end()
        # Too long for E.164: drop trailing groups (likely an unrelated number).
        while n > 15:
            cut = max(s.rfind(" "), s.rfind("-"), s.rfind("."))
            if cut <= 0:
                break
            s = s[:cut]
            n = len(_NON_DIGIT.sub("", s))
        if 8 <= n <= 15:
            yield start, start + len(s)
    for m in _LANDLINE_RE.finditer(text):
        yield m.start(), m.end()
    for m in _UK_RE.finditer(text):
        yield m.start(), m.end()
    for m in _NANP_RE.finditer(text):
        if not m.group().startswith(_HOTLINE_PREFIXES):
            yield m.start(), m.end()


_DETECTORS = (
    ("EMAIL", _find_email),
    ("ID", _find_id),
    ("CARD", _find_card),
    ("PHONE", _find_phone),
)


def find_pii(text: str) -> list[tuple[str, int, int]]:
    """Return non-overlapping ``(type, start, end)`` PII spans sorted by start.

    Types are tried in ``PII_TYPES`` order; a span overlapping one already
    claimed by an earlier type (or an earlier match of the same type) is
    dropped. Full-width digits, letters and signs count as their ASCII forms.
    """
    if not text:
        return []
    if not text.isascii():
        text = text.translate(_FOLD_WIDTH)
    if not _HAS_CANDIDATE(text):
        return []
    taken: list[tuple[str, int, int]] = []
    for kind, detector in _DETECTORS:
        for start, end in detector(text):
            for _, s, e in taken:
                if start < e and s < end:
                    break
            else:
                taken.append((kind, start, end))
    taken.sort(key=lambda t: t[1])
    return taken


def mask_pii(text: str) -> str:
    """Replace every PII span in ``text`` with ``[TYPE]``."""
    spans = find_pii(text)
    if not spans:
        return text
    out = []
    pos = 0
    for kind, start, end in spans:
        out.append(text[pos:start])
        out.append("[" + kind + "]")
        pos = end
    out.append(text[pos:])
    return "".join(out)


class PiiLogFilter(logging.Filter):
    """Mask PII in log records before any handler formats them.

    The message is rendered (``msg % args``), masked, and stored back into
    ``record.msg`` with ``record.args`` cleared, so PII passed as a format
    argument is masked too.  Exception text already cached on the record is
    masked as well.  Always returns True (never drops records).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # malformed format/args: mask what we can
            message = str(record.msg)
            if record.args:
                message = message + " " + repr(record.args)
        record.msg = mask_pii(message)
        record.args = ()
        if record.exc_text:
            record.exc_text = mask_pii(record.exc_text)
        return True
