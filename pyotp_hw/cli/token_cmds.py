"""``pyotp-hw token ...``: OATH credentials on a hardware token over PC/SC, and the virtual token.

Every command that talks to a token takes ``--reader`` (a name or part of one; asked for when
several tokens are present and the terminal is interactive) and ``--password`` (else the
``PYOTP_HW_TOKEN_PASSWORD`` environment variable, else a prompt when the token is locked).
Exit status 3 means no reader or token was found. URIs hold secrets: an argument of ``-`` is
read from standard input, and secrets are printed only when asked for.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._common import EXIT_NO_MATCH, EXIT_NO_TOKEN, EXIT_OK, CLIError, print_json
from .token_fido import add_fido_options, fido_applets

if TYPE_CHECKING:
    from ..token.oath import Code, Credential, OathSession
    from ..uri import OtpAuthURI

__all__ = ["register"]

PASSWORD_ENV = "PYOTP_HW_TOKEN_PASSWORD"  # noqa: S105 - a variable name
_PASSWORD_TRIES = 3


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``token`` command group and its subcommands."""
    group = subparsers.add_parser(
        "token",
        help="OATH accounts on a hardware token (YubiKey, Nitrokey 3) or the virtual token",
        description="Store OATH (TOTP/HOTP) accounts on a token's OATH applet and read codes "
        "from it over PC/SC. Exit status 3: no reader or token found.",
    )
    sub = group.add_subparsers(dest="token_command", metavar="SUBCOMMAND")
    sub.required = True

    conn = argparse.ArgumentParser(add_help=False)
    conn.add_argument("--reader", metavar="NAME",
                      help="the PC/SC reader to use (its name or a part of it)")
    conn.add_argument("--password", metavar="PW",
                      help=f"the token's password (default: ${PASSWORD_ENV}, else a prompt)")
    conn.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("readers", parents=[conn], help="list PC/SC readers and their tokens")
    p.set_defaults(handler=_cmd_readers)

    p = sub.add_parser("list", parents=[conn], help="list the accounts on the token")
    p.set_defaults(handler=_cmd_list)

    p = sub.add_parser("info", parents=[conn],
                       help="show the token's version, id and password state")
    p.set_defaults(handler=_cmd_info)

    p = sub.add_parser(
        "add", parents=[conn], help="store account(s) from a URI, an export or a QR image",
        description="Store the account of an otpauth:// URI, every account of an "
        "otpauth-migration:// export, or those of the QR code(s) in an image, then print the "
        "current code to type into the site's confirmation field.",
    )
    p.add_argument("uris", nargs="*", metavar="URI",
                   help="otpauth:// or otpauth-migration:// URI(s) (all batches of an export), "
                   "or - to read them from stdin, one per line")
    p.add_argument("--qr", metavar="IMAGE", help="read the URI(s) from QR codes in an image")
    p.add_argument("--touch", action="store_true", help="require a touch for every code")
    p.add_argument("--overwrite", action="store_true", help="replace an account of the same name")
    p.add_argument("--no-code", action="store_true", help="do not print the current code")
    p.set_defaults(handler=_cmd_add)

    p = sub.add_parser("code", parents=[conn], help="print current codes (all, or one account)")
    p.add_argument("name", nargs="?", metavar="NAME",
                   help="the account (full name, issuer:account, or a unique part)")
    p.add_argument("--time", type=int, metavar="UNIX", help="compute for this time instead of now")
    p.set_defaults(handler=_cmd_code)

    p = sub.add_parser("delete", parents=[conn], help="delete an account from the token")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=_cmd_delete)

    p = sub.add_parser("rename", parents=[conn], help="rename an account (issuer:account)")
    p.add_argument("old", metavar="OLD")
    p.add_argument("new", metavar="NEW", help="the new name, as issuer:account or account")
    p.set_defaults(handler=_cmd_rename)

    pw = sub.add_parser("password", help="set or clear the token's password")
    pw_sub = pw.add_subparsers(dest="password_command", metavar="ACTION")
    pw_sub.required = True
    p = pw_sub.add_parser("set", parents=[conn], help="set or change the password")
    p.add_argument("--new-password", metavar="PW",
                   help="the new password (default: asked twice on the terminal)")
    p.set_defaults(handler=_cmd_password_set)
    p = pw_sub.add_parser("clear", parents=[conn], help="remove the password")
    p.set_defaults(handler=_cmd_password_clear)

    p = sub.add_parser("reset", parents=[conn], help="erase every account and the password")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=_cmd_reset)

    p = sub.add_parser(
        "enroll", parents=[conn], help="enroll a new TOTP account: the site's and the token's half",
        description="Do both halves of an enrollment: issue a new 160-bit secret and its URI "
        "(the site's half), store it on the token (the user's half), and check that the "
        "token's first code verifies against the software implementation.",
    )
    p.add_argument("--issuer", required=True, help="the service name")
    p.add_argument("--name", required=True, help="the account name")
    p.add_argument("--digits", type=int, default=6, choices=(6, 7, 8))
    p.add_argument("--digest", default="sha1", choices=("sha1", "sha256", "sha512"))
    p.add_argument("--period", type=int, default=30, metavar="SECONDS")
    p.add_argument("--touch", action="store_true", help="require a touch for every code")
    p.add_argument("--overwrite", action="store_true", help="replace an account of the same name")
    p.add_argument("--show-uri", action="store_true",
                   help="print the URI (it holds the secret) and its QR code")
    p.add_argument("--uri-file", metavar="FILE",
                   help="write the URI (it holds the secret) to FILE, mode 0600")
    p.set_defaults(handler=_cmd_enroll)

    _register_virtual(sub)


# --- opening the token ------------------------------------------------------------------------


def _touch_prompt(credential: Credential) -> None:
    print(f"Touch the token to compute the code for {credential.label!r}...", file=sys.stderr,
          flush=True)


def _pick_reader(args: argparse.Namespace) -> str:
    from ..token import MultipleTokensFound, choose_reader

    try:
        return choose_reader(args.reader)
    except MultipleTokensFound as exc:
        if not _interactive():
            raise
        print("Several tokens are connected:", file=sys.stderr)
        for i, name in enumerate(exc.readers, 1):
            print(f"  {i}. {name}", file=sys.stderr)
        answer = input(f"Use which one? [1-{len(exc.readers)}] ").strip()
        if not answer.isdigit() or not 1 <= int(answer) <= len(exc.readers):
            raise CLIError("no token chosen") from None
        return exc.readers[int(answer) - 1]


def _open(args: argparse.Namespace, *, unlock: bool = True) -> OathSession:
    from ..token import WrongPassword
    from ..token.oath import OathSession
    from ..token.pcsc import PcscConnection

    reader = _pick_reader(args)
    connection = PcscConnection(reader)
    try:
        session = OathSession(connection, reader=reader, on_touch=_touch_prompt)
        if not unlock or not session.info.locked:
            return session
        given = args.password if args.password is not None else os.environ.get(PASSWORD_ENV)
        if given is not None:
            session.unlock(given)
            return session
        if not _interactive():
            raise CLIError(
                f"the token is locked: give its password with --password or ${PASSWORD_ENV}"
            )
        word = "PIN" if session.info.uses_pin else "password"
        for attempt in range(_PASSWORD_TRIES):
            try:
                session.unlock(getpass.getpass(f"Token {word}: "))
                return session
            except WrongPassword as exc:
                if attempt == _PASSWORD_TRIES - 1:
                    raise
                print(f"pyotp-hw: {exc}", file=sys.stderr)
        raise AssertionError("unreachable")  # pragma: no cover
    except BaseException:
        connection.close()
        raise


# --- reading ----------------------------------------------------------------------------------


def _cmd_readers(args: argparse.Namespace) -> int:
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
        print(f"{r.name}: {state}")
    return EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    with _open(args) as tok:
        creds = tok.list()
    if args.json:
        print_json([c.to_dict() for c in creds])
        return EXIT_OK
    for c in creds:
        extra = f"{c.period} s" if c.oath_type == "totp" else ""
        digest = (c.digest or "?").upper()
        print(f"{c.id}\t{c.oath_type.upper()}\t{digest}\t{extra}".rstrip())
    return EXIT_OK


def _cmd_info(args: argparse.Namespace) -> int:
    with _open(args, unlock=False) as tok:
        info = tok.info
        count: int | None = None
        if not info.locked:
            count = len(tok.list())
    data = info.to_dict()
    data["accounts"] = count
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


def _code_json(credential: Credential, code: Code | None) -> dict[str, Any]:
    out: dict[str, Any] = {"credential": credential.to_dict()}
    out.update(code.to_dict() if code is not None else {"code": None})
    return out


def _cmd_code(args: argparse.Namespace) -> int:
    now = int(time.time()) if args.time is None else args.time
    with _open(args) as tok:
        if args.name is not None:
            credential = tok.find(args.name, fuzzy=True)
            results: list[tuple[Credential, Code | None]] = [
                (credential, tok.calculate(credential, for_time=now))
            ]
        else:
            results = list(tok.calculate_all(for_time=now).items())
    if args.json:
        payload = [_code_json(c, k) for c, k in results]
        print_json(payload[0] if args.name is not None else payload)
        return EXIT_OK
    if args.name is not None:
        print(results[0][1].value if results[0][1] is not None else "")
        return EXIT_OK
    for credential, code in results:
        print(_code_line(credential, code, now))
    return EXIT_OK


# --- writing ----------------------------------------------------------------------------------


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

        found = [
            t for t in qr.read_image(args.qr)
            if t.lower().startswith(("otpauth://", "otpauth-migration://"))
        ]
        if not found:
            raise CLIError(f"no otpauth QR code found in {args.qr!r}")
        texts.extend(found)
    if not texts:
        raise CLIError("give a URI (or - for stdin) or --qr IMAGE")
    return texts


def _cmd_add(args: argparse.Namespace) -> int:
    import warnings

    from ..token.errors import CredentialExists
    from ..token.oath import CredentialData

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # parser notes are kept in each entry's warnings
        entries = _entries_from(_collect_uris(args))
    # Check everything before writing anything: a bad entry must not leave half an import.
    datas = [CredentialData.from_uri(e) for e in entries]
    ids = [d.id for d in datas]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CLIError(f"the input holds several accounts named {', '.join(map(repr, duplicates))}")
    for entry in entries:
        for note in entry.warnings:
            print(f"pyotp-hw: note: {entry.label}: {note}", file=sys.stderr)
    results: list[dict[str, Any]] = []
    with _open(args) as tok:
        if not args.overwrite:
            present = {c.raw_id for c in tok.list()}
            clash = [d.id for d in datas if d.raw_id in present]
            if clash:
                raise CredentialExists(
                    f"already on the token: {', '.join(map(repr, clash))} "
                    "(use --overwrite to replace)"
                )
        for data in datas:
            credential = tok.put(data, touch=args.touch, overwrite=args.overwrite)
            row: dict[str, Any] = {"credential": credential.to_dict(), "code": None}
            if not args.no_code:
                now = int(time.time())
                code = tok.calculate(credential, for_time=now)
                row.update(code.to_dict())
            results.append(row)
            if not args.json:
                kind = data.oath_type.upper()
                detail = f"{kind}, {data.digest.upper()}, {data.digits} digits"
                if data.oath_type == "totp":
                    detail += f", {data.period} s"
                print(f"stored {credential.id!r} ({detail})")
                if row["code"] is not None:
                    left = ("" if row["valid_to"] is None
                            else f" (valid for {max(row['valid_to'] - int(time.time()), 0)} s)")
                    print(f"  code to confirm: {row['code']}{left}")
    if args.json:
        print_json(results)
    return EXIT_OK


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not _interactive():
        raise CLIError("this cannot be undone: add --yes to confirm")
    if input(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
        raise CLIError("cancelled")


def _cmd_delete(args: argparse.Namespace) -> int:
    with _open(args) as tok:
        credential = tok.find(args.name)
        _confirm(f"Delete {credential.id!r} from the token?", args.yes)
        tok.delete(credential)
    if args.json:
        print_json({"deleted": credential.to_dict()})
    else:
        print(f"deleted {credential.id!r}")
    return EXIT_OK


def _cmd_rename(args: argparse.Namespace) -> int:
    with _open(args) as tok:
        old = tok.find(args.old)
        new = tok.rename(old, args.new)
    if args.json:
        print_json({"old": old.to_dict(), "new": new.to_dict()})
    else:
        print(f"renamed {old.id!r} to {new.id!r}")
    return EXIT_OK


def _new_password(args: argparse.Namespace) -> str:
    if args.new_password is not None:
        return str(args.new_password)
    if not _interactive():
        raise CLIError("give the new password with --new-password")
    first = getpass.getpass("New password: ")
    if first != getpass.getpass("Repeat it: "):
        raise CLIError("the two passwords differ")
    return first


def _cmd_password_set(args: argparse.Namespace) -> int:
    with _open(args) as tok:
        new = _new_password(args)
        if not new:
            raise CLIError("the new password is empty")
        current = args.password if args.password is not None else os.environ.get(PASSWORD_ENV)
        tok.set_password(new, current=current)
    if args.json:
        print_json({"password_set": True})
    else:
        print("password set")
    return EXIT_OK


def _cmd_password_clear(args: argparse.Namespace) -> int:
    with _open(args) as tok:
        tok.clear_password()
    if args.json:
        print_json({"password_set": False})
    else:
        print("password removed")
    return EXIT_OK


def _cmd_reset(args: argparse.Namespace) -> int:
    with _open(args, unlock=False) as tok:
        _confirm(f"Erase every account and the password of the token in {tok.reader!r}?",
                 args.yes)
        tok.reset()
        info = tok.info
    if args.json:
        print_json({"reset": True, "device_id": info.device_id})
    else:
        print(f"token reset (new device id {info.device_id})")
    return EXIT_OK


def _cmd_enroll(args: argparse.Namespace) -> int:
    from ..keys import random_secret
    from ..otp import TOTP
    from ..uri import build

    secret = random_secret(20)
    uri = build("totp", secret, account=args.name, issuer=args.issuer, digest=args.digest,
                digits=args.digits, period=args.period)
    with _open(args) as tok:
        credential = tok.put(uri, touch=args.touch, overwrite=args.overwrite)
        now = int(time.time())
        code = tok.calculate(credential, for_time=now)
    software = TOTP(secret, digits=args.digits, digest=args.digest, interval=args.period)
    verified = software.verify(code.value, for_time=now)
    if args.uri_file is not None:
        _write_private(Path(args.uri_file), uri + "\n")
    if args.json:
        out: dict[str, Any] = {"credential": credential.to_dict(), **code.to_dict(),
                               "verified": verified}
        if args.show_uri:
            out["uri"] = uri
        print_json(out)
    else:
        print(f"enrolled {credential.id!r} on the token")
        print(f"  token code {code.value}: "
              + ("verified by the software TOTP" if verified else "DOES NOT VERIFY"))
        if args.show_uri:
            print(uri)
            _print_qr(uri)
    return EXIT_OK if verified else EXIT_NO_MATCH


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(text)


def _print_qr(uri: str) -> None:
    from ..errors import MissingExtra

    try:
        from .. import qr

        print(qr.render_terminal(uri))
    except MissingExtra as exc:
        print(f"pyotp-hw: no QR code: {exc}", file=sys.stderr)


# --- the virtual token --------------------------------------------------------------------------


def _register_virtual(sub: argparse._SubParsersAction[Any]) -> None:
    from ..token.virtual.state import PASSPHRASE_ENV
    from ..token.virtual.vpcd import DEFAULT_PORT

    p = sub.add_parser(
        "virtual",
        help="serve the virtual token to pcscd's vpcd reader until stopped",
        description="Run the software OATH token and connect it to vpcd (Debian's "
        "vsmartcard-vpcd reader driver inside pcscd), so that any PC/SC client sees a token. "
        "Without --state nothing is written to disk. A state file is sealed under a "
        f"passphrase from ${PASSPHRASE_ENV} (or a prompt) unless --plaintext-state is given.",
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="vpcd's TCP port")
    p.add_argument("--host", default="127.0.0.1", help="vpcd's address (default: loopback)")
    p.add_argument("--state", metavar="FILE", help="keep the token's state in FILE")
    p.add_argument("--plaintext-state", action="store_true",
                   help="write the state file unsealed (its secrets in clear text)")
    p.add_argument("--passphrase-env", default=PASSPHRASE_ENV, metavar="VAR",
                   help="environment variable holding the state passphrase")
    p.add_argument("--profile", choices=("yubikey", "nitrokey3"), default="yubikey",
                   help="behave like a YubiKey (default) or a Nitrokey 3")
    p.add_argument("--touch", choices=("auto", "never"), default="auto",
                   help="simulated touches: given after --touch-delay (auto) or never")
    p.add_argument("--touch-delay", type=float, default=0.5, metavar="S")
    p.add_argument("--touch-timeout", type=float, default=15.0, metavar="S")
    p.add_argument("--capacity", type=int, metavar="N", help="maximum number of accounts")
    p.add_argument("--stall-on", action="append", default=[], metavar="INS",
                   help=argparse.SUPPRESS)  # fault injection for tests (hex instruction)
    add_fido_options(p)
    p.set_defaults(handler=_cmd_virtual)


def _state_store(args: argparse.Namespace) -> Any:
    from ..token.virtual.state import FileStore, MemoryStore, PassphraseSealer

    if args.state is None:
        if args.plaintext_state:
            raise CLIError("--plaintext-state needs --state FILE")
        return MemoryStore()
    if args.plaintext_state:
        print("pyotp-hw: warning: the state file holds the token's secrets in clear text",
              file=sys.stderr)
        return FileStore(args.state, plaintext=True)
    passphrase = os.environ.get(args.passphrase_env)
    if passphrase is None:
        if not _interactive():
            raise CLIError(
                f"the state file is sealed under a passphrase: set ${args.passphrase_env} "
                "(or use --plaintext-state)"
            )
        passphrase = getpass.getpass("Passphrase for the virtual token's state: ")
    return FileStore(args.state, PassphraseSealer(passphrase))


class _Stopped(Exception):
    """The virtual token was asked to stop while a command was stalled."""


def _cmd_virtual(args: argparse.Namespace) -> int:
    import signal
    import threading

    from ..token.apdu import Command
    from ..token.virtual import TouchPolicy, make_card
    from ..token.virtual.vpcd import serve

    try:
        stall = [int(v, 16) for v in args.stall_on]
    except ValueError:
        raise CLIError("--stall-on takes hexadecimal instruction bytes") from None
    if not 0 < args.port < 65535:
        raise CLIError("--port must be between 1 and 65534")
    stop = threading.Event()
    touch = TouchPolicy(args.touch, delay=args.touch_delay, timeout=args.touch_timeout)

    def on_stall(command: Command) -> None:
        print(f"virtual token: stalled on INS {command.ins:02X}", file=sys.stderr, flush=True)
        stop.wait()
        raise _Stopped

    store = _state_store(args)
    card = make_card(store=store, profile=args.profile, touch=touch,
                     capacity=args.capacity, stall_on=stall, on_stall=on_stall,
                     extra_applets=fido_applets(args, store, touch))

    def request_stop(signum: int, frame: object) -> None:
        stop.set()
        touch.cancel.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    where = args.state if args.state else "memory only"
    print(f"virtual token ({args.profile}) for vpcd at {args.host}:{args.port}; state: {where}",
          file=sys.stderr, flush=True)

    connected_once = threading.Event()

    def connected() -> None:
        connected_once.set()
        print("virtual token: connected to the reader", file=sys.stderr, flush=True)

    def still_waiting() -> None:
        if not connected_once.is_set() and not stop.is_set():
            print(f"virtual token: still waiting for vpcd at {args.host}:{args.port} "
                  "(is pcscd running with the vpcd reader driver?)", file=sys.stderr, flush=True)

    reminder = threading.Timer(3.0, still_waiting)
    reminder.daemon = True
    reminder.start()
    try:
        serve(card, host=args.host, port=args.port, stop=stop, on_connect=connected)
    except _Stopped:
        pass
    finally:
        reminder.cancel()
    print("virtual token: stopped", file=sys.stderr, flush=True)
    return EXIT_OK
