"""Shared pieces of the command line: exit codes, error printing, JSON output, secret input."""

from __future__ import annotations

import json
import shutil
import sys

__all__ = [
    "EXIT_OK",
    "EXIT_NO_MATCH",
    "EXIT_BAD_INPUT",
    "EXIT_NO_TOKEN",
    "CLIError",
    "exit_code_for",
    "error_message",
    "listen_address",
    "print_error",
    "print_json",
    "print_warning",
    "terminal_columns",
    "print_terminal_qr",
]

EXIT_OK = 0
EXIT_NO_MATCH = 1
EXIT_BAD_INPUT = 2
EXIT_NO_TOKEN = 3


class CLIError(Exception):
    """An error the command line reports as one line on stderr with a given exit status."""

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def exit_code_for(error: BaseException) -> int:
    """The exit status for an error: a CLIError's own; 3 when there is no reader or token to
    talk to (no PC/SC service, no reader, no card, no OATH applet, the card gone); else 2."""
    if isinstance(error, CLIError):
        return error.exit_code
    from ..token import NoReaderFound, NoTokenFound, PcscUnavailable, TokenConnectionError

    if isinstance(error, (PcscUnavailable, NoReaderFound, NoTokenFound, TokenConnectionError)):
        return EXIT_NO_TOKEN
    return EXIT_BAD_INPUT


def error_message(error: BaseException) -> str:
    """The line printed for a library error: its own words, plus the option or command that
    resolves it where there is one (the library does not know the command line)."""
    from ..token import MultipleTokensFound, PcscUnavailable

    if isinstance(error, MultipleTokensFound):
        return (f"{len(error.readers)} tokens found ({error.listing()}): choose one with "
                "--reader NAME or --device ID")
    if isinstance(error, PcscUnavailable) and error.stopped:
        return f"{error}, or run 'pyotp-hw token virtual' with the rig for a virtual token"
    return str(error)


def listen_address(listen: str) -> tuple[str, int]:
    """The ``--listen HOST:PORT`` value as (host, port), or the flag's own error."""
    from ..errors import InvalidArgument
    from ..service import parse_listen

    try:
        return parse_listen(listen)
    except InvalidArgument:
        raise CLIError("--listen must be HOST:PORT, for example 127.0.0.1:8400") from None


def print_error(message: str) -> None:
    """Print ``pyotp-hw: error: MESSAGE`` on stderr."""
    print(f"pyotp-hw: error: {message}", file=sys.stderr)


def print_json(value: object) -> None:
    """Print ``value`` as indented JSON on stdout."""
    json.dump(value, sys.stdout, indent=2, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")


def print_warning(message: str) -> None:
    """Print ``pyotp-hw: warning: MESSAGE`` on stderr."""
    print(f"pyotp-hw: warning: {message}", file=sys.stderr)


def terminal_columns() -> int | None:
    """The width of the terminal standard output goes to, or None when it is not a terminal."""
    if not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size().columns


def print_terminal_qr(text: str, *, invert: bool = False, instead: str) -> bool:
    """Draw ``text`` as a QR code on standard output, if the terminal is wide enough.

    A code wider than the terminal wraps and cannot be scanned, so it is not drawn: a warning
    says how wide the terminal must be and what to do ``instead``. Returns whether it was drawn.
    """
    from .. import qr

    drawing = qr.render_terminal(text, invert=invert)
    width = len(drawing.splitlines()[0])
    columns = terminal_columns()
    if columns is not None and width > columns:
        print_warning(
            f"the QR code is {width} columns wide but the terminal has {columns}: it would "
            f"not scan, so it is not drawn; widen the terminal to {width} columns or {instead}"
        )
        return False
    sys.stdout.write(drawing)
    return True
