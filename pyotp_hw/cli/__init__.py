"""The ``pyotp-hw`` command line.

Each command group lives in its own module exposing ``register(subparsers)``; a group's heavy or
optional imports happen inside its handlers, so ``pyotp-hw code`` never loads pyscard or psycopg.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

from ..errors import MissingExtra, OTPError
from ._common import (
    EXIT_BAD_INPUT,
    EXIT_NO_TOKEN,
    CLIError,
    error_message,
    exit_code_for,
    print_error,
)

__all__ = ["main", "build_parser"]

# Modules providing command groups, in the order `--help` lists them.
_COMMAND_MODULES = ("otp_cmds", "uri_cmds", "token_cmds", "verifier_cmds", "service_cmds",
                    "vault_cmds", "bench_cmd", "oathtool_cmd")


# What argparse quotes back in its messages: a value the user typed, which may be a secret.
_QUOTED_VALUE = re.compile(r"(invalid (?:choice|\S+ value)): '.*?'(?= \(|$)", re.DOTALL)
_FLAG = re.compile(r"--?[A-Za-z][A-Za-z0-9-]*")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors name options but never repeat a value.

    argparse's "unrecognized arguments: ..." and "invalid choice: 'x'" would echo whatever was
    typed, which can be a secret or an otpauth:// URI holding one. Option names are not
    secrets: an unknown option is named (with the closest known one), after the usage of the
    sub-command it was given to; its value and any stray positional argument are not.
    """

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras and not any(isinstance(a, argparse._SubParsersAction) for a in self._actions):
            # A leaf (sub-)command complains itself, so that its own usage is shown.
            self.error(self._unrecognized(extras))
        return parsed, extras

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:  # given before the command: the top-level usage applies
            self.error(self._unrecognized(extras))
        return parsed

    def _unrecognized(self, extras: Sequence[str]) -> str:
        known = [o for a in self._actions for o in a.option_strings]
        parts: list[str] = []
        others = 0
        for item in extras:
            name = item.split("=", 1)[0]
            if _FLAG.fullmatch(name):
                close = difflib.get_close_matches(name, known, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                parts.append(f"{name}{hint}")
            else:
                others += 1
        words = []
        if parts:
            noun = "option" if len(parts) == 1 else "options"
            words.append(f"unrecognized {noun} {', '.join(parts)}")
        if others:
            words.append(
                f"unrecognized arguments ({others}, not repeated here: they may hold a secret)"
            )
        return "; ".join(words)

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments"):
            message = "unrecognized arguments (not repeated here: they may hold a secret)"
        message = _QUOTED_VALUE.sub(r"\1 (the value is not repeated here)", message)
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
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["oathtool"]:
        # oathtool's own option rules apply to every later word ("--=x" included), so these
        # words never meet the top-level parser, which would read them as its own options.
        from .oathtool_cmd import run_words

        return run_words(words[1:])
    parser = build_parser()
    args = parser.parse_args(words)
    try:
        status: int = args.handler(args)
    except CLIError as exc:
        print_error(str(exc))
        return exc.exit_code
    except MissingExtra as exc:
        print_error(str(exc))
        return EXIT_BAD_INPUT
    except OTPError as exc:
        print_error(error_message(exc))
        return exit_code_for(exc)
    except KeyboardInterrupt:
        print_error("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    sys.stdout.flush()
    return status


_ = EXIT_NO_TOKEN  # re-exported for command modules' convenience
