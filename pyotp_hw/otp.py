"""HOTP, TOTP and Steam objects with a pyotp-like API.

A thin face over the C core, one C call per code through :mod:`pyotp_hw._native`. An object's
first code is computed from its key with the HMAC states on the C stack (wiped there); from the
second on it uses a one-row key table (the HMAC states of its secret, locked in memory where
the OS allows, wiped when the object is collected), so that making an object to check one code
costs no heap table and a long-lived object computes each code from precomputed states.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Mapping

from . import _native as nat
from . import _numbers
from . import uri as _uri
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


class OTP:
    """Common state of HOTP, TOTP and Steam: the secret's key table, digits and digest."""

    __slots__ = ("_digest_id", "_digits", "_kernel", "_key", "_secret", "_table", "_warm",
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
        self._table: nat.NativeKeyTable | None = None
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
        self._unbind()

    def _unbind(self) -> None:
        """Forget the C calls bound to the object's parameters, as one of them changed."""

    @property
    def digest(self) -> str:
        """The HMAC digest name: "sha1", "sha256" or "sha512"."""
        return nat.digest_name(self._digest_id)

    def byte_secret(self) -> bytes:
        """The raw key bytes."""
        return self._key if self._secret is None else decode_secret(self._secret)

    def _raw(self, counter: int, digits: int) -> int:
        table = self._table
        if table is None:
            table = self._cold()
            if table is None:
                return nat.hotp_key_code(self._kernel, self._key, counter, digits)
        return nat.hotp_code(self._kernel, table, counter, digits)

    def _cold(self) -> nat.NativeKeyTable | None:
        """None on the first use (compute from the key); the key table, built, from the second."""
        if not self._warm:
            self._warm = True
            return None
        table = self._table = nat.NativeKeyTable.of_key(self._kernel, self._key)
        return table

    def _verify_table(self) -> nat.NativeKeyTable | None:
        """The table for a verification, or None to verify from the key (first use)."""
        table = self._table
        return self._cold() if table is None else table

    def generate_otp(self, input: int) -> str:
        """The code for a raw counter value (pyotp compatibility)."""
        digits = self._digits
        return str(self._raw(_check_counter(input, "input"), digits)).zfill(digits)

    def __repr__(self) -> str:
        parts = [f"digits={self.digits}", f"digest={self.digest!r}"]
        if self.name is not None:
            parts.append(f"name={self.name!r}")
        if self.issuer is not None:
            parts.append(f"issuer={self.issuer!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


class HOTP(OTP):
    """Counter-based one-time passwords (RFC 4226)."""

    __slots__ = ("_at", "_find_call", "initial_count")

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
        self._at: Callable[[int], str] | None = None
        self._find_call: Callable[[nat.NativeKeyTable | None, bytes, int, int, int],
                                  int | None] | None = None

    def _unbind(self) -> None:
        self._at = None
        self._find_call = None

    def at(self, count: int) -> str:
        """The zero-padded code for counter ``initial_count + count``."""
        at = self._at
        # A warm object and a plain in-range int: one C call, the checks below inlined.
        if at is not None and type(count) is int and 0 <= count <= _U64_MAX:
            counter = self.initial_count + count
            if type(counter) is int and 0 <= counter <= _U64_MAX:
                return at(counter)
        return self._at_slow(count)

    def _at_slow(self, count: int) -> str:
        counter = _check_counter(self.initial_count + _check_counter(count, "count"), "counter")
        table = self._table
        if table is not None:  # warm from here on: bind the one-call path
            at = self._at = nat.hotp_at_call(self._kernel, table, self._digits)
            return at(counter)
        digits = self._digits
        return str(self._raw(counter, digits)).zfill(digits)

    def verify(self, code: object, counter: int, *, look_ahead: int = 0) -> bool:
        """True when ``code`` matches a counter in ``[counter, counter + look_ahead]``.

        ``counter`` counts from ``initial_count``. A malformed str or int code is simply not
        valid (False), as are ``None`` and a well-formed code that matches nothing; ask
        :meth:`check` for the reason. The comparison is constant-time and every counter of the
        look-ahead is computed.
        """
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
        find = self._find_call
        if find is not None:
            return find(self._table, self._key, code, counter, look_ahead)
        if self._table is None and not self._warm:
            # The first use (a per-request object's only one): no call bound for one check.
            return nat.verify_hotp_one(self._kernel, self._verify_table(), self._key, code,
                                       counter, look_ahead, self._digits)
        find = self._find_call = nat.hotp_verify_call(self._kernel, self._digits)
        return find(self._verify_table(), self._key, code, counter, look_ahead)

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

    __slots__ = ("_interval", "_now", "_t0", "_verify")

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
        self._now: Callable[[], str] | None = None
        self._verify: Callable[[nat.NativeKeyTable | None, bytes, int, int, int], int] | None
        self._verify = None

    @property
    def interval(self) -> int:
        """The length of a time step in seconds."""
        return self._interval

    @interval.setter
    def interval(self, value: int) -> None:
        self._interval = _check_interval(value)
        self._unbind()

    @property
    def t0(self) -> int:
        """The Unix time (whole seconds) at which step 0 starts."""
        return self._t0

    @t0.setter
    def t0(self, value: TimeValue) -> None:
        self._t0 = nat.time_to_int(value, "t0")
        self._unbind()

    def _unbind(self) -> None:
        self._now = None
        self._verify = None

    def timecode(self, for_time: TimeValue) -> int:
        """The time step of ``for_time`` (seconds, float or aware datetime)."""
        t = nat.time_to_int(for_time)
        if t < self._t0:
            raise InvalidArgument(f"for_time is before t0 ({self._t0})")
        return (t - self._t0) // self._interval

    def at(self, for_time: TimeValue, counter_offset: int = 0) -> str:
        """The code at ``for_time``, shifted by ``counter_offset`` steps."""
        offset = _numbers.whole(counter_offset, "counter_offset")
        step = _check_counter(self.timecode(for_time) + offset, "time step")
        return self._code(step)

    def now(self) -> str:
        """The current code."""
        now = self._now
        if now is not None:  # a warm object: one C call, which reads the clock itself
            return now()
        return self._now_slow()

    def _now_slow(self) -> str:
        table = self._table
        if table is None:
            return self._code(self._step_now())
        now = self._now = nat.totp_now_call(self._kernel, table, self._t0, self._interval,
                                            self._digits)
        return now()

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
        verify = self._verify
        if verify is not None:
            step = verify(self._table, self._key, parsed, t, window)
        elif self._table is None and not self._warm:
            # The first use (a per-request object's only one): no call bound for one check.
            step = nat.verify_totp_one(self._kernel, self._verify_table(), self._key, parsed, t,
                                       self._t0, self._interval, window, self._digits)
        else:
            verify = self._verify = nat.totp_verify_call(self._kernel, self._t0, self._interval,
                                                         self._digits)
            step = verify(self._verify_table(), self._key, parsed, t, window)
        return CodeCheck.matched(step) if step >= 0 else CodeCheck.wrong()

    def _check_time(self, for_time: TimeValue | None) -> int:
        t = nat.time_to_int(time.time() if for_time is None else for_time)
        if t < self._t0:
            raise InvalidArgument(f"for_time is before t0 ({self._t0})")
        return t

    def _code(self, step: int) -> str:
        """The code shown for time step ``step``."""
        digits = self._digits
        return str(self._raw(step, digits)).zfill(digits)

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

    def now(self) -> str:
        """The current code."""
        return self._code(self._step_now())

    def _code(self, step: int) -> str:
        return self._format(self._raw(step, nat.RAW_DIGITS))

    @staticmethod
    def _format(value: int) -> str:
        chars = []
        for _ in range(5):
            value, index = divmod(value, len(STEAM_ALPHABET))
            chars.append(STEAM_ALPHABET[index])
        return "".join(chars)

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
