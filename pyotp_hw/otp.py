"""HOTP, TOTP and Steam objects with a pyotp-like API.

A thin face over the C core: each object keeps a one-row key table (the HMAC states of its
secret) and calls the same C entry points as :mod:`pyotp_hw.bulk`.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping
from typing import Any

from . import _native as nat
from . import uri as _uri
from .errors import InvalidArgument, InvalidCode, InvalidType
from .keys import decode_secret, encode_base32

__all__ = ["OTP", "HOTP", "TOTP", "Steam", "check_code", "from_uri", "uri_fields"]

_U64_MAX = (1 << 64) - 1
_ASCII_DIGITS = frozenset("0123456789")
STEAM_ALPHABET = "23456789BCDFGHJKMNPQRTVWXY"


def check_code(code: Any, digits: int) -> int:
    """Return a canonical code as an int, or raise :class:`InvalidCode`.

    A str must be exactly ``digits`` ASCII digits: no spaces, signs, underscores or other
    scripts' digits. An int (pyotp accepts them) must lie in ``[0, 10**digits)``. The offending
    code is never echoed.
    """
    if isinstance(code, str):
        if len(code) != digits:
            raise InvalidCode(f"code must be exactly {digits} digits, got {len(code)} characters")
        if not _ASCII_DIGITS.issuperset(code):
            raise InvalidCode(f"code must contain only the ASCII digits 0-9 ({digits} of them)")
        return int(code)
    if isinstance(code, int) and not isinstance(code, bool):
        if not 0 <= code < 10**digits:
            raise InvalidCode(f"code must be between 0 and {10**digits - 1}")
        return code
    raise InvalidType(f"code must be a str of {digits} digits, not {type(code).__name__}")


def _check_digits(digits: Any) -> int:
    if isinstance(digits, bool) or not isinstance(digits, int):
        raise InvalidType("digits must be an int")
    if not 6 <= digits <= 10:
        raise InvalidArgument(f"digits must be between 6 and 10, got {digits}")
    return digits


def _check_counter(value: Any, name: str) -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise InvalidType(f"{name} must be an int, not {type(value).__name__}")
    v = int(value)
    if not 0 <= v <= _U64_MAX:
        raise InvalidArgument(f"{name} must be between 0 and 2**64-1, got {v}")
    return v


def _check_window(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidType(f"{name} must be an int")
    if not 0 <= value <= nat.MAX_WINDOW:
        raise InvalidArgument(f"{name} must be between 0 and {nat.MAX_WINDOW}, got {value}")
    return value


class OTP:
    """Common state of HOTP, TOTP and Steam: the secret's key table, digits and digest."""

    __slots__ = ("_digest_id", "_kernel", "_table", "digits", "issuer", "name", "secret")

    def __init__(
        self,
        secret: str | bytes,
        *,
        digits: int = 6,
        digest: Any = "sha1",
        name: str | None = None,
        issuer: str | None = None,
    ) -> None:
        key = decode_secret(secret)
        self._digest_id = nat.digest_id(digest)
        self.digits = _check_digits(digits)
        self.secret = encode_base32(key)
        self.name = name
        self.issuer = issuer
        self._table = nat.NativeKeyTable(self._digest_id, [key])
        self._kernel = nat.kernel_for(self._digest_id).ptr

    @property
    def digest(self) -> str:
        """The HMAC digest name: "sha1", "sha256" or "sha512"."""
        return nat.digest_name(self._digest_id)

    def byte_secret(self) -> bytes:
        """The raw key bytes."""
        return decode_secret(self.secret)

    def _raw(self, counter: int, digits: int) -> int:
        value = int(nat.lib.otp_hotp_one(self._kernel, self._table.ptr, 0, counter, digits))
        if value < 0:
            nat.check_status(value)
        return value

    def generate_otp(self, input: int) -> str:
        """The code for a raw counter value (pyotp compatibility)."""
        return str(self._raw(_check_counter(input, "input"), self.digits)).zfill(self.digits)

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
        digest: Any = "sha1",
        name: str | None = None,
        issuer: str | None = None,
        initial_count: int = 0,
    ) -> None:
        super().__init__(secret, digits=digits, digest=digest, name=name, issuer=issuer)
        self.initial_count = _check_counter(initial_count, "initial_count")

    def at(self, count: int) -> str:
        """The zero-padded code for counter ``initial_count + count``."""
        counter = _check_counter(self.initial_count + _check_counter(count, "count"), "counter")
        return str(self._raw(counter, self.digits)).zfill(self.digits)

    def verify(self, code: Any, counter: int, *, look_ahead: int = 0) -> bool:
        """True when ``code`` matches a counter in ``[counter, counter + look_ahead]``.

        The comparison is constant-time and every counter of the look-ahead is computed.
        """
        value = check_code(code, self.digits)
        counter = _check_counter(self.initial_count + _check_counter(counter, "counter"), "counter")
        look_ahead = _check_window(look_ahead, "look_ahead")
        return self.find(value, counter, look_ahead) is not None

    def find(self, code: int, counter: int, look_ahead: int) -> int | None:
        """The lowest counter in the look-ahead whose code equals ``code``, or None."""
        codes = nat.ffi.new("uint32_t[1]", [code])
        ctr = nat.ffi.new("uint64_t[1]", [counter])
        out = nat.ffi.new("uint64_t[1]")
        found = nat.ffi.new("uint8_t[1]")
        status = nat.lib.otp_verify_hotp(
            self._kernel, self._table.ptr, nat.ffi.NULL, 0, codes, 0, ctr, 0, 1,
            look_ahead, self.digits, 0, out, found, nat.ffi.NULL,
        )
        nat.check_status(status)
        return int(out[0]) if found[0] else None

    def provisioning_uri(
        self,
        name: str | None = None,
        issuer_name: str | None = None,
        initial_count: int | None = None,
        **extra: Any,
    ) -> str:
        """An ``otpauth://hotp/...`` URI for this secret (contains the secret)."""
        return uri_fields(self, name=name, issuer=issuer_name, initial_count=initial_count,
                          extra=extra).to_uri()


class TOTP(OTP):
    """Time-based one-time passwords (RFC 6238)."""

    __slots__ = ("interval", "t0")

    def __init__(
        self,
        secret: str | bytes,
        *,
        digits: int = 6,
        digest: Any = "sha1",
        interval: int = 30,
        t0: int = 0,
        name: str | None = None,
        issuer: str | None = None,
    ) -> None:
        super().__init__(secret, digits=digits, digest=digest, name=name, issuer=issuer)
        if isinstance(interval, bool) or not isinstance(interval, int):
            raise InvalidType("interval must be an int number of seconds")
        if not 1 <= interval < 1 << 63:
            raise InvalidArgument(f"interval must be at least 1 second, got {interval}")
        self.interval = interval
        self.t0 = nat.time_to_int(t0, "t0")

    def timecode(self, for_time: Any) -> int:
        """The time step of ``for_time`` (seconds, float or aware datetime)."""
        t = nat.time_to_int(for_time)
        if t < self.t0:
            raise InvalidArgument(f"for_time is before t0 ({self.t0})")
        return (t - self.t0) // self.interval

    def at(self, for_time: Any, counter_offset: int = 0) -> str:
        """The code at ``for_time``, shifted by ``counter_offset`` steps."""
        if isinstance(counter_offset, bool) or not isinstance(counter_offset, int):
            raise InvalidType("counter_offset must be an int")
        step = _check_counter(self.timecode(for_time) + counter_offset, "time step")
        return self._format(self._raw(step, self._code_digits()))

    def now(self) -> str:
        """The current code."""
        t = int(time.time())
        if t < self.t0:
            raise InvalidArgument(f"the current time is before t0 ({self.t0})")
        return self._format(self._raw((t - self.t0) // self.interval, self._code_digits()))

    def verify(self, code: Any, for_time: Any = None, valid_window: int = 0) -> bool:
        """True when ``code`` matches a step within ``valid_window`` steps of ``for_time``."""
        return self.verify_and_get_timecode(code, for_time, valid_window) is not None

    def verify_and_get_timecode(
        self, code: Any, for_time: Any = None, valid_window: int = 0
    ) -> int | None:
        """The matching time step (the lowest in the window), or None."""
        value = check_code(code, self.digits)
        window = _check_window(valid_window, "valid_window")
        t = nat.time_to_int(time.time() if for_time is None else for_time)
        if t < self.t0:
            raise InvalidArgument(f"for_time is before t0 ({self.t0})")
        codes = nat.ffi.new("uint32_t[1]", [value])
        times = nat.ffi.new("int64_t[1]", [t])
        out = nat.ffi.new("int64_t[1]")
        status = nat.lib.otp_verify_totp(
            self._kernel, self._table.ptr, nat.ffi.NULL, 0, codes, 0, times, 0, 1,
            self.t0, self.interval, window, window, self.digits, nat.ffi.NULL, 0, out,
            nat.ffi.NULL,
        )
        nat.check_status(status)
        return int(out[0]) if out[0] >= 0 else None

    def _code_digits(self) -> int:
        return self.digits

    def _format(self, value: int) -> str:
        return str(value).zfill(self.digits)

    def provisioning_uri(
        self, name: str | None = None, issuer_name: str | None = None, **extra: Any
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
        self.digits = 5

    def _code_digits(self) -> int:
        return int(nat.lib.OTP_RAW_DIGITS)

    def _format(self, value: int) -> str:
        chars = []
        for _ in range(5):
            value, index = divmod(value, len(STEAM_ALPHABET))
            chars.append(STEAM_ALPHABET[index])
        return "".join(chars)

    def verify_and_get_timecode(
        self, code: Any, for_time: Any = None, valid_window: int = 0
    ) -> int | None:
        """The matching time step for a 5-character Steam code, or None."""
        if not isinstance(code, str):
            raise InvalidType(f"a Steam code is a str of 5 characters, not {type(code).__name__}")
        if len(code) != 5 or not set(code) <= set(STEAM_ALPHABET):
            raise InvalidCode("a Steam code is exactly 5 characters of Steam's alphabet")
        window = _check_window(valid_window, "valid_window")
        step = self.timecode(time.time() if for_time is None else for_time)
        matched = None
        # Every candidate is computed and compared in constant time; the lowest match is kept.
        for candidate in range(step + window, step - window - 1, -1):
            if 0 <= candidate <= _U64_MAX:
                expected = self._format(self._raw(candidate, self._code_digits()))
                if hmac.compare_digest(expected, code):
                    matched = candidate
        return matched


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
    common: dict[str, Any] = {"account": account, "image": image, "extra": other,
                              "issuer": issuer if issuer is not None else obj.issuer}
    secret = obj.byte_secret()
    if isinstance(obj, Steam):
        return _uri.entry("totp", secret, digest="sha1", digits=5, period=30, counter=None,
                          encoder="steam", **common)
    if isinstance(obj, HOTP):
        count = initial_count if initial_count is not None else obj.initial_count
        return _uri.entry("hotp", secret, digest=obj.digest, digits=obj.digits, period=30,
                          counter=count, encoder=encoder, **common)
    if initial_count is not None:
        raise InvalidArgument("initial_count is only meaningful for HOTP")
    return _uri.entry("totp", secret, digest=obj.digest, digits=obj.digits, period=obj.interval,
                      counter=None, encoder=encoder, **common)
