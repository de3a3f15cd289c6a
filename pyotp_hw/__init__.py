"""pyotp-hw: HOTP (RFC 4226) and TOTP (RFC 6238) with a fast C core and hardware-backed secrets.

The scalar API mirrors pyotp::

    >>> import pyotp_hw
    >>> pyotp_hw.TOTP("JBSWY3DPEHPK3PXP").at(0)
    '282760'

Batches go through :mod:`pyotp_hw.bulk`, hardware tokens through :mod:`pyotp_hw.token`, and
server-side verification through :mod:`pyotp_hw.verifier`.
"""

from __future__ import annotations

from .codecheck import CodeCheck, Problem, Reason
from .errors import (
    InvalidArgument,
    InvalidCode,
    InvalidSecret,
    InvalidType,
    InvalidURI,
    MemoryLockWarning,
    MissingExtra,
    NativeError,
    OTPError,
)
from .keys import random_base32, random_secret
from .otp import HOTP, TOTP, Steam, from_uri

__version__ = "0.1.0"

__all__ = [
    "HOTP",
    "TOTP",
    "Steam",
    "CodeCheck",
    "Reason",
    "Problem",
    "parse_uri",
    "random_base32",
    "random_secret",
    "OTPError",
    "InvalidArgument",
    "InvalidType",
    "InvalidSecret",
    "InvalidCode",
    "InvalidURI",
    "NativeError",
    "MemoryLockWarning",
    "MissingExtra",
    "__version__",
]


def parse_uri(uri: str) -> HOTP | TOTP | Steam:
    """Parse an ``otpauth://`` URI into a :class:`HOTP`, :class:`TOTP` or :class:`Steam`."""
    return from_uri(uri)
