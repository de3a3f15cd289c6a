"""Accounts and sign-in: sign up, sign in, the code prompt, sign out, re-authentication, the
Profile and Settings page and Password and Security (the 2-step panel's pages are in
:mod:`.twostep`).

Every form posts, is checked for its CSRF token first, and answers with a redirect (or the
form again with a message), so reloading or going back never repeats an action.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import InvalidArgument
from ..service import ServiceError
from . import messages
from .accounts import Account, check_email, check_password
from .core import Site
from .twostep import start_setup
from .web import CsrfError, flash, form, redirect, signed_in_at

__all__ = ["routes", "exception_handlers"]

BAD_SIGN_IN = "The email address or the password is not right."


class Handlers:
    """The account pages of one :class:`Site`."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.render = site.pages.render

    async def _password(self, f: dict[str, str]) -> Account | None:
        """The account whose email and password the form holds (argon2 work for any well-formed
        address, known or not), else None."""
        try:
            email = check_email(f.get("email", ""))
        except InvalidArgument:
            return None
        found: Account | None = await self.site.call_local(
            self.site.accounts.authenticate, email, f.get("password", ""))
        return found

    async def home(self, request: Request) -> Response:
        """``/``: the profile when signed in, else the sign-in page."""
        return redirect("/profile" if self.site.account(request) else "/signin")

    async def signup(self, request: Request) -> Response:
        """``/signup``: email, password twice."""
        if request.method == "GET":
            return self.render(request, "signup.html", email="")
        f = await form(request)
        email_text = f.get("email", "")
        try:
            email = check_email(email_text)
            password = f.get("password", "")
            if password != f.get("password2", ""):
                raise InvalidArgument("The two passwords are not the same.")
            check_password(password)
            account = await self.site.call_local(self.site.accounts.create, email, password)
        except InvalidArgument as exc:
            return self.render(request, "signup.html", status=400, error=str(exc),
                               email=email_text)
        self.site.sign_in(request, account)
        flash(request, "Your account is ready.")
        return redirect("/profile")

    async def signin(self, request: Request) -> Response:
        """``/signin``: email and password, then the code prompt when 2-step is on."""
        if request.method == "GET":
            if self.site.account(request):
                return redirect("/profile")
            return self.render(request, "signin.html", email="")
        f = await form(request)
        account = await self._password(f)
        if account is None:
            return self.render(request, "signin.html", status=400, email=f.get("email", ""),
                               error=BAD_SIGN_IN)
        state = await self.site.two_step(account)
        if not state.active:
            self.site.sign_in(request, account)
            return redirect("/profile")
        request.session.pop("uid", None)
        request.session.update({"pending_uid": account.id, "pending_at": time.time()})
        return redirect("/signin/code")

    async def signin_code(self, request: Request) -> Response:
        """``/signin/code``: the second step of signing in."""
        if self.site.account(request):
            return redirect("/profile")  # already through (a double submit, the back button)
        uid = request.session.get("pending_uid")
        fresh = signed_in_at(request, "pending_at", self.site.config.code_prompt_seconds)
        account = self.site.accounts.get(uid) if isinstance(uid, int) and fresh else None
        if account is None:
            flash(request, "Sign in again: the code prompt has expired.", "error")
            return redirect("/signin")
        if request.method == "GET":
            return self.render(request, "signin_code.html", email=account.email)
        f = await form(request)
        code = messages.normalise_code(f.get("code", ""))
        if code is None:
            return self.render(request, "signin_code.html", status=400, email=account.email,
                               error=messages.MALFORMED)
        answer = await self.site.call("verify", account.user, code)
        if not answer.ok:
            return self.render(request, "signin_code.html", status=400, email=account.email,
                               error=messages.code_message(answer.reason))
        self.site.sign_in(request, account)
        return redirect("/profile")

    async def signout(self, request: Request) -> Response:
        """``POST /signout``."""
        await form(request)
        request.session.clear()
        flash(request, "You have signed out.")
        return redirect("/signin")

    async def profile(self, request: Request) -> Response:
        """``/profile``: Profile and Settings."""
        account = self.site.account(request)
        if account is None:
            return self.site.login_redirect()
        return self.render(request, "profile.html", email=account.email)

    async def security(self, request: Request) -> Response:
        """``/settings/security``: Password and Security, with the 2-Step Verification panel."""
        account = self.site.account(request)
        if account is None:
            return self.site.login_redirect()
        state = await self.site.two_step(account)
        setup_open = state.pending and self.site.accounts.pending(account) is not None
        return self.render(request, "security.html", email=account.email, active=state.active,
                           setup_open=setup_open)

    async def reauth(self, request: Request) -> Response:
        """``/reauth``: re-enter email and password before a change of 2-step settings."""
        account = self.site.account(request)
        if account is None:
            return self.site.login_redirect()
        if request.method == "GET":
            return self.render(request, "reauth.html", email="")
        f = await form(request)
        again = await self._password(f)
        if again is None or again.id != account.id:  # another account's password: refused too
            return self.render(request, "reauth.html", status=400, email=f.get("email", ""),
                               error=BAD_SIGN_IN)
        request.session["reauth_at"] = time.time()
        after = request.session.pop("after_reauth", None)
        if after == "setup":
            return await start_setup(self.site, request, account)
        # Where a re-authentication leads: a name kept in the session, never a URL from the
        # request.
        return redirect({"disable": "/settings/security/two-step/disable",
                         "edit": "/settings/security/two-step",
                         "qr": "/settings/security/two-step/qr"}.get(str(after),
                                                                     "/settings/security"))


def routes(site: Site) -> list[Route]:
    """The account pages' routes."""
    h = Handlers(site)
    both = ["GET", "POST"]
    return [
        Route("/", h.home),
        Route("/signup", h.signup, methods=both),
        Route("/signin", h.signin, methods=both),
        Route("/signin/code", h.signin_code, methods=both),
        Route("/signout", h.signout, methods=["POST"]),
        Route("/profile", h.profile),
        Route("/settings/security", h.security),
        Route("/reauth", h.reauth, methods=both),
    ]


def exception_handlers(
    site: Site,
) -> dict[type[Exception], Callable[[Request, Exception], Awaitable[Response]]]:
    """A stale form and an unreachable service each get a page, never a traceback."""

    async def csrf(request: Request, exc: Exception) -> Response:
        return site.pages.render(request, "message.html", status=403, title="Form expired",
                                 text="This form had expired, so nothing was done. Go back, "
                                 "reload the page and send it again.")

    async def unavailable(request: Request, exc: Exception) -> Response:
        return site.pages.render(request, "message.html", status=503,
                                 title="Try again in a moment",
                                 text="The sign-in service cannot be reached just now, so "
                                 "nothing was changed. Please try again in a moment.")

    return {CsrfError: csrf, ServiceError: unavailable, OSError: unavailable}
