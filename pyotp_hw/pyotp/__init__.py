"""pyotp 2.12's public API on the pyotp-hw C core: change the import, keep the code.

::

    from pyotp_hw import pyotp          # or: sys.modules["pyotp"] = pyotp_hw.pyotp

    totp = pyotp.TOTP(pyotp.random_base32())
    totp.verify(totp.now())             # True

Same names, submodules (``totp``, ``hotp``, ``otp``, ``utils``, ``compat``, ``exceptions``,
``contrib``), arguments, codes, URIs and errors as pyotp 2.12.1; every HMAC and truncation is done
by the C core. The few differences are listed in the README ("Drop-in for pyotp").
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import InvalidArgument, InvalidType
from . import _alias, compat, contrib, exceptions, hotp, otp, totp, utils
from ._parse import parse_uri
from .compat import random
from .exceptions import OTPVerificationError, PyOTPError
from .hotp import HOTP
from .otp import OTP
from .totp import TOTP

__all__ = [
    "OTP",
    "HOTP",
    "TOTP",
    "OTPVerificationError",
    "PyOTPError",
    "parse_uri",
    "random_base32",
    "random_hex",
    "random",
    "compat",
    "contrib",
    "exceptions",
    "hotp",
    "otp",
    "totp",
    "utils",
]

_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

# So that `sys.modules["pyotp"] = pyotp_hw.pyotp` also serves `from pyotp.totp import TOTP`.
_alias.install(__name__)


def _length(length: object, least: int) -> int:
    if isinstance(length, bool) or not isinstance(length, int):
        raise InvalidType(f"length must be an int, not {type(length).__name__}")
    if length < least:
        raise InvalidArgument(
            f"Secrets should be at least 160 bits: length must be {least} or more, got {length}"
        )
    return length


def _alphabet(chars: object) -> Sequence[str]:
    if not isinstance(chars, Sequence) or not all(isinstance(c, str) for c in chars):
        raise InvalidType("chars must be a sequence of str (the characters to draw from)")
    if not chars:
        raise InvalidArgument("chars must hold at least one character")
    return chars


def random_base32(length: int = 32, chars: Sequence[str] = _BASE32) -> str:
    """A random secret of ``length`` characters from ``chars`` (at least 32: 160 bits).

    Lengths that are not multiples of 8 are allowed, as in pyotp, though some apps mishandle them.
    """
    count, alphabet = _length(length, 32), _alphabet(chars)
    return "".join(random.choice(alphabet) for _ in range(count))


def random_hex(length: int = 40, chars: Sequence[str] = "ABCDEF0123456789") -> str:
    """A random hexadecimal secret of ``length`` characters (at least 40: 160 bits)."""
    count, alphabet = _length(length, 40), _alphabet(chars)
    return "".join(random.choice(alphabet) for _ in range(count))
