"""The verification policy: windows, code lengths, throttling, lockout, resynchronisation.

Defaults follow RFC 6238 5.2 and RFC 4226 7.3/7.4 and NIST SP 800-63B 5.2.2: one step of clock
skew each way, a small HOTP look-ahead, no delay for the first three failures, then a delay that
doubles with every further failure, and a lockout after ten consecutive failures (well below the
hundred NIST allows). Resynchronisation is off unless enabled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._numbers import option, real_option
from ..errors import InvalidCode, InvalidType
from ..otp import MAX_DIGITS, MIN_DIGITS

__all__ = ["Policy", "canonical_code", "MAX_WINDOW", "MAX_LOOK_AHEAD", "MAX_RESYNC", "MAX_LOCKOUT"]

MAX_WINDOW = 10
MAX_LOOK_AHEAD = 100
MAX_RESYNC = 1000
MAX_LOCKOUT = 99
# Largest exponent used for the doubling delay; beyond it the cap applies anyway.
DELAY_SHIFT_CAP = 40


@dataclass(frozen=True)
class Policy:
    """How a :class:`~pyotp_hw.verifier.Verifier` decides.

    ``past`` / ``future``: TOTP steps accepted on each side of the current one (0 to 10).
    ``look_ahead``: HOTP counters accepted beyond the next expected one (0 to 100).
    ``digits``: the code lengths this verifier accepts (a credential's own length is enforced too).
    ``delay_after``: consecutive failures that carry no delay; each further failure doubles the
    delay, starting at ``base_delay`` seconds, up to ``max_delay``.
    ``lockout_after``: consecutive failures that lock the credential (1 to 99) until
    :meth:`~pyotp_hw.verifier.Verifier.unlock`.
    ``resync_window``: steps or counters searched by ``resync`` (0 turns resynchronisation off);
    it also bounds the clock drift applied to later TOTP verifications.
    ``enrollment_ttl``: seconds a pending enrollment can be confirmed.
    ``min_secret_bytes``: shortest secret ``enroll`` accepts (16 = 128 bits, RFC 4226 R6).
    ``max_clock_jump``: seconds a TOTP ``now`` may lie from the time of the credential's stored
    step (ahead of it: only if no credential of the store was used within that distance of
    ``now`` either) before it is refused unevaluated (``Reason.CLOCK``, a ``clock`` event), so
    a server clock that jumps ahead cannot store a far-future step that would turn every later
    code into a replay; 0 turns the check off. Default 30 days.
    ``replace_needs_proof``: replacing a user's active credential (confirming a new one,
    ``enroll(replace=True)``) needs a code from it or the site's ``reauthenticated=True``.
    Whatever this says, a replacement keeps the old credential's failures, delay and lock.
    ``mask_unknown_users``: a user without a credential costs the work of a known user with a
    wrong code (a decoy verification in the C core and a store write, counted as ``unknown`` in
    ``stats()``), so response times do not tell who is enrolled.
    """

    past: int = 1
    future: int = 1
    look_ahead: int = 3
    digits: tuple[int, ...] = (6,)
    delay_after: int = 3
    base_delay: float = 1.0
    max_delay: float = 300.0
    lockout_after: int = 10
    resync_window: int = 0
    enrollment_ttl: float = 600.0
    min_secret_bytes: int = 16
    max_clock_jump: float = 30 * 86_400.0
    replace_needs_proof: bool = True
    mask_unknown_users: bool = True
    _lengths: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        option(self.past, "past", 0, MAX_WINDOW)
        option(self.future, "future", 0, MAX_WINDOW)
        option(self.look_ahead, "look_ahead", 0, MAX_LOOK_AHEAD)
        option(self.lockout_after, "lockout_after", 1, MAX_LOCKOUT)
        option(self.delay_after, "delay_after", 0, MAX_LOCKOUT)
        option(self.resync_window, "resync_window", 0, MAX_RESYNC)
        option(self.min_secret_bytes, "min_secret_bytes", 10, 128)
        for name in ("base_delay", "max_delay", "enrollment_ttl", "max_clock_jump"):
            real_option(getattr(self, name), name, 0, what="a number of seconds")
        for flag in ("replace_needs_proof", "mask_unknown_users"):
            if not isinstance(getattr(self, flag), bool):
                raise InvalidType(f"{flag} must be a bool")
        digits = self.digits
        if isinstance(digits, int) and not isinstance(digits, bool):
            digits = (digits,)
        if not isinstance(digits, (tuple, list)) or not digits:
            raise InvalidType("digits must be an int or a non-empty tuple of ints")
        normalized = tuple(sorted({option(d, "digits", MIN_DIGITS, MAX_DIGITS) for d in digits}))
        object.__setattr__(self, "digits", normalized)
        object.__setattr__(self, "_lengths", frozenset(normalized))

    def delay(self, failures: int) -> float:
        """Seconds a credential waits after its ``failures``-th consecutive failure."""
        if failures <= self.delay_after:
            return 0.0
        shift = min(failures - self.delay_after - 1, DELAY_SHIFT_CAP)
        return float(min(self.max_delay, self.base_delay * (1 << shift)))

    @property
    def max_drift(self) -> int:
        """Largest clock drift (in steps) that later verifications apply."""
        return self.resync_window

    def accepts_length(self, digits: int) -> bool:
        """True when codes of ``digits`` characters are accepted by this policy."""
        return digits in self._lengths


def canonical_code(code: object, policy: Policy) -> int | None:
    """The code's value when it is in canonical form for ``policy``, else None.

    Canonical means exactly one of the accepted lengths of ASCII ``0``-``9`` and nothing else:
    no whitespace, no sign, no underscores, no other Unicode digits. This runs before any store,
    cache or rate-limit lookup. A code that is not a ``str`` is a programming error.
    """
    if not isinstance(code, str):
        raise InvalidType(f"code must be a str, not {type(code).__name__}")
    # isascii() first: str.isdigit() alone accepts superscripts and other scripts' digits.
    if len(code) in policy._lengths and code.isascii() and code.isdigit():
        return int(code)
    return None


def require_canonical(code: object, digits: int) -> int:
    """Like :func:`canonical_code` for one exact length, raising :class:`InvalidCode`."""
    if not isinstance(code, str):
        raise InvalidType(f"code must be a str, not {type(code).__name__}")
    if len(code) == digits and code.isascii() and code.isdigit():
        return int(code)
    raise InvalidCode(f"code must be exactly {digits} ASCII digits")
