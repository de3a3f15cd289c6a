"""Shared pieces of the command line: exit codes, error printing, JSON output, secret input."""

from __future__ import annotations

import json
import sys
from typing import Any

__all__ = [
    "EXIT_OK",
    "EXIT_NO_MATCH",
    "EXIT_BAD_INPUT",
    "EXIT_NO_TOKEN",
    "CLIError",
    "print_error",
    "print_json",
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


def print_error(message: str) -> None:
    """Print ``pyotp-hw: error: MESSAGE`` on stderr."""
    print(f"pyotp-hw: error: {message}", file=sys.stderr)


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout."""
    json.dump(value, sys.stdout, indent=2, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")
