"""``pyotp-hw oathtool ARGS...``: oathtool 2.6.7's command line, computed by pyotp-hw.

Scripts written for ``oathtool`` keep working when ``oathtool`` becomes ``pyotp-hw oathtool``:
the same options (GNU getopt rules: bundling, abbreviations, ``--``), the same KEY/OTP inputs
(hex, ``-b`` base32, ``-`` for a line of stdin, ``@FILE`` for a line of a file), the same
stdout, the same error wording on stderr and the same exit statuses: 0 success, 1 failure or
usage error, 2 when a given OTP is not in the window. Every code comes from
:class:`pyotp_hw.HOTP` and :mod:`pyotp_hw.bulk`.

Deliberate differences, each where oathtool 2.6.7 itself misbehaves or speaks for its authors:

* ``--version`` and ``--help`` keep oathtool's layout, options and version number but name
  pyotp-hw, its licence and its bug address;
* a time-step size of 0 seconds with ``--verbose``, or with a TOTP OTP not found, divides by
  zero in oathtool (it dies of SIGFPE with no output); here it is an error, exit status 1;
* a negative ``--window`` makes oathtool print codes without end (here too, until the reader
  stops) and, when validating, search its 2**32 positions forever when nothing matches: here
  the search stops after one cycle with the not-found error;
* date strings for ``-N``/``-S`` outside the subset of GNU date syntax documented in
  :mod:`pyotp_hw.cli._gnudate` are refused with oathtool's ``cannot parse time`` error.

Like oathtool, ``--verbose`` prints the key (hex and base32) and a failed validation names the
OTP it was given.
"""

from __future__ import annotations

import argparse
import base64
import errno
import os
import sys
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import IO

from ._gnudate import MktimeState, parse_datetime
from ._gnuduration import parse_duration
from ._gnugetopt import (
    NO_ARGUMENT,
    OPTIONAL_ARGUMENT,
    REQUIRED_ARGUMENT,
    GetoptError,
    LongOption,
    Operands,
    getopt_long,
)
from ._liboath import base32_decode, c_div, c_strtol, hex_decode, strftime_utc, wrap32, wrap64
from ._oathtool_search import search_both_ways, search_forward

__all__ = ["register", "run", "EMULATED_VERSION"]

EMULATED_VERSION = "2.6.7"
_PROG = b"oathtool"
_EXIT_FAILURE = 1
_EXIT_OTP_INVALID = 2
_OATH_INVALID_DIGITS = -2
_OATH_INVALID_OTP = -6
_DEFAULT_STEP = 30
_U64 = 1 << 64
_U32 = 1 << 32
_CHUNK = 1 << 16  # counters per bulk call when printing many codes

_SHORT_OPTIONS = b"hVbc:s:S:N:d:w:v"
_LONG_OPTIONS = (
    LongOption(b"help", NO_ARGUMENT, "help"),
    LongOption(b"version", NO_ARGUMENT, "version"),
    LongOption(b"hotp", NO_ARGUMENT, "hotp"),
    LongOption(b"totp", OPTIONAL_ARGUMENT, "totp"),
    LongOption(b"base32", NO_ARGUMENT, "base32"),
    LongOption(b"counter", REQUIRED_ARGUMENT, "counter"),
    LongOption(b"time-step-size", REQUIRED_ARGUMENT, "time-step-size"),
    LongOption(b"start-time", REQUIRED_ARGUMENT, "start-time"),
    LongOption(b"now", REQUIRED_ARGUMENT, "now"),
    LongOption(b"digits", REQUIRED_ARGUMENT, "digits"),
    LongOption(b"window", REQUIRED_ARGUMENT, "window"),
    LongOption(b"verbose", NO_ARGUMENT, "verbose"),
)
_SHORT_KEYS = {
    ord("h"): "help", ord("V"): "version", ord("b"): "base32", ord("c"): "counter",
    ord("s"): "time-step-size", ord("S"): "start-time", ord("N"): "now", ord("d"): "digits",
    ord("w"): "window", ord("v"): "verbose",
}
_SHORT_OF = {key: chr(ch) for ch, key in _SHORT_KEYS.items()}

_HELP = """\
Usage: oathtool [OPTION]... [KEY [OTP]]...
Generate and validate OATH one-time passwords (HOTP and TOTP).  KEY and OTP are
'-' to read a line of standard input, '@FILE' to read a line of FILE, or the
value itself (then visible to other users of a shared system).

  -h, --help                    Print help and exit
  -V, --version                 Print version and exit
      --hotp                    use event-based HOTP mode  (default=on)
      --totp[=MODE]             use time-variant TOTP mode (values "SHA1",
                                  "SHA256", or "SHA512")  (default=`SHA1')
  -b, --base32                  KEY is base32 instead of hex  (default=off)
  -c, --counter=COUNTER         HOTP counter value
  -s, --time-step-size=DURATION TOTP time-step duration  (default=`30s')
  -S, --start-time=TIME         when TOTP time steps start
                                  (default=`1970-01-01 00:00:00 UTC')
  -N, --now=TIME                the time to use as now for TOTP
                                  (default=`now')
  -d, --digits=DIGITS           number of digits in one-time password
  -w, --window=WIDTH            number of additional OTPs to generate or
                                  validate against
  -v, --verbose                 explain what is being done  (default=off)

This is pyotp-hw's implementation of the command line of oathtool {version}.
Report bugs to the pyotp-hw project; `pyotp-hw --help` lists its other commands.
"""

_VERSION = """\
oathtool (pyotp-hw {ours}) {version}
Copyright (C) the pyotp-hw authors.
License MIT: <https://opensource.org/licenses/MIT>.
This is free software: you are free to change and redistribute it.
There is NO WARRANTY, to the extent permitted by law.

Written by the pyotp-hw authors, after oathtool {version} by Simon Josefsson.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``oathtool`` command; its arguments reach it untouched by argparse."""
    parser = subparsers.add_parser(
        "oathtool",
        help=f"oathtool {EMULATED_VERSION}'s command line (same options, output and statuses)",
        add_help=False,
        # No prefix character of ours: every argument, "-w3" and "--help" included, is an
        # operand of this parser, so oathtool's own option rules apply to all of them.
        prefix_chars="\x00",
    )
    parser.add_argument("oathtool_args", nargs=argparse.REMAINDER)
    parser.set_defaults(handler=_cmd_oathtool)


def _cmd_oathtool(args: argparse.Namespace) -> int:
    return run_words(args.oathtool_args)


def run_words(words: Sequence[str]) -> int:
    """Run oathtool's command line given as the words after ``pyotp-hw oathtool``."""
    raw = [os.fsencode(a) for a in words]
    return run(raw, stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr)


# ---------------------------------------------------------------------------- the command


class _Exit(Exception):
    """Stop with a status, after printing ``oathtool: MESSAGE`` when there is one."""

    def __init__(self, status: int, message: bytes | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.message = message


class _Output:
    """stdout as bytes, written in order; oathtool's error() flushes it before stderr."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._parts: list[bytes] = []
        self._size = 0

    def write(self, data: bytes) -> None:
        self._parts.append(data)
        self._size += len(data)
        if self._size >= 1 << 16:
            self.flush()

    def discard(self) -> None:
        self._parts.clear()
        self._size = 0

    def flush(self) -> None:
        data = b"".join(self._parts)
        self.discard()
        _write_bytes(self._stream, data)


def _write_bytes(stream: IO[str], data: bytes) -> None:
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        stream.flush()
        buffer.write(data)
        buffer.flush()
    else:
        stream.write(data.decode("utf-8", "surrogateescape"))
        stream.flush()


class _Inputs:
    """oathtool's KEY/OTP reader: ``-`` is a line of stdin, ``@FILE`` (or ``-FILE``) of FILE.

    As in oathtool, one file stays open while the same ``@FILE`` is named again, so ``@F @F``
    reads F's first two lines; a different name reopens.
    """

    def __init__(self, stdin: IO[str] | None) -> None:
        self._stdin = stdin
        self._handle: IO[bytes] | None = None
        self._handle_name: bytes | None = None

    def read(self, given: bytes) -> bytes:
        if not given.startswith((b"-", b"@")):
            return given
        if given == b"-":
            line = self._stdin_line()
        else:
            if self._handle_name != given:
                self._close()
                self._handle = self._open(given[1:])
                self._handle_name = given
            line = self._file_line()
        if line.endswith(b"\n"):
            line = line[:-1]
        return line[: line.index(b"\x00")] if b"\x00" in line else line

    @staticmethod
    def _open(path: bytes) -> IO[bytes]:
        if os.path.isdir(path):
            # C's fopen opens a directory and the read fails; Python's open fails at once.
            raise _Exit(_EXIT_FAILURE, b"read file for KEY/OTP: "
                        + os.strerror(errno.EISDIR).encode())
        try:
            return open(path, "rb")  # stays open across reads of the same @FILE, as there
        except OSError as exc:
            raise _Exit(_EXIT_FAILURE, b"open file for KEY/OTP: "
                        + os.strerror(exc.errno or 0).encode()) from None

    def _stdin_line(self) -> bytes:
        if self._stdin is None:  # the process was started with standard input closed
            raise _Exit(_EXIT_FAILURE, b"read file for KEY/OTP: "
                        + os.strerror(errno.EBADF).encode())
        buffer = getattr(self._stdin, "buffer", None)
        line: bytes
        try:
            if buffer is not None:
                line = buffer.readline()
            else:
                line = self._stdin.readline().encode("utf-8", "surrogateescape")
        except OSError as exc:
            raise _Exit(_EXIT_FAILURE, b"read file for KEY/OTP: "
                        + os.strerror(exc.errno or 0).encode()) from None
        if not line:
            raise _Exit(_EXIT_FAILURE, b"read file for KEY/OTP")
        return line

    def _file_line(self) -> bytes:
        assert self._handle is not None
        try:
            line = self._handle.readline()
        except OSError as exc:
            raise _Exit(_EXIT_FAILURE, b"read file for KEY/OTP: "
                        + os.strerror(exc.errno or 0).encode()) from None
        if not line:
            raise _Exit(_EXIT_FAILURE, b"read file for KEY/OTP")
        return line

    def _close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        self._handle = None

    def close(self) -> None:
        """Close the file opened for ``@FILE``, if any."""
        self._close()


class _Options:
    """What the command line set (gengetopt's ``args_info``), in oathtool's defaults."""

    def __init__(self) -> None:
        self.given: set[str] = set()
        self.totp_arg = b"SHA1"
        self.base32 = False
        self.counter = 0
        self.step_arg = b"30s"
        self.start_arg = b"1970-01-01 00:00:00 UTC"
        self.now_arg = b"now"
        self.digits = 6
        self.window = 0
        self.verbose = False
        self.operands: tuple[bytes, ...] = ()


def _numeric(value: bytes, unsigned: bool) -> int:
    number, whole = c_strtol(value, unsigned)
    if not whole:
        raise _Exit(_EXIT_FAILURE, b"invalid numeric value: " + value)
    return number


def _parse_command_line(argv: Sequence[bytes]) -> _Options:
    """gengetopt's parser over getopt_long: stops at -h/-V, refuses repeated options."""
    opts = _Options()
    try:
        for event in getopt_long(argv, _SHORT_OPTIONS, _LONG_OPTIONS, _SHORT_KEYS):
            if isinstance(event, Operands):
                opts.operands = event.args
                break
            key, value = event
            if key in opts.given:
                short = _SHORT_OF.get(key)
                which = f"`--{key}' (`-{short}')" if short else f"`--{key}'"
                raise _Exit(_EXIT_FAILURE, f"{which} option given more than once".encode())
            opts.given.add(key)
            if key in ("help", "version"):
                break
            _apply_option(opts, key, value)
    except GetoptError as exc:
        raise _Exit(_EXIT_FAILURE, exc.message) from None
    return opts


def _apply_option(opts: _Options, key: str, value: bytes | None) -> None:
    if key == "base32":
        opts.base32 = True
    elif key == "verbose":
        opts.verbose = True
    elif key == "totp":
        if value is not None:
            opts.totp_arg = value
    elif key == "counter":
        assert value is not None
        opts.counter = _numeric(value, unsigned=True)
    elif key == "digits":
        assert value is not None
        opts.digits = wrap32(_numeric(value, unsigned=False))
    elif key == "window":
        assert value is not None
        opts.window = wrap32(_numeric(value, unsigned=False))
    elif key == "time-step-size":
        assert value is not None
        opts.step_arg = value
    elif key == "start-time":
        assert value is not None
        opts.start_arg = value
    elif key == "now":
        assert value is not None
        opts.now_arg = value


def run(argv: Sequence[bytes], *, stdin: IO[str] | None, stdout: IO[str],
        stderr: IO[str]) -> int:
    """Run ``oathtool ARGV`` (program name excluded); return its exit status."""
    out = _Output(stdout)
    inputs = _Inputs(stdin)
    try:
        status = _main(argv, out, inputs)
        out.flush()
        return status
    except _Exit as stop:
        if stop.message is not None:
            out.flush()
            _write_bytes(stderr, _PROG + b": " + stop.message + b"\n")
        else:
            out.discard()
        return stop.status
    except _DividesByZero:
        out.discard()
        _write_bytes(stderr, _PROG + b": a time-step size of 0 seconds is not supported "
                     b"here (oathtool " + EMULATED_VERSION.encode() + b" divides by zero)\n")
        return _EXIT_FAILURE
    finally:
        inputs.close()


class _DividesByZero(Exception):
    """Where oathtool 2.6.7 divides by a zero time step and dies of SIGFPE."""


def _main(argv: Sequence[bytes], out: _Output, inputs: _Inputs) -> int:
    from .. import __version__

    opts = _parse_command_line(argv)
    if "version" in opts.given:
        out.write(_VERSION.format(ours=__version__, version=EMULATED_VERSION).encode())
        return 0
    if "help" in opts.given or not opts.operands:
        out.write(_HELP.format(version=EMULATED_VERSION).encode())
        return 0

    key_text = inputs.read(opts.operands[0])
    otp = inputs.read(opts.operands[1]) if len(opts.operands) > 1 else None
    if opts.base32:
        key = base32_decode(key_text)
        if key is None:
            raise _Exit(_EXIT_FAILURE, b"base32 decoding failed: Base32 string is invalid")
    else:
        key = hex_decode(key_text)
        if key is None:
            raise _Exit(_EXIT_FAILURE, b"hex decoding of secret key failed")

    digits = opts.digits % _U32
    window = opts.window % _U64
    if digits not in (6, 7, 8):
        raise _Exit(_EXIT_FAILURE, b"only digits 6, 7 and 8 are supported")
    validating = len(opts.operands) == 2
    if validating:
        assert otp is not None
        if "digits" not in opts.given:
            digits = len(otp)
        elif opts.digits != len(otp):
            raise _Exit(_EXIT_FAILURE, f"given one-time password has bad length "
                        f"{opts.digits} != {len(otp)}".encode())
    if len(opts.operands) > 2:
        raise _Exit(_EXIT_FAILURE, b"too many parameters")

    if opts.verbose:
        out.write(b"Hex secret: " + key.hex().encode() + b"\n")
        out.write(b"Base32 secret: " + base64.b32encode(key) + b"\n")
        if validating:
            assert otp is not None
            out.write(b"OTP: " + otp + b"\n")
        out.write(f"Digits: {wrap32(digits)}\nWindow size: {wrap64(window)}\n".encode())

    # HMAC pads a key shorter than its block with zero bytes, so the empty key oathtool
    # accepts gives the same codes as one zero byte (the C core refuses empty keys).
    secret = key or b"\x00"
    if "totp" in opts.given:
        return _totp(opts, out, secret, digits, window, otp)
    if opts.verbose:
        out.write(f"Start counter: 0x{opts.counter:X} ({opts.counter})\n\n".encode())
    if otp is None:
        _print_codes(out, secret, "sha1", digits, _hotp_counters(opts.counter, window))
        return 0
    found = search_forward(secret, "sha1", otp, opts.counter, window)
    return _report(out, otp, found, (opts.counter, opts.counter + window))


def _totp(opts: _Options, out: _Output, secret: bytes, digits: int, window: int,
          otp: bytes | None) -> int:
    now = int(time.time())
    process = MktimeState()  # as a fresh oathtool process: --now is parsed first
    when = parse_datetime(opts.now_arg, now, process)
    t0 = parse_datetime(opts.start_arg, now, process)
    step = parse_duration(opts.step_arg)
    for value, text in ((when, opts.now_arg), (t0, opts.start_arg), (step, opts.step_arg)):
        if value is None or value == -1:
            raise _Exit(_EXIT_FAILURE, b"cannot parse time `" + text + b"'")
    assert when is not None and t0 is not None and step is not None
    mode = opts.totp_arg.upper()
    digest = {b"SHA256": "sha256", b"SHA512": "sha512"}.get(mode, "sha1")
    if opts.verbose:
        out.write(b"TOTP mode: " + digest.upper().encode() + b"\n")
        start_text = strftime_utc(t0)
        if start_text is None:
            raise _Exit(_EXIT_FAILURE, b"gmtime_r")
        out.write(f"Step size (seconds): {step}\n".encode())
        out.write(b"Start time: " + start_text + f" ({t0})\n".encode())
        now_text = strftime_utc(when)
        if now_text is None:
            raise _Exit(_EXIT_FAILURE, b"gmtime_r")
        out.write(b"Current time: " + now_text + f" ({when})\n".encode())
        if step == 0:
            raise _DividesByZero
        counter = c_div(wrap64(when - t0), step)
        out.write(f"Counter: 0x{counter % _U64:X} ({counter})\n\n".encode())
    # liboath takes the step as a 32-bit unsigned int, and 0 as its default of 30 seconds.
    lib_step = step % _U32 or _DEFAULT_STEP

    def step_of(t: int) -> int:
        return c_div(wrap64(t - t0), lib_step) % _U64

    if otp is None:
        counters = (step_of(wrap64(when + i * step)) for i in _iterations(window))
        _print_codes(out, secret, digest, digits, counters)
        return 0
    found = search_both_ways(secret, digest, otp, step_of(when), window)
    if found is None and step == 0 and 6 <= len(otp) <= 8:
        raise _DividesByZero  # oathtool divides by the step to word its not-found error
    centre = c_div(wrap64(when - t0), step) if step else 0
    return _report(out, otp, found, (centre - window // 2, centre + window // 2))


def _iterations(window: int) -> Iterator[int]:
    """0 .. window inclusive (oathtool's do/while on size_t: window+1 codes)."""
    i = 0
    while True:
        yield i
        if window - i <= 0:
            return
        i += 1


def _hotp_counters(start: int, window: int) -> Iterator[int]:
    return ((start + i) % _U64 for i in _iterations(window))


def _print_codes(out: _Output, secret: bytes, digest: str, digits: int,
                 counters: Iterator[int]) -> None:
    from .. import bulk

    chunk = array("Q")
    table = bulk.KeyTable([secret], digest=digest)
    try:
        for counter in counters:
            chunk.append(counter)
            if len(chunk) >= _CHUNK:
                _print_chunk(out, bulk.hotp(table, chunk, digits=digits), digits)
                chunk = array("Q")
        if chunk:
            _print_chunk(out, bulk.hotp(table, chunk, digits=digits), digits)
    finally:
        table.close()


def _print_chunk(out: _Output, codes: Iterable[int], digits: int) -> None:
    out.write("".join(f"{code:0{digits}d}\n" for code in codes).encode("ascii"))


def _report(out: _Output, otp: bytes, found: int | None, bounds: tuple[int, int]) -> int:
    """Print the window position of a match, or oathtool's not-found / failure error."""
    if found is None:
        rc = _OATH_INVALID_OTP if 6 <= len(otp) <= 8 else _OATH_INVALID_DIGITS
    else:
        rc = wrap32(found)
    if rc == _OATH_INVALID_OTP:
        low, high = (wrap64(b) for b in bounds)
        raise _Exit(_EXIT_OTP_INVALID, b'password "' + otp + b'" not found in range '
                    + f"{low} .. {high}".encode())
    if rc < 0:
        raise _Exit(_EXIT_FAILURE, f"validating one-time password failed ({rc})".encode())
    out.write(f"{rc}\n".encode())
    return 0
