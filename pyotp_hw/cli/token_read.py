"""``pyotp-hw token readers|list|info|code``: what is connected, what is stored, the codes."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from ._common import EXIT_NO_TOKEN, EXIT_OK, print_json
from .token_session import (
    calculate_with_prompt,
    is_hidden,
    key_store,
    open_session,
    ordered,
    search,
)

if TYPE_CHECKING:
    from ..token import Code, Credential, OathSession

__all__ = ["cmd_readers", "cmd_list", "cmd_info", "cmd_code", "code_json"]


def cmd_readers(args: argparse.Namespace) -> int:
    """List the PC/SC readers and what they hold."""
    from ..token import list_readers

    readers = list_readers()
    if args.json:
        print_json([r.to_dict() for r in readers])
        return EXIT_OK
    if not readers:
        print("no smart card reader found", file=sys.stderr)
        return EXIT_NO_TOKEN
    for r in readers:
        state = "OATH token" if r.oath else ("busy" if r.busy else
                                             ("card (no OATH applet)" if r.card_present
                                              else "empty"))
        print(f"{r.name}: {state}" + (f" (device id {r.device_id})" if r.device_id else ""))
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    """List the accounts on the token, in ykman's order (hidden ones with ``--show-hidden``)."""
    with open_session(args) as tok:
        creds = [c for c in ordered(tok.list()) if args.show_hidden or not is_hidden(c)]
    if args.json:
        print_json([c.to_dict() for c in creds])
        return EXIT_OK
    for c in creds:
        extra = f"{c.period} s" if c.oath_type == "totp" else ""
        digest = (c.digest or "?").upper()
        print(f"{c.id}\t{c.oath_type.upper()}\t{digest}\t{extra}".rstrip())
    return EXIT_OK


def cmd_info(args: argparse.Namespace) -> int:
    """Show the token's version, device id and password state."""
    with open_session(args, unlock=False) as tok:
        info = tok.info
        count: int | None = None
        if not info.locked:
            count = len(tok.list())
    remembered = info.password_set and info.device_id in key_store()
    data: dict[str, object] = {**info.to_dict(), "accounts": count, "remembered": remembered}
    if args.json:
        print_json(data)
        return EXIT_OK
    print(f"reader:       {info.reader}")
    print(f"OATH version: {info.version_text}")
    print(f"device id:    {info.device_id}")
    if info.serial is not None:
        print(f"serial:       {info.serial}")
    kind = "PIN" if info.uses_pin else "password"
    state = ("set, locked" if info.locked else "set") if info.password_set else "not set"
    if remembered:
        state += ", remembered on this machine"
    print(f"{kind}:{' ' * (13 - len(kind))}{state}")
    if info.pin_retries is not None:
        print(f"PIN tries:    {info.pin_retries}")
    print(f"accounts:     {count if count is not None else '(locked)'}")
    return EXIT_OK


def _code_line(credential: Credential, code: Code | None, now: int) -> str:
    if code is None:
        why = "HOTP" if credential.oath_type == "hotp" else "touch required"
        return f"{credential.id}\t[{why}: run 'pyotp-hw token code NAME']"
    if code.valid_to is None:
        return f"{credential.id}\t{code.value}"
    return f"{credential.id}\t{code.value}\t({max(code.valid_to - now, 0)} s left)"


def code_json(credential: Credential, code: Code | None) -> dict[str, object]:
    """One credential and its code (or a null code) as printed by ``--json``."""
    out: dict[str, object] = {"credential": credential.to_dict()}
    out.update(code.to_dict() if code is not None else {"code": None})
    return out


def _codes_for(tok: OathSession, args: argparse.Namespace, now: int
               ) -> tuple[list[tuple[Credential, Code | None]], bool]:
    """The rows to show, in ykman's order, and whether they answer for one account.

    The query is searched as ykman searches (LIST and CALCULATE ALL name the same ids); one
    match is computed alone (a Nitrokey 3, which has no CALCULATE ALL, is not asked for every
    other code), several are shown from one CALCULATE ALL. With ``--single`` the query (or,
    without one, the token) must name one account.
    """
    from ..token import AmbiguousCredential, NoSuchCredential

    query = args.name
    if query is None and not args.single:
        codes = tok.calculate_all(for_time=now)
        return [(c, codes[c]) for c in ordered(codes) if args.show_hidden or not is_hidden(c)
                ], False
    matches = ordered(search(tok.list(), query or "", show_hidden=args.show_hidden))
    if not matches:
        if query is None:
            raise NoSuchCredential("there is no account on the token")
        raise NoSuchCredential(f"no such account on the token: {query!r}")
    if len(matches) == 1:  # named: computed even when it is HOTP or needs a touch
        return [(matches[0], calculate_with_prompt(tok, matches[0], now))], True
    if args.single:
        raise AmbiguousCredential(query if query is not None else "", [c.id for c in matches])
    # Several accounts match: show them all, as the full list shows them (ykman does too).
    codes = tok.calculate_all(for_time=now)
    return [(c, codes.get(c)) for c in matches], False


def cmd_code(args: argparse.Namespace) -> int:
    """Print the current codes: all of them, one account's, or those a query matches."""
    now = int(time.time()) if args.time is None else args.time
    with open_session(args) as tok:
        results, single = _codes_for(tok, args, now)
    if args.json:
        payload = [code_json(c, k) for c, k in results]
        print_json(payload[0] if single else payload)
        return EXIT_OK
    if single:
        code = results[0][1]
        print(code.value if code is not None else "")
        return EXIT_OK
    for credential, code in results:
        print(_code_line(credential, code, now))
    return EXIT_OK
