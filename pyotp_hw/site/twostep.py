"""The 2-Step Verification pages: set up (after re-authentication), the QR page with the key as
text, confirmation, the Edit page (change the authenticator, turn it off) and disabling.

The service keeps the credentials: a set-up is a pending enrollment there, confirmed by a code
from the new authenticator; while it is pending the old authenticator (if any) keeps working,
and confirming replaces it. The service sends the notice email of every change.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..keys import encode_base32
from ..service import ServiceError
from ..uri import parse
from . import messages
from .accounts import Account
from .core import Site
from .web import flash, form, redirect

__all__ = ["routes", "start_setup", "key_text"]

BASE = "/settings/security/two-step"


def key_text(uri: str) -> str:
    """The secret of ``uri`` in base32, in groups of four for typing."""
    key = encode_base32(parse(uri).secret).rstrip("=")
    return " ".join(key[i:i + 4] for i in range(0, len(key), 4))


async def start_setup(site: Site, request: Request, account: Account,
                      restart: bool = False) -> Response:
    """Begin an enrollment at the service (or keep the one in progress) and show its QR page."""
    state = await site.two_step(account)
    if not restart and state.pending and site.accounts.pending(account) is not None:
        return redirect(f"{BASE}/qr")  # a double submit or the back button: same QR code
    answer = await site.call("enroll", account.user, issuer=site.config.site_name,
                             name=account.email, email=account.email)
    await site.call_local(site.accounts.set_pending, account, str(answer["uri"]),
                          float(answer["expires_at"]))
    return redirect(f"{BASE}/qr")


class Handlers:
    """The 2-step pages of one :class:`Site`."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.render = site.pages.render

    def _needs_reauth(self, request: Request, after: str) -> Response:
        request.session["after_reauth"] = after
        flash(request, "For your security, enter your email address and password again.")
        return redirect("/reauth")

    async def setup(self, request: Request) -> Response:
        """``POST .../setup``: Set Up or Change authenticator (re-authentication first)."""
        account = self.site.account(request)
        if account is None:
            return self.site.login_redirect()
        f = await form(request)
        if not self.site.reauthenticated(request):
            return self._needs_reauth(request, "setup")
        return await start_setup(self.site, request, account, restart=f.get("restart") == "1")

    async def qr_page(self, request: Request, error: str | None = None,
                      status: int = 200) -> Response:
        """``GET .../qr``: the QR code, the key as text and the confirmation form."""
        account = self.site.account(request)
        if account is None:
            return self.site.login_redirect()
        uri = self.site.accounts.pending(account)
        state = await self.site.two_step(account)
        if uri is None or not state.pending:
            if state.active:  # confirmed already: the back button
                flash(request, "2-step verification is on.")
            else:
                flash(request, messages.NO_PENDING, "error")
            return redirect("/settings/security")
        return self.render(request, "qr.html", status=status, error=error, key=key_text(uri),
                           account_name=account.email, changing=state.active)

    async def qr_image(self, request: Request) -> Response:
        """``GET .../qr.svg``: the service's QR image of the pending enrollment."""
        account = self.site.account(request)
        if account is None or self.site.accounts.pending(account) is None:
            return Response(status_code=404)
        try:
            data = await self.site.call("qr", account.user, "svg")
        except ServiceError:
            return Response(status_code=404)
        return Response(data, media_type="image/svg+xml",
                        headers={"cache-control": "no-store", "x-content-type-options": "nosniff",
                                 "content-security-policy": "default-src 'none'; "
                                                            "style-src 'unsafe-inline'"})

    async def confirm(self, request: Request) -> Response:
        """``POST .../confirm``: the new authenticator's code activates it."""
        account = self.site.account(request)
        if account is None:
            return self.site.login_redirect()
        f = await form(request)
        before = await self.site.two_step(account)
        if self.site.accounts.pending(account) is None or not before.pending:
            if before.active:  # confirmed already: a double submit or the back button
                flash(request, "2-step verification is on.")
                return redirect("/settings/security")
            flash(request, messages.NO_PENDING, "error")
            return redirect("/settings/security")
        code = messages.normalise_code(f.get("code", ""))
        if code is None:
            return await self.qr_page(request, messages.MALFORMED, 400)
        answer = await self.site.call("confirm", account.user, code,
                                      reauthenticated=self.site.reauthenticated(request))
        if answer.reason == messages.NEEDS_PROOF:
            return self._needs_reauth(request, "qr")
        if not answer.ok:
            return await self.qr_page(request, messages.code_message(answer.reason), 400)
        await self.site.call_local(self.site.accounts.clear_pending, account)
        if before.active:
            flash(request, "Your new authenticator is set up; the old one no longer works. "
                  f"We sent a notice to {account.email}.")
        else:
            flash(request, "2-step verification is on: from now on, signing in asks for a "
                  f"code from your authenticator. We sent a notice to {account.email}.")
        return redirect("/settings/security")

    async def edit(self, request: Request) -> Response:
        """``GET .../two-step``: Edit (change the authenticator, turn it off)."""
        account = self.site.account(request)
        if account is None:
            return self.site.login_redirect()
        state = await self.site.two_step(account)
        if not state.active:
            return redirect("/settings/security")
        return self.render(request, "two_step.html", email=account.email)

    async def disable(self, request: Request) -> Response:
        """``.../disable``: turn 2-step off with a current code or after re-authentication."""
        account = self.site.account(request)
        if account is None:
            return self.site.login_redirect()
        state = await self.site.two_step(account)
        if not state.active:
            if request.method == "POST":
                await form(request)
            flash(request, "2-step verification is off.")
            return redirect("/settings/security")
        fresh = self.site.reauthenticated(request)
        if request.method == "GET":
            return self.render(request, "disable.html", reauthenticated=fresh)
        f = await form(request)
        if f.get("method") == "password":
            if not fresh:
                return self._needs_reauth(request, "disable")
        else:
            code = messages.normalise_code(f.get("code", ""))
            if code is None:
                return self.render(request, "disable.html", status=400, reauthenticated=fresh,
                                   error=messages.MALFORMED)
            answer = await self.site.call("verify", account.user, code)
            if not answer.ok:
                return self.render(request, "disable.html", status=400, reauthenticated=fresh,
                                   error=messages.code_message(answer.reason))
        await self.site.call("disable", account.user)
        await self.site.call_local(self.site.accounts.clear_pending, account)
        flash(request, "2-step verification is off: signing in asks only for your password. "
              f"We sent a notice to {account.email}.")
        return redirect("/settings/security")


def routes(site: Site) -> list[Route]:
    """The 2-step pages' routes."""
    h = Handlers(site)
    return [
        Route(BASE, h.edit),
        Route(f"{BASE}/setup", h.setup, methods=["POST"]),
        Route(f"{BASE}/qr", h.qr_page),
        Route(f"{BASE}/qr.svg", h.qr_image),
        Route(f"{BASE}/confirm", h.confirm, methods=["POST"]),
        Route(f"{BASE}/disable", h.disable, methods=["GET", "POST"]),
    ]
