"""The bridge from pyotp's semantics to the C core: secrets, digests, counters and matching.

pyotp decodes its secret with :func:`base64.b32decode` after padding it, refuses keys shorter than
``min_secret_length_bits``, names digests by hashlib constructor, and compares a candidate code
with each code of the window after NFKC normalisation. This module reproduces those rules and
leaves every HMAC and truncation to :class:`pyotp_hw.otp.HOTP` (the C core), so that the classes
in this package stay as small as pyotp's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import operator
from collections.abc import Iterable
from typing import Protocol, SupportsIndex, TypeVar, cast

from .. import _native, keys
from .._types import Digest
from ..errors import InvalidArgument, InvalidSecret, InvalidType
from ..otp import HOTP as CoreHOTP
from . import utils

__all__ = [
    "CoreHOTP",
    "WEAK_DIGEST_MESSAGE",
    "default_digest",
    "digest_name",
    "check_digits",
    "check_interval",
    "decode_secret",
    "as_int",
    "counter",
    "counter_sum",
    "window",
    "find_code",
    "first_equal",
]

U64_MAX = (1 << 64) - 1
TRUNCATION_MAX = (1 << 31) - 1  # RFC 4226 dynamic truncation keeps 31 bits
WEAK_DIGEST_MESSAGE = (
    "selected digest function must generate digest size greater than or equals to 18 bytes"
)
_CONSTRUCTORS = ((hashlib.sha1, "sha1"), (hashlib.sha256, "sha256"), (hashlib.sha512, "sha512"))
_NAMES = frozenset(name for _, name in _CONSTRUCTORS)


class _Interval(Protocol):
    """A number of seconds that compares with ints (int, float, Fraction, Decimal...)."""

    def __gt__(self, other: int, /) -> bool: ...
    def __le__(self, other: int, /) -> bool: ...


_I = TypeVar("_I", bound=_Interval)


def default_digest(digest: Digest | None) -> Digest:
    """``hashlib.sha1`` for None; MD5 and SHAKE-128 refused as pyotp refuses them."""
    if digest is None:
        return hashlib.sha1
    if digest in (hashlib.md5, hashlib.shake_128):
        raise InvalidArgument(WEAK_DIGEST_MESSAGE)
    return digest


def digest_name(digest: object) -> str:
    """"sha1", "sha256" or "sha512" for a hashlib constructor (or such a name).

    The C core, like the otpauth format, knows these three; any other digest is refused here
    (pyotp would compute it with Python's hmac).
    """
    for constructor, name in _CONSTRUCTORS:
        if digest is constructor:
            return name
    if isinstance(digest, str):
        found: object = digest.lower()
    elif callable(digest):
        found = getattr(digest(), "name", None)
    else:
        raise InvalidType(f"digest must be a hashlib constructor, not {type(digest).__name__}")
    if found not in _NAMES:
        raise InvalidArgument(
            "pyotp_hw.pyotp computes HMAC-SHA1, HMAC-SHA256 and HMAC-SHA512 only (the otpauth "
            "algorithms); pass hashlib.sha1, hashlib.sha256 or hashlib.sha512 as digest"
        )
    return str(found)


def as_int(value: object, name: str) -> int:
    """``value`` as an int (anything with ``__index__``; bools count as 0 and 1)."""
    if isinstance(value, bool):
        return int(value)  # pyotp takes True and False as 1 and 0
    try:
        # operator.index is the check: it raises TypeError for anything without __index__.
        return operator.index(cast(SupportsIndex, value))
    except TypeError:
        raise InvalidType(f"{name} must be an int, not {type(value).__name__}") from None


def check_digits(digits: object) -> int:
    """The number of digits, an int from 6 to 10."""
    if isinstance(digits, bool) or not isinstance(digits, int):
        raise InvalidType(f"digits must be an int between 6 and 10, not {type(digits).__name__}")
    if not 6 <= digits <= 10:
        raise InvalidArgument(f"digits must be between 6 and 10, got {digits}")
    return digits


def check_interval(interval: _I) -> _I:
    """The TOTP interval: more than 0 and at most 120 seconds (NIST SP 800-63B-4 3.1.4.1).

    pyotp accepts any real number in that range, fractional ones included, and so does this.
    """
    try:
        valid = bool(0 < interval <= 120)
    except TypeError:
        raise InvalidType(
            f"interval must be a number of seconds, not {type(interval).__name__}"
        ) from None
    if not valid:
        raise InvalidArgument(
            f"interval must be positive and at most 120 seconds, got {interval!r}"
        )
    return interval


class Base32Error(InvalidSecret, binascii.Error):
    """A secret that is not base32: the project's typed error, and the ``binascii.Error`` that
    pyotp lets out of ``base64.b32decode``, so ``except binascii.Error`` keeps working."""


def decode_secret(secret: object, min_bits: int) -> bytes:
    """The key bytes of a base32 secret, decoded as pyotp decodes it.

    Missing padding is added, case is ignored, anything else that is not strict base32 is refused;
    so is a key shorter than ``min_bits`` bits. Messages never show the secret.
    """
    if isinstance(secret, str):
        # Letters only, of a valid length: what b32decode would give, without its Python loop.
        plain = keys.decode_letters(secret)
        if plain is not None:
            return _long_enough(plain, min_bits)
        padded: str | bytes = secret + "=" * (-len(secret) % 8)
    elif isinstance(secret, bytes):
        padded = secret + b"=" * (-len(secret) % 8)
    else:
        raise InvalidType(f"secret must be a base32 str, not {type(secret).__name__}")
    try:
        key = base64.b32decode(padded, casefold=True)
    except ValueError:  # binascii.Error, or non-ASCII text
        raise Base32Error(
            "secret is not valid base32: use the letters A-Z and the digits 2-7 only "
            "(no spaces or hyphens), with '=' padding at the end or none"
        ) from None
    return _long_enough(key, min_bits)


def _long_enough(key: bytes, min_bits: int) -> bytes:
    if len(key) * 8 < min_bits:
        raise InvalidSecret(
            f"secret is too short: secrets must be at least {min_bits} bits after decoding, "
            f"this one has {len(key) * 8}"
        )
    return key


def counter(value: object, name: str = "input") -> int:
    """An HMAC counter: an int from 0 to 2**64-1 (RFC 4226's 8-byte counter)."""
    number = as_int(value, name)
    if number < 0:
        raise InvalidArgument(f"{name} must be a positive integer (a counter of 0 or more)")
    if number > U64_MAX:
        raise InvalidArgument(f"{name} must be at most 2**64-1 (RFC 4226 counters are 8 bytes)")
    return number


def counter_sum(initial: object, offset: object, name: str) -> int:
    """``initial + offset`` for two ints, typed errors for anything else."""
    return as_int(initial, "initial_count") + as_int(offset, name)


def window(valid_window: object) -> int:
    """``valid_window`` as an int; pyotp treats any false value as 0."""
    if not valid_window:
        return 0
    return as_int(valid_window, "valid_window")


def find_code(core: CoreHOTP, text: str, digits: int, first: int, span: int) -> int | None:
    """The lowest counter in ``[first, first + span]`` whose code equals ``text``, or None.

    ``text`` matches as pyotp's ``strings_equal`` would: after NFKC normalisation, so
    full-width digits count, and not at all when it is longer than the comparison limit.
    Every counter is computed by the C core, which compares in constant time; windows wider
    than the core's limit are covered in slices.
    """
    normal = utils.bounded_nfkc(text)
    if normal is None or len(normal) != digits or not normal.isascii() or not normal.isdigit():
        return None  # cannot equal a code, which is exactly `digits` ASCII digits
    code = int(normal)
    if code > TRUNCATION_MAX:
        return None  # above any truncated value (10-digit codes only): no counter can match
    found: int | None = None
    start, last = first, first + span
    while start <= last:
        ahead = min(last - start, _native.MAX_WINDOW)
        hit = core.find(code, start, ahead)
        if found is None:
            found = hit
        start += ahead + 1
    return found


def first_equal(text: str, codes: Iterable[str]) -> int | None:
    """The index of the first of ``codes`` equal to ``text`` (as ``strings_equal``), or None.

    Every code is compared, whether or not an earlier one matched.
    """
    normal = utils.bounded_nfkc(text)
    wanted = None if normal is None else normal.encode("utf-8", "surrogatepass")
    found: int | None = None
    for index, code in enumerate(codes):
        other = utils.bounded_nfkc(code)
        same = (
            wanted is not None
            and other is not None
            and utils.compare_digest(wanted, other.encode("utf-8", "surrogatepass"))
        )
        if same and found is None:
            found = index
    return found
