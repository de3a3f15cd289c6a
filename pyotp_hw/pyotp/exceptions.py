"""pyotp's exception classes, rooted in the project's :class:`~pyotp_hw.errors.OTPError`.

``except pyotp.PyOTPError`` keeps working for pyotp users, and the project's rule that only its
typed errors escape still holds: both classes are :class:`OTPError` subclasses.
"""

from __future__ import annotations

from ..errors import OTPError

__all__ = ["PyOTPError", "OTPVerificationError"]


class PyOTPError(OTPError):
    """Base of the errors that pyotp defines itself (as opposed to ValueError and TypeError)."""


class OTPVerificationError(PyOTPError):
    """A code matched no time step of the window (raised by ``verify_and_get_timecode``)."""
