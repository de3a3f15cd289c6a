"""The site's ASGI application: the routes of :mod:`.pages` and :mod:`.twostep` behind the
signed-cookie session middleware (HttpOnly, SameSite=Lax, Secure when configured)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware

from . import pages, twostep
from .config import SiteConfig
from .core import Site, signing_key

__all__ = ["create_app"]


def create_app(config: SiteConfig) -> Starlette:
    """The site's ASGI application."""
    site = Site(config)
    middleware = [Middleware(
        SessionMiddleware, secret_key=signing_key(config.secret_key_file),
        session_cookie="site_session", max_age=config.session_seconds, same_site="lax",
        https_only=config.cookie_secure)]
    app = Starlette(routes=[*pages.routes(site), *twostep.routes(site)], middleware=middleware,
                    exception_handlers=pages.exception_handlers(site))
    app.state.site = site
    return app
