"""GNU ``getopt_long`` option scanning, byte for byte, for commands that mimic GNU tools.

The rules (glibc 2.36): options and operands may be mixed (operands are gathered in order) unless
``POSIXLY_CORRECT`` is set, which stops at the first operand; ``--`` ends the options; ``-`` is an
operand; short options bundle (``-bw3``, ``-d8``) and take their argument from the rest of the
word or the next word; long options may be abbreviated to any unambiguous prefix and take
``--name=value`` or, when the argument is required, ``--name value``. Errors carry glibc's
message wording, without the program name.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

__all__ = ["GetoptError", "LongOption", "Operands", "getopt_long"]

NO_ARGUMENT, REQUIRED_ARGUMENT, OPTIONAL_ARGUMENT = 0, 1, 2


class GetoptError(Exception):
    """A usage error, worded as glibc's getopt words it (``invalid option -- 'x'``...)."""

    def __init__(self, message: bytes) -> None:
        super().__init__(message.decode("ascii", "backslashreplace"))
        self.message = message


@dataclass(frozen=True)
class LongOption:
    """One entry of the long option table: its name, whether it takes an argument, its key."""

    name: bytes
    has_arg: int
    key: str


@dataclass(frozen=True)
class Operands:
    """The last item :func:`getopt_long` yields: the operands, in command-line order."""

    args: tuple[bytes, ...]


def _short_table(optstring: bytes) -> dict[int, int]:
    table: dict[int, int] = {}
    i = 0
    while i < len(optstring):
        ch = optstring[i]
        i += 1
        colons = 0
        while i < len(optstring) and optstring[i] == ord(":") and colons < 2:
            colons += 1
            i += 1
        table[ch] = (NO_ARGUMENT, REQUIRED_ARGUMENT, OPTIONAL_ARGUMENT)[colons]
    return table


def _long_match(word: bytes, longopts: Sequence[LongOption]) -> tuple[LongOption, bytes | None]:
    name, eq, value = word.partition(b"=")
    argument = value if eq else None
    for option in longopts:
        if option.name == name:
            return option, argument
    found: LongOption | None = None
    ambiguous: list[LongOption] = []
    for option in longopts:
        if option.name.startswith(name):
            if found is None:
                found = option
            elif (option.has_arg, option.key) != (found.has_arg, found.key):
                if not ambiguous:
                    ambiguous.append(found)
                ambiguous.append(option)
    if ambiguous:
        listed = b"".join(b" '--" + option.name + b"'" for option in longopts
                          if option in ambiguous)
        raise GetoptError(b"option '--" + word + b"' is ambiguous; possibilities:" + listed)
    if found is None:
        raise GetoptError(b"unrecognized option '--" + word + b"'")
    return found, argument


def getopt_long(
    argv: Sequence[bytes],
    optstring: bytes,
    longopts: Sequence[LongOption],
    short_keys: dict[int, str],
) -> Iterator[tuple[str, bytes | None] | Operands]:
    """Yield ``(key, argument)`` per option in order, then :class:`Operands`.

    ``argv`` excludes the program name. ``short_keys`` maps a short option byte to its key.
    Raises :class:`GetoptError` where getopt would print an error and return ``'?'``.
    """
    shorts = _short_table(optstring)
    require_order = optstring[:1] == b"+" or "POSIXLY_CORRECT" in os.environ
    operands: list[bytes] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        i += 1
        if word == b"--":
            operands.extend(argv[i:])
            break
        if not word.startswith(b"-") or word == b"-":
            if require_order:
                operands.append(word)
                operands.extend(argv[i:])
                break
            operands.append(word)
            continue
        if word.startswith(b"--"):
            option, argument = _long_match(word[2:], longopts)
            if argument is not None and option.has_arg == NO_ARGUMENT:
                raise GetoptError(b"option '--" + option.name + b"' doesn't allow an argument")
            if argument is None and option.has_arg == REQUIRED_ARGUMENT:
                if i >= len(argv):
                    raise GetoptError(b"option '--" + option.name + b"' requires an argument")
                argument = argv[i]
                i += 1
            yield option.key, argument
            continue
        pos = 1
        while pos < len(word):
            ch = word[pos]
            pos += 1
            kind = shorts.get(ch) if ch != ord(":") else None
            if kind is None or ch not in short_keys:
                raise GetoptError(b"invalid option -- '" + bytes([ch]) + b"'")
            if kind == NO_ARGUMENT:
                yield short_keys[ch], None
                continue
            if pos < len(word):
                argument = word[pos:]
            elif kind == OPTIONAL_ARGUMENT:
                argument = None
            elif i < len(argv):
                argument = argv[i]
                i += 1
            else:
                raise GetoptError(b"option requires an argument -- '" + bytes([ch]) + b"'")
            yield short_keys[ch], argument
            break
    yield Operands(tuple(operands))
