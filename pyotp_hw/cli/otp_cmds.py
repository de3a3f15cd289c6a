"""``pyotp-hw code`` and ``pyotp-hw verify``: scriptable like ``oathtool --totp/--hotp``.

``code`` prints the code on stdout. ``verify`` exits 0 when the code matches (printing the
matched step or counter), 1 when it does not, 2 on bad input. A SECRET of ``-`` is read from
standard input, which keeps it out of the process list and the shell history.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from typing import Any

from ._common import EXIT_NO_MATCH, EXIT_OK, CLIError, print_json

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
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
    verify.add_argument("--window", type=int, default=1,
                        help="TOTP steps accepted before and after now (default 1)")
    verify.add_argument("--look-ahead", type=int, default=0,
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


def _read_secret(value: str | None) -> str:
    if value is None:
        raise CLIError("a SECRET (or --uri) is required")
    if value == "-":
        text = sys.stdin.readline().strip()
        if not text:
            raise CLIError("no secret on standard input")
        return text
    return value


def _parse_time(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CLIError(f"--time must be Unix seconds or ISO 8601, got {text!r}") from None
    if when.tzinfo is None:
        raise CLIError("--time needs a timezone (for example 2026-01-01T00:00:00Z)")
    return int(when.timestamp())


def _build(args: argparse.Namespace, secret: str | None) -> Any:
    """The HOTP/TOTP/Steam object the options describe."""
    from ..otp import HOTP, TOTP

    if args.uri is not None:
        if secret is not None:
            raise CLIError("give either SECRET or --uri, not both")
        from ..otp import from_uri

        otp = from_uri(args.uri)
        if any(v is not None for v in (args.digits, args.digest, args.period)):
            raise CLIError("--digits, --digest and --period come from the URI; drop them")
        if args.hotp is not None and not isinstance(otp, HOTP):
            raise CLIError("--hotp given, but the URI is not an hotp URI")
        return otp
    text = _read_secret(secret)
    digits = 6 if args.digits is None else args.digits
    digest = "sha1" if args.digest is None else args.digest
    if args.hotp is not None:
        if args.period is not None:
            raise CLIError("--period does not apply to HOTP")
        return HOTP(text, digits=digits, digest=digest)
    return TOTP(text, digits=digits, digest=digest, interval=30 if args.period is None
                else args.period)


def _cmd_code(args: argparse.Namespace) -> int:
    from ..otp import HOTP

    otp = _build(args, args.secret)
    if isinstance(otp, HOTP):
        # --hotp is the absolute counter; without it, the URI's counter.
        counter = otp.initial_count if args.hotp is None else args.hotp
        value = otp.generate_otp(counter)
        detail: dict[str, Any] = {"code": value, "counter": counter}
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


def _cmd_verify(args: argparse.Namespace) -> int:
    from ..otp import HOTP

    words = list(args.words)
    expected = 1 if args.uri is not None else 2
    if len(words) != expected:
        raise CLIError("usage: verify SECRET CODE, or verify --uri URI CODE")
    secret = words[0] if expected == 2 else None
    code = words[-1]
    otp = _build(args, secret)
    if isinstance(otp, HOTP):
        counter = otp.initial_count if args.hotp is None else args.hotp
        from ..otp import check_code

        matched = otp.find(check_code(code, otp.digits), counter, _bounded(args.look_ahead))
        detail: dict[str, Any] = {"ok": matched is not None, "counter": matched}
    else:
        when = _parse_time(args.time)
        step = otp.verify_and_get_timecode(code, when, valid_window=_bounded(args.window))
        detail = {"ok": step is not None, "step": step}
    if args.json:
        print_json(detail)
    elif detail["ok"]:
        print(detail.get("counter", detail.get("step")))
    else:
        print("pyotp-hw: code does not verify", file=sys.stderr)
    return EXIT_OK if detail["ok"] else EXIT_NO_MATCH


def _bounded(value: int) -> int:
    if value < 0:
        raise CLIError("--window and --look-ahead must not be negative")
    return value
