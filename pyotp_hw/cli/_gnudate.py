"""A documented subset of GNU ``parse_datetime`` (the ``date -d`` syntax), for ``oathtool -N/-S``.

oathtool 2.6.7 reads its ``--now`` and ``--start-time`` values with gnulib's ``parse_datetime``.
This module implements the part of that grammar listed below, with the same results, and refuses
everything else (the caller then prints oathtool's ``cannot parse time`` error):

* ``@SECONDS`` (optionally signed, with an ignored fraction: ``@-1.5`` is -2), alone;
* calendar dates ``YYYY-MM-DD`` (also ``YY-MM-DD``), ``YYYYMMDD`` / ``YYMMDD``, ``MM/DD[/YY[YY]]``,
  ``YYYY/MM/DD``, ``DD Month [YYYY]``, ``Month DD[[,] YYYY]``, ``DD-Mon-YYYY``, ``Mon-DD-YYYY``;
* times ``HH``, ``HHMM`` (bare numbers), ``HH:MM[:SS[.frac]]``, with ``am``/``pm`` or a numeric
  zone (``+HH``, ``+HHMM``, ``+HH:MM``), and ISO 8601 ``DATE T TIME``;
* zones ``UTC``/``GMT``/``UT``, military letters (``Z``...), the common abbreviations (``EST``,
  ``CEST``, ``IST``...), the local zone's own abbreviations, ``ZONE+HH[:MM]`` and ``ZONE DST``;
* day names (``Sun``, ``Thursday``, ``next friday``, ``last mon``);
* relative items ``[+-]N unit [ago|hence]``, ``unit`` alone, ``next|last|this|first..twelfth
  unit``, with units year, month, fortnight, week, day, hour, minute/min, second/sec (plurals
  too), and ``now``, ``today``, ``tomorrow``, ``yesterday``;
* parenthesised comments; the empty string (today at midnight, local time);
* a leading ``TZ="ZONE"`` (with backslash escapes for a quote or a backslash) that sets the
  local zone for the rest of the string.

Strings using anything else are refused. Local time is the process's (``TZ``): the C library's
``localtime`` answers, and glibc's ``mktime`` search over it is reproduced, including its memory
of the last offset found, which decides the ambiguous hour when DST ends.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["MktimeState", "civil_from_days", "parse_datetime"]

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


@dataclass
class _Rel:
    year: int = 0
    month: int = 0
    day: int = 0
    hour: int = 0
    minutes: int = 0
    seconds: int = 0
    ns: int = 0


@dataclass
class _State:
    """What the items of the string set (GNU's ``parser_control``)."""

    year: int
    year_digits: int
    month: int
    day: int
    hour: int
    minutes: int
    seconds: int
    ns: int
    meridian: str = "24"
    rel: _Rel = field(default_factory=_Rel)
    rels_seen: bool = False
    day_ordinal: int = 0
    day_number: int = 0
    now_isdst: int = -1
    time_zone: int = 0
    local_isdst: int = -1
    times_seen: int = 0
    dates_seen: int = 0
    days_seen: int = 0
    zones_seen: int = 0
    local_zones_seen: int = 0
    dsts_seen: int = 0


def _check_i64(value: int) -> int:
    if not _I64_MIN <= value <= _I64_MAX:
        raise _Unparsable
    return value


class _Parser:
    def __init__(self, toks: list[_Tok], st: _State) -> None:
        self.toks = toks
        self.i = 0
        self.st = st

    def peek(self, ahead: int = 0) -> _Tok:
        return self.toks[min(self.i + ahead, len(self.toks) - 1)]

    def take(self) -> _Tok:
        tok = self.peek()
        self.i += 1
        return tok

    def expect(self, kind: str) -> _Tok:
        if self.peek().kind != kind:
            raise _Unparsable
        return self.take()

    # -- items -------------------------------------------------------------------------------

    def items(self) -> None:
        while self.peek().kind != "END":
            self.item()

    def item(self) -> None:
        tok = self.peek()
        kind = tok.kind
        nxt = self.peek(1).kind
        st = self.st
        if kind == "UNUM":
            self.number_item(tok, nxt)
        elif kind == "SNUM":
            if nxt not in _UNIT_KINDS:
                raise _Unparsable
            self.rel_tail(self.relunit_snumber())
        elif kind in ("UDEC", "SDEC"):
            if nxt != "SEC_UNIT":
                raise _Unparsable
            self.take()
            self.take()
            self.rel_tail(_Rel(seconds=tok.value, ns=tok.ns))
        elif kind == "MONTH":
            self.month_date()
            st.dates_seen += 1
        elif kind == "DAY":
            self.take()
            if self.peek().kind == ",":
                self.take()
            st.day_ordinal, st.day_number = 0, tok.value
            st.days_seen += 1
        elif kind == "ORDINAL":
            self.take()
            if nxt == "DAY":
                st.day_ordinal, st.day_number = tok.value, self.take().value
                st.days_seen += 1
            elif nxt in _UNIT_KINDS:
                self.rel_tail(self.unit(self.take(), tok.value))
            else:
                raise _Unparsable
        elif kind in _UNIT_KINDS:
            self.rel_tail(self.unit(self.take(), 1))
        elif kind == "DAY_SHIFT":
            self.take()
            self.apply(_Rel(day=tok.value), 1)
        elif kind == "ZONE":
            self.zone()
            st.zones_seen += 1
        elif kind == "DAYZONE":
            self.take()
            st.time_zone = tok.value + _HOUR
            st.zones_seen += 1
        elif kind == "T" and nxt != "SNUM":
            self.take()
            st.time_zone = tok.value
            st.zones_seen += 1
        elif kind == "LOCAL_ZONE":
            self.take()
            st.local_isdst = tok.value
            if self.peek().kind == "DST":
                self.take()
                st.local_isdst = 1
                st.dsts_seen += 1
            st.local_zones_seen += 1
        else:
            raise _Unparsable

    def number_item(self, tok: _Tok, nxt: str) -> None:
        """An item that starts with an unsigned number: what follows it decides which."""
        st = self.st
        if nxt in (":", "MERIDIAN"):
            self.time()
            st.times_seen += 1
        elif nxt == "/":
            self.slash_date()
            st.dates_seen += 1
        elif nxt == "MONTH":
            self.take()
            st.day, st.month = tok.value, self.take().value
            year = self.peek()
            if year.kind in ("UNUM", "SNUM"):  # 23 Apr 2008, 23-Apr-2008
                self.take()
                st.year = year.value if year.kind == "UNUM" else -year.value
                st.year_digits = year.digits
            st.dates_seen += 1
        elif nxt == "DAY":
            self.take()
            st.day_ordinal, st.day_number = tok.value, self.take().value
            st.days_seen += 1
        elif nxt == "SNUM":
            third = self.peek(2).kind
            if third == "SNUM":  # 2008-04-23, then maybe T and an ISO 8601 time
                self.iso_date()
                if self.peek().kind == "T":
                    self.take()
                    self.iso_time()
                    st.times_seen += 1
                st.dates_seen += 1
            elif third in _UNIT_KINDS:  # 20080423 +3 days
                self.take()
                self.digits_to_date_time(tok)
                self.apply(self.relunit_snumber(), 1)
            else:  # 12 +0100: an hour with a zone offset
                self.take()
                self.set_time(tok.value, 0, 0, 0, "24")
                self.zone_offset()
                st.times_seen += 1
        elif nxt in _UNIT_KINDS:
            self.take()
            self.rel_tail(self.unit(self.take(), tok.value))
        else:
            self.take()
            self.digits_to_date_time(tok)

    def set_time(self, hour: int, minutes: int, seconds: int, ns: int, meridian: str) -> None:
        st = self.st
        st.hour, st.minutes, st.seconds, st.ns, st.meridian = hour, minutes, seconds, ns, meridian

    def unsigned_seconds(self) -> tuple[int, int]:
        tok = self.take()
        if tok.kind == "UNUM":
            return tok.value, 0
        if tok.kind == "UDEC":
            return tok.value, tok.ns
        raise _Unparsable

    def time(self) -> None:
        hour = self.expect("UNUM").value
        if self.peek().kind == "MERIDIAN":
            self.set_time(hour, 0, 0, 0, "pm" if self.take().value else "am")
            return
        self.expect(":")
        minutes = self.expect("UNUM").value
        sec, ns = 0, 0
        if self.peek().kind == ":":
            self.take()
            sec, ns = self.unsigned_seconds()
        if self.peek().kind == "MERIDIAN":
            self.set_time(hour, minutes, sec, ns, "pm" if self.take().value else "am")
            return
        self.set_time(hour, minutes, sec, ns, "24")
        if self.peek().kind == "SNUM":
            self.zone_offset()

    def iso_time(self) -> None:
        hour = self.expect("UNUM").value
        if self.peek().kind != ":":
            self.set_time(hour, 0, 0, 0, "24")
            if self.peek().kind != "SNUM":
                raise _Unparsable
            self.zone_offset()
            return
        self.take()
        minutes = self.expect("UNUM").value
        sec, ns = 0, 0
        if self.peek().kind == ":":
            self.take()
            sec, ns = self.unsigned_seconds()
        self.set_time(hour, minutes, sec, ns, "24")
        if self.peek().kind == "SNUM":
            self.zone_offset()

    def colon_minutes(self) -> int:
        if self.peek().kind == ":":
            self.take()
            return self.expect("UNUM").value
        return -1

    def zone_offset(self) -> None:
        tok = self.expect("SNUM")
        self.st.time_zone = self.hhmm(tok, self.colon_minutes())
        self.st.zones_seen += 1

    @staticmethod
    def hhmm(tok: _Tok, mm: int) -> int:
        value = tok.value
        if tok.digits <= 2 and mm < 0:
            value *= 100
        if mm < 0:
            minutes = _c_div(value, 100) * 60 + _c_mod(value, 100)
        else:
            minutes = value * 60 + (-mm if tok.negative else mm)
        if not -24 * 60 <= minutes <= 24 * 60:
            raise _Unparsable
        return minutes * 60

    def zone(self) -> None:
        tok = self.take()
        st = self.st
        st.time_zone = tok.value
        nxt = self.peek()
        if nxt.kind == "SNUM":
            if self.peek(1).kind in _UNIT_KINDS:
                self.apply(self.relunit_snumber(), 1)
            else:
                self.take()
                st.time_zone = _check_i64(self.hhmm(nxt, self.colon_minutes()) + tok.value)
        elif nxt.kind == "DST":
            self.take()
            st.time_zone = tok.value + _HOUR

    def slash_date(self) -> None:
        first = self.expect("UNUM")
        self.expect("/")
        second = self.expect("UNUM").value
        st = self.st
        if self.peek().kind == "/":
            self.take()
            third = self.expect("UNUM")
            if first.digits >= 4:
                st.year, st.year_digits = first.value, first.digits
                st.month, st.day = second, third.value
            else:
                st.month, st.day = first.value, second
                st.year, st.year_digits = third.value, third.digits
        else:
            st.month, st.day = first.value, second

    def iso_date(self) -> None:
        year = self.expect("UNUM")
        month = self.expect("SNUM")
        day = self.expect("SNUM")
        st = self.st
        st.year, st.year_digits = year.value, year.digits
        st.month, st.day = -month.value, -day.value

    def month_date(self) -> None:
        st = self.st
        st.month = self.take().value
        nxt = self.peek()
        if nxt.kind == "SNUM":
            self.take()
            year = self.expect("SNUM")
            st.day = -nxt.value
            st.year, st.year_digits = -year.value, year.digits
        elif nxt.kind == "UNUM":
            self.take()
            st.day = nxt.value
            if self.peek().kind == "," and self.peek(1).kind == "UNUM":
                self.take()
                year = self.take()
                st.year, st.year_digits = year.value, year.digits
            elif self.peek().kind == ",":
                raise _Unparsable
        else:
            raise _Unparsable

    # -- relative items ----------------------------------------------------------------------

    @staticmethod
    def unit(tok: _Tok, count: int) -> _Rel:
        kind = tok.kind
        if kind == "YEAR_UNIT":
            return _Rel(year=count)
        if kind == "MONTH_UNIT":
            return _Rel(month=count)
        if kind == "DAY_UNIT":
            return _Rel(day=count * tok.value)
        if kind == "HOUR_UNIT":
            return _Rel(hour=count)
        if kind == "MINUTE_UNIT":
            return _Rel(minutes=count)
        return _Rel(seconds=count)

    def relunit_snumber(self) -> _Rel:
        count = self.expect("SNUM").value
        unit = self.take()
        if unit.kind not in _UNIT_KINDS:
            raise _Unparsable
        return self.unit(unit, count)

    def rel_tail(self, rel: _Rel) -> None:
        factor = 1
        if self.peek().kind == "AGO":
            factor = self.take().value
        self.apply(rel, factor)

    def apply(self, rel: _Rel, factor: int) -> None:
        acc = self.st.rel
        for name in ("ns", "seconds", "minutes", "hour", "day", "month", "year"):
            setattr(acc, name, _check_i64(getattr(acc, name) + factor * getattr(rel, name)))
        self.st.rels_seen = True

    def digits_to_date_time(self, tok: _Tok) -> None:
        st = self.st
        if (st.dates_seen and not st.year_digits and not st.rels_seen
                and (st.times_seen or tok.digits > 2)):
            st.year, st.year_digits = tok.value, tok.digits
        elif tok.digits > 4:
            st.dates_seen += 1
            st.day = tok.value % 100
            st.month = (tok.value // 100) % 100
            st.year, st.year_digits = tok.value // 10000, tok.digits - 4
        else:
            st.times_seen += 1
            if tok.digits <= 2:
                st.hour, st.minutes = tok.value, 0
            else:
                st.hour, st.minutes = tok.value // 100, tok.value % 100
            st.seconds, st.ns, st.meridian = 0, 0, "24"


def _c_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _c_mod(a: int, b: int) -> int:
    return a - _c_div(a, b) * b


def _to_hour(hours: int, meridian: str) -> int:
    if meridian == "24":
        return hours if 0 <= hours < 24 else -1
    if meridian == "am":
        return hours if 0 < hours < 12 else 0 if hours == 12 else -1
    return hours + 12 if 0 < hours < 12 else 12 if hours == 12 else -1


@dataclass
class _Tm:
    """The fields of a C ``struct tm`` that the computation reads and writes."""

    year: int  # years since 1900
    mon: int  # 0-11 once normalised
    mday: int
    hour: int
    min: int
    sec: int
    isdst: int
    wday: int = 0
    yday: int = 0
    gmtoff: int = 0

    def same_fields(self, other: _Tm) -> bool:
        return (self.year, self.mon, self.mday, self.hour, self.min, self.sec) == (
            other.year, other.mon, other.mday, other.hour, other.min, other.sec)


Convert = Callable[[int], "_Tm | None"]


def _localtime(t: int) -> _Tm | None:
    """C ``localtime_r``; None where it fails (the year does not fit an int)."""
    try:
        lt = time.localtime(t)
    except (OverflowError, OSError, ValueError):
        return None
    return _Tm(lt.tm_year - 1900, lt.tm_mon - 1, lt.tm_mday, lt.tm_hour, lt.tm_min, lt.tm_sec,
               lt.tm_isdst, (lt.tm_wday + 1) % 7, lt.tm_yday - 1, lt.tm_gmtoff or 0)


def _fixed_zone(offset: int) -> Convert:
    """``localtime_r`` in a zone ``offset`` seconds east of UTC without DST."""
    def convert(t: int) -> _Tm | None:
        local = t + offset
        days, secs = divmod(local, 86400)
        y, m, d = civil_from_days(days)
        if not _INT_MIN <= y - 1900 <= _INT_MAX:
            return None
        return _Tm(y - 1900, m - 1, d, secs // 3600, secs // 60 % 60, secs % 60, 0,
                   (days + 4) % 7, days - _days_from_civil(y, 1, 1), offset)
    return convert


class MktimeState:
    """glibc's ``mktime`` remembers the last UTC offset it found (a static) and starts its
    next search from it; where a local time is ambiguous (the hour repeated when DST ends)
    that start decides which of the two times comes back. One of these per emulated oathtool
    process keeps its answers."""

    def __init__(self) -> None:
        self.offset = 0


def _ydhms_diff(year1: int, yday1: int, hour1: int, min1: int, sec1: int,
                year0: int, yday0: int, hour0: int, min0: int, sec0: int) -> int:
    days = (_days_from_civil(year1 + 1900, 1, 1) + yday1) - (
        _days_from_civil(year0 + 1900, 1, 1) + yday0)
    return ((days * 24 + hour1 - hour0) * 60 + min1 - min0) * 60 + sec1 - sec0


def _ranged_convert(convert: Convert, t: int) -> tuple[int, _Tm] | None:
    t = max(_I64_MIN, min(_I64_MAX, t))
    tm = convert(t)
    if tm is not None:
        return t, tm
    bad, ok, ok_tm = t, 0, None
    while True:
        mid = (ok >> 1) + (bad >> 1) + ((ok | bad) & 1)
        if mid in (ok, bad):
            break
        mid_tm = convert(mid)
        if mid_tm is not None:
            ok, ok_tm = mid, mid_tm
        else:
            bad = mid
    return None if ok_tm is None else (ok, ok_tm)


def _isdst_differ(a: int, b: int) -> bool:
    return (not a) != (not b) and a >= 0 and b >= 0


def _glibc_mktime(tm: _Tm, convert: Convert, state: MktimeState) -> tuple[int, _Tm] | None:
    """glibc 2.36's ``__mktime_internal``: the time and the normalised fields, or None."""
    for value in (tm.year, tm.mon, tm.mday, tm.hour, tm.min, tm.sec):
        if not _INT_MIN <= value <= _INT_MAX:
            return None
    remainder = _c_mod(tm.mon, 12)
    negative = remainder < 0
    year = tm.year + _c_div(tm.mon, 12) - negative
    month = remainder + 12 * negative
    yday = (_days_from_civil(year + 1900, month + 1, 1) - _days_from_civil(year + 1900, 1, 1)
            + tm.mday - 1)
    hour, minute, isdst = tm.hour, tm.min, tm.isdst
    sec_requested = tm.sec
    sec = min(max(tm.sec, 0), 59)
    off = state.offset
    t0 = _ydhms_diff(year, yday, hour, minute, sec, 70, 0, 0, 0, -off)
    t = t1 = t2 = t0
    dst2 = False
    probes = 6
    found = False
    while True:
        converted = _ranged_convert(convert, t)
        if converted is None:
            return None
        t, got = converted
        dt = _ydhms_diff(year, yday, hour, minute, sec, got.year, got.yday, got.hour, got.min,
                         got.sec)
        if dt == 0:
            break
        if t == t1 and t != t2 and (
                got.isdst < 0 or (dst2 if isdst < 0 else (isdst != 0) != (got.isdst != 0))):
            found = True  # a spring-forward gap: take the time dt away, as glibc does
            break
        probes -= 1
        if probes == 0:
            return None
        t1, t2, t, dst2 = t2, t, t + dt, got.isdst != 0
    if not found and _isdst_differ(isdst, got.isdst):
        # The requested DST flag differs: use the offset of the nearest time that has it.
        dst_difference = (isdst == 0) - (got.isdst == 0)
        stride = 601200
        bound = 457243200 // 2 + stride
        for delta in range(stride, bound, stride):
            for direction in (-1, 1):
                other = _ranged_convert(convert, t + delta * direction)
                if other is None:
                    return None
                ot, otm = other
                if not _isdst_differ(isdst, otm.isdst):
                    gt = ot + _ydhms_diff(year, yday, hour, minute, sec, otm.year, otm.yday,
                                          otm.hour, otm.min, otm.sec)
                    gtm = convert(gt) if _I64_MIN <= gt <= _I64_MAX else None
                    if gtm is not None:
                        t, got, found = gt, gtm, True
                        break
            if found:
                break
        if not found:
            t += 3600 * dst_difference
            adjusted = convert(t) if _I64_MIN <= t <= _I64_MAX else None
            if adjusted is None:
                return None
            got = adjusted
    state.offset = t - t0 + off
    if sec_requested != got.sec:
        t += (1 if sec == 0 and got.sec == 60 else 0) - sec + sec_requested
        adjusted = convert(t) if _I64_MIN <= t <= _I64_MAX else None
        if adjusted is None:
            return None
        got = adjusted
    return t, got


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (month 1-12)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(days: int) -> tuple[int, int, int]:
    """The proleptic Gregorian (year, month 1-12, day) of a day count since 1970-01-01."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (m <= 2), m, d


def _mktime(tm: _Tm, state: MktimeState, convert: Convert = _localtime) -> tuple[int, _Tm]:
    result = _glibc_mktime(tm, convert, state)
    if result is None:
        raise _Unparsable
    return result


def _compute(st: _State, state: MktimeState) -> int:
    counts = st.times_seen | st.dates_seen | st.days_seen | st.dsts_seen | (
        st.local_zones_seen + st.zones_seen)
    if counts > 1:
        raise _Unparsable
    year = st.year
    if year >= 0 and st.year_digits == 2:
        year += 2000 if year < 69 else 1900
    tm = _Tm(year - 1900, st.month - 1, st.day, 0, 0, 0, st.now_isdst)
    ns = st.ns
    if st.times_seen or (st.rels_seen and not st.dates_seen and not st.days_seen):
        tm.hour = _to_hour(st.hour, st.meridian)
        if tm.hour < 0:
            raise _Unparsable
        tm.min, tm.sec = st.minutes, st.seconds
    else:
        ns = 0
    if st.dates_seen or st.days_seen or st.times_seen:
        tm.isdst = -1
    if st.local_zones_seen:
        tm.isdst = st.local_isdst
    tm0 = _Tm(**vars(tm))
    result = _glibc_mktime(tm0, _localtime, state)
    if result is None or not tm0.same_fields(result[1]):
        if not st.zones_seen:
            raise _Unparsable
        # GNU retries in a fixed zone at the given offset (a time in a local DST gap is
        # still valid when its zone is explicit).
        result = _glibc_mktime(tm0, _fixed_zone(st.time_zone), state)
        if result is None or not tm0.same_fields(result[1]):
            raise _Unparsable
    start, tm = result
    if st.days_seen and not st.dates_seen:
        ordinal = st.day_ordinal - (0 < st.day_ordinal and tm.wday != st.day_number)
        incr = ordinal * 7 + (st.day_number - tm.wday + 7) % 7
        moved = _Tm(tm.year, tm.mon, tm.mday + incr, tm.hour, tm.min, tm.sec, -1)
        start, tm = _mktime(moved, state)
        if start == -1:
            raise _Unparsable
    rel = st.rel
    if rel.year or rel.month or rel.day:
        moved = _Tm(tm.year + rel.year, tm.mon + rel.month, tm.mday + rel.day,
                    tm0.hour, tm0.min, tm0.sec, tm0.isdst)
        start, tm = _mktime(moved, state)
        if start == -1:
            raise _Unparsable
    if st.zones_seen:
        start = _check_i64(start - _check_i64(st.time_zone - tm.gmtoff))
    sum_ns = ns + rel.ns
    normalized = sum_ns % _BILLION
    carry = (sum_ns - normalized) // _BILLION
    result_t = start
    for step in (rel.hour * 3600, rel.minutes * 60, rel.seconds, carry):
        result_t = _check_i64(result_t + _check_i64(step))
    return result_t


def _split_tz(text: bytes) -> tuple[bytes | None, bytes]:
    """A leading ``TZ="..."``: (the zone, the rest); (None, text) when there is none."""
    stripped = text.lstrip(b" \t\n\v\f\r")
    if not stripped.startswith(b'TZ="'):
        return None, text
    zone = bytearray()
    i = 4
    while i < len(stripped):
        c = stripped[i]
        if c == ord("\\"):
            if stripped[i + 1:i + 2] not in (b"\\", b'"'):
                break
            zone.append(stripped[i + 1])
            i += 2
        elif c == ord('"'):
            return bytes(zone), stripped[i + 1:]
        else:
            zone.append(c)
            i += 1
    return None, text


@contextmanager
def _local_zone(zone: bytes | None) -> Iterator[None]:
    """Local time is ``zone`` meanwhile (TZ and tzset, restored after)."""
    if zone is None:
        yield
        return
    saved = os.environ.get("TZ")
    os.environ["TZ"] = os.fsdecode(zone)
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


def parse_datetime(text: bytes, now: int, state: MktimeState | None = None) -> int | None:
    """Seconds since the epoch for a GNU date string, relative to ``now``; None if refused.

    ``state`` carries glibc ``mktime``'s memory from one call to the next, as within one
    oathtool process (which parses ``--now`` first, then ``--start-time``).
    """
    if b"\x00" in text:
        text = text[: text.index(b"\x00")]
    zone, text = _split_tz(text)
    with _local_zone(zone):
        return _parse(text, now, MktimeState() if state is None else state)


def _parse(text: bytes, now: int, state: MktimeState) -> int | None:
    try:
        toks = _tokenize(text)
        if toks[0].kind == "@":
            seconds = toks[1]
            if seconds.kind not in ("UNUM", "SNUM", "UDEC", "SDEC") or toks[2].kind != "END":
                return None
            return seconds.value
        lt = _localtime(now)
        if lt is None:
            return None
        st = _State(lt.year + 1900, 0, lt.mon + 1, lt.mday, lt.hour, lt.min, lt.sec, 0,
                    now_isdst=lt.isdst)
        _Parser(toks, st).items()
        return _compute(st, state)
    except _Unparsable:
        return None
