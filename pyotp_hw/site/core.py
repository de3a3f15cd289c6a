"""The site's application object: settings, accounts, the service client and the pages."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..errors import InvalidArgument
from ..secret_files import write_secret_file
from ..service import Client, ServiceError
from .accounts import Account, Accounts
from .config import SiteConfig
from .web import Pages, redirect, signed_in_at

__all__ = ["Site", "TwoStepState", "signing_key"]

_T = TypeVar("_T")


@dataclass(frozen=True)
class TwoStepState:
    """What the service says of an account's second factor."""

    active: bool
    pending: bool


def signing_key(path: str) -> str:
    """The cookie-signing key in ``path`` (a new random one is written 0600 when missing)."""
    if not os.path.exists(path):
        write_secret_file(path, secrets.token_bytes(32).hex().encode(), replace=False)
    with open(path, "rb") as f:
        key = f.read().strip()
    if len(key) < 32:
        raise InvalidArgument(f"the cookie-signing key in {path} is shorter than 32 bytes")
    return key.decode("ascii", "replace")


class Site:
    """One site process: its settings, accounts, service client and templates."""

    def __init__(self, config: SiteConfig) -> None:
        self.config = config
        self.accounts = Accounts(config.db)
        self.service = Client(config.service, config.api_key())
        self.pages = Pages(config.site_name)

    # ------------------------------------------------------------------ sessions

    def account(self, request: Request) -> Account | None:
        """The signed-in account of this request, or None."""
        uid = request.session.get("uid")
        return self.accounts.get(uid) if isinstance(uid, int) else None

    def sign_in(self, request: Request, account: Account) -> None:
        """Make ``account`` the session's (the CSRF token stays, so an open form still posts)."""
        csrf = request.session.get("csrf")
        request.session.clear()
        # Signing in does not count as re-authentication: changing the 2-step settings asks
        # for the password again, on its own page.
        request.session.update({"uid": account.id, "auth_at": time.time()})
        if csrf is not None:
            request.session["csrf"] = csrf

    def reauthenticated(self, request: Request) -> bool:
        """Whether the session re-entered its password recently."""
        return signed_in_at(request, "reauth_at", self.config.reauth_seconds)

    def login_redirect(self) -> Response:
        """Where an anonymous request for a private page goes."""
        return redirect("/signin")

    # ------------------------------------------------------------------ the service

    async def call(self, method: str, *args: object, **kwargs: object) -> Any:
        """``Client.method(*args)`` off the event loop (its answer: that method's, by name)."""
        return await run_in_threadpool(getattr(self.service, method), *args, **kwargs)

    async def call_local(self, fn: Callable[..., _T], *args: object) -> _T:
        """``fn(*args)`` (password hashing, the account file) off the event loop."""
        return await run_in_threadpool(fn, *args)

    async def two_step(self, account: Account) -> TwoStepState:
        """The account's second-factor state at the service."""
        try:
            info = await self.call("user", account.user)
        except ServiceError as exc:
            if exc.status == 404:
                return TwoStepState(False, False)
            raise
        return TwoStepState(info.get("active") is not None, info.get("pending") is not None)
