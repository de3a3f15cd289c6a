"""The words and tokens of GNU ``parse_datetime``'s grammar, for :mod:`._gnudate`.

Month and day names, units, zone abbreviations (fixed, military and the local zone's own) and
the tokenizer that turns the bytes of a date string into numbers, words and signs as gnulib's
lexer does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

_BILLION = 1_000_000_000
_INT_MIN, _INT_MAX = -(1 << 31), (1 << 31) - 1
_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1
_SPACE = frozenset(b" \t\n\v\f\r")
_DIGITS = frozenset(b"0123456789")
_ALPHA = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_HOUR = 3600

_MERIDIANS = {b"AM": "am", b"A.M.": "am", b"PM": "pm", b"P.M.": "pm"}
_MONTHS_AND_DAYS: tuple[tuple[bytes, str, int], ...] = (
    (b"JANUARY", "MONTH", 1), (b"FEBRUARY", "MONTH", 2), (b"MARCH", "MONTH", 3),
    (b"APRIL", "MONTH", 4), (b"MAY", "MONTH", 5), (b"JUNE", "MONTH", 6),
    (b"JULY", "MONTH", 7), (b"AUGUST", "MONTH", 8), (b"SEPTEMBER", "MONTH", 9),
    (b"SEPT", "MONTH", 9), (b"OCTOBER", "MONTH", 10), (b"NOVEMBER", "MONTH", 11),
    (b"DECEMBER", "MONTH", 12),
    (b"SUNDAY", "DAY", 0), (b"MONDAY", "DAY", 1), (b"TUESDAY", "DAY", 2), (b"TUES", "DAY", 2),
    (b"WEDNESDAY", "DAY", 3), (b"WEDNES", "DAY", 3), (b"THURSDAY", "DAY", 4),
    (b"THUR", "DAY", 4), (b"THURS", "DAY", 4), (b"FRIDAY", "DAY", 5), (b"SATURDAY", "DAY", 6),
)
_UNIVERSAL_ZONES = {b"GMT": 0, b"UT": 0, b"UTC": 0}
# Fixed-offset abbreviations (seconds east of UTC); "DAYZONE" ones add an hour of DST.
_ZONES: dict[bytes, tuple[str, int]] = {
    b"WET": ("ZONE", 0), b"WEST": ("DAYZONE", 0), b"BST": ("DAYZONE", 0),
    b"ART": ("ZONE", -3 * _HOUR), b"BRT": ("ZONE", -3 * _HOUR), b"BRST": ("DAYZONE", -3 * _HOUR),
    b"NST": ("ZONE", -(3 * _HOUR + 1800)), b"NDT": ("DAYZONE", -(3 * _HOUR + 1800)),
    b"AST": ("ZONE", -4 * _HOUR), b"ADT": ("DAYZONE", -4 * _HOUR),
    b"CLT": ("ZONE", -4 * _HOUR), b"CLST": ("DAYZONE", -4 * _HOUR),
    b"EST": ("ZONE", -5 * _HOUR), b"EDT": ("DAYZONE", -5 * _HOUR),
    b"CST": ("ZONE", -6 * _HOUR), b"CDT": ("DAYZONE", -6 * _HOUR),
    b"MST": ("ZONE", -7 * _HOUR), b"MDT": ("DAYZONE", -7 * _HOUR),
    b"PST": ("ZONE", -8 * _HOUR), b"PDT": ("DAYZONE", -8 * _HOUR),
    b"AKST": ("ZONE", -9 * _HOUR), b"AKDT": ("DAYZONE", -9 * _HOUR),
    b"HST": ("ZONE", -10 * _HOUR), b"HAST": ("ZONE", -10 * _HOUR),
    b"HADT": ("DAYZONE", -10 * _HOUR), b"SST": ("ZONE", -12 * _HOUR),
    b"WAT": ("ZONE", 1 * _HOUR), b"CET": ("ZONE", 1 * _HOUR), b"CEST": ("DAYZONE", 1 * _HOUR),
    b"MET": ("ZONE", 1 * _HOUR), b"MEZ": ("ZONE", 1 * _HOUR), b"MEST": ("DAYZONE", 1 * _HOUR),
    b"MESZ": ("DAYZONE", 1 * _HOUR), b"EET": ("ZONE", 2 * _HOUR),
    b"EEST": ("DAYZONE", 2 * _HOUR), b"CAT": ("ZONE", 2 * _HOUR), b"SAST": ("ZONE", 2 * _HOUR),
    b"EAT": ("ZONE", 3 * _HOUR), b"MSK": ("ZONE", 3 * _HOUR), b"MSD": ("DAYZONE", 3 * _HOUR),
    b"IST": ("ZONE", 5 * _HOUR + 1800), b"SGT": ("ZONE", 8 * _HOUR),
    b"KST": ("ZONE", 9 * _HOUR), b"JST": ("ZONE", 9 * _HOUR), b"GST": ("ZONE", 10 * _HOUR),
    b"NZST": ("ZONE", 12 * _HOUR), b"NZDT": ("DAYZONE", 12 * _HOUR),
}
_UNITS: dict[bytes, tuple[str, int]] = {
    b"YEAR": ("YEAR_UNIT", 1), b"MONTH": ("MONTH_UNIT", 1), b"FORTNIGHT": ("DAY_UNIT", 14),
    b"WEEK": ("DAY_UNIT", 7), b"DAY": ("DAY_UNIT", 1), b"HOUR": ("HOUR_UNIT", 1),
    b"MINUTE": ("MINUTE_UNIT", 1), b"MIN": ("MINUTE_UNIT", 1), b"SECOND": ("SEC_UNIT", 1),
    b"SEC": ("SEC_UNIT", 1),
}
_RELATIVE: dict[bytes, tuple[str, int]] = {
    b"TOMORROW": ("DAY_SHIFT", 1), b"YESTERDAY": ("DAY_SHIFT", -1),
    b"TODAY": ("DAY_SHIFT", 0), b"NOW": ("DAY_SHIFT", 0),
    b"LAST": ("ORDINAL", -1), b"THIS": ("ORDINAL", 0), b"NEXT": ("ORDINAL", 1),
    b"FIRST": ("ORDINAL", 1), b"THIRD": ("ORDINAL", 3), b"FOURTH": ("ORDINAL", 4),
    b"FIFTH": ("ORDINAL", 5), b"SIXTH": ("ORDINAL", 6), b"SEVENTH": ("ORDINAL", 7),
    b"EIGHTH": ("ORDINAL", 8), b"NINTH": ("ORDINAL", 9), b"TENTH": ("ORDINAL", 10),
    b"ELEVENTH": ("ORDINAL", 11), b"TWELFTH": ("ORDINAL", 12),
    b"AGO": ("AGO", -1), b"HENCE": ("AGO", 1),
}
_UNIT_KINDS = frozenset(
    {"YEAR_UNIT", "MONTH_UNIT", "DAY_UNIT", "HOUR_UNIT", "MINUTE_UNIT", "SEC_UNIT"}
)


def _military(letter: int) -> tuple[str, int] | None:
    """Single-letter military zones: A-I = +1..+9, K-M = +10..+12, N-Y = -1..-12, Z = UTC."""
    if letter == ord("Z"):
        return ("ZONE", 0)
    if letter == ord("T"):
        return ("T", -7 * _HOUR)  # also the ISO 8601 date/time separator
    if ord("A") <= letter <= ord("I"):
        return ("ZONE", (letter - ord("A") + 1) * _HOUR)
    if ord("K") <= letter <= ord("M"):
        return ("ZONE", (letter - ord("K") + 10) * _HOUR)
    if ord("N") <= letter <= ord("Y"):
        return ("ZONE", -(letter - ord("N") + 1) * _HOUR)
    return None  # "J" (local military time) is not a zone here, as in oathtool 2.6.7


class _Unparsable(Exception):
    """The string is outside the grammar (or its value outside the representable range)."""


@dataclass(frozen=True)
class _Tok:
    kind: str  # "UNUM", "SNUM", "UDEC", "SDEC", a word kind, a punctuation byte as str, "END"
    value: int = 0
    digits: int = 0
    negative: bool = False
    ns: int = 0


def _local_zone_names() -> dict[bytes, int]:
    names: dict[bytes, int] = {}
    for isdst, name in enumerate(time.tzname):
        raw = name.encode("ascii", "replace").upper()
        if raw and raw not in _UNIVERSAL_ZONES and raw not in names:
            names[raw] = isdst
    return names


def _lookup_zone(word: bytes, local_zones: dict[bytes, int]) -> tuple[str, int] | None:
    if word in _UNIVERSAL_ZONES:
        return ("ZONE", _UNIVERSAL_ZONES[word])
    if word in local_zones:
        return ("LOCAL_ZONE", local_zones[word])
    return _ZONES.get(word)


def _lookup_word(word: bytes, local_zones: dict[bytes, int]) -> tuple[str, int]:
    word = word.upper()
    if word in _MERIDIANS:
        return ("MERIDIAN", 0 if _MERIDIANS[word] == "am" else 1)
    abbrev = len(word) == 3 or (len(word) == 4 and word[3:] == b".")
    for name, kind, value in _MONTHS_AND_DAYS:
        if (name[:3] == word[:3]) if abbrev else (name == word):
            return (kind, value)
    zone = _lookup_zone(word, local_zones)
    if zone is not None:
        return zone
    if word == b"DST":
        return ("DST", 0)
    if word in _UNITS:
        return _UNITS[word]
    if word.endswith(b"S") and word[:-1] in _UNITS:
        return _UNITS[word[:-1]]
    if word in _RELATIVE:
        return _RELATIVE[word]
    if len(word) == 1:
        military = _military(word[0])
        if military is not None:
            return military
    if b"." in word:
        zone = _lookup_zone(word.replace(b".", b""), local_zones)
        if zone is not None:
            return zone
    raise _Unparsable


def _tokenize(text: bytes) -> list[_Tok]:
    local_zones = _local_zone_names()
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in _SPACE:
            i += 1
        if i >= n:
            break
        c = text[i]
        if c in _DIGITS or c in b"+-":
            sign = 0
            if c in b"+-":
                sign = -1 if c == ord("-") else 1
                i += 1
                while i < n and text[i] in _SPACE:
                    i += 1
                if i >= n or text[i] not in _DIGITS:
                    continue  # a sign without digits is dropped
            start = i
            value = 0
            while i < n and text[i] in _DIGITS:
                value = value * 10 + (text[i] - 48)
                i += 1
            if sign < 0:
                value = -value
            if not _I64_MIN <= value <= _I64_MAX:
                raise _Unparsable
            if i + 1 < n and text[i] in b".," and text[i + 1] in _DIGITS:
                i += 1
                frac = bytearray()
                while i < n and text[i] in _DIGITS:
                    frac.append(text[i])
                    i += 1
                ns = int(frac[:9].ljust(9, b"0"))
                if sign < 0 and any(d != ord("0") for d in frac[9:]):
                    ns += 1  # truncate toward -infinity
                sec = value
                if sign < 0 and ns:
                    sec -= 1
                    ns = _BILLION - ns
                if not _I64_MIN <= sec <= _I64_MAX:
                    raise _Unparsable
                toks.append(_Tok("SDEC" if sign else "UDEC", sec, ns=ns))
            else:
                toks.append(_Tok("SNUM" if sign else "UNUM", value, i - start, sign < 0))
            continue
        if c in _ALPHA:
            start = i
            while i < n and (text[i] in _ALPHA or text[i] == ord(".")):
                i += 1
            kind, value = _lookup_word(text[start:i][:19], local_zones)
            toks.append(_Tok(kind, value))
            continue
        if c == ord("("):
            depth = 0
            while True:
                if i >= n:
                    break
                ch = text[i]
                i += 1
                if ch == ord("("):
                    depth += 1
                elif ch == ord(")"):
                    depth -= 1
                if depth == 0:
                    break
            if i >= n and depth != 0:
                break
            continue
        toks.append(_Tok(chr(c)))
        i += 1
    toks.append(_Tok("END"))
    return toks
