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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ._gnulex import (
    _BILLION,
    _HOUR,
    _I64_MAX,
    _I64_MIN,
    _UNIT_KINDS,
    _Tok,
    _tokenize,
    _Unparsable,
)
from ._gnumktime import (
    MktimeState,
    Tm,
    c_div,
    c_mod,
    civil_from_days,
    fixed_zone,
    glibc_mktime,
    localtime,
)

__all__ = ["MktimeState", "civil_from_days", "parse_datetime"]


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
            minutes = c_div(value, 100) * 60 + c_mod(value, 100)
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


def _to_hour(hours: int, meridian: str) -> int:
    if meridian == "24":
        return hours if 0 <= hours < 24 else -1
    if meridian == "am":
        return hours if 0 < hours < 12 else 0 if hours == 12 else -1
    return hours + 12 if 0 < hours < 12 else 12 if hours == 12 else -1


def _mktime(tm: Tm, state: MktimeState) -> tuple[int, Tm]:
    result = glibc_mktime(tm, localtime, state)
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
    tm = Tm(year - 1900, st.month - 1, st.day, 0, 0, 0, st.now_isdst)
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
    tm0 = Tm(**vars(tm))
    result = glibc_mktime(tm0, localtime, state)
    if result is None or not tm0.same_fields(result[1]):
        if not st.zones_seen:
            raise _Unparsable
        # GNU retries in a fixed zone at the given offset (a time in a local DST gap is
        # still valid when its zone is explicit).
        result = glibc_mktime(tm0, fixed_zone(st.time_zone), state)
        if result is None or not tm0.same_fields(result[1]):
            raise _Unparsable
    start, tm = result
    if st.days_seen and not st.dates_seen:
        ordinal = st.day_ordinal - (0 < st.day_ordinal and tm.wday != st.day_number)
        incr = ordinal * 7 + (st.day_number - tm.wday + 7) % 7
        moved = Tm(tm.year, tm.mon, tm.mday + incr, tm.hour, tm.min, tm.sec, -1)
        start, tm = _mktime(moved, state)
        if start == -1:
            raise _Unparsable
    rel = st.rel
    if rel.year or rel.month or rel.day:
        moved = Tm(tm.year + rel.year, tm.mon + rel.month, tm.mday + rel.day,
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
        lt = localtime(now)
        if lt is None:
            return None
        st = _State(lt.year + 1900, 0, lt.mon + 1, lt.mday, lt.hour, lt.min, lt.sec, 0,
                    now_isdst=lt.isdst)
        _Parser(toks, st).items()
        return _compute(st, state)
    except _Unparsable:
        return None
