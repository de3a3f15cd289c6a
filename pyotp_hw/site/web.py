"""What every page shares: rendering, the session cookie's contents, CSRF tokens, flashes.

Sessions are Starlette's signed cookie (itsdangerous, HttpOnly, SameSite=Lax); they hold ids,
times and the CSRF token, never a secret of the user. Every form carries the session's CSRF
token, compared in constant time before anything else is read.
"""

from __future__ import annotations

import hmac
import secrets
import time
from pathlib import Path

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

__all__ = ["Pages", "CsrfError", "redirect", "flash", "form"]

TEMPLATES = Path(__file__).parent / "templates"

_NO_STORE = {"cache-control": "no-store", "x-content-type-options": "nosniff",
             "referrer-policy": "same-origin", "x-frame-options": "DENY",
             "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                        "img-src 'self'; form-action 'self'; "
                                        "frame-ancestors 'none'"}


class CsrfError(Exception):
    """A form arrived without this session's CSRF token."""


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def form(request: Request) -> dict[str, str]:
    """The posted form's text fields, after checking the CSRF token (:class:`CsrfError`)."""
    data = await request.form(max_files=0, max_fields=20, max_part_size=4096)
    fields = {k: v for k, v in data.items() if isinstance(v, str)}
    expected = request.session.get("csrf")
    given = fields.pop("csrf", "")
    if not isinstance(expected, str) or not hmac.compare_digest(
            given.encode(), expected.encode()):
        raise CsrfError
    return fields


def flash(request: Request, text: str, kind: str = "info") -> None:
    """A message shown on the next page rendered."""
    queue = list(request.session.get("flash", []))
    queue.append([kind, text])
    request.session["flash"] = queue[-5:]


def redirect(url: str) -> Response:
    """303 See Other to ``url`` (post, redirect, get: a reload never re-posts)."""
    return RedirectResponse(url, status_code=303, headers=_NO_STORE)


def signed_in_at(request: Request, key: str, seconds: float) -> bool:
    """Whether the session's time ``key`` is within ``seconds`` of now."""
    at = request.session.get(key)
    return isinstance(at, (int, float)) and 0 <= time.time() - at <= seconds


class Pages:
    """The Jinja2 templates (autoescaped) and the values every page sees."""

    def __init__(self, site_name: str) -> None:
        self.site_name = site_name
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
            undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)

    def render(self, request: Request, name: str, status: int = 200, **values: object) -> Response:
        """Template ``name`` as an HTML response that no cache keeps."""
        messages = request.session.pop("flash", [])
        values.setdefault("error", None)
        values.setdefault("signed_in", isinstance(request.session.get("uid"), int))
        body = self.env.get_template(name).render(
            site_name=self.site_name, csrf=csrf_token(request), messages=messages,
            path=request.url.path, **values)
        return HTMLResponse(body, status_code=status, headers=_NO_STORE)
