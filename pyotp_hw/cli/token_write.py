"""``pyotp-hw token delete|rename|password|reset|enroll``: the commands that change a token
(``add`` has its own module, :mod:`.token_add`).

Everything a command needs is checked before its first write: a name already taken, an output
file that cannot be created.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from typing import TYPE_CHECKING

from ._common import (
    EXIT_NO_MATCH,
    EXIT_OK,
    CLIError,
    exit_code_for,
    print_error,
    print_json,
    print_terminal_qr,
)
from .token_read import code_json
from .token_session import (
    calculate_with_prompt,
    chosen,
    find_one,
    given_password,
    interactive,
    key_store,
    open_session,
    remember_password,
)

if TYPE_CHECKING:
    from .._secret_files import Reservation
    from ..token import Code, Credential, OathSession, TokenError

__all__ = ["cmd_delete", "cmd_rename", "cmd_password_set", "cmd_password_clear",
           "cmd_password_forget", "cmd_reset", "cmd_enroll"]


# --- delete, rename, password, reset ----------------------------------------------------------


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not interactive():
        raise CLIError("this cannot be undone: add --yes to confirm")
    if input(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
        raise CLIError("cancelled")


def cmd_delete(args: argparse.Namespace) -> int:
    """Delete one account (named, or its account name alone when that is unambiguous)."""
    with open_session(args) as tok:
        credential = find_one(tok, args.name)
        _confirm(f"Delete {credential.id!r} from the token?", args.yes)
        tok.delete(credential)
    if args.json:
        print_json({"deleted": credential.to_dict()})
    else:
        print(f"deleted {credential.id!r}")
    return EXIT_OK


def cmd_rename(args: argparse.Namespace) -> int:
    """Rename one account."""
    with open_session(args) as tok:
        old = find_one(tok, args.old)
        new = tok.rename(old, args.new)
    if args.json:
        print_json({"old": old.to_dict(), "new": new.to_dict()})
    else:
        print(f"renamed {old.id!r} to {new.id!r}")
    return EXIT_OK


def _new_password(args: argparse.Namespace) -> str:
    if args.new_password is not None:
        return str(args.new_password)
    if not interactive():
        raise CLIError("give the new password with --new-password")
    first = getpass.getpass("New password: ")
    if first != getpass.getpass("Repeat it: "):
        raise CLIError("the two passwords differ")
    return first


def _forget_quietly(device_id: str) -> None:
    """Forget this token's remembered key, which no longer unlocks it."""
    if key_store().forget(device_id):
        print(f"pyotp-hw: the password remembered for the token {device_id} is forgotten",
              file=sys.stderr)


def cmd_password_set(args: argparse.Namespace) -> int:
    """Set or change the token's password (a Nitrokey 3's PIN); remember the new one with
    ``--remember``, else forget a remembered old one."""
    remember, args.remember = args.remember, False  # the new password, not the current one
    with open_session(args) as tok:
        if remember and tok.info.uses_pin:
            raise CLIError("this token takes its PIN itself, which is not remembered: leave "
                           "out --remember")
        new = _new_password(args)
        if not new:
            raise CLIError("the new password is empty")
        tok.set_password(new, current=given_password(args))
        if remember:
            remember_password(tok, new)
        else:
            _forget_quietly(tok.info.device_id)
    if args.json:
        print_json({"password_set": True, "remembered": remember})
    else:
        print("password set")
    return EXIT_OK


def cmd_password_clear(args: argparse.Namespace) -> int:
    """Remove the token's password (and forget it on this machine)."""
    with open_session(args) as tok:
        tok.clear_password()
        _forget_quietly(tok.info.device_id)
    if args.json:
        print_json({"password_set": False})
    else:
        print("password removed")
    return EXIT_OK


def cmd_password_forget(args: argparse.Namespace) -> int:
    """Forget the key remembered for one token (by its device id, or the token chosen), or all."""
    keys = key_store()
    if args.all:
        count = keys.forget_all()
        if args.json:
            print_json({"forgotten": count})
        else:
            print(f"forgot {count} remembered password{'s' if count != 1 else ''}")
        return EXIT_OK
    device_id = chosen(args, "device")
    if device_id is None or device_id not in keys:  # else no token needs to be present
        with open_session(args, unlock=False) as tok:
            device_id = tok.info.device_id
    forgotten = keys.forget(device_id)
    if args.json:
        print_json({"device_id": device_id, "forgotten": int(forgotten)})
    elif forgotten:
        print(f"password forgotten for the token {device_id}")
    else:
        print(f"no password is remembered for the token {device_id}")
    return EXIT_OK


def cmd_reset(args: argparse.Namespace) -> int:
    """Erase every account and the password (and forget the password on this machine)."""
    with open_session(args, unlock=False) as tok:
        _confirm(f"Erase every account and the password of the token in {tok.reader!r}?",
                 args.yes)
        old_id = tok.info.device_id
        tok.reset()
        info = tok.info
        _forget_quietly(old_id)
    if args.json:
        print_json({"reset": True, "device_id": info.device_id})
    else:
        print(f"token reset (new device id {info.device_id})")
    return EXIT_OK


# --- enroll -----------------------------------------------------------------------------------


def _hand_on(tok: OathSession, credential: Credential, reservation: Reservation, uri: str
             ) -> None:
    """Fill the site's URI file; when that fails, take the account back off the token."""
    from .._secret_files import OutputFileError
    from ..token import TokenError

    try:
        reservation.fill((uri + "\n").encode("utf-8"))
    except OutputFileError as exc:
        reservation.discard()
        try:
            tok.delete(credential)
        except TokenError as undo:
            raise CLIError(
                f"{exc}; and {credential.id!r}, already stored, could not be removed from the "
                f"token ({undo}): delete it with 'pyotp-hw token delete'"
            ) from None
        raise CLIError(f"{exc}; the account was removed from the token again") from None


def _enroll_on_token(args: argparse.Namespace, uri: str, reservation: Reservation | None
                     ) -> tuple[Credential, Code | None, int, TokenError | None]:
    """Store the new account, hand the URI on, and read the token's first code.

    The reserved file is removed when anything fails before it is filled, and kept once filled.
    """
    from ..token import TokenError

    pending = reservation
    try:
        with open_session(args) as tok:
            credential = tok.put(uri, touch=args.touch, overwrite=args.overwrite)
            if pending is not None:
                filling, pending = pending, None
                _hand_on(tok, credential, filling, uri)  # removes the file itself if it fails
            now = int(time.time())
            try:
                return credential, calculate_with_prompt(tok, credential, now), now, None
            except TokenError as exc:  # stored and handed on: report, but show the URI
                return credential, None, now, exc
    except BaseException:
        if pending is not None:
            pending.discard()
        raise


def cmd_enroll(args: argparse.Namespace) -> int:
    """Issue a new TOTP secret (the site's half), store it (the token's half), and check the
    token's first code against the software TOTP."""
    from .._secret_files import reserve
    from ..keys import random_secret
    from ..otp import TOTP
    from ..uri import build

    if not args.show_uri and args.uri_file is None:
        raise CLIError(
            "the site needs its half of the secret: give --show-uri (print the URI and QR code) "
            "or --uri-file FILE; nothing was stored"
        )
    secret = random_secret(20)
    uri = build("totp", secret, account=args.name, issuer=args.issuer, digest=args.digest,
                digits=args.digits, period=args.period)
    # The site's file is created (empty, 0600) before the token is touched, and filled once the
    # token holds the key: a path that cannot be written stops everything before any write.
    reservation: Reservation | None = reserve(args.uri_file) if args.uri_file else None
    credential, code, now, failure = _enroll_on_token(args, uri, reservation)
    verified = code is not None and TOTP(
        secret, digits=args.digits, digest=args.digest, interval=args.period
    ).verify(code.value, for_time=now)
    _report_enrollment(args, credential, code, verified, uri)
    if failure is not None:
        print_error(f"the account is stored and the URI handed on, but its first code could "
                    f"not be read: {failure}")
        return exit_code_for(failure)
    return EXIT_OK if verified else EXIT_NO_MATCH


def _report_enrollment(args: argparse.Namespace, credential: Credential, code: Code | None,
                       verified: bool, uri: str) -> None:
    if args.json:
        out = code_json(credential, code)
        out["verified"] = verified
        if args.show_uri:
            out["uri"] = uri
        print_json(out)
        return
    print(f"enrolled {credential.id!r} on the token")
    if code is not None:
        print(f"  token code {code.value}: "
              + ("verified by the software TOTP" if verified else "DOES NOT VERIFY"))
    if args.show_uri:
        print(uri)
        _print_qr(uri)


def _print_qr(uri: str) -> None:
    from ..errors import MissingExtra

    try:
        print_terminal_qr(
            uri, instead="write it to a file with --uri-file and draw that with "
            "'pyotp-hw uri qr - --png FILE < URI-FILE'"
        )
    except MissingExtra as exc:
        print(f"pyotp-hw: no QR code: {exc}", file=sys.stderr)
