"""What ``check()`` answers about a one-time code: it matched, it is wrong, or it is malformed.

``HOTP.check``, ``TOTP.check`` and ``Steam.check`` return a :class:`CodeCheck`; their
``verify`` is its ``ok``. A code typed by a person (a str) or sent as a number (an int) never
makes them raise: a malformed code is simply not valid, and :attr:`CodeCheck.problem` says what
is wrong with it in words that never repeat the code itself. ``None`` (a form field that was not
filled in) is a malformed code too. Any other type (``bytes``, ``float``, ``bool``, a list) is a
mistake in the calling program, not in what a person typed, and raises
:class:`~pyotp_hw.errors.InvalidType` so that it shows in the first test instead of as a login
that always fails: decode bytes, and keep codes as text, since a number loses leading zeros.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from .errors import InvalidType

__all__ = ["Reason", "Problem", "CodeCheck", "parse_digits_code", "parse_steam_code",
           "STEAM_ALPHABET"]

STEAM_ALPHABET = "23456789BCDFGHJKMNPQRTVWXY"
_STEAM_SET = frozenset(STEAM_ALPHABET)
_ASCII_DIGITS = frozenset("0123456789")


class Reason(str, enum.Enum):
    """Why :class:`CodeCheck` says what it says."""

    OK = "ok"
    """The code matched a step or counter of the window."""
    WRONG = "wrong"
    """The code is well formed but matched no step or counter of the window."""
    MALFORMED = "malformed"
    """The code cannot be a code at all: :attr:`CodeCheck.problem` says why."""


class Problem(str, enum.Enum):
    """What is wrong with a malformed code."""

    MISSING = "missing"
    """No code was given (``None``)."""
    EMPTY = "empty"
    """The empty string."""
    WHITESPACE = "whitespace"
    """Spaces, tabs or newlines, around or inside the code."""
    NOT_DIGITS = "not_digits"
    """Characters other than the ASCII digits 0-9 (letters, signs, other scripts' digits)."""
    LENGTH = "length"
    """The wrong number of characters."""
    NEGATIVE = "negative"
    """An int below zero."""
    TOO_LARGE = "too_large"
    """An int with more digits than the code has."""
    ALPHABET = "alphabet"
    """A Steam code with characters outside Steam's alphabet (or given as a number)."""


@dataclass(frozen=True)
class CodeCheck:
    """The outcome of checking one code; true in a boolean context when it matched.

    ``step`` is the matching time step (TOTP, Steam) or absolute counter (HOTP), the lowest
    one when several match. ``problem`` and ``detail`` are set only for a malformed code;
    ``detail`` is one sentence saying what is wrong and how to fix it, without the code.
    """

    reason: Reason
    step: int | None = None
    problem: Problem | None = None
    detail: str | None = None

    @property
    def ok(self) -> bool:
        """True when the code matched."""
        return self.reason is Reason.OK

    def __bool__(self) -> bool:
        return self.ok

    @property
    def message(self) -> str:
        """One line for a person: matched, wrong, or what is malformed."""
        if self.reason is Reason.OK:
            return f"the code matches (step {self.step})"
        if self.reason is Reason.WRONG:
            return "the code does not match"
        return f"the code is malformed: {self.detail}"

    @classmethod
    def matched(cls, step: int) -> CodeCheck:
        """A match at ``step``."""
        return cls(Reason.OK, step=step)

    @classmethod
    def wrong(cls) -> CodeCheck:
        """A well-formed code that matched nothing."""
        return cls(Reason.WRONG)

    @classmethod
    def malformed(cls, problem: Problem, detail: str) -> CodeCheck:
        """A code that cannot be one, with what is wrong."""
        return cls(Reason.MALFORMED, problem=problem, detail=detail)


def _missing() -> CodeCheck:
    return CodeCheck.malformed(Problem.MISSING, "no code was given")


def _text_problem(code: str, what: str, allowed: frozenset[str], length: int, unit: str,
                  foreign: Callable[[], CodeCheck]) -> CodeCheck | None:
    """What is wrong with a typed code, in this order: empty, whitespace, characters outside
    ``allowed`` (``foreign`` says so), length; None when nothing is."""
    if not code:
        return CodeCheck.malformed(Problem.EMPTY, f"it is empty; a code is {what}")
    spaces = sum(1 for ch in code if ch.isspace())
    if spaces:
        only_blanks = all(ch == " " for ch in code if ch.isspace())
        if only_blanks:
            found, it = ("a space", "it") if spaces == 1 else (f"{spaces} spaces", "them")
        else:
            found, it = "whitespace (a tab, newline or other space)", "it"
        return CodeCheck.malformed(
            Problem.WHITESPACE,
            f"it contains {found}; remove {it}: a code is {what} with nothing between or "
            f"around them",
        )
    if not allowed.issuperset(code):
        return foreign()
    if len(code) != length:
        return CodeCheck.malformed(
            Problem.LENGTH, f"it has {len(code)} {unit}; a code is exactly {what}"
        )
    return None


def _int_value(code: object) -> int | None:
    """``code`` as an int when it is one (or an int-like such as numpy's), else None."""
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return int(code)
    if not isinstance(code, (str, bytes, bytearray, float)) and hasattr(code, "__index__"):
        return int(code.__index__())
    return None


def _wrong_type(code: object, expected: str) -> InvalidType:
    return InvalidType(
        f"code must be {expected} (or None), not {type(code).__name__}: decode or convert it "
        f"before checking"
    )


def parse_digits_code(code: object, digits: int) -> int | CodeCheck:
    """The value of a code of ``digits`` ASCII digits, or a malformed :class:`CodeCheck`.

    A str must be exactly ``digits`` of ``0``-``9``: no spaces, signs, underscores or other
    scripts' digits. An int must lie in ``[0, 10**digits)``. ``None`` is malformed; any other
    type raises :class:`InvalidType`. The code is never repeated in a message.
    """
    what = f"{digits} digits 0-9"
    if code is None:
        return _missing()
    if isinstance(code, str):

        def foreign() -> CodeCheck:
            return CodeCheck.malformed(
                Problem.NOT_DIGITS,
                f"it contains characters other than the ASCII digits 0-9; a code is {what}",
            )

        problem = _text_problem(code, what, _ASCII_DIGITS, digits, "digits", foreign)
        return int(code) if problem is None else problem
    value = _int_value(code)
    if value is None:
        raise _wrong_type(code, f"a str of {digits} digits or an int")
    if value < 0:
        return CodeCheck.malformed(Problem.NEGATIVE, "it is negative")
    if value >= 10**digits:
        largest = 10**digits - 1
        return CodeCheck.malformed(
            Problem.TOO_LARGE, f"it is larger than {largest}, the largest {digits}-digit code"
        )
    return value


def parse_steam_code(code: object) -> str | CodeCheck:
    """A Steam code (5 characters of :data:`STEAM_ALPHABET`), or a malformed :class:`CodeCheck`.

    Steam shows its codes in upper case; lower case is malformed, as every other character
    outside the alphabet is. A number is malformed (Steam codes are letters and digits); ``None``
    is missing; any other type raises :class:`InvalidType`.
    """
    what = f"5 characters of Steam's alphabet ({' '.join(STEAM_ALPHABET)})"
    if code is None:
        return _missing()
    if isinstance(code, str):

        def foreign() -> CodeCheck:
            case = "; Steam codes are upper case" if _STEAM_SET.issuperset(code.upper()) else ""
            return CodeCheck.malformed(
                Problem.ALPHABET,
                f"it contains characters outside Steam's alphabet{case}; a code is {what}",
            )

        problem = _text_problem(code, what, _STEAM_SET, 5, "characters", foreign)
        return code if problem is None else problem
    if _int_value(code) is not None:
        return CodeCheck.malformed(Problem.ALPHABET, f"it is a number; a code is {what}")
    raise _wrong_type(code, "a str of 5 characters")
