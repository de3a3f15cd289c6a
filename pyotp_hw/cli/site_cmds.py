"""``pyotp-hw site ...``: run the reference site, a client of the verification service.

``pyotp-hw site serve --service URL --db FILE --listen 127.0.0.1:8500`` serves it (the service's
API key in ``$PYOTP_HW_SITE_API_KEY``); ``pyotp-hw site notice-templates`` prints the directory
of the site's notice emails, for ``pyotp-hw serve --notice-templates``.
"""

from __future__ import annotations

import argparse
import sys

from ._common import EXIT_OK, listen_address

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``site`` command group."""
    p = subparsers.add_parser(
        "site", help="the reference site (sign-in with 2-step verification through the service)",
        description="Run the reference site, a client of 'pyotp-hw serve' (the site extra).")
    sub = p.add_subparsers(dest="site_command", metavar="ACTION")
    sub.required = True
    s = sub.add_parser("serve", help="serve the site", description="Serve the site over HTTP.")
    s.add_argument("--service", required=True, metavar="URL",
                   help="the verification service, http://HOST:PORT")
    s.add_argument("--api-key-env", default="PYOTP_HW_SITE_API_KEY", metavar="VAR",
                   help="environment variable holding the service's API key "
                   "(default PYOTP_HW_SITE_API_KEY)")
    s.add_argument("--db", required=True, metavar="FILE",
                   help="the site's SQLite file of accounts (created 0600)")
    s.add_argument("--secret-key-file", metavar="FILE",
                   help="key signing the session cookies (created 0600; default FILE.cookie-key "
                   "beside --db)")
    s.add_argument("--listen", default="127.0.0.1:8500", metavar="HOST:PORT",
                   help="address to listen on (default 127.0.0.1:8500)")
    s.add_argument("--site-name", default="Example Site", metavar="NAME",
                   help="the name on the pages and in the authenticator (default Example Site)")
    s.add_argument("--reauth-seconds", type=float, default=300.0, metavar="S",
                   help="how long re-entering the password counts as recent (default 300)")
    s.add_argument("--cookie-secure", action="store_true",
                   help="send the session cookie over HTTPS only (behind a TLS proxy)")
    s.set_defaults(handler=_cmd_serve)
    t = sub.add_parser("notice-templates", help="print the directory of the notice templates",
                       description="Print the directory to give 'pyotp-hw serve "
                       "--notice-templates'.")
    t.set_defaults(handler=_cmd_templates)


def _cmd_serve(args: argparse.Namespace) -> int:
    from ..site import SiteConfig, serve

    listen_address(args.listen)  # a bad address fails before anything is opened
    config = SiteConfig(service=args.service, db=args.db,
                        secret_key_file=args.secret_key_file or f"{args.db}.cookie-key",
                        api_key_env=args.api_key_env, site_name=args.site_name,
                        cookie_secure=args.cookie_secure, reauth_seconds=args.reauth_seconds)
    config.api_key()  # a missing key fails now, not at the first sign-in
    print(f"pyotp-hw: the site on http://{args.listen}, using the service at {args.service}",
          file=sys.stderr, flush=True)
    serve(config, args.listen)
    return EXIT_OK


def _cmd_templates(args: argparse.Namespace) -> int:
    from ..site import NOTICE_TEMPLATES

    print(NOTICE_TEMPLATES)
    return EXIT_OK
