"""``pyotp-hw code`` and ``pyotp-hw verify``: scriptable like ``oathtool --totp/--hotp``.

``code`` prints the code on stdout. ``verify`` exits 0 when the code matches (printing the
matched step or counter), 1 when it does not, 2 on bad input (a malformed code included). A
SECRET of ``-`` is read from standard input, which keeps it out of the process list and the
shell history. Every error names the option it is about and says how to fix it: a URI given as
SECRET, a code with a space in it, SECRET and CODE given the wrong way round.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import time
from typing import TYPE_CHECKING

from ..otp import MAX_DIGITS, MIN_DIGITS
from ._common import EXIT_NO_MATCH, EXIT_OK, CLIError, print_json

if TYPE_CHECKING:
    from ..otp import HOTP, TOTP, Steam

_U64_MAX = (1 << 64) - 1
_I64_MAX = (1 << 63) - 1
_DIGESTS = ("sha1", "sha256", "sha512")
_URI_SCHEMES = ("otpauth:", "otpauth-migration:")

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``code`` and ``verify`` commands."""
    code = subparsers.add_parser(
        "code",
        help="print the current TOTP code (or an HOTP code with --hotp)",
        description="Print a one-time code for a base32 SECRET (or - to read it from stdin) "
        "or for an otpauth:// URI.",
    )
    code.add_argument("secret", nargs="?", metavar="SECRET", help="base32 secret, or - for stdin")
    _add_common(code)
    code.add_argument("--json", action="store_true", help="print JSON")
    code.set_defaults(handler=_cmd_code)

    verify = subparsers.add_parser(
        "verify",
        help="check a code; exit 0 when it matches, 1 when it does not",
        description="Verify CODE against a base32 SECRET (or - for stdin) or an otpauth:// URI.",
    )
    verify.add_argument("words", nargs="+", metavar="[SECRET] CODE",
                        help="the secret (omit with --uri) and the code")
    _add_common(verify)
    verify.add_argument("--window", type=int,
                        help="TOTP steps accepted before and after now (default 1)")
    verify.add_argument("--look-ahead", type=int,
                        help="HOTP counters accepted after COUNTER (default 0)")
    verify.add_argument("--json", action="store_true", help="print JSON")
    verify.set_defaults(handler=_cmd_verify)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--uri", help="an otpauth:// URI instead of SECRET")
    p.add_argument("--hotp", type=int, metavar="COUNTER", help="HOTP with this counter")
    p.add_argument("--digits", type=int, help="code length, 6-10 (default 6)")
    p.add_argument("--digest", help="sha1 (default), sha256 or sha512")
    p.add_argument("--period", type=int, help="TOTP time step in seconds (default 30)")
    p.add_argument("--time", metavar="T",
                   help="TOTP time: Unix seconds or ISO 8601 with a timezone (default now)")


def _looks_like_uri(text: str) -> bool:
    return text.strip().lower().startswith(_URI_SCHEMES)


def _read_secret(value: str | None) -> str:
    if value is None:
        raise CLIError("a SECRET (or --uri) is required")
    source = "SECRET"
    if value == "-":
        value = sys.stdin.readline().strip()
        if not value:
            raise CLIError("no secret on standard input")
        source = "the secret read from standard input"
    if _looks_like_uri(value):
        # The URI holds the secret: it is not repeated, only recognised.
        raise CLIError(f"{source} is an otpauth:// URI, not a base32 secret: give it with "
                       f"--uri URI (quoted, for the shell's sake)")
    return value


def _in_range(option: str, value: int | None, lo: int, hi: int, what: str = "") -> None:
    if value is not None and not lo <= value <= hi:
        raise CLIError(f"{option} must be between {lo} and {hi}{what}, got {value}")


def _check_options(args: argparse.Namespace) -> None:
    """Every numeric option in range, named as the user typed it (not the library's name)."""
    from ..otp import MAX_WINDOW

    _in_range("--digits", args.digits, MIN_DIGITS, MAX_DIGITS)
    if args.period is not None and args.period < 1:
        raise CLIError(f"--period must be at least 1 second, got {args.period}")
    _in_range("--period", args.period, 1, _I64_MAX, " seconds")
    _in_range("--hotp", args.hotp, 0, _U64_MAX, " (a counter is 64 bits)")
    for option in ("window", "look_ahead"):
        name = "--" + option.replace("_", "-")
        value = getattr(args, option, None)
        if value is not None and value < 0:
            raise CLIError(f"{name} must not be negative, got {value}")
        _in_range(name, value, 0, MAX_WINDOW)
    if args.digest is not None and args.digest.lower().replace("-", "") not in _DIGESTS:
        raise CLIError("--digest must be sha1, sha256 or sha512")


def _parse_time(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        seconds = int(text)
    except ValueError:
        seconds = _parse_iso_time(text)
    if seconds < 0:
        raise CLIError("--time is before 1970-01-01T00:00:00Z (Unix time 0), where TOTP "
                       "time starts")
    if seconds > _I64_MAX:
        raise CLIError(f"--time must be at most {_I64_MAX} (Unix seconds)")
    return seconds


def _parse_iso_time(text: str) -> int:
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        # The value is not repeated: a secret pasted into the wrong option must not be printed.
        raise CLIError(f"--time must be Unix seconds or ISO 8601 (got {len(text)} characters "
                       "that are neither)") from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise CLIError("--time needs a timezone (for example 2026-01-01T00:00:00Z)")
    return math.floor(when.timestamp())


def _build(args: argparse.Namespace, secret: str | None) -> HOTP | TOTP | Steam:
    """The HOTP/TOTP/Steam object the options describe.

    An HOTP object's ``initial_count`` holds the absolute counter to start at (``--hotp``, or
    else the URI's counter); :func:`_counter` takes it out before the object is used.
    """
    from ..otp import HOTP, TOTP

    _check_options(args)
    if args.uri is not None:
        if secret is not None:
            raise CLIError("give either SECRET or --uri, not both")
        from ..otp import from_uri

        otp = from_uri(args.uri)
        if any(v is not None for v in (args.digits, args.digest, args.period)):
            raise CLIError("--digits, --digest and --period come from the URI; drop them")
        if args.hotp is not None:
            if not isinstance(otp, HOTP):
                raise CLIError("--hotp given, but the URI is not an hotp URI")
            otp.initial_count = args.hotp  # --hotp overrides the URI's counter
    else:
        text = _read_secret(secret)
        digits = 6 if args.digits is None else args.digits
        digest = "sha1" if args.digest is None else args.digest.lower().replace("-", "")
        if args.hotp is not None:
            if args.period is not None:
                raise CLIError("--period does not apply to HOTP")
            otp = HOTP(text, digits=digits, digest=digest, initial_count=args.hotp)
        else:
            otp = TOTP(text, digits=digits, digest=digest,
                       interval=30 if args.period is None else args.period)
    _check_mode(args, isinstance(otp, HOTP))
    return otp


def _check_mode(args: argparse.Namespace, hotp: bool) -> None:
    """Refuse options that the kind of code at hand would silently ignore."""
    if hotp and args.time is not None:
        raise CLIError("--time does not apply to HOTP (the counter comes from --hotp or the URI)")
    if hotp and getattr(args, "window", None) is not None:
        raise CLIError("--window applies to TOTP; for HOTP use --look-ahead")
    if not hotp and getattr(args, "look_ahead", None) is not None:
        raise CLIError("--look-ahead applies to HOTP (--hotp COUNTER); for TOTP use --window")


def _counter(otp: HOTP) -> int:
    """The absolute HOTP counter to start at, taken out of ``initial_count`` (see _build)."""
    counter = int(otp.initial_count)
    otp.initial_count = 0
    return counter


def _cmd_code(args: argparse.Namespace) -> int:
    from ..otp import HOTP

    otp = _build(args, args.secret)
    if isinstance(otp, HOTP):
        counter = _counter(otp)
        value = otp.at(counter)
        detail: dict[str, object] = {"code": value, "counter": counter}
    else:
        when = _parse_time(args.time)
        t = int(time.time()) if when is None else when
        value = otp.at(t)
        detail = {"code": value, "step": otp.timecode(t), "period": otp.interval}
    if args.json:
        print_json(detail)
    else:
        print(value)
    return EXIT_OK


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _looks_like_base32(text: str) -> bool:
    """True for text that decodes as a base32 secret (spaces, case, padding forgiven)."""
    from ..errors import OTPError
    from ..keys import decode_secret

    if len(text) < 8:
        return False
    try:
        decode_secret(text)
    except OTPError:
        return False
    return True


def _check_swapped(secret: str | None, code: str, uri: str | None) -> None:
    """Say so when SECRET and CODE (or --uri and CODE) look given the wrong way round.

    Only when the command would fail anyway: the CODE is not digits but a URI or base32 text,
    while the other looks like a code (6-10 digits). Neither value is repeated.
    """
    if _is_digits(code):
        return
    if uri is not None and _is_digits(uri) and _looks_like_uri(code):
        raise CLIError("--uri and CODE look swapped: CODE is an otpauth:// URI and --uri a "
                       "code; give --uri URI, then the code")
    if secret is not None and _is_digits(secret) and MIN_DIGITS <= len(secret) <= MAX_DIGITS:
        if not _looks_like_uri(code) and not _looks_like_base32(code):
            return  # CODE is no secret either: the usual errors say what is wrong
        if _looks_like_uri(code):
            raise CLIError("SECRET and CODE look swapped, and the URI goes with --uri: "
                           "pyotp-hw verify --uri URI CODE")
        raise CLIError("SECRET and CODE look swapped: SECRET is digits like a code, and CODE "
                       "is not digits; give the secret first, then the code")


def _cmd_verify(args: argparse.Namespace) -> int:
    from ..otp import HOTP

    words = list(args.words)
    expected = 1 if args.uri is not None else 2
    if len(words) != expected:
        raise CLIError("usage: verify SECRET CODE, or verify --uri URI CODE")
    secret = words[0] if expected == 2 else None
    code = words[-1]
    _check_swapped(secret, code, args.uri)
    otp = _build(args, secret)
    if isinstance(otp, HOTP):
        look_ahead = 0 if args.look_ahead is None else args.look_ahead
        result = otp.check(code, _counter(otp), look_ahead=look_ahead)
        detail: dict[str, object] = {"ok": result.ok, "counter": result.step}
    else:
        window = 1 if args.window is None else args.window
        result = otp.check(code, _parse_time(args.time), valid_window=window)
        detail = {"ok": result.ok, "step": result.step}
    if result.problem is not None:
        raise CLIError(f"CODE is malformed: {result.detail}")
    detail["reason"] = result.reason.value
    if args.json:
        print_json(detail)
    elif result.ok:
        print(result.step)
    else:
        print("pyotp-hw: code does not verify", file=sys.stderr)
    return EXIT_OK if result.ok else EXIT_NO_MATCH
