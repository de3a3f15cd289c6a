"""The kinds of one-time password and the digests this package computes, and the one check of each.

Every layer that takes a kind or a digest name from outside (URI fields, token credentials, the
verifier) checks it here, each with its own parameter name and error class.
"""

from __future__ import annotations

from typing import Literal

from .errors import InvalidArgument, InvalidURI

__all__ = ["DIGESTS", "Digest", "Kind", "check_digest", "check_kind"]

#: Digest names this package computes, as they appear in :attr:`pyotp_hw.uri.OtpAuthURI.digest`.
Digest = Literal["sha1", "sha256", "sha512"]
DIGESTS: tuple[Digest, ...] = ("sha1", "sha256", "sha512")
#: The two kinds of one-time password.
Kind = Literal["totp", "hotp"]


def check_kind(value: object, name: str = "type", error: type[InvalidArgument] = InvalidURI,
               ) -> Kind:
    """``value`` as an OTP kind, ``"totp"`` or ``"hotp"``; anything else raises ``error``.

    The one check of a kind for every layer (URI fields, token credentials, the verifier); each
    passes its own ``name`` and error class.
    """
    if value == "totp":
        return "totp"
    if value == "hotp":
        return "hotp"
    raise error(f"{name} must be 'totp' or 'hotp', not {value!r}")


def check_digest(value: object, error: type[InvalidArgument] = InvalidURI) -> Digest:
    """``value`` as one of :data:`DIGESTS`; anything else raises ``error``, for every layer."""
    for name in DIGESTS:
        if value == name:
            return name
    raise error(f"digest must be one of {', '.join(DIGESTS)}, not {value!r}")
