"""gnulib's ``parse_duration`` as oathtool 2.6.7 applies it to ``-s/--time-step-size``.

Accepted, as there: a plain number of seconds (``30``), numbers with units in decreasing order
(``y``/``Y`` 365 days, ``M`` 30 days, ``W`` week, ``d``/``D`` day, ``h`` hour, ``m`` minute,
``s`` second: ``1m30s``, ``1 h 5 m``, a trailing bare number counts seconds: ``10m5``), an
``H:MM[:SS]`` tail (``1:30``, ``2h 30:00``), ISO 8601-like periods ``P[n]Y[n]M[n]W[n]D``,
``PYYYY-MM-DD`` and ``PYYYYMMDD`` with an optional ``T`` time part, and ``T`` time parts alone
(``T30S``, ``T1:00:00``, ``T010000``). Values up to 2**63-1 seconds; anything else is refused.
The quirks of that parser are kept: ``PT30S`` is refused (its ``T`` splits off an empty date
part) while ``T30S`` is 30 seconds, ``1H`` is refused (hours are ``h`` outside ISO forms), and
``1:60`` is 120 seconds.
"""

from __future__ import annotations

__all__ = ["parse_duration"]

_TIME_MAX = (1 << 63) - 1
_U64 = 1 << 64
_SPACE = frozenset(b" \t\n\v\f\r")
_DIGITS = frozenset(b"0123456789")
_SEC_PER_MIN = 60
_SEC_PER_HR = 3600
_SEC_PER_DAY = 86400
_SEC_PER_WEEK = _SEC_PER_DAY * 7
_SEC_PER_MONTH = _SEC_PER_DAY * 30
_SEC_PER_YEAR = _SEC_PER_DAY * 365


class _Bad(Exception):
    """The duration is refused (gnulib's BAD_TIME)."""


def _wrap64(value: int) -> int:
    value %= _U64
    return value - _U64 if value >= 1 << 63 else value


def _strtoul(text: bytes, pos: int) -> tuple[int, int]:
    """C ``strtoul(text + pos, &end, 10)`` read as a signed 64-bit value: (value, end)."""
    i = pos
    while i < len(text) and text[i] in _SPACE:
        i += 1
    negative = False
    if i < len(text) and text[i] in b"+-":
        negative = text[i] == ord("-")
        i += 1
    start = i
    while i < len(text) and text[i] in _DIGITS:
        i += 1
    if i == start:
        return 0, pos
    magnitude = int(text[start:i])
    if magnitude >= _U64:
        raise _Bad  # ERANGE
    return _wrap64(-magnitude if negative else magnitude), i


def _scale_add(base: int, val: int, scale: int) -> int:
    """``base + val * scale`` with gnulib's overflow checks (in 64-bit two's complement)."""
    if base == -1 or val > _TIME_MAX // scale:
        raise _Bad
    val = _wrap64(val * scale)
    if base > _wrap64(_TIME_MAX - val):
        raise _Bad
    return _wrap64(base + val)


def _scaled(text: bytes, pos: int, end: int, base: int, scale: int) -> tuple[int, int]:
    """A number ending (after blanks) exactly at ``end``, scaled and added to ``base``."""
    val, i = _strtoul(text, pos)
    while i < len(text) and text[i] in _SPACE:
        i += 1
    if i != end:
        raise _Bad
    return _scale_add(base, val, scale), i


def _find(text: bytes, chars: bytes, pos: int) -> int:
    hits = [i for i in (text.find(bytes([c]), pos) for c in chars) if i >= 0]
    return min(hits) if hits else -1


def _rest_blank(text: bytes, pos: int) -> None:
    if text[pos:].strip(b" \t\n\v\f\r"):
        raise _Bad


def _suffixed(text: bytes, units: tuple[tuple[int, int], ...]) -> int:
    """``nY nM nW nD`` or ``nH nM nS``: each unit optional, in this order."""
    res, pos = 0, 0
    for letter, scale in units:
        at = text.find(bytes([letter]), pos)
        if at >= 0:
            res, pos = _scaled(text, pos, at, res, scale)
            pos += 1
    _rest_blank(text, pos)
    return res


def _three_fields(text: bytes, sep: int, scales: tuple[int, int, int]) -> int:
    """``A-B-C`` (or ``A:B:C``): three numbers joined by ``sep``."""
    first = text.find(bytes([sep]))
    res, pos = _scaled(text, 0, first, 0, scales[0])
    pos += 1
    second = text.find(bytes([sep]), pos)
    if second < 0:
        raise _Bad
    res, pos = _scaled(text, pos, second, res, scales[1])
    return _scaled(text, pos + 1, len(text), res, scales[2])[0]


def _packed(text: bytes, widths: tuple[int, int, int], scales: tuple[int, int, int]) -> int:
    """``YYYYMMDD`` or ``HHMMSS``: fixed-width fields."""
    if len(text) != sum(widths):
        raise _Bad
    res, pos = 0, 0
    for width, scale in zip(widths, scales, strict=True):
        part = text[pos:pos + width]
        res = _scaled(part, 0, len(part), res, scale)[0]
        pos += width
    return res


def _time_part(text: bytes) -> int:
    if b":" in text:
        return _three_fields(text, ord(":"), (_SEC_PER_HR, _SEC_PER_MIN, 1))
    if _find(text, b"HMS", 0) < 0:
        return _packed(text, (2, 2, 2), (_SEC_PER_HR, _SEC_PER_MIN, 1))
    return _suffixed(text, ((ord("H"), _SEC_PER_HR), (ord("M"), _SEC_PER_MIN), (ord("S"), 1)))


def _period(text: bytes) -> int:
    time_text = None
    if b"T" in text:
        at = text.index(b"T")
        text, time_text = text[:at].strip(b" \t\n\v\f\r"), text[at + 1:].strip(b" \t\n\v\f\r")
    if b"-" in text:
        res = _three_fields(text, ord("-"), (_SEC_PER_YEAR, _SEC_PER_MONTH, _SEC_PER_DAY))
    elif _find(text, b"YMWD", 0) < 0:
        res = _packed(text, (4, 2, 2), (_SEC_PER_YEAR, _SEC_PER_MONTH, _SEC_PER_DAY))
    else:
        res = _suffixed(text, ((ord("Y"), _SEC_PER_YEAR), (ord("M"), _SEC_PER_MONTH),
                               (ord("W"), _SEC_PER_WEEK), (ord("D"), _SEC_PER_DAY)))
    if time_text is not None:
        res = _scale_add(res, _time_part(time_text), 1)
    return res


def _strtol(text: bytes, pos: int) -> tuple[int, int]:
    start = i = pos
    while i < len(text) and text[i] in _DIGITS:
        i += 1
    value = int(text[start:i])
    if value > _TIME_MAX:
        raise _Bad  # ERANGE
    return value, i


def _hr_min_sec(start: int, text: bytes, pos: int) -> int:
    """After a number, up to two ``:N`` parts (each multiplies what came before by 60)."""
    loops = 0
    while pos < len(text) and text[pos] == ord(":") and loops < 2:
        loops += 1
        val, pos = _strtoul(text, pos + 1)
        start = _scale_add(val, start, 60)
    _rest_blank(text, pos)
    return start


_UNIT_ORDER = {
    ord("y"): (1, _SEC_PER_YEAR), ord("Y"): (1, _SEC_PER_YEAR), ord("M"): (2, _SEC_PER_MONTH),
    ord("W"): (3, _SEC_PER_WEEK), ord("d"): (4, _SEC_PER_DAY), ord("D"): (4, _SEC_PER_DAY),
    ord("h"): (5, _SEC_PER_HR), ord("m"): (6, _SEC_PER_MIN), ord("s"): (7, 1),
}
_HOUR_DONE, _MINUTE_DONE, _SECOND_DONE = 5, 6, 7


def _plain(text: bytes) -> int:
    done = 0
    res = 0
    pos = 0
    while done < _SECOND_DONE:
        val, pos = _strtol(text, pos)
        if pos < len(text) and text[pos] == ord(":"):
            if done >= _MINUTE_DONE:
                raise _Bad
            val = _hr_min_sec(val, text, pos)
            if done == _HOUR_DONE and val >= _SEC_PER_HR:
                raise _Bad
            return _scale_add(res, val, 1)
        while pos < len(text) and text[pos] in _SPACE:
            pos += 1
        if pos == len(text):
            return _scale_add(res, val, 1)
        order = _UNIT_ORDER.get(text[pos])
        if order is None:
            raise _Bad
        rank, scale = order
        if rank != _SECOND_DONE and done >= rank:
            raise _Bad
        done = rank
        res = _scale_add(res, val, scale)
        pos += 1
        while pos < len(text) and text[pos] in _SPACE:
            pos += 1
        if pos == len(text):
            return res
        if text[pos] not in _DIGITS:
            raise _Bad
    raise _Bad


def parse_duration(text: bytes) -> int | None:
    """Seconds for a duration string, or None where oathtool says ``cannot parse time``."""
    if b"\x00" in text:
        text = text[: text.index(b"\x00")]
    stripped = text.lstrip(b" \t\n\v\f\r")
    try:
        if stripped[:1] == b"P":
            value = _period(stripped[1:])
        elif stripped[:1] == b"T":
            value = _time_part(stripped[1:])
        elif stripped[:1] and stripped[0] in _DIGITS:
            value = _plain(stripped)
        else:
            return None
    except _Bad:
        return None
    return None if value == -1 else value
