"""The reference site: accounts with email and password, and 2-step verification through the
verification service (the ``site`` extra: Starlette, Jinja2, argon2-cffi, itsdangerous).

``pyotp-hw site serve --service URL --db FILE --listen 127.0.0.1:8500`` runs it, with the
service's API key in ``$PYOTP_HW_SITE_API_KEY``. Every 2-step operation is an HTTP call to the
service (:class:`pyotp_hw.service.Client`); the service must send its notices with this site's
wording: start it with ``--notice-templates`` :data:`NOTICE_TEMPLATES`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .config import SiteConfig

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = ["SiteConfig", "create_app", "serve", "NOTICE_TEMPLATES"]

#: The directory of the notice emails' templates (``KIND.subject``, ``KIND.txt``, ``KIND.html``)
#: in the site's words, for the service's ``--notice-templates``.
NOTICE_TEMPLATES = str(Path(__file__).parent / "notice_templates")


def create_app(config: SiteConfig) -> Starlette:
    """The site's ASGI application for ``config``."""
    from .app import create_app as make

    return make(config)


def serve(config: SiteConfig, listen: str) -> None:
    """Serve the site on ``listen`` (``HOST:PORT``) until interrupted."""
    import uvicorn

    from ..service import parse_listen

    host, port = parse_listen(listen)
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning",
                access_log=False, server_header=False)
