"""``pyotp-hw verifier ...``: operate a server verifier store.

Every command takes ``--db URL`` (``sqlite:///path``, ``postgresql://...``) and the data key from
``--key-file FILE``, ``--key-env VAR`` or ``--passphrase`` (prompted); with none of them the
environment variable ``PYOTP_HW_VERIFIER_KEY`` is used when set. ``verify``, ``resync`` and
``confirm`` exit 1 when the code does not verify. Secrets and URIs given as ``-`` are read from
standard input, which keeps them out of the process list and the shell history.

Only ``init`` creates a store: every other command opens an existing one, so a mistyped ``--db``
is an error rather than a new empty store. Codes of 6 to 10 digits are accepted (each
credential's own length is enforced).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import getpass
import logging
import math
import os
import sys
import time
from typing import TYPE_CHECKING

from ..otp import MAX_DIGITS, MIN_DIGITS
from ._common import EXIT_NO_MATCH, EXIT_OK, CLIError, print_json

if TYPE_CHECKING:
    from ..verifier import CredentialState, KeyProvider, Result, Verifier

__all__ = ["register"]

_PASSPHRASE_ENV = "PYOTP_HW_VERIFIER_PASSPHRASE"  # noqa: S105 - a variable name
# Every length the verifier supports; a credential's own length is still enforced.
_CODE_LENGTHS = tuple(range(MIN_DIGITS, MAX_DIGITS + 1))


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``verifier`` command group."""
    group = subparsers.add_parser(
        "verifier",
        help="server-side verification store: init, enroll, verify, resync, unlock, stats",
        description="Operate a verifier store (replay-safe, throttled verification).",
    )
    sub = group.add_subparsers(dest="verifier_command", metavar="SUBCOMMAND")
    sub.required = True

    init = sub.add_parser("init", help="create (or upgrade) the store's schema",
                          description="Create or upgrade the schema of the store at --db.")
    _common(init)
    init.add_argument("--create-key", action="store_true",
                      help="write a new random key to --key-file first (it must not exist)")
    init.set_defaults(handler=_cmd_init)

    _register_enroll(sub)

    confirm = sub.add_parser("confirm", help="confirm a pending enrollment with a code",
                             description="Activate USER's pending credential with CODE.")
    confirm.add_argument("user", metavar="USER")
    confirm.add_argument("code", metavar="CODE")
    _common(confirm)
    confirm.add_argument("--time", type=float, metavar="T", help="Unix time (default now)")
    proof = confirm.add_mutually_exclusive_group()
    proof.add_argument("--current-code", metavar="CODE",
                       help="a code from USER's current active credential (replacing it needs "
                       "this or --reauthenticated)")
    proof.add_argument("--reauthenticated", action="store_true",
                       help="you re-authenticated USER just now (replaces the active credential "
                       "without its code; its lockout is kept)")
    confirm.set_defaults(handler=_cmd_confirm)

    verify = sub.add_parser("verify", help="verify a code; exit 0 accepted, 1 rejected",
                            description="Verify (and consume) USER's CODE.")
    verify.add_argument("user", metavar="USER")
    verify.add_argument("code", metavar="CODE")
    _common(verify)
    verify.add_argument("--time", type=float, metavar="T", help="Unix time (default now)")
    verify.set_defaults(handler=_cmd_verify)

    resync = sub.add_parser(
        "resync", help="resynchronise a drifted token from two consecutive codes",
        description="Find CODE1 and CODE2 on consecutive steps within --window of now, "
        "consume them and record the drift.")
    resync.add_argument("user", metavar="USER")
    resync.add_argument("code1", metavar="CODE1")
    resync.add_argument("code2", metavar="CODE2")
    _common(resync)
    resync.add_argument("--window", type=int, default=10,
                        help="steps or counters searched each way (default 10, at most 1000)")
    resync.add_argument("--time", type=float, metavar="T", help="Unix time (default now)")
    resync.set_defaults(handler=_cmd_resync)

    unlock = sub.add_parser("unlock", help="clear a user's lockout and failure count",
                            description="Clear USER's lockout, delay and failure count.")
    unlock.add_argument("user", metavar="USER")
    _common(unlock)
    unlock.set_defaults(handler=_cmd_unlock)

    _register_rekey(sub)

    stats = sub.add_parser("stats", help="counts of credentials, accepted, rejected, replayed, "
                           "locked", description="Print the store's counters.")
    _common(stats)
    stats.set_defaults(handler=_cmd_stats)


def _register_enroll(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    enroll = sub.add_parser(
        "enroll", help="enroll a user from a secret or URI, or begin an enrollment (--new)",
        description="Make USER's credential active from SECRET (base32, or an otpauth:// URI; "
        "- reads it from stdin), or with --new issue a fresh secret and print its URI, "
        "pending until 'confirm'.")
    enroll.add_argument("user", metavar="USER")
    enroll.add_argument("secret", nargs="?", metavar="SECRET", help="base32 secret, URI, or -")
    _common(enroll)
    enroll.add_argument("--new", action="store_true",
                        help="issue a new secret (needs --issuer and --name)")
    enroll.add_argument("--issuer", help="issuer shown by authenticator apps")
    enroll.add_argument("--name", help="account name shown by authenticator apps")
    enroll.add_argument("--qr", action="store_true", help="with --new, also draw the QR code")
    enroll.add_argument("--hotp", type=int, metavar="COUNTER",
                        help="an HOTP credential whose next counter is COUNTER")
    enroll.add_argument("--digits", type=int, choices=_CODE_LENGTHS, metavar="N",
                        help="code length, 6 to 10 (default 6)")
    enroll.add_argument("--digest", help="sha1 (default), sha256 or sha512")
    enroll.add_argument("--period", type=int, help="TOTP time step in seconds (default 30)")
    enroll.add_argument("--replace", action="store_true",
                        help="replace an existing active credential: you vouch for the user "
                        "(re-authenticated), unless --current-code checks their current code; "
                        "its lockout is kept")
    enroll.add_argument("--current-code", metavar="CODE",
                        help="with --replace: a code from the current credential, as proof")
    enroll.set_defaults(handler=_cmd_enroll)


def _register_rekey(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rekey = sub.add_parser(
        "rekey", help="re-seal every credential under a new data key (verifying goes on)",
        description="Re-seal every credential under a new data key, derived from the same key "
        "source with a new salt, in batches, while other verifiers keep verifying; an "
        "interrupted rekey is resumed by running it again.")
    _common(rekey)
    rekey.add_argument("--batch", type=int, default=500, metavar="N",
                       help="credentials per transaction (default 500)")
    rekey.add_argument("--pause", type=float, default=0.0, metavar="S",
                       help="seconds to wait between batches (default 0)")
    rekey.set_defaults(handler=_cmd_rekey)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", required=True, metavar="URL",
                   help="store URL: sqlite:///path.db or postgresql://user@host:port/db")
    keys = p.add_mutually_exclusive_group()
    keys.add_argument("--key-file", metavar="FILE", help="file holding the 32-byte key material")
    keys.add_argument("--key-env", metavar="VAR",
                      help="environment variable holding the key material (hex or base64)")
    keys.add_argument("--passphrase", action="store_true",
                      help=f"derive the key from a passphrase (prompted, or ${_PASSPHRASE_ENV})")
    keys.add_argument("--vault", metavar="FILE",
                      help="the key held in a vault, unlocked at start-up (see --vault-unlock)")
    p.add_argument("--vault-unlock", choices=("passphrase", "fido2", "token"),
                   default="passphrase",
                   help="what opens the --vault: passphrase (default), fido2 or token")
    p.add_argument("--reader", metavar="NAME", help="reader of the vault's key or token")
    p.add_argument("--json", action="store_true", help="print JSON")


def _provider(args: argparse.Namespace) -> KeyProvider:
    from ..verifier import DEFAULT_ENV_VAR, EnvKey, KeyFile, PassphraseKey

    if getattr(args, "vault", None):
        from ..vault import VaultKey
        from .vault_cmds import Resources

        with Resources() as res:
            return VaultKey.open(args.vault, res.unlocker(args.vault_unlock, args.reader))
    if args.key_file:
        return KeyFile(args.key_file)
    if args.key_env:
        return EnvKey(args.key_env)
    if args.passphrase:
        phrase = os.environ.get(_PASSPHRASE_ENV)
        if not phrase:
            if not sys.stdin.isatty():
                raise CLIError(f"no terminal to ask for the passphrase; set ${_PASSPHRASE_ENV}")
            phrase = getpass.getpass("verifier passphrase: ")
        return PassphraseKey(phrase)
    if os.environ.get(DEFAULT_ENV_VAR):
        return EnvKey(DEFAULT_ENV_VAR)
    raise CLIError(f"give the data key: --key-file FILE, --key-env VAR, --passphrase or "
                   f"--vault FILE (or set ${DEFAULT_ENV_VAR})")


class _StderrWarnings(logging.Handler):
    """The verifier's log warnings (a loose key file, a store that failed closed) as
    ``pyotp-hw: warning: ...`` lines on whatever ``sys.stderr`` is when they happen."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"pyotp-hw: warning: {record.getMessage()}", file=sys.stderr)


def _warn_on_stderr() -> None:
    logger = logging.getLogger("pyotp_hw.verifier")
    if not any(isinstance(h, _StderrWarnings) for h in logger.handlers):
        # With a handler in place, logging's last resort (a bare line on stderr) stays quiet.
        logger.addHandler(_StderrWarnings(logging.WARNING))


def _open(args: argparse.Namespace, *, create: bool = False,
          resync_window: int | None = None) -> Verifier:
    """The store of ``--db``, with every code length; ``resync_window`` None: the default."""
    from ..verifier import Policy, StoreNotFound, Verifier

    _warn_on_stderr()
    window = Policy.resync_window if resync_window is None else resync_window
    try:
        return Verifier.open(args.db, key=_provider(args), create=create, digits=_CODE_LENGTHS,
                             resync_window=window)
    except StoreNotFound as exc:
        problem = str(exc)
    raise CLIError(f"{problem}; create it with: pyotp-hw verifier init --db URL")


def _report(args: argparse.Namespace, result: Result, what: str, v: Verifier,
            state: CredentialState = "active") -> int:
    from ..verifier import Reason

    retry_at: float | None = None
    if result.reason is Reason.THROTTLED:
        info = v.credential(args.user, state)
        retry_at = None if info is None else info.delayed_until
    if args.json:
        out: dict[str, object] = {"ok": result.ok, "reason": str(result.reason),
                               "step": result.step}
        if retry_at is not None:
            out["retry_at"] = retry_at
        print_json(out)
    elif result.ok:
        print(f"{what}: accepted (step {result.step})")
    elif retry_at is not None:
        now = args.time if args.time is not None else time.time()
        wait = max(0, math.ceil(retry_at - now))
        when = _dt.datetime.fromtimestamp(retry_at, _dt.timezone.utc)
        print(f"{what}: rejected ({result.reason}; retry in {wait} s, "
              f"at {when:%Y-%m-%d %H:%M:%S} UTC)")
    else:
        print(f"{what}: rejected ({result.reason})")
    return EXIT_OK if result.ok else EXIT_NO_MATCH


def _cmd_init(args: argparse.Namespace) -> int:
    if args.create_key:
        if not args.key_file:
            raise CLIError("--create-key needs --key-file")
        from ..verifier import KeyFile

        KeyFile.create(args.key_file)
    with _open(args, create=True) as v:
        stats = v.stats()
        if args.json:
            print_json({"db": v.store.url, "credentials": stats["credentials"]})
        else:
            print(f"verifier store ready at {v.store.url} ({stats['credentials']} credentials)")
    return EXIT_OK


def _read(value: str, what: str) -> str:
    if value != "-":
        return value
    text = sys.stdin.readline().strip()
    if not text:
        raise CLIError(f"no {what} on standard input")
    return text


def _cmd_enroll(args: argparse.Namespace) -> int:
    if args.new:
        if args.secret is not None:
            raise CLIError("--new issues its own secret; do not give SECRET")
        if not args.issuer or not args.name:
            raise CLIError("--new needs --issuer and --name")
        if args.hotp is not None:
            raise CLIError("--new enrolls TOTP credentials")
        if args.replace or args.current_code is not None:
            raise CLIError("with --new the replacement happens at 'confirm'; give "
                           "--current-code or --reauthenticated there")
        with _open(args) as v:
            enrollment = v.begin_enrollment(
                args.user, issuer=args.issuer, name=args.name, digits=args.digits,
                digest=args.digest or "sha1", interval=args.period or 30)
            if args.json:
                print_json({"user": args.user, "uri": enrollment.uri,
                            "expires_at": enrollment.expires_at})
            else:
                # The user asked for a new secret: showing its URI is the point of this command.
                print(enrollment.uri)
                if args.qr:
                    print(enrollment.qr())
                print(f"pending until confirmed with: pyotp-hw verifier confirm {args.user} CODE",
                      file=sys.stderr)
        return EXIT_OK
    if args.secret is None:
        raise CLIError("give SECRET (base32 or otpauth:// URI, - for stdin), or --new")
    if args.current_code is not None and not args.replace:
        raise CLIError("--current-code proves a replacement; give it with --replace")
    secret = _read(args.secret, "secret")
    if secret.lower().startswith("otpauth") and any(
            x is not None for x in (args.digits, args.digest, args.period, args.hotp)):
        raise CLIError("a URI carries its own parameters; drop --digits/--digest/--period/--hotp")
    # For a URI every option is None here, which is what enroll() takes as "not given".
    hotp = args.hotp is not None
    with _open(args) as v:
        # The operator running --replace vouches for the user unless a current code is checked.
        v.enroll(args.user, secret, issuer=args.issuer, name=args.name, replace=args.replace,
                 current_code=args.current_code,
                 reauthenticated=args.replace and args.current_code is None,
                 kind="hotp" if hotp else None, digits=args.digits, digest=args.digest,
                 interval=None if hotp else args.period, counter=args.hotp)
        info = v.credential(args.user)
    assert info is not None
    if args.json:
        print_json({"user": args.user, "kind": info.kind, "digits": info.digits,
                    "digest": info.digest, "period": info.period})
    else:
        print(f"enrolled {args.user} ({info.kind}, {info.digits} digits, {info.digest})")
    return EXIT_OK


def _cmd_confirm(args: argparse.Namespace) -> int:
    with _open(args) as v:
        result = v.confirm_enrollment(args.user, args.code, now=args.time,
                                      current_code=args.current_code,
                                      reauthenticated=args.reauthenticated)
        return _report(args, result, "confirm", v, "pending")


def _cmd_verify(args: argparse.Namespace) -> int:
    with _open(args) as v:
        result = v.verify(args.user, args.code, now=args.time)
        return _report(args, result, "verify", v)


def _cmd_resync(args: argparse.Namespace) -> int:
    with _open(args, resync_window=args.window) as v:
        result = v.resync(args.user, args.code1, args.code2, now=args.time)
        info = v.credential(args.user) if result.ok else None
        status = _report(args, result, "resync", v)
    if info is not None and not args.json:
        print(f"drift: {info.drift} steps")
    return status


def _cmd_unlock(args: argparse.Namespace) -> int:
    with _open(args) as v:
        v.unlock(args.user)
    if args.json:
        print_json({"user": args.user, "unlocked": True})
    else:
        print(f"unlocked {args.user}")
    return EXIT_OK


def _cmd_rekey(args: argparse.Namespace) -> int:
    with _open(args) as v:
        report = v.rekey(batch=args.batch, pause=args.pause)
    if args.json:
        print_json({"generation": report.generation, "resealed": report.resealed,
                    "unreadable": report.unreadable, "passes": report.passes})
    else:
        print(f"re-sealed {report.resealed} credential(s) under data key generation "
              f"{report.generation} in {report.passes} pass(es)"
              + (f"; {report.unreadable} could not be opened" if report.unreadable else ""))
    return EXIT_OK


def _cmd_stats(args: argparse.Namespace) -> int:
    with _open(args) as v:
        stats = v.stats()
    if args.json:
        print_json(stats)
    else:
        width = max(len(k) for k in stats)
        for name, value in stats.items():
            print(f"{name:<{width}}  {value}")
    return EXIT_OK
