"""The verification service: the verifier behind an HTTP JSON API (the ``service`` extra).

``pyotp-hw serve --db URL --key-file FILE --listen 127.0.0.1:8400`` runs it; sites call it with
:class:`Client`. Concurrent verify requests are coalesced into bulk ``verify_many`` calls
(:mod:`.batcher`), notices of changed 2-step settings go out by email through a transactional
outbox (:mod:`.mailer`), clients authenticate with API keys (:mod:`.apikeys`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .client import Answer, Client, ServiceError
from .config import ServiceConfig, SmtpConfig

if TYPE_CHECKING:
    from .app import ServiceApp

__all__ = ["Client", "Answer", "ServiceError", "ServiceConfig", "SmtpConfig", "create_app"]


def create_app(config: ServiceConfig) -> ServiceApp:
    """The ASGI application for ``config`` (needs the ``service`` extra: Starlette)."""
    from .app import create_app as make

    return make(config)
