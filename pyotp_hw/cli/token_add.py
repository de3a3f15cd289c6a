"""``pyotp-hw token add``: store accounts from URIs, exports, QR images, or ykman's NAME SECRET.

Two forms. ``token add URI...`` (or ``-`` for stdin, or ``--qr IMAGE``) stores what the URIs
say. ``token add NAME [SECRET]`` takes ykman's ``oath accounts add`` options (``-i``, ``-o``,
``-d``, ``-a``, ``-c``, ``-P``, ``-t``, ``-f``) with a base32 SECRET (``-`` reads it from stdin,
and it is asked for, unechoed, when left out at a terminal). Every account is checked, and an
existing one of the same name either confirmed for overwriting or refused, before the first
write.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._common import EXIT_OK, CLIError, print_json
from .token_read import code_json
from .token_session import calculate_with_prompt, interactive, open_session

if TYPE_CHECKING:
    from ..token import CredentialData, OathSession
    from ..uri import OtpAuthURI

    _Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["register_add", "cmd_add"]

_URI_PREFIXES = ("otpauth://", "otpauth-migration://")
# The options of the NAME SECRET form, as ykman spells them; a URI already says all of these.
_ENTRY_OPTIONS = (("issuer", "-i/--issuer"), ("oath_type", "-o/--oath-type"),
                  ("digits", "-d/--digits"), ("algorithm", "-a/--algorithm"),
                  ("counter", "-c/--counter"), ("period", "-P/--period"))


def register_add(sub: _Subparsers, conn: argparse.ArgumentParser) -> None:
    """Add the ``token add`` subcommand."""
    p = sub.add_parser(
        "add", parents=[conn],
        help="store account(s): from URIs, an export or a QR image, or NAME SECRET as ykman",
        usage="%(prog)s [options] URI... | - | --qr IMAGE | NAME [SECRET]",
        description="Store the account of an otpauth:// URI, every account of an "
        "otpauth-migration:// export, or those of the QR code(s) in an image; or, as ykman's "
        "'oath accounts add' does, the account NAME with a base32 SECRET and the options "
        "below. Then print the current code to type into the site's confirmation field.",
    )
    p.add_argument("uris", nargs="*", metavar="URI|NAME SECRET",
                   help="otpauth:// or otpauth-migration:// URI(s) (all batches of an export), "
                   "or - to read them from stdin, one per line; or an account NAME and its "
                   "base32 SECRET (- reads the secret from stdin; left out, it is asked for)")
    p.add_argument("--qr", metavar="IMAGE", help="read the URI(s) from QR codes in an image")
    p.add_argument("-i", "--issuer", help="NAME SECRET: the issuer (the service's name)")
    p.add_argument("-o", "--oath-type", type=str.upper, choices=("HOTP", "TOTP"),
                   help="NAME SECRET: time-based (TOTP, the default) or counter-based (HOTP)")
    p.add_argument("-d", "--digits", type=int, choices=(6, 7, 8),
                   help="NAME SECRET: digits of a code (default 6)")
    p.add_argument("-a", "--algorithm", type=str.upper, choices=("SHA1", "SHA256", "SHA512"),
                   help="NAME SECRET: the hash (default SHA1)")
    p.add_argument("-c", "--counter", type=int, metavar="N",
                   help="NAME SECRET: the initial counter of an HOTP account (default 0)")
    p.add_argument("-P", "--period", type=int, metavar="SECONDS",
                   help="NAME SECRET: how long a TOTP code is valid (default 30)")
    p.add_argument("-t", "--touch", action="store_true", help="require a touch for every code")
    p.add_argument("-f", "--force", "--overwrite", dest="overwrite", action="store_true",
                   help="replace an account of the same name without asking")
    p.add_argument("--no-code", action="store_true", help="do not print the current code")
    p.set_defaults(handler=cmd_add)


# --- the URI form -----------------------------------------------------------------------------


def _read_uri_argument(value: str) -> list[str]:
    if value == "-":
        return [line.strip() for line in sys.stdin.read().splitlines() if line.strip()]
    return [value]


def _entries_from(texts: Sequence[str]) -> list[OtpAuthURI]:
    from .. import migration
    from ..uri import parse

    entries: list[OtpAuthURI] = []
    for text in texts:
        if migration.is_migration_uri(text):
            entries.extend(migration.decode(text))
        else:
            entries.append(parse(text))
    return entries


def _collect_uris(args: argparse.Namespace) -> list[str]:
    texts: list[str] = []
    for value in args.uris:
        texts.extend(_read_uri_argument(value))
    if args.qr is not None:
        from .. import qr

        found = [t for t in qr.read_image(args.qr) if t.lower().startswith(_URI_PREFIXES)]
        if not found:
            raise CLIError(f"no otpauth QR code found in {args.qr!r}")
        texts.extend(found)
    if not texts:
        raise CLIError("give a URI (or - for stdin), --qr IMAGE, or NAME SECRET")
    return texts


def _from_uris(args: argparse.Namespace) -> list[CredentialData]:
    import warnings

    from ..token import CredentialData

    given = [flag for dest, flag in _ENTRY_OPTIONS if getattr(args, dest) is not None]
    if given:
        raise CLIError(f"{', '.join(given)} go with NAME SECRET, not with URIs (a URI says "
                       "its own issuer, type, digits, algorithm, counter and period)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # parser notes are kept in each entry's warnings
        entries = _entries_from(_collect_uris(args))
    datas = [CredentialData.from_uri(e) for e in entries]
    for entry in entries:
        for note in entry.warnings:
            print(f"pyotp-hw: note: {entry.label}: {note}", file=sys.stderr)
    return datas


# --- the NAME SECRET form ---------------------------------------------------------------------


def _is_entry_form(args: argparse.Namespace) -> bool:
    """NAME SECRET: the first word is neither a URI nor ``-``, no ``--qr`` is given, and either
    an option of that form is or there are one or two words."""
    words: list[str] = args.uris
    if args.qr is not None or not words or words[0] == "-" or words[0].lower().startswith(
            _URI_PREFIXES):
        return False
    return len(words) <= 2 or any(getattr(args, dest) is not None for dest, _ in _ENTRY_OPTIONS)


def _secret_text(words: Sequence[str]) -> str:
    if len(words) == 2 and words[1] != "-":
        return words[1]
    if len(words) == 2:
        line = sys.stdin.readline().strip()
        if not line:
            raise CLIError("no secret on standard input")
        return line
    if not interactive():
        raise CLIError("give the account's SECRET after its NAME (or - to read it from stdin)")
    return getpass.getpass("Secret (base32): ")


def _from_entry(args: argparse.Namespace) -> CredentialData:
    from ..keys import decode_base32
    from ..token import CredentialData, InvalidCredential

    words: list[str] = args.uris
    if len(words) > 2:
        raise CLIError("NAME SECRET takes one account NAME and its SECRET "
                       f"(got {len(words)} arguments)")
    oath_type = (args.oath_type or "TOTP").lower()
    if args.period is not None and oath_type == "hotp":
        raise InvalidCredential("a period is only meaningful for TOTP")
    secret = decode_base32(_secret_text(words))
    return CredentialData(
        account=words[0], secret=secret, issuer=args.issuer,
        oath_type="hotp" if oath_type == "hotp" else "totp",
        digest="sha256" if args.algorithm == "SHA256" else (
            "sha512" if args.algorithm == "SHA512" else "sha1"),
        digits=6 if args.digits is None else args.digits,
        period=30 if args.period is None else args.period,
        counter=0 if args.counter is None else args.counter,
    )


# --- storing ----------------------------------------------------------------------------------


def _checked(args: argparse.Namespace) -> list[CredentialData]:
    """Every account of the input, checked for the token before anything is written."""
    datas = [_from_entry(args)] if _is_entry_form(args) else _from_uris(args)
    ids = [d.id for d in datas]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CLIError(f"the input holds several accounts named {', '.join(map(repr, duplicates))}")
    return datas


def _allow_overwrites(tok: OathSession, datas: Sequence[CredentialData],
                      args: argparse.Namespace) -> None:
    """Without ``--force``, ask before replacing accounts (refuse without a terminal)."""
    from ..token import CredentialExists

    if args.overwrite:
        return
    present = {c.raw_id for c in tok.list()}
    clash = [d.id for d in datas if d.raw_id in present]
    if not clash:
        return
    named = ", ".join(map(repr, clash))
    if not interactive():
        raise CredentialExists(f"already on the token: {named} (use -f/--force to replace)")
    if input(f"Already on the token: {named}. Overwrite? [y/N] ").strip().lower() not in (
            "y", "yes"):
        raise CLIError("cancelled; nothing was stored")
    args.overwrite = True


def _store(tok: OathSession, data: CredentialData, args: argparse.Namespace
           ) -> dict[str, object]:
    credential = tok.put(data, touch=args.touch, overwrite=args.overwrite)
    code = None if args.no_code else calculate_with_prompt(tok, credential, int(time.time()))
    if not args.json:
        detail = f"{data.oath_type.upper()}, {data.digest.upper()}, {data.digits} digits"
        if data.oath_type == "totp":
            detail += f", {data.period} s"
        print(f"stored {credential.id!r} ({detail})")
        if code is not None:
            left = ("" if code.valid_to is None
                    else f" (valid for {max(code.valid_to - int(time.time()), 0)} s)")
            print(f"  code to confirm: {code.value}{left}")
    return code_json(credential, code)


def cmd_add(args: argparse.Namespace) -> int:
    """Store the accounts given, and print each one's current code."""
    datas = _checked(args)
    with open_session(args) as tok:
        _allow_overwrites(tok, datas, args)
        results = [_store(tok, data, args) for data in datas]
    if args.json:
        print_json(results)
    return EXIT_OK
