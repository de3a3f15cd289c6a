"""The verification service: the verifier behind an HTTP JSON API (the ``service`` extra).

``pyotp-hw serve --db URL --key-file FILE --listen 127.0.0.1:8400`` runs it; sites call it with
:class:`Client`. Concurrent verify requests are coalesced into bulk ``verify_many`` calls
(:mod:`.batcher`), notices of changed 2-step settings go out by email through a transactional
outbox (:mod:`.mailer`), clients authenticate with API keys (:mod:`.apikeys`).

This package is the facade: the names below are its public interface. Importing it stays light
(a site needs only :class:`Client`): what opens a store or a vault is imported when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .client import Answer, Client, QrFormat, ServiceError
from .config import VAULT_PASSPHRASE_ENV, VAULT_UNLOCKS, ServiceConfig, SmtpConfig
from .server import check_workers, parse_listen, preflight, serve

if TYPE_CHECKING:
    from ..verifier import KeyProvider
    from ..verifier.stores.service import ApiKeyRow
    from .app import ServiceApp

__all__ = [
    "Client",
    "Answer",
    "ServiceError",
    "QrFormat",
    "ServiceConfig",
    "SmtpConfig",
    "VAULT_UNLOCKS",
    "VAULT_PASSPHRASE_ENV",
    "create_app",
    "parse_listen",
    "check_workers",
    "preflight",
    "serve",
    "provider_of",
    "create_key",
    "revoke_keys",
    "list_keys",
]


def create_app(config: ServiceConfig) -> ServiceApp:
    """The ASGI application for ``config`` (needs the ``service`` extra: Starlette)."""
    from .app import create_app as make

    return make(config)


def provider_of(config: ServiceConfig) -> KeyProvider:
    """The data key the settings name (a vault only when its passphrase opens it)."""
    from .state import provider_of as provider

    return provider(config)


def create_key(url: str, name: str) -> str:
    """Store a new API key named ``name`` in the store at ``url``; return the key (once)."""
    from .apikeys import create_key as create

    return create(url, name)


def revoke_keys(url: str, name: str) -> int:
    """Revoke every live API key named ``name``; return how many were revoked."""
    from .apikeys import revoke_keys as revoke

    return revoke(url, name)


def list_keys(url: str) -> list[ApiKeyRow]:
    """Every API key of the store at ``url``: ids, names, digests and times, never a key."""
    from .apikeys import list_keys as listing

    return listing(url)
