"""``pyotp-hw serve ...``: run the verification service, manage its API keys.

``pyotp-hw serve --db URL <key options> --listen 127.0.0.1:8400 [--workers N]`` serves the store
(created first with ``pyotp-hw verifier init``); the data key options are the verifier
commands', ``--vault FILE --vault-unlock passphrase|fido2|token`` included: with a passphrase
(``$PYOTP_HW_VAULT_PASSPHRASE``, never prompted for) every worker opens the vault itself; a
FIDO2 key or a token (a touch or PIN each opening) is unlocked once at start-up, for one worker.
``pyotp-hw serve key create NAME --db URL`` prints a new API key once;
``key revoke NAME`` and ``key list`` manage them.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
from typing import TYPE_CHECKING

from ..service import VAULT_PASSPHRASE_ENV, VAULT_UNLOCKS
from ._common import EXIT_OK, CLIError, listen_address, print_json
from .verifier_cmds import _PASSPHRASE_ENV

if TYPE_CHECKING:
    from ..service import ServiceConfig
    from ..verifier import KeyProvider

__all__ = ["register"]



def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``serve`` command (and its ``key`` group)."""
    p = subparsers.add_parser(
        "serve", help="run the verification service (HTTP JSON API); 'serve key' manages keys",
        description="Serve the verifier store at --db over HTTP (the service extra).")
    p.add_argument("--db", metavar="URL", help="store URL: sqlite:///path.db or postgresql://...")
    _key_options(p, "")
    p.add_argument("--listen", default="127.0.0.1:8400", metavar="HOST:PORT",
                   help="address to listen on (default 127.0.0.1:8400)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="worker processes sharing the socket and the store (default 1)")
    p.add_argument("--max-batch", type=int, default=256, metavar="N",
                   help="codes per coalesced batch at most (default 256)")
    p.add_argument("--linger", type=float, default=1.0, metavar="MS",
                   help="under load, wait at most MS milliseconds to fill a batch (default 1)")
    p.add_argument("--batch-threads", type=int, default=0, metavar="N",
                   help="threads running batches, off the event loop (default 0: 1 on SQLite, "
                        "2 on PostgreSQL)")
    p.add_argument("--max-queue", type=int, default=4096, metavar="N",
                   help="codes waiting at most before 503 (default 4096)")
    p.add_argument("--deadline", type=float, default=5.0, metavar="S",
                   help="answer within S seconds or 503 (default 5)")
    p.add_argument("--max-body", type=int, default=65536, metavar="BYTES",
                   help="largest request body (default 65536)")
    p.add_argument("--client-rate", type=float, default=0.0, metavar="R",
                   help="requests per second per API key (default 0: no limit)")
    p.add_argument("--resync-window", type=int, default=10, metavar="N",
                   help="steps searched each way by resync (default 10)")
    p.add_argument("--lockout-after", type=int, metavar="N",
                   help="lock a credential after N consecutive failures (default 10)")
    p.add_argument("--smtp", metavar="HOST:PORT", help="send notices through this SMTP server")
    p.add_argument("--smtp-starttls", action="store_true", help="use STARTTLS")
    p.add_argument("--smtp-cafile", metavar="FILE",
                   help="CA certificates to trust for STARTTLS (default: the system's)")
    p.add_argument("--smtp-user", metavar="NAME", help="log in as NAME")
    p.add_argument("--smtp-password-env", metavar="VAR",
                   help="environment variable holding the SMTP password")
    p.add_argument("--mail-from", default="pyotp-hw@localhost", metavar="ADDRESS",
                   help="sender of notices")
    p.add_argument("--site-name", default="your account", metavar="NAME",
                   help="site name used in notices")
    p.add_argument("--notify", action="append", choices=("locked", "replay"), default=[],
                   help="also send this optional notice (repeatable)")
    p.add_argument("--notice-templates", metavar="DIR",
                   help="directory of KIND.subject / KIND.txt / KIND.html templates")
    p.add_argument("--retry-base", type=float, default=5.0, metavar="S",
                   help="first retry of an undelivered notice after S seconds (doubling)")
    p.set_defaults(handler=_cmd_serve)
    sub = p.add_subparsers(dest="serve_command", metavar="SUBCOMMAND")
    key = sub.add_parser("key", help="API keys: create, revoke, list",
                         description="Manage the service's API keys.")
    ksub = key.add_subparsers(dest="key_command", metavar="ACTION")
    ksub.required = True
    for action, text in (("create", "make a key and print it once"),
                         ("revoke", "revoke every key of NAME"), ("list", "list the keys")):
        a = ksub.add_parser(action, help=text, description=text.capitalize() + ".")
        if action != "list":
            a.add_argument("name", metavar="NAME")
        a.add_argument("--db", required=True, metavar="URL", help="store URL")
        _key_options(a, " (given: checked to open the store)")
        a.add_argument("--json", action="store_true", help="print JSON")
        a.set_defaults(handler=_cmd_key, key_command=action)


def _key_options(p: argparse.ArgumentParser, note: str) -> None:
    keys = p.add_mutually_exclusive_group()
    keys.add_argument("--key-file", metavar="FILE", help=f"file holding the data key{note}")
    keys.add_argument("--key-env", metavar="VAR", help=f"variable holding the data key{note}")
    keys.add_argument("--passphrase", action="store_true",
                      help=f"derive the data key from a passphrase (prompted, or "
                      f"${_PASSPHRASE_ENV}){note}")
    keys.add_argument("--vault", metavar="FILE",
                      help=f"the data key held in a vault (see --vault-unlock){note}")
    p.add_argument("--vault-unlock", choices=VAULT_UNLOCKS, default="passphrase",
                   help=f"what opens the --vault: passphrase (${VAULT_PASSPHRASE_ENV}; every "
                   f"worker opens it), fido2 or token (unlocked once: --workers 1)")
    p.add_argument("--reader", metavar="NAME", help="reader of the vault's key or token")


def _cmd_key(args: argparse.Namespace) -> int:
    from .. import service

    if args.key_file or args.key_env or args.passphrase or args.vault:
        # The operator named the data key: make sure it is this store's before changing keys.
        from .verifier_cmds import _open

        _open(args).close()
    if args.key_command == "create":
        key = service.create_key(args.db, args.name)
        if args.json:
            print_json({"name": args.name, "key": key})
        else:
            print(key)
            print("pyotp-hw: this key is shown once; keep it in the client's secret store",
                  file=sys.stderr)
    elif args.key_command == "revoke":
        n = service.revoke_keys(args.db, args.name)
        if n == 0:
            raise CLIError(f"no live key named {args.name!r}")
        print(f"revoked {n} key(s) named {args.name}")
    else:
        rows = service.list_keys(args.db)
        if args.json:
            print_json([{"id": r.key_id, "name": r.name, "created_at": r.created_at,
                         "revoked_at": r.revoked_at} for r in rows])
        for r in rows if not args.json else []:
            made = _dt.datetime.fromtimestamp(r.created_at, _dt.timezone.utc)
            state = "live" if r.revoked_at is None else "revoked"
            print(f"{r.key_id}  {r.name}  {made:%Y-%m-%d %H:%M} UTC  {state}")
    return EXIT_OK


def _config(args: argparse.Namespace) -> ServiceConfig:
    from ..errors import InvalidArgument
    from ..service import ServiceConfig, SmtpConfig

    passphrase_env = None
    if args.passphrase:
        if not os.environ.get(_PASSPHRASE_ENV):
            import getpass

            if not sys.stdin.isatty():
                raise CLIError(f"no terminal to ask for the passphrase; set ${_PASSPHRASE_ENV}")
            # Worker processes read it from the environment this process hands them.
            os.environ[_PASSPHRASE_ENV] = getpass.getpass("verifier passphrase: ")
        passphrase_env = _PASSPHRASE_ENV
    if args.vault and args.vault_unlock == "passphrase" and not os.environ.get(
            VAULT_PASSPHRASE_ENV):
        # Workers cannot ask: each opens the vault from the variable this process hands them.
        raise CLIError(f"--vault-unlock passphrase: set ${VAULT_PASSPHRASE_ENV} (every worker "
                       f"opens the vault with it; it is never prompted for)")
    smtp = None
    if args.smtp:
        try:
            # The address alone first (nothing else can be refused without the login options).
            server = SmtpConfig.parse(args.smtp)
        except InvalidArgument:
            raise CLIError("--smtp must be HOST:PORT") from None
        if args.smtp_user and not args.smtp_starttls:
            raise CLIError("SMTP login needs STARTTLS (--smtp-starttls): the password must not "
                           "travel in the clear")
        if args.smtp_password_env and not args.smtp_user:
            raise CLIError("an SMTP password needs a user name (--smtp-user)")
        smtp = SmtpConfig(server.host, server.port, starttls=args.smtp_starttls,
                          username=args.smtp_user, password_env=args.smtp_password_env,
                          sender=args.mail_from, cafile=args.smtp_cafile)
    elif args.smtp_starttls or args.smtp_user or args.smtp_password_env or args.smtp_cafile:
        raise CLIError("the SMTP options need --smtp HOST:PORT")
    return ServiceConfig(
        db=args.db, key_file=args.key_file, key_env=args.key_env, passphrase_env=passphrase_env,
        vault=os.path.abspath(args.vault) if args.vault else None,
        vault_unlock=args.vault_unlock, vault_reader=args.reader,
        max_batch=args.max_batch, linger=args.linger / 1000.0, max_queue=args.max_queue,
        batch_threads=args.batch_threads,
        deadline=args.deadline, max_body=args.max_body, client_rate=args.client_rate,
        resync_window=args.resync_window, lockout_after=args.lockout_after, smtp=smtp,
        site_name=args.site_name, notify=tuple(args.notify), retry_base=args.retry_base,
        templates_dir=args.notice_templates)


def _cmd_serve(args: argparse.Namespace) -> int:
    if not args.db:
        raise CLIError("give the store: --db URL")
    from ..service import preflight, serve
    from ..verifier import StoreNotFound

    config = _config(args)
    listen_address(args.listen)
    _check_workers(config, args.workers)
    from .verifier_cmds import _warn_on_stderr

    _warn_on_stderr()
    key = _unlocked(config, args.workers)
    try:
        live = preflight(config, key)
    except StoreNotFound as exc:
        raise CLIError(f"{exc}; create it with: pyotp-hw verifier init --db URL") from None
    if live == 0:
        print("pyotp-hw: warning: no API key yet; every request will get 401 until "
              "'pyotp-hw serve key create NAME --db URL'", file=sys.stderr)
    print(f"pyotp-hw: serving on http://{args.listen} ({args.workers} worker(s))",
          file=sys.stderr, flush=True)
    serve(config, args.listen, args.workers, key)
    return EXIT_OK


def _check_workers(config: ServiceConfig, workers: int) -> None:
    """The service's refusal of ``workers`` in the words of ``--workers``."""
    from ..errors import InvalidArgument
    from ..service import check_workers

    if not 1 <= workers <= 256:
        raise CLIError("--workers must be from 1 to 256")
    try:
        check_workers(config, workers)
    except InvalidArgument:
        # The count is in range: what is refused is several workers for a touch or PIN vault.
        raise CLIError(
            f"--workers {workers}: a vault opened by {config.vault_unlock} needs a touch or PIN "
            f"at each opening, so it is unlocked once for one worker; use --workers 1, or add "
            f"a passphrase slot to the vault and serve with --vault-unlock passphrase") from None


def _unlocked(config: ServiceConfig, workers: int) -> KeyProvider | None:
    """The vault's key unlocked once here, for preflight and the one worker; None when each
    worker opens the data key itself (no vault, or a passphrase vault with several workers)."""
    if not config.vault:
        return None
    if config.vault_unlock == "passphrase":
        if workers > 1:
            return None
        from ..service import provider_of

        return provider_of(config)
    from ..vault import VaultKey
    from .vault_cmds import Resources

    with Resources() as res:
        return VaultKey.open(config.vault, res.unlocker(config.vault_unlock,
                                                        config.vault_reader))
