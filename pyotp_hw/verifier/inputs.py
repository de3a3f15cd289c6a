"""Checks of the verifier's public inputs: user ids, times, credential parameters.

Each check raises a typed error naming the argument (:class:`~pyotp_hw.errors.InvalidType` or
:class:`~pyotp_hw.errors.InvalidArgument`) and returns the value in the form the rest of the
verifier uses.
"""

from __future__ import annotations

from collections.abc import Callable

from .._numbers import option, whole
from .._time import I64_MAX, exact_seconds
from ..errors import InvalidArgument, InvalidType
from ..kinds import check_digest, check_kind
from .policy import Policy
from .records import CredentialState, Kind

__all__ = [
    "MAX_USER_LEN",
    "I64_MAX",
    "U64_MAX",
    "check_user",
    "user_is_valid",
    "seconds",
    "check_params",
    "check_state",
    "check_label",
    "check_labels",
]

MAX_USER_LEN = 255
U64_MAX = (1 << 64) - 1


def check_user(user: object) -> str:
    """``user`` as a user id: a str of 1 to 255 characters, without NUL, valid Unicode."""
    if not isinstance(user, str):
        raise InvalidType(f"user id must be a str, not {type(user).__name__}")
    if not user or len(user) > MAX_USER_LEN or "\x00" in user:
        raise InvalidArgument(
            f"user id must be 1 to {MAX_USER_LEN} characters without NUL"
        )
    if not _encodable(user):
        raise InvalidArgument(
            "user id must be valid Unicode text: it holds a lone surrogate (an undecodable "
            "byte), which no store can keep")
    return user


def user_is_valid(user: object) -> bool:
    """True when :func:`check_user` would accept ``user`` (the batch path's fast check)."""
    return (type(user) is str and 0 < len(user) <= MAX_USER_LEN and "\x00" not in user
            and (user.isascii() or _encodable(user)))


def _encodable(text: str) -> bool:
    """True when ``text`` encodes as UTF-8 (no lone surrogates), as every store needs."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def seconds(now: object, clock: Callable[[], float]) -> float:
    """``now`` as seconds since the epoch, fractions kept; ``clock()`` when ``now`` is None.

    ``now`` is read as every time in the package is (:mod:`pyotp_hw._time`), but not floored:
    delays, lock times and event times keep their fractions of a second.
    """
    if now is None:
        return float(clock())
    return exact_seconds(now, "now")


def check_params(policy: Policy, kind: object, digest: object, digits: object, period: object,
                 t0: object, counter: object) -> Kind:
    """Check a credential's parameters (its code length against ``policy``); return its kind."""
    checked = check_kind(kind, "kind", InvalidArgument)
    check_digest(digest, InvalidArgument)
    digits = whole(digits, "digits")
    if not policy.accepts_length(digits):
        raise InvalidArgument(
            f"this verifier accepts {', '.join(map(str, policy.digits))}-digit codes, "
            f"not {digits}"
        )
    option(period, "interval", 1, I64_MAX, span="1 and 2**63-1 seconds")
    option(t0, "t0", 0, I64_MAX, span="0 and 2**63-1")
    option(counter, "counter", 0, U64_MAX, span="0 and 2**64-1")
    return checked


def check_state(state: object) -> CredentialState:
    """``state`` as a credential state: ``"active"`` or ``"pending"``."""
    if state == "active":
        return "active"
    if state == "pending":
        return "pending"
    raise InvalidArgument("state must be 'active' or 'pending'")


def check_label(label: str, value: object, *, required: bool = False) -> str | None:
    """An issuer or account name: None (unless ``required``) or text every store can keep
    (no NUL, no lone surrogate; non-empty when ``required``)."""
    if value is None and not required:
        return None
    if not isinstance(value, str):
        if required:
            raise InvalidArgument(f"{label} must be a non-empty str")
        raise InvalidType(f"{label} must be a str or None, not {type(value).__name__}")
    if required and not value:
        raise InvalidArgument(f"{label} must be a non-empty str")
    if "\x00" in value or not _encodable(value):
        raise InvalidArgument(
            f"{label} must be valid Unicode text without NUL (no store can keep it otherwise)")
    return value


def check_labels(issuer: object, name: object) -> None:
    """The issuer and account name of a new enrollment: non-empty text."""
    check_label("issuer", issuer, required=True)
    check_label("name", name, required=True)
