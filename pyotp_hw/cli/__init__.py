"""The ``pyotp-hw`` command line.

Each command group lives in its own module exposing ``register(subparsers)``; a group's heavy or
optional imports happen inside its handlers, so ``pyotp-hw code`` never loads pyscard or psycopg.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from ..errors import MissingExtra, OTPError
from ._common import EXIT_BAD_INPUT, EXIT_NO_TOKEN, CLIError, print_error

__all__ = ["main", "build_parser"]

# Modules providing command groups, in the order `--help` lists them.
_COMMAND_MODULES = ("otp_cmds", "uri_cmds", "token_cmds", "verifier_cmds", "bench_cmd",
                    "oathtool_cmd")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors never repeat the words they complain about.

    argparse's "unrecognized arguments: ..." would echo whatever was typed, which can be a
    secret or an otpauth:// URI holding one.
    """

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments"):
            message = "unrecognized arguments (not repeated here: they may hold a secret)"
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every command group registered."""
    import importlib

    parser = _Parser(
        prog="pyotp-hw",
        description="One-time passwords (HOTP/TOTP) with a fast C core and hardware tokens.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"pyotp-hw {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMAND_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return 0 (ok), 1 (no match), 2 (bad input) or 3 (no token)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.handler(args)
    except CLIError as exc:
        print_error(str(exc))
        return exc.exit_code
    except MissingExtra as exc:
        print_error(str(exc))
        return EXIT_BAD_INPUT
    except OTPError as exc:
        print_error(str(exc))
        return getattr(exc, "exit_code", EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        print_error("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    sys.stdout.flush()
    return status


_ = EXIT_NO_TOKEN  # re-exported for command modules' convenience
