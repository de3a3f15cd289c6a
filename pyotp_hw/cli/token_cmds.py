"""``pyotp-hw token ...``: OATH credentials on a hardware token over PC/SC, and the virtual token.

Every command that talks to a token takes ``--reader`` (a name or part of one; asked for when
several tokens are present and the terminal is interactive) or ``--device`` (a device id), also
before the subcommand, and ``--password`` (else the ``PYOTP_HW_TOKEN_PASSWORD`` environment
variable, else a key remembered with ``--remember``, else a prompt when the token is locked).
Exit status 3 means no reader or token was found. URIs hold secrets: an argument of ``-`` is
read from standard input, and secrets are printed only when asked for.

This module builds the parsers and runs the virtual token; the commands live in
:mod:`.token_read`, :mod:`.token_add` and :mod:`.token_write`, and what they share around the
library (reader choice, password and touch prompts, the name search) in :mod:`.token_session`.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from ._common import EXIT_OK, CLIError, print_warning
from .token_add import register_add
from .token_fido import add_fido_options, fido_applets
from .token_read import cmd_code, cmd_info, cmd_list, cmd_readers
from .token_session import PASSWORD_ENV, interactive
from .token_write import (
    cmd_delete,
    cmd_enroll,
    cmd_password_clear,
    cmd_password_forget,
    cmd_password_set,
    cmd_rename,
    cmd_reset,
)

if TYPE_CHECKING:
    import threading

    from ..token.virtual import Applet, Command, StateStore, TouchPolicy, VirtualCard

    _Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["register"]

def register(subparsers: _Subparsers) -> None:
    """Add the ``token`` command group and its subcommands."""
    group = subparsers.add_parser(
        "token",
        help="OATH accounts on a hardware token (YubiKey, Nitrokey 3) or the virtual token",
        description="Store OATH (TOTP/HOTP) accounts on a token's OATH applet and read codes "
        "from it over PC/SC. Exit status 3: no reader or token found.",
    )
    # Accepted before the subcommand too, as ykman takes them (ykman --reader X oath ...).
    group.add_argument("--reader", dest="reader_before", metavar="NAME",
                       help="the PC/SC reader to use (its name or a part of it)")
    group.add_argument("--device", dest="device_before", metavar="ID",
                       help="the token whose device id is ID ('pyotp-hw token readers' shows "
                       "them)")
    sub = group.add_subparsers(dest="token_command", metavar="SUBCOMMAND")
    sub.required = True

    conn = argparse.ArgumentParser(add_help=False)
    conn.add_argument("--reader", metavar="NAME",
                      help="the PC/SC reader to use (its name or a part of it)")
    conn.add_argument("--device", metavar="ID",
                      help="the token whose device id is ID (among the readers --reader names)")
    conn.add_argument("--password", metavar="PW",
                      help=f"the token's password (default: ${PASSWORD_ENV}, else a key "
                      "remembered with --remember, else a prompt)")
    conn.add_argument("-r", "--remember", action="store_true",
                      help="remember the password on this machine (the access key it derives, "
                      "kept per device id in $XDG_CONFIG_HOME/pyotp-hw, mode 0600), as ykman "
                      "does; later commands unlock the token with it")
    conn.add_argument("--json", action="store_true", help="print JSON")

    _register_reading(sub, conn)
    _register_writing(sub, conn)
    _register_enroll(sub, conn)
    _register_virtual(sub)


def _register_reading(sub: _Subparsers, conn: argparse.ArgumentParser) -> None:
    p = sub.add_parser("readers", parents=[conn], help="list PC/SC readers and their tokens")
    p.set_defaults(handler=cmd_readers)

    hidden = argparse.ArgumentParser(add_help=False)
    hidden.add_argument("-H", "--show-hidden", action="store_true",
                        help="include hidden accounts (issuer '_hidden', as ykman hides them)")

    p = sub.add_parser("list", parents=[conn, hidden],
                       help="list the accounts on the token (sorted as ykman sorts them)")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("info", parents=[conn],
                       help="show the token's version, id and password state")
    p.set_defaults(handler=cmd_info)

    p = sub.add_parser(
        "code", parents=[conn, hidden],
        help="print current codes (all, or the accounts NAME matches)",
        description="Print the current code of every account, or of the accounts NAME "
        "matches as ykman matches them: the account whose full name is NAME, else every "
        "account whose name contains NAME in any letter case. One match: its code alone (an "
        "HOTP or touch account is computed); several: each one's line, as without NAME, "
        "sorted by issuer and name as ykman sorts them.",
    )
    p.add_argument("name", nargs="?", metavar="NAME",
                   help="the account: its full name, or a part of it")
    p.add_argument("-s", "--single", action="store_true",
                   help="exactly one account must match (several are an error); print its code")
    p.add_argument("--time", type=int, metavar="UNIX", help="compute for this time instead of now")
    p.set_defaults(handler=cmd_code)


def _register_writing(sub: _Subparsers, conn: argparse.ArgumentParser) -> None:
    register_add(sub, conn)

    p = sub.add_parser("delete", parents=[conn], help="delete an account from the token")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=cmd_delete)

    p = sub.add_parser("rename", parents=[conn], help="rename an account (issuer:account)")
    p.add_argument("old", metavar="OLD")
    p.add_argument("new", metavar="NEW", help="the new name, as issuer:account or account")
    p.set_defaults(handler=cmd_rename)

    pw = sub.add_parser("password",
                        help="set, clear or forget (on this machine) the token's password")
    pw_sub = pw.add_subparsers(dest="password_command", metavar="ACTION")
    pw_sub.required = True
    p = pw_sub.add_parser("set", parents=[conn], help="set or change the password")
    p.add_argument("--new-password", metavar="PW",
                   help="the new password (default: asked twice on the terminal)")
    p.set_defaults(handler=cmd_password_set)
    p = pw_sub.add_parser("clear", parents=[conn], help="remove the password")
    p.set_defaults(handler=cmd_password_clear)
    p = pw_sub.add_parser(
        "forget", parents=[conn], help="forget the password remembered for a token (or all)",
        description="Forget the access key remembered for the token (the one --reader or "
        "--device names; --device ID alone works without the token), or every remembered key.",
    )
    p.add_argument("-a", "--all", action="store_true", help="forget every remembered password")
    p.set_defaults(handler=cmd_password_forget)

    p = sub.add_parser("reset", parents=[conn], help="erase every account and the password")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=cmd_reset)


def _register_enroll(sub: _Subparsers, conn: argparse.ArgumentParser) -> None:
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
                   help="write the URI (it holds the secret) to FILE, a new file of mode 0600 "
                   "(an existing file or a symbolic link is refused). One of --show-uri and "
                   "--uri-file is required")
    p.set_defaults(handler=cmd_enroll)


# --- the virtual token --------------------------------------------------------------------------


def _register_virtual(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ..token.virtual import DEFAULT_PORT, PASSPHRASE_ENV

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


def _state_store(args: argparse.Namespace) -> StateStore:
    from ..secret_files import check_output
    from ..token.virtual import FileStore, MemoryStore, PassphraseSealer

    if args.state is None:
        if args.plaintext_state:
            raise CLIError("--plaintext-state needs --state FILE")
        return MemoryStore()
    check_output(args.state, replace=True)  # before a passphrase is asked for
    if args.plaintext_state:
        print("pyotp-hw: warning: the state file holds the token's secrets in clear text",
              file=sys.stderr)
        return FileStore(args.state, plaintext=True)
    passphrase = os.environ.get(args.passphrase_env)
    if passphrase is None:
        if not interactive():
            raise CLIError(
                f"the state file is sealed under a passphrase: set ${args.passphrase_env} "
                "(or use --plaintext-state)"
            )
        passphrase = getpass.getpass("Passphrase for the virtual token's state: ")
    return FileStore(args.state, PassphraseSealer(passphrase))


class _Stopped(Exception):
    """The virtual token was asked to stop while a command was stalled."""


def _fido_after_oath(args: argparse.Namespace, store: StateStore | None, touch: TouchPolicy | None
                     ) -> Iterator[Applet]:
    """The FIDO2 applets, built only when ``make_card`` has opened the OATH state.

    A state file with the wrong protection is then reported once, for the file the user named,
    before the FIDO2 side says anything about its sibling file.
    """
    yield from fido_applets(args, store, touch)


def _cmd_virtual(args: argparse.Namespace) -> int:
    import signal
    import threading

    from ..token.virtual import TouchPolicy

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

    card = _virtual_card(args, _state_store(args), touch, stall, on_stall)

    def request_stop(signum: int, frame: object) -> None:
        stop.set()
        touch.cancel.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    where = args.state if args.state else "memory only"
    print(f"virtual token ({args.profile}) for vpcd at {args.host}:{args.port}; state: {where}",
          file=sys.stderr, flush=True)
    _serve_virtual(args, card, stop)
    print("virtual token: stopped", file=sys.stderr, flush=True)
    return EXIT_OK


def _virtual_card(args: argparse.Namespace, store: StateStore, touch: TouchPolicy,
                  stall: list[int], on_stall: Callable[[Command], None]) -> VirtualCard:
    """The virtual card over ``store``, its FIDO2 applets opened after the OATH state.

    A state file of the other protection than the one asked for, or one that cannot be
    written, is a :class:`CLIError` that says what to do.
    """
    from ..token import StateProtectionMismatch
    from ..token.virtual import make_card

    try:
        return make_card(store=store, profile=args.profile, touch=touch,
                         capacity=args.capacity, stall_on=stall, on_stall=on_stall,
                         extra_applets=_fido_after_oath(args, store, touch))
    except StateProtectionMismatch as exc:
        if exc.sealed:
            raise CLIError(
                f"{args.state} is sealed under a passphrase: run without --plaintext-state and "
                f"give the passphrase in ${args.passphrase_env} (or at the prompt)"
            ) from None
        raise CLIError(
            f"{args.state} is not sealed (its secrets are in clear text): add --plaintext-state "
            "to use it"
        ) from None
    except OSError as exc:  # the first save of a new state file
        raise CLIError(
            f"cannot write the state file {args.state}: {exc.strerror or type(exc).__name__}"
        ) from None


def _serve_virtual(args: argparse.Namespace, card: VirtualCard, stop: threading.Event) -> None:
    """Serve ``card`` to vpcd until ``stop`` is set, saying on stderr when vpcd connects (with a
    warning, once, when its port is open on every interface) and while it has not yet."""
    import threading

    from ..token.virtual import exposed_listeners, serve

    connected_once = threading.Event()

    def connected() -> None:
        first = not connected_once.is_set()
        connected_once.set()
        print("virtual token: connected to the reader", file=sys.stderr, flush=True)
        exposed = exposed_listeners(args.port) if first else []
        if exposed:
            print_warning(
                f"vpcd listens on port {args.port} of every interface ({', '.join(exposed)}), "
                "so a host on the network could connect to this reader as a card while this "
                "token is not connected; vpcd cannot bind to loopback only: block the port with "
                "a firewall, or use pyotp_hw.token.rig.PcscRig (a private network namespace)"
            )

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
