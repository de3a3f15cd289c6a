"""``pyotp-hw vault ...``: seeds sealed under a FIDO2 key, an OATH token or a passphrase.

Every command takes ``--vault FILE``. Commands that open the vault take one unlocker:
``--passphrase`` (asked for, or ``$PYOTP_HW_VAULT_PASSPHRASE``), ``--fido2`` (the security key;
its PIN is asked for only when the key needs it, or ``$PYOTP_HW_FIDO2_PIN``) or ``--token`` (an
OATH token), with ``--reader NAME`` to pick the reader. ``add-unlocker KIND`` enrolls a new one
(a new passphrase comes from ``$PYOTP_HW_VAULT_NEW_PASSPHRASE`` or is asked for twice; a new key
or token from ``--new-reader``). Prompts and notices go to stderr; listings take ``--json``.
URIs given as ``-`` are read from standard input, one per line.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._common import EXIT_NO_TOKEN, EXIT_OK, CLIError, print_json

if TYPE_CHECKING:
    from fido2.ctap import CtapDevice

    from ..vault import Unlocker, Vault

__all__ = ["register", "PASSPHRASE_ENV", "NEW_PASSPHRASE_ENV", "PIN_ENV"]

PASSPHRASE_ENV = "PYOTP_HW_VAULT_PASSPHRASE"  # noqa: S105 - a variable name
NEW_PASSPHRASE_ENV = "PYOTP_HW_VAULT_NEW_PASSPHRASE"  # noqa: S105 - a variable name
PIN_ENV = "PYOTP_HW_FIDO2_PIN"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``vault`` command group."""
    group = subparsers.add_parser(
        "vault", help="seeds sealed under a FIDO2 key, an OATH token or a passphrase",
        description="A file of seeds sealed under a random data key that any enrolled unlocker "
        "(FIDO2 security key, OATH token, passphrase) opens.")
    sub = group.add_subparsers(dest="vault_command", metavar="SUBCOMMAND")
    sub.required = True

    init = sub.add_parser("init", help="create a vault with its first unlocker",
                          description="Create a new vault file with one unlocker.")
    _open_options(init)
    _uv_option(init)
    init.set_defaults(handler=_cmd_init)

    add = sub.add_parser("add-unlocker", help="enroll another unlocker (opens the vault first)",
                         description="Open the vault, then enroll KIND as another unlocker.")
    add.add_argument("kind", choices=("passphrase", "fido2", "token"), metavar="KIND",
                     help="passphrase, fido2 or token")
    _open_options(add)
    add.add_argument("--new-reader", metavar="NAME", help="reader of the new key or token")
    _uv_option(add)
    add.set_defaults(handler=_cmd_add)

    remove = sub.add_parser("remove-unlocker", help="remove an unlocker (never the last)",
                            description="Open the vault, then remove slot SLOT (and rotate the "
                            "data key).")
    remove.add_argument("slot", metavar="SLOT", help="the slot id (see list-unlockers)")
    _open_options(remove)
    remove.set_defaults(handler=_cmd_remove)

    slots = sub.add_parser("list-unlockers", help="list the unlocker slots (no unlock needed)",
                           description="List the vault's unlocker slots.")
    _file_option(slots)
    slots.add_argument("--json", action="store_true", help="print JSON")
    slots.set_defaults(handler=_cmd_slots)

    imp = sub.add_parser("import", help="add seeds from otpauth:// URIs",
                         description="Add seeds from otpauth:// URIs (- reads them from stdin).")
    imp.add_argument("uris", nargs="+", metavar="URI")
    _open_options(imp)
    imp.add_argument("--replace", action="store_true", help="replace seeds of the same name")
    imp.set_defaults(handler=_cmd_import)

    lst = sub.add_parser("list", help="list the seeds' names", description="List the seeds.")
    _open_options(lst)
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(handler=_cmd_list)

    code = sub.add_parser("code", help="print the current code of a seed",
                          description="Print the current code of seed NAME.")
    code.add_argument("name", metavar="NAME")
    _open_options(code)
    code.add_argument("--time", type=int, metavar="UNIX", help="time of the code (TOTP)")
    code.set_defaults(handler=_cmd_code)

    rekey = sub.add_parser("rekey", help="rotate the data key, or one unlocker (--unlocker)",
                           description="Rotate the data key (every slot re-wrapped, contents "
                           "re-sealed), or with --unlocker SLOT rotate that slot (the unlocker "
                           "given opens it and is enrolled afresh, keeping the slot's own UV "
                           "or touch setting unless --uv says otherwise).")
    _open_options(rekey)
    rekey.add_argument("--unlocker", metavar="SLOT", help="rotate this slot instead")
    rekey.add_argument("--uv", choices=("discouraged", "required"), default=None,
                       help="FIDO2 with --unlocker: the rotated slot's user verification "
                       "(default: the slot's own choice)")
    rekey.set_defaults(handler=_cmd_rekey)


def _file_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--vault", required=True, metavar="FILE", help="the vault file")


def _open_options(p: argparse.ArgumentParser) -> None:
    _file_option(p)
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--passphrase", action="store_true",
                     help=f"a passphrase (asked for, or ${PASSPHRASE_ENV})")
    how.add_argument("--fido2", action="store_true",
                     help=f"a FIDO2 security key (PIN asked for when needed, or ${PIN_ENV})")
    how.add_argument("--token", action="store_true", help="an OATH token (YubiKey, Nitrokey)")
    p.add_argument("--reader", metavar="NAME", help="the reader of the key or token")


def _uv_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--uv", choices=("discouraged", "required"), default="discouraged",
                   help="FIDO2: verify the user (PIN) at every unlock; fixed at enrollment")


def _notice(text: str) -> None:
    print(f"pyotp-hw: {text}", file=sys.stderr, flush=True)


def _secret(env: str, prompt: str, *, twice: bool = False) -> str:
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        raise CLIError(f"no terminal to ask for the {prompt}; set ${env}")
    value = getpass.getpass(f"{prompt}: ")
    if twice and getpass.getpass(f"{prompt} again: ") != value:
        raise CLIError(f"the two {prompt}s differ")
    return value


def _pin() -> str | None:
    value = os.environ.get(PIN_ENV)
    if value:
        return value
    if not sys.stdin.isatty():
        raise CLIError(f"the security key needs its PIN: no terminal to ask; set ${PIN_ENV}")
    return getpass.getpass("security key PIN: ") or None


class Resources:
    """Devices and sessions opened for unlockers, closed at the end of the command."""

    def __init__(self) -> None:
        self.closers: list[Callable[[], None]] = []

    def __enter__(self) -> Resources:
        return self

    def __exit__(self, *exc: object) -> None:
        for close in reversed(self.closers):
            close()

    def unlocker(self, kind: str, reader: str | None, *, uv: str | None = None,
                 new: bool = False) -> Unlocker:
        from ..vault import Fido2Unlocker, OathTokenUnlocker, Passphrase

        if kind == "passphrase":
            if new:
                return Passphrase(_secret(NEW_PASSPHRASE_ENV, "new vault passphrase",
                                          twice=True))
            return Passphrase(_secret(PASSPHRASE_ENV, "vault passphrase"))
        if kind == "fido2":
            device = self._fido_device(reader)
            _notice("touch your security key when it blinks (every unlock needs a touch)")
            return Fido2Unlocker(device, pin=_pin, uv=uv,  # type: ignore[arg-type]  # a checked choice
                                 on_touch=lambda: _notice("touch your security key"))
        from ..token import open_token

        session = open_token(reader)
        self.closers.append(session.close)
        return OathTokenUnlocker(session)

    def _fido_device(self, reader: str | None) -> CtapDevice:
        from ..vault import find_devices

        devices = find_devices(reader)
        if not devices:
            where = f" on a reader named {reader!r}" if reader else ""
            raise CLIError(f"no FIDO2 security key found{where}", EXIT_NO_TOKEN)
        if len(devices) > 1:
            for extra in devices[1:]:
                extra.close()
            devices[0].close()
            raise CLIError(f"{len(devices)} FIDO2 security keys found: choose one with "
                           "--reader NAME")
        self.closers.append(devices[0].close)
        return devices[0]


def _kind(args: argparse.Namespace) -> str:
    return "passphrase" if args.passphrase else "fido2" if args.fido2 else "token"


def _open(args: argparse.Namespace, res: Resources) -> Vault:
    from ..vault import Vault

    return Vault.open(args.vault, res.unlocker(_kind(args), args.reader))


def _cmd_init(args: argparse.Namespace) -> int:
    from ..vault import Vault

    with Resources() as res:
        unlocker = res.unlocker(_kind(args), args.reader, uv=args.uv, new=True)
        with Vault.create(args.vault, unlocker) as vault:
            slot = vault.slots[0]
    print(f"vault created at {args.vault} with a {slot.kind} unlocker (slot {slot.id})")
    return EXIT_OK


def _cmd_add(args: argparse.Namespace) -> int:
    with Resources() as res, _open(args, res) as vault:
        reader = args.new_reader if args.new_reader is not None else args.reader
        slot = vault.add_unlocker(res.unlocker(args.kind, reader, uv=args.uv, new=True))
    print(f"added a {slot.kind} unlocker (slot {slot.id})")
    return EXIT_OK


def _cmd_remove(args: argparse.Namespace) -> int:
    from ..vault import Vault

    with Resources() as res:
        unlocker = res.unlocker(_kind(args), args.reader)
        with Vault.open(args.vault, unlocker) as vault:
            slot = vault.remove_unlocker(args.slot, cleanup=unlocker)
    print(f"removed the {slot.kind} unlocker (slot {slot.id}); the data key was rotated")
    return EXIT_OK


def _cmd_slots(args: argparse.Namespace) -> int:
    from ..vault import list_slots

    slots = list_slots(args.vault)
    if args.json:
        print_json([s.to_json() for s in slots])
        return EXIT_OK
    for s in slots:
        detail = ""
        if s.kind == "fido2":
            detail = f" (UV {s.params.get('uv')}, RP {s.params.get('rp_id')})"
        elif s.kind == "oath":
            detail = f" (credential {s.params.get('credential')})"
        elif s.kind == "passphrase":
            detail = f" (scrypt n={s.params.get('n')})"
        print(f"{s.id}  {s.kind}{detail}")
    return EXIT_OK


def _uris(values: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        if value == "-":
            out.extend(line.strip() for line in sys.stdin if line.strip())
        else:
            out.append(value)
    return out


def _cmd_import(args: argparse.Namespace) -> int:
    uris = _uris(args.uris)
    with Resources() as res, _open(args, res) as vault:
        names = vault.import_uris(uris, replace=args.replace)
    print(f"imported {len(names)} seed(s)")
    return EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    with Resources() as res, _open(args, res) as vault:
        names = vault.names()
    if args.json:
        print_json(names)
    else:
        for name in names:
            print(name)
    return EXIT_OK


def _cmd_code(args: argparse.Namespace) -> int:
    with Resources() as res, _open(args, res) as vault:
        print(vault.code(args.name, for_time=args.time))
    return EXIT_OK


def _cmd_rekey(args: argparse.Namespace) -> int:
    if args.uv is not None and not (args.unlocker and args.fido2):
        raise CLIError("--uv applies only to rotating a FIDO2 slot (--fido2 --unlocker SLOT)")
    with Resources() as res:
        # Without --uv the rotated slot keeps its own UV (or touch) choice: never a downgrade.
        unlocker = res.unlocker(_kind(args), args.reader, uv=args.uv)
        from ..vault import Vault

        with Vault.open(args.vault, unlocker) as vault:
            if args.unlocker:
                slot = vault.rotate_unlocker(args.unlocker, unlocker)
                detail = f" (UV {slot.params.get('uv')})" if slot.kind == "fido2" else ""
                print(f"rotated slot {args.unlocker}: now slot {slot.id}{detail}")
            else:
                vault.rekey()
                print("the data key was rotated; every unlocker still opens the vault")
    return EXIT_OK
