"""Errors raised by the server verifier.

Each derives from :class:`pyotp_hw.errors.OTPError` and from the builtin it means. A rejected code
is never an exception: :meth:`Verifier.verify` answers with a :class:`~pyotp_hw.verifier.Result`.
Exceptions are for misuse (bad arguments, unknown users in administrative calls) and for a store
or key that cannot be used at all.
"""

from __future__ import annotations

from ..errors import InvalidArgument, OTPError

__all__ = [
    "VerifierError",
    "InvalidStoreURL",
    "WrongKey",
    "StoreError",
    "SchemaError",
    "StoreNotFound",
    "NotEnrolled",
    "AlreadyEnrolled",
    "ReauthenticationRequired",
]


class VerifierError(OTPError):
    """Base class of the verifier's own errors."""


class InvalidStoreURL(InvalidArgument):
    """A store URL cannot be used (unknown scheme, missing path or database)."""


class WrongKey(VerifierError, ValueError):
    """The data key does not open this verifier's store (or the key material is malformed)."""


class StoreError(VerifierError, RuntimeError):
    """The store could not be read or written (connection lost, disk full, read-only, ...)."""


class SchemaError(VerifierError, RuntimeError):
    """The store holds a schema this version cannot use (for example a newer one)."""


class StoreNotFound(VerifierError, FileNotFoundError):
    """No verifier store exists at the URL, and creating one was not asked for."""


class NotEnrolled(VerifierError, LookupError):
    """An administrative call named a user without the credential it needs."""


class AlreadyEnrolled(VerifierError, ValueError):
    """The user already has an active credential and replacing it was not asked for."""


class ReauthenticationRequired(VerifierError, PermissionError):
    """Replacing an active credential needs a code from it (``current_code=``) or the site's
    assertion that it re-authenticated the user (``reauthenticated=True``)."""
