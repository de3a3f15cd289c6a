"""``pyotp-hw uri ...``: inspect, make and convert otpauth:// URIs, QR codes and app exports.

A URI argument of ``-`` is read from standard input, which keeps the secret out of the process
list and the shell history. ``show`` never prints the secret unless asked (``--show-secret``);
``make``, ``import-migration`` and ``read-qr`` print URIs holding secrets because that is what
the user asked for.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from ..errors import InvalidArgument
from ._common import EXIT_OK, CLIError, print_json, print_terminal_qr

if TYPE_CHECKING:
    from ..uri import OtpAuthURI

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``uri`` command group and its subcommands."""
    group = subparsers.add_parser(
        "uri",
        help="show, make and convert otpauth:// URIs, QR codes and Google Authenticator exports",
        description="Work with otpauth:// key URIs, their QR codes and Google Authenticator "
        "exports (otpauth-migration://). A URI of - is read from standard input.",
    )
    sub = group.add_subparsers(dest="uri_command", metavar="SUBCOMMAND")
    sub.required = True

    show = sub.add_parser("show", help="print the fields of a URI (not the secret)",
                          description="Print the fields of otpauth:// URIs, and of each account "
                          "of otpauth-migration:// exports. The secret stays hidden unless "
                          "--show-secret is given. --json prints an object for a single "
                          "otpauth:// URI, else a list.")
    show.add_argument("uris", nargs="+", metavar="URI",
                      help="the URI(s), or - to read them from stdin (one per line)")
    show.add_argument("--show-secret", action="store_true", help="also print the secret")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=_cmd_show)

    _register_make(sub)
    _register_qr(sub)

    imp = sub.add_parser("import-migration",
                         help="turn a Google Authenticator export into otpauth:// URIs",
                         description="Decode every batch of a Google Authenticator export "
                         "(otpauth-migration://) and print one otpauth:// URI per account. "
                         "The output holds the secrets.")
    imp.add_argument("uris", nargs="+", metavar="MIGRATION_URI",
                     help="one URI per QR code of the export, or - to read them from stdin")
    imp.add_argument("--json", action="store_true", help="print JSON")
    imp.set_defaults(handler=_cmd_import)

    exp = sub.add_parser("export-migration",
                         help="turn otpauth:// URIs into Google Authenticator export URIs",
                         description="Pack otpauth:// URIs into otpauth-migration:// URIs that "
                         "Google Authenticator imports, a batch of accounts per QR code.")
    exp.add_argument("uris", nargs="+", metavar="URI",
                     help="otpauth:// URIs, or - to read them from stdin (one per line)")
    exp.add_argument("--batch-size", type=int, default=10,
                     help="accounts per QR code (default 10, as the app does)")
    exp.add_argument("--png-prefix", metavar="PREFIX",
                     help="also write each batch's QR code to PREFIX-N.png (mode 0600; "
                     "existing files are replaced, symbolic links refused)")
    exp.add_argument("--json", action="store_true", help="print JSON")
    exp.set_defaults(handler=_cmd_export)

    read = sub.add_parser("read-qr", help="read QR codes from an image (a screenshot)",
                          description="Print the text of every QR code found in IMAGE, such as "
                          "a screenshot of a site's enrollment page.")
    read.add_argument("image", metavar="IMAGE", help="PNG, JPEG, ... file")
    read.add_argument("--json", action="store_true", help="print JSON")
    read.set_defaults(handler=_cmd_read_qr)


def _register_make(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    make = sub.add_parser("make", help="issue a new secret and print its URI and QR code",
                          description="Issue a new random 160-bit secret and print its "
                          "otpauth:// URI and QR code, the way a site enrolling a user does.")
    make.add_argument("--issuer", required=True, help="the service name shown in the app")
    make.add_argument("--name", required=True, help="the account name (user name, e-mail)")
    _add_parameters(make)
    make.add_argument("--image", metavar="URL", help="a logo URL (image parameter)")
    make.add_argument("--png", metavar="FILE",
                      help="also write the QR code as PNG (mode 0600; an existing file is "
                      "replaced, a symbolic link refused)")
    make.add_argument("--svg", metavar="FILE", help="also write the QR code as SVG (as --png)")
    make.add_argument("--no-qr", action="store_true", help="do not draw the QR code")
    make.add_argument("--invert", action="store_true",
                      help="draw the QR code for a terminal with a light background")
    make.add_argument("--json", action="store_true", help="print JSON (URI, secret, fields)")
    make.set_defaults(handler=_cmd_make)


def _register_qr(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    qr = sub.add_parser("qr", help="draw a URI as a QR code (terminal, PNG or SVG)",
                        description="Draw a URI (or any text) as a QR code: in the terminal by "
                        "default, or into a PNG or SVG file.")
    # nargs="+" so that a stray second URI is refused by us, not echoed back by argparse.
    qr.add_argument("uri", nargs="+", metavar="URI", help="the URI, or - to read it from stdin")
    out = qr.add_mutually_exclusive_group()
    out.add_argument("--png", metavar="FILE",
                     help="write a PNG file instead (mode 0600; an existing file is replaced, "
                     "a symbolic link refused)")
    out.add_argument("--svg", metavar="FILE", help="write an SVG file instead (as --png)")
    qr.add_argument("--scale", type=int, default=8, help="pixels per module in files (default 8)")
    qr.add_argument("--invert", action="store_true",
                    help="draw for a terminal with a light background")
    qr.set_defaults(handler=_cmd_qr)


def _add_parameters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--digits", type=int, default=6, help="code length, 6-10 (default 6)")
    p.add_argument("--digest", default="sha1", type=str.lower,
                   choices=("sha1", "sha256", "sha512"), help="HMAC digest (default sha1)")
    p.add_argument("--period", type=int, default=30, help="TOTP time step (default 30 s)")
    p.add_argument("--hotp", action="store_true", help="counter-based (HOTP) instead of TOTP")
    p.add_argument("--counter", type=int, help="HOTP starting counter (default 0)")


# ----------------------------------------------------------------------------------------------
# Helpers


def _stdin_lines() -> list[str]:
    lines = [line.strip() for line in sys.stdin.read().splitlines()]
    return [line for line in lines if line]


def _one_uri(value: str) -> str:
    if value != "-":
        return value
    lines = _stdin_lines()
    if not lines:
        raise CLIError("no URI on standard input")
    if len(lines) > 1:
        raise CLIError("expected one URI on standard input, got several lines")
    return lines[0]


def _many(values: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        out.extend(_stdin_lines() if value == "-" else [value])
    if not out:
        raise CLIError("no URIs given")
    return out


def _warn(notes: tuple[str, ...] | list[str]) -> None:
    for note in notes:
        print(f"pyotp-hw: warning: {note}", file=sys.stderr)


def _parse(text: str) -> OtpAuthURI:
    from ..uri import parse

    # The notes are printed as CLI warnings, not as Python warnings with a source line.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return parse(text)


def _describe(entry: OtpAuthURI, *, show_secret: bool) -> list[str]:
    rows = [("type", entry.kind + (" (Steam Guard)" if entry.is_steam else ""))]
    rows.append(("label", entry.label))
    rows.append(("issuer", entry.issuer if entry.issuer is not None else "(none)"))
    rows.append(("account", entry.account))
    rows.append(("digest", entry.digest))
    rows.append(("digits", str(entry.digits)))
    if entry.kind == "totp":
        rows.append(("period", f"{entry.period} s"))
    else:
        rows.append(("counter", str(entry.counter)))
    if show_secret:
        rows.append(("secret", entry.secret_base32))
    else:
        rows.append(("secret", f"({8 * len(entry.secret)} bits, hidden; --show-secret shows it)"))
    if entry.image is not None:
        rows.append(("image", entry.image))
    for key, value in entry.extra:
        rows.append(("param", f"{key}={value}"))
    return [f"{key + ':':<9}{value}" for key, value in rows]


def _qr_module() -> ModuleType:
    from .. import qr

    return qr


# ----------------------------------------------------------------------------------------------
# Commands


def _cmd_show(args: argparse.Namespace) -> int:
    from .. import migration

    texts = _many(args.uris)
    entries: list[OtpAuthURI] = []
    for number, text in enumerate(texts, 1):
        try:
            if migration.is_migration_uri(text):
                entries.extend(migration.decode(text))
            else:
                entries.append(_parse(text))
        except InvalidArgument as exc:  # a bad URI; any other error is a bug, not the input's
            raise CLIError(f"URI {number}: {exc}" if len(texts) > 1 else str(exc)) from None
    if args.json:
        values = [e.as_dict(show_secret=args.show_secret) for e in entries]
        single = len(texts) == 1 and not migration.is_migration_uri(texts[0])
        print_json(values[0] if single else values)
    else:
        for number, entry in enumerate(entries):
            if number:
                print()
            print("\n".join(_describe(entry, show_secret=args.show_secret)))
    for entry in entries:
        _warn(entry.warnings)
    return EXIT_OK


def _cmd_make(args: argparse.Namespace) -> int:
    from ..keys import random_secret
    from ..uri import build

    if not args.hotp and args.counter is not None:
        raise CLIError("--counter needs --hotp")
    kind = "hotp" if args.hotp else "totp"
    # Every output is checked before a secret exists: one that cannot be saved is not shown.
    for path in (args.png, args.svg):
        if path is not None:
            _qr_module().check_output(path, replace=True)
    secret = random_secret(20)
    text = build(
        kind, secret, account=args.name, issuer=args.issuer, digest=args.digest,
        digits=args.digits, period=args.period,
        counter=(args.counter or 0) if args.hotp else None, image=args.image,
    )
    entry = _parse(text)
    draw = not (args.no_qr or args.json)
    qr = _qr_module() if (args.png or args.svg or draw) else None
    if qr is not None and args.png:
        qr.write_png(text, args.png)
    if qr is not None and args.svg:
        qr.write_svg(text, args.svg)
    if args.json:
        value = entry.as_dict(show_secret=True)
        value["uri"] = text
        print_json(value)
        return EXIT_OK
    print(text)
    if qr is not None and draw:
        print_terminal_qr(text, invert=args.invert, instead="use --png FILE")
    secret_text = entry.secret_base32
    grouped = " ".join(secret_text[i : i + 4] for i in range(0, len(secret_text), 4))
    print(f"secret (for typing in by hand): {grouped}")
    return EXIT_OK


def _cmd_qr(args: argparse.Namespace) -> int:
    if len(args.uri) != 1:
        raise CLIError(f"uri qr draws one URI at a time, got {len(args.uri)}")
    qr = _qr_module()
    for path in (args.png, args.svg):
        if path is not None:
            qr.check_output(path, replace=True)
    text = _one_uri(args.uri[0])
    if args.png:
        qr.write_png(text, args.png, scale=args.scale)
    elif args.svg:
        qr.write_svg(text, args.svg, scale=args.scale)
    else:
        print_terminal_qr(text, invert=args.invert, instead="use --png FILE")
    return EXIT_OK


def _cmd_import(args: argparse.Namespace) -> int:
    from .. import migration

    texts = _many(args.uris)
    for text in texts:
        if not migration.is_migration_uri(text):
            raise CLIError("expected otpauth-migration:// URIs (a Google Authenticator export)")
    entries = migration.decode_all(texts)
    if args.json:
        values = []
        for entry in entries:
            value = entry.as_dict(show_secret=True)
            value["uri"] = entry.to_uri()
            values.append(value)
        print_json(values)
    else:
        for entry in entries:
            print(entry.to_uri())
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from .. import migration

    entries = []
    for number, text in enumerate(_many(args.uris), 1):
        try:
            entries.append(_parse(text))
        except InvalidArgument as exc:  # a bad URI; any other error is a bug, not the input's
            raise CLIError(f"URI {number}: {exc}") from None
    uris = migration.encode(entries, batch_size=args.batch_size)
    written: list[str] = []
    if args.png_prefix:
        qr = _qr_module()
        paths = [f"{args.png_prefix}-{index}.png" for index in range(1, len(uris) + 1)]
        for path in paths:  # all of them before the first is written
            qr.check_output(path, replace=True)
        for path, text in zip(paths, uris, strict=True):
            qr.write_png(text, path)
            written.append(path)
    if args.json:
        print_json({"uris": uris, "png": written, "accounts": len(entries)})
    else:
        for text in uris:
            print(text)
        for path in written:
            print(f"wrote {path}", file=sys.stderr)
    return EXIT_OK


def _cmd_read_qr(args: argparse.Namespace) -> int:
    from .. import migration

    qr = _qr_module()
    path = Path(args.image)
    texts = qr.read_image(path)
    if not texts:
        raise CLIError(f"no QR code found in {path}")
    if args.json:
        values = []
        for text in texts:
            if migration.is_migration_uri(text):
                kind = "otpauth-migration"
            elif text.lower().startswith("otpauth://"):
                kind = "otpauth"
            else:
                kind = "text"
            values.append({"kind": kind, "text": text})
        print_json(values)
    else:
        for text in texts:
            print(text)
    return EXIT_OK
