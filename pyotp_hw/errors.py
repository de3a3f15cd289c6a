"""The exception tree of pyotp-hw.

Every error the package raises on purpose derives from :class:`OTPError`, and also from the
builtin exception it means (``ValueError`` for a bad value, ``TypeError`` for a wrong type), so
callers can catch whichever they prefer. Messages name the offending argument and never contain a
secret. This module imports nothing from the package.
"""

from __future__ import annotations

__all__ = [
    "OTPError",
    "InvalidArgument",
    "InvalidType",
    "InvalidSecret",
    "InvalidCode",
    "InvalidURI",
    "NativeError",
    "MissingExtra",
    "MemoryLockWarning",
]


class OTPError(Exception):
    """Base class of every error raised by pyotp-hw."""


class InvalidArgument(OTPError, ValueError):
    """An argument has an unusable value (digits out of range, negative counter, ...)."""


class InvalidType(OTPError, TypeError):
    """An argument has a type that cannot be used."""


class InvalidSecret(InvalidArgument):
    """A secret could not be decoded (bad base32, empty, wrong type)."""


class InvalidCode(InvalidArgument):
    """A one-time code is not in canonical form (exactly ``digits`` ASCII digits)."""


class InvalidURI(InvalidArgument):
    """An ``otpauth://`` or ``otpauth-migration://`` URI cannot be used."""


class NativeError(OTPError, RuntimeError):
    """The C core reported a failure that the Python layer did not foresee."""


class MissingExtra(OTPError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        super().__init__(
            f"{feature} needs the optional module {module!r}: "
            f"install it with  pip install 'pyotp-hw[{extra}]'"
        )
        self.extra = extra
        self.module = module


class MemoryLockWarning(RuntimeWarning):
    """Key material could not be locked in RAM (``mlock`` failed), so it may be swapped to disk.

    Issued when a key table is built and the OS refused to lock it (most often the
    ``RLIMIT_MEMLOCK`` limit, ``ulimit -l``); ``KeyTable.locked`` is then False and
    ``KeyTable.lock_error`` says why. Raise the limit, or filter the warning where swap is
    encrypted or absent.
    """
