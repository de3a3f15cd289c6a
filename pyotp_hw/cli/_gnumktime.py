"""glibc's ``mktime`` and ``localtime`` as oathtool sees them, for :mod:`._gnudate`.

``parse_datetime`` turns calendar fields into seconds with the C library's ``mktime``; its search
over ``localtime`` (and the last UTC offset it remembers between calls) decides which second an
ambiguous local time means. This module reproduces that search over Python's ``time.localtime``
and over fixed-offset zones, with C's truncating division.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Convert", "MktimeState", "Tm", "c_div", "c_mod", "civil_from_days",
           "fixed_zone", "glibc_mktime", "localtime"]

_INT_MIN, _INT_MAX = -(1 << 31), (1 << 31) - 1
_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1


def c_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def c_mod(a: int, b: int) -> int:
    return a - c_div(a, b) * b


@dataclass
class Tm:
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

    def same_fields(self, other: Tm) -> bool:
        return (self.year, self.mon, self.mday, self.hour, self.min, self.sec) == (
            other.year, other.mon, other.mday, other.hour, other.min, other.sec)


Convert = Callable[[int], "Tm | None"]


def localtime(t: int) -> Tm | None:
    """C ``localtime_r``; None where it fails (the year does not fit an int)."""
    try:
        lt = time.localtime(t)
    except (OverflowError, OSError, ValueError):
        return None
    return Tm(lt.tm_year - 1900, lt.tm_mon - 1, lt.tm_mday, lt.tm_hour, lt.tm_min, lt.tm_sec,
               lt.tm_isdst, (lt.tm_wday + 1) % 7, lt.tm_yday - 1, lt.tm_gmtoff or 0)


def fixed_zone(offset: int) -> Convert:
    """``localtime_r`` in a zone ``offset`` seconds east of UTC without DST."""
    def convert(t: int) -> Tm | None:
        local = t + offset
        days, secs = divmod(local, 86400)
        y, m, d = civil_from_days(days)
        if not _INT_MIN <= y - 1900 <= _INT_MAX:
            return None
        return Tm(y - 1900, m - 1, d, secs // 3600, secs // 60 % 60, secs % 60, 0,
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


def _ranged_convert(convert: Convert, t: int) -> tuple[int, Tm] | None:
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


def glibc_mktime(tm: Tm, convert: Convert, state: MktimeState) -> tuple[int, Tm] | None:
    """glibc 2.36's ``__mktime_internal``: the time and the normalised fields, or None."""
    for value in (tm.year, tm.mon, tm.mday, tm.hour, tm.min, tm.sec):
        if not _INT_MIN <= value <= _INT_MAX:
            return None
    remainder = c_mod(tm.mon, 12)
    negative = remainder < 0
    year = tm.year + c_div(tm.mon, 12) - negative
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
