"""HOTP, TOTP and Steam objects with a pyotp-like API.

A thin face over the C core, one C call per code through :mod:`pyotp_hw._native`. An object's
first code is computed from its key with the HMAC states on the C stack (wiped there); from the
second on it uses a C handle holding a one-row key table (the HMAC states of its secret, locked
in memory where the OS allows, wiped when the object is collected) and the object's parameters,
so that making an object to check one code costs no heap table and a long-lived object computes
each code from precomputed states with one cffi call of a few arguments.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping

from . import _native as nat
from . import _numbers
from . import uri as _uri
from ._time import plain_seconds
from ._types import Digest, TimeValue
from .codecheck import STEAM_ALPHABET, CodeCheck, parse_digits_code, parse_steam_code
from .errors import InvalidArgument, InvalidCode, InvalidType
from .keys import decode_secret, encode_base32, secret_and_text

__all__ = ["OTP", "HOTP", "TOTP", "Steam", "CodeCheck", "check_code", "from_uri", "uri_fields",
           "MAX_WINDOW", "MIN_DIGITS", "MAX_DIGITS", "STEAM_ALPHABET"]

_U64_MAX = (1 << 64) - 1
# RFC 4226's dynamic truncation keeps 31 bits: a 10-digit code above this can never match.
_TRUNCATION_MAX = (1 << 31) - 1
MAX_WINDOW: int = nat.MAX_WINDOW
"""The widest TOTP window (steps each side) and HOTP look-ahead one check accepts."""
MIN_DIGITS: int = nat.MIN_DIGITS
"""The shortest code HOTP and TOTP make."""
MAX_DIGITS: int = nat.MAX_DIGITS
"""The longest code HOTP and TOTP make."""


def check_code(code: object, digits: int) -> int:
    """Return a canonical code as an int, or raise :class:`InvalidCode` saying what is wrong.

    The strict form of :func:`pyotp_hw.codecheck.parse_digits_code`: a str must be exactly
    ``digits`` ASCII digits, an int must lie in ``[0, 10**digits)``; ``None`` is
    :class:`InvalidCode` too, other types :class:`InvalidType`. The code is never echoed.
    """
    parsed = parse_digits_code(code, digits)
    if isinstance(parsed, CodeCheck):
        raise InvalidCode(parsed.message)
    return parsed


def _check_digits(digits: object) -> int:
    return _numbers.option(digits, "digits", MIN_DIGITS, MAX_DIGITS)


def _check_counter(value: object, name: str) -> int:
    return _numbers.option(value, name, 0, _U64_MAX, index=True, span="0 and 2**64-1")


def _check_name(value: object, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidType(f"{name} must be a str or None, not {type(value).__name__}")
    return value


def _check_interval(value: object) -> int:
    return _numbers.option(value, "interval", 1, (1 << 63) - 1, "an int number of seconds",
                           span="1 and 2**63-1 seconds")


def _check_window(value: object, name: str) -> int:
    return _numbers.option(value, name, 0, nat.MAX_WINDOW)


# The C calls over an object's handle (see OTP), looked up once per call as module globals.
_scalar_now = nat.scalar_now
_scalar_hotp = nat.scalar_hotp
_scalar_totp = nat.scalar_totp
_scalar_verify_totp = nat.scalar_verify_totp
_scalar_verify_hotp = nat.scalar_verify_hotp
_NO_MATCH = nat.NO_MATCH


class OTP:
    """Common state of HOTP, TOTP and Steam: the secret's key, digits and digest.

    From an object's second code on, ``_bound`` holds its C handle (the key's table and the
    fixed parameters, see :func:`pyotp_hw._native.scalar_key`) with the digits it formats to,
    as one tuple so that a thread never pairs a handle with another handle's digits.
    """

    __slots__ = ("_bound", "_digest_id", "_digits", "_kernel", "_key", "_secret", "_warm",
                 "issuer", "name")

    def __init__(
        self,
        secret: str | bytes,
        *,
        digits: int = 6,
        digest: Digest = "sha1",
        name: str | None = None,
        issuer: str | None = None,
    ) -> None:
        key, text = secret_and_text(secret)
        self._digest_id = nat.digest_id(digest)
        self._digits = _check_digits(digits)
        self._secret: str | None = text
        self.name = _check_name(name, "name")
        self.issuer = _check_name(issuer, "issuer")
        self._key = key
        self._kernel = nat.lone_kernel_for(self._digest_id).ptr
        self._bound: tuple[nat.CData, int] | None = None
        self._warm = False

    @property
    def secret(self) -> str:
        """The secret as canonical base32 (upper case, no padding)."""
        text = self._secret
        if text is None:
            text = self._secret = encode_base32(self._key)
        return text

    @secret.setter
    def secret(self, value: str) -> None:
        self._secret = value

    @property
    def digits(self) -> int:
        """The number of digits of a code (a Steam code has 5 characters)."""
        return self._digits

    @digits.setter
    def digits(self, value: int) -> None:
        self._digits = _check_digits(value)
        self._bound = None  # the next code builds a handle with the new digits

    @property
    def digest(self) -> str:
        """The HMAC digest name: "sha1", "sha256" or "sha512"."""
        return nat.digest_name(self._digest_id)

    def byte_secret(self) -> bytes:
        """The raw key bytes."""
        return self._key if self._secret is None else decode_secret(self._secret)

    def _params(self, digits: int) -> tuple[int, int, int]:
        """(t0, interval, C digits) of a handle for codes of ``digits`` digits."""
        return 0, 1, digits

    def _handle(self) -> tuple[nat.CData, int] | None:
        """``_bound``, or None on the first use (a per-request object's only one: compute from
        the key, no heap table); built on the second."""
        bound = self._bound
        if bound is not None:
            return bound
        if not self._warm:
            self._warm = True
            return None
        digits = self._digits
        t0, interval, c_digits = self._params(digits)
        bound = self._bound = (nat.scalar_key(self._kernel, self._key, t0, interval, c_digits),
                               digits)
        return bound

    def _raw(self, counter: int) -> tuple[int, int]:
        """The C code at ``counter`` (checked to lie in [0, 2**64)) and the digits it is shown
        with, both of one handle (or of the key, on the first use)."""
        bound = self._handle()
        if bound is None:
            digits = self._digits
            c_digits = self._params(digits)[2]
            return nat.hotp_key_code(self._kernel, self._key, counter, c_digits), digits
        value = _scalar_hotp(bound[0], counter)
        if value < 0:
            nat.scalar_failed(value)
        return value, bound[1]

    def _text(self, counter: int) -> str:
        """The zero-padded code at ``counter``."""
        value, digits = self._raw(counter)
        return str(value).zfill(digits)

    def generate_otp(self, input: int) -> str:
        """The code for a raw counter value (pyotp compatibility)."""
        return self._text(_check_counter(input, "input"))

    def __repr__(self) -> str:
        parts = [f"digits={self.digits}", f"digest={self.digest!r}"]
        if self.name is not None:
            parts.append(f"name={self.name!r}")
        if self.issuer is not None:
            parts.append(f"issuer={self.issuer!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


class HOTP(OTP):
    """Counter-based one-time passwords (RFC 4226)."""

    __slots__ = ("initial_count",)

    def __init__(
        self,
        secret: str | bytes,
        *,
        digits: int = 6,
        digest: Digest = "sha1",
        name: str | None = None,
        issuer: str | None = None,
        initial_count: int = 0,
    ) -> None:
        super().__init__(secret, digits=digits, digest=digest, name=name, issuer=issuer)
        self.initial_count = _check_counter(initial_count, "initial_count")

    def at(self, count: int) -> str:
        """The zero-padded code for counter ``initial_count + count``."""
        bound = self._bound
        # A warm object and a plain int: one C call. A counter outside uint64 (or a negative
        # count) goes the checked way, which raises the typed error.
        if bound is not None and type(count) is int and count >= 0:
            counter = self.initial_count + count
            if type(counter) is int:
                try:
                    value = _scalar_hotp(bound[0], counter)
                except OverflowError:
                    pass
                else:
                    if value >= 0:
                        return str(value).zfill(bound[1])
        return self._at_slow(count)

    def _at_slow(self, count: int) -> str:
        counter = _check_counter(self.initial_count + _check_counter(count, "count"), "counter")
        return self._text(counter)

    def verify(self, code: object, counter: int, *, look_ahead: int = 0) -> bool:
        """True when ``code`` matches a counter in ``[counter, counter + look_ahead]``.

        ``counter`` counts from ``initial_count``. A malformed str or int code is simply not
        valid (False), as are ``None`` and a well-formed code that matches nothing; ask
        :meth:`check` for the reason. The comparison is constant-time and every counter of the
        look-ahead is computed.
        """
        bound = self._bound
        # A warm object, a code of `digits` ASCII digits and plain ints: one C call.
        if (bound is not None and type(code) is str and len(code) == bound[1]
                and code.isascii() and code.isdigit() and type(counter) is int
                and counter >= 0 and type(look_ahead) is int):
            value = int(code)
            start = self.initial_count + counter
            if value <= _TRUNCATION_MAX and type(start) is int:
                try:
                    offset = _scalar_verify_hotp(bound[0], value, start, look_ahead)
                except OverflowError:
                    pass
                else:
                    if offset >= 0 or offset == _NO_MATCH:
                        return offset >= 0
        return self.check(code, counter, look_ahead=look_ahead).ok

    def check(self, code: object, counter: int, *, look_ahead: int = 0) -> CodeCheck:
        """Check ``code`` against the counters ``[counter, counter + look_ahead]``.

        The answer's ``step`` is the absolute counter matched (``initial_count`` included).
        Never raises for a str or int ``code`` (nor ``None``): see :mod:`pyotp_hw.codecheck`.
        ``counter`` and ``look_ahead`` are the program's, not the user's: bad ones raise.
        Counters stop at 2**64-1; the look-ahead does not wrap around to 0.
        """
        start = _check_counter(self.initial_count + _check_counter(counter, "counter"), "counter")
        ahead = _check_window(look_ahead, "look_ahead")
        parsed = parse_digits_code(code, self._digits)
        if isinstance(parsed, CodeCheck):
            return parsed
        found = self._find(parsed, start, ahead) if parsed <= _TRUNCATION_MAX else None
        return CodeCheck.wrong() if found is None else CodeCheck.matched(found)

    def find(self, code: int, counter: int, look_ahead: int) -> int | None:
        """The lowest counter in ``[counter, counter + look_ahead]`` whose code is ``code``.

        ``code`` is the int value of a code (``0 <= code < 10**digits``), ``counter`` the
        absolute counter (``initial_count`` is not added) and ``look_ahead`` at most
        :data:`MAX_WINDOW`; out-of-range values raise :class:`InvalidArgument` and
        :class:`InvalidCode`, other types :class:`InvalidType`. None when nothing matches.
        """
        code = _numbers.whole(code, "code")
        if not 0 <= code < 10**self._digits:
            raise InvalidCode(f"code must be between 0 and {10**self._digits - 1}")
        start = _check_counter(counter, "counter")
        ahead = _check_window(look_ahead, "look_ahead")
        return self._find(code, start, ahead) if code <= _TRUNCATION_MAX else None

    def _find(self, code: int, counter: int, look_ahead: int) -> int | None:
        bound = self._handle()
        if bound is None:
            return nat.verify_hotp_one(self._kernel, self._key, code, counter, look_ahead,
                                       self._digits)
        offset = _scalar_verify_hotp(bound[0], code, counter, look_ahead)
        if offset < 0:
            if offset == _NO_MATCH:
                return None
            nat.scalar_failed(offset)
        return counter + offset

    def provisioning_uri(
        self,
        name: str | None = None,
        issuer_name: str | None = None,
        initial_count: int | None = None,
        **extra: object,
    ) -> str:
        """An ``otpauth://hotp/...`` URI for this secret (contains the secret)."""
        return uri_fields(self, name=name, issuer=issuer_name, initial_count=initial_count,
                          extra=extra).to_uri()


class TOTP(OTP):
    """Time-based one-time passwords (RFC 6238)."""

    __slots__ = ("_interval", "_t0")

    def __init__(
        self,
        secret: str | bytes,
        *,
        digits: int = 6,
        digest: Digest = "sha1",
        interval: int = 30,
        t0: int = 0,
        name: str | None = None,
        issuer: str | None = None,
    ) -> None:
        period = _check_interval(interval)
        start = nat.time_to_int(t0, "t0")
        super().__init__(secret, digits=digits, digest=digest, name=name, issuer=issuer)
        self._interval = period
        self._t0 = start

    @property
    def interval(self) -> int:
        """The length of a time step in seconds."""
        return self._interval

    @interval.setter
    def interval(self, value: int) -> None:
        self._interval = _check_interval(value)
        self._bound = None

    @property
    def t0(self) -> int:
        """The Unix time (whole seconds) at which step 0 starts."""
        return self._t0

    @t0.setter
    def t0(self, value: TimeValue) -> None:
        self._t0 = nat.time_to_int(value, "t0")
        self._bound = None

    def _params(self, digits: int) -> tuple[int, int, int]:
        return self._t0, self._interval, digits

    def timecode(self, for_time: TimeValue) -> int:
        """The time step of ``for_time`` (seconds, float or aware datetime)."""
        t = nat.time_to_int(for_time)
        if t < self._t0:
            raise InvalidArgument(f"for_time is before t0 ({self._t0})")
        return (t - self._t0) // self._interval

    def at(self, for_time: TimeValue, counter_offset: int = 0) -> str:
        """The code at ``for_time``, shifted by ``counter_offset`` steps."""
        bound = self._bound
        t = for_time if type(for_time) is int else plain_seconds(for_time)
        # A warm object, an int or float time and an int offset: one C call (the step is
        # computed there). Anything C refuses (a time before t0, a step outside uint64, an int
        # outside int64) goes the checked way, which raises the typed error.
        if bound is not None and t is not None and type(counter_offset) is int:
            try:
                value = _scalar_totp(bound[0], t, counter_offset)
            except OverflowError:
                pass
            else:
                if value >= 0:
                    return str(value).zfill(bound[1])
        return self._at_slow(for_time, counter_offset)

    def _at_slow(self, for_time: TimeValue, counter_offset: int) -> str:
        offset = _numbers.whole(counter_offset, "counter_offset")
        step = _check_counter(self.timecode(for_time) + offset, "time step")
        return self._code(step)

    def now(self) -> str:
        """The current code."""
        bound = self._bound
        if bound is not None:  # a warm object: one C call, which reads the clock itself
            value = _scalar_now(bound[0])
            if value >= 0:
                return str(value).zfill(bound[1])
        # The first uses, or C refused (a time before t0): the checked way, in Python.
        return self._code(self._step_now())

    def _step_now(self) -> int:
        t = int(time.time())
        if t < self._t0:
            raise InvalidArgument(f"the current time is before t0 ({self._t0})")
        return (t - self._t0) // self._interval

    def verify(
        self, code: object, for_time: TimeValue | None = None, valid_window: int = 0
    ) -> bool:
        """True when ``code`` matches a step within ``valid_window`` steps of ``for_time``.

        A malformed str or int code is simply not valid (False), as are ``None`` and a
        well-formed code that matches nothing; ask :meth:`check` for the reason.
        """
        bound = self._bound
        # A warm object, a code of `digits` ASCII digits and plain ints: one C call, which
        # computes and compares every step of the window in constant time.
        if (bound is not None and type(code) is str and len(code) == bound[1]
                and code.isascii() and code.isdigit() and type(valid_window) is int):
            t = int(time.time()) if for_time is None else plain_seconds(for_time)
            value = int(code)
            if t is not None and value <= _TRUNCATION_MAX:
                try:
                    step = _scalar_verify_totp(bound[0], value, t, valid_window)
                except OverflowError:
                    pass
                else:
                    if step >= 0 or step == _NO_MATCH:
                        return step >= 0
        return self.check(code, for_time, valid_window).ok

    def verify_and_get_timecode(
        self, code: object, for_time: TimeValue | None = None, valid_window: int = 0
    ) -> int | None:
        """The matching time step (the lowest in the window), or None (see :meth:`verify`)."""
        return self.check(code, for_time, valid_window).step

    def check(
        self, code: object, for_time: TimeValue | None = None, valid_window: int = 0
    ) -> CodeCheck:
        """Check ``code`` against the steps within ``valid_window`` of ``for_time`` (default now).

        The answer's ``step`` is the time step matched, the lowest when several do. Never
        raises for a str or int ``code`` (nor ``None``): see :mod:`pyotp_hw.codecheck`.
        ``for_time`` and ``valid_window`` are the program's, not the user's: bad ones raise.
        Every step of the window is computed and compared in constant time.
        """
        window = _check_window(valid_window, "valid_window")
        t = self._check_time(for_time)
        parsed = parse_digits_code(code, self._digits)
        if isinstance(parsed, CodeCheck):
            return parsed
        if parsed > _TRUNCATION_MAX:
            return CodeCheck.wrong()
        bound = self._handle()
        if bound is None:
            step = nat.verify_totp_one(self._kernel, self._key, parsed, t, self._t0,
                                       self._interval, window, self._digits)
        else:
            step = _scalar_verify_totp(bound[0], parsed, t, window)
            if step < 0:
                if step != _NO_MATCH:
                    nat.scalar_failed(step, self._t0)
                step = -1
        return CodeCheck.matched(step) if step >= 0 else CodeCheck.wrong()

    def _check_time(self, for_time: TimeValue | None) -> int:
        t = nat.time_to_int(time.time() if for_time is None else for_time)
        if t < self._t0:
            raise InvalidArgument(f"for_time is before t0 ({self._t0})")
        return t

    def _code(self, step: int) -> str:
        """The code shown for time step ``step``."""
        return self._text(step)

    def provisioning_uri(
        self, name: str | None = None, issuer_name: str | None = None, **extra: object
    ) -> str:
        """An ``otpauth://totp/...`` URI for this secret (contains the secret)."""
        return uri_fields(self, name=name, issuer=issuer_name, extra=extra).to_uri()


class Steam(TOTP):
    """Steam Guard codes: TOTP-SHA1 over 30 s, shown as 5 characters of Steam's alphabet."""

    __slots__ = ()

    def __init__(
        self, secret: str | bytes, *, name: str | None = None, issuer: str | None = None
    ) -> None:
        super().__init__(secret, digits=6, digest="sha1", interval=30, name=name, issuer=issuer)
        self._digits = 5

    def _params(self, digits: int) -> tuple[int, int, int]:
        return self._t0, self._interval, nat.RAW_DIGITS  # the 31 bits, encoded here

    def generate_otp(self, input: int) -> str:
        """Not available: a Steam code is no decimal code (raises, as a 5-digit one would)."""
        _check_counter(input, "input")
        raise InvalidArgument(f"digits must be between {MIN_DIGITS} and {MAX_DIGITS}")

    def at(self, for_time: TimeValue, counter_offset: int = 0) -> str:
        """The code at ``for_time``, shifted by ``counter_offset`` steps."""
        return self._at_slow(for_time, counter_offset)

    def now(self) -> str:
        """The current code."""
        return self._code(self._step_now())

    def _code(self, step: int) -> str:
        return self._format(self._raw(step)[0])

    @staticmethod
    def _format(value: int) -> str:
        chars = []
        for _ in range(5):
            value, index = divmod(value, len(STEAM_ALPHABET))
            chars.append(STEAM_ALPHABET[index])
        return "".join(chars)

    def verify(
        self, code: object, for_time: TimeValue | None = None, valid_window: int = 0
    ) -> bool:
        """True when the Steam ``code`` matches a step within ``valid_window`` of ``for_time``."""
        return self.check(code, for_time, valid_window).ok

    def check(
        self, code: object, for_time: TimeValue | None = None, valid_window: int = 0
    ) -> CodeCheck:
        """Check a 5-character Steam ``code``, as :meth:`TOTP.check` does a numeric one.

        A str outside Steam's alphabet, a number or ``None`` is malformed, never an error.
        """
        window = _check_window(valid_window, "valid_window")
        step = self.timecode(time.time() if for_time is None else for_time)
        parsed = parse_steam_code(code)
        if isinstance(parsed, CodeCheck):
            return parsed
        matched = None
        # Every candidate is computed and compared in constant time; the lowest match is kept.
        for candidate in range(step + window, step - window - 1, -1):
            if 0 <= candidate <= _U64_MAX:
                expected = self._code(candidate)
                if hmac.compare_digest(expected, parsed):
                    matched = candidate
        return CodeCheck.wrong() if matched is None else CodeCheck.matched(matched)


def from_uri(entry: _uri.OtpAuthURI | str) -> HOTP | TOTP | Steam:
    """The ``HOTP``, ``TOTP`` or ``Steam`` object of an ``otpauth://`` URI (text or parsed)."""
    fields = _uri.parse(entry) if isinstance(entry, str) else entry
    if fields.is_steam:
        return Steam(fields.secret, name=fields.account, issuer=fields.issuer)
    if fields.kind == "hotp":
        assert fields.counter is not None  # guaranteed by OtpAuthURI
        return HOTP(fields.secret, digits=fields.digits, digest=fields.digest,
                    name=fields.account, issuer=fields.issuer, initial_count=fields.counter)
    return TOTP(fields.secret, digits=fields.digits, digest=fields.digest,
                interval=fields.period, name=fields.account, issuer=fields.issuer)


def uri_fields(
    obj: HOTP | TOTP | Steam,
    *,
    name: str | None = None,
    issuer: str | None = None,
    initial_count: int | None = None,
    extra: Mapping[str, object] | None = None,
) -> _uri.OtpAuthURI:
    """The URI fields of an OTP object (``.to_uri()`` gives what ``provisioning_uri`` returns).

    ``name``/``issuer`` default to the object's own; ``initial_count`` overrides an HOTP's
    counter; ``extra`` adds parameters (``image`` and ``encoder`` are understood, others are
    written as given). A TOTP object's non-zero ``t0`` cannot be expressed in the Key URI format
    and raises :class:`InvalidArgument` rather than producing a URI whose codes differ.
    """
    if getattr(obj, "t0", 0):
        raise InvalidArgument("a TOTP with t0 != 0 cannot be written as an otpauth URI")
    account = name if name is not None else obj.name
    if account is None:
        raise InvalidArgument("an account name is needed: pass name=... or set it on the object")
    image, encoder, other = _uri.extra_parameters(extra)
    shown_issuer = issuer if issuer is not None else obj.issuer
    secret = obj.byte_secret()
    if isinstance(obj, Steam):
        return _uri.entry("totp", secret, digest="sha1", digits=5, period=30, counter=None,
                          encoder="steam", account=account, issuer=shown_issuer, image=image,
                          extra=other)
    if isinstance(obj, HOTP):
        count = initial_count if initial_count is not None else obj.initial_count
        return _uri.entry("hotp", secret, digest=obj.digest, digits=obj.digits, period=30,
                          counter=count, encoder=encoder, account=account, issuer=shown_issuer,
                          image=image, extra=other)
    if initial_count is not None:
        raise InvalidArgument("initial_count is only meaningful for HOTP")
    return _uri.entry("totp", secret, digest=obj.digest, digits=obj.digits, period=obj.interval,
                      counter=None, encoder=encoder, account=account, issuer=shown_issuer,
                      image=image, extra=other)
