"""The site's settings: one frozen record, checked once (nothing secret in it: the API key and
the cookie-signing key are named by the variable or file that holds them)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import InvalidArgument

__all__ = ["SiteConfig"]


@dataclass(frozen=True)
class SiteConfig:
    """Everything one site process needs.

    ``service``: the verification service's URL (``http://HOST:PORT``); ``api_key_env``: the
    environment variable holding its API key; ``db``: the path of the site's own SQLite file
    (accounts, password hashes); ``secret_key_file``: the file of the key that signs session
    cookies (created 0600 when missing); ``site_name``: shown on pages and used as the
    authenticator's issuer; ``cookie_secure``: send cookies over HTTPS only (on in production,
    off for loopback demos); ``reauth_seconds``: how long a re-authentication counts as recent;
    ``session_seconds``: lifetime of the session cookie.
    """

    service: str
    db: str
    secret_key_file: str
    api_key_env: str = "PYOTP_HW_SITE_API_KEY"
    site_name: str = "Example Site"
    cookie_secure: bool = False
    reauth_seconds: float = 300.0
    session_seconds: int = 8 * 3600
    code_prompt_seconds: float = 300.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.service)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidArgument("the service URL looks like http://HOST:PORT")
        if not self.site_name.strip() or len(self.site_name) > 64 or ":" in self.site_name:
            raise InvalidArgument("the site name must be 1 to 64 characters without ':'")
        if not 10.0 <= self.reauth_seconds <= 3600.0:
            raise InvalidArgument("reauth_seconds must be 10 to 3600")
        if not 60 <= self.session_seconds <= 30 * 86400:
            raise InvalidArgument("session_seconds must be 60 to 2592000")
        if not 30.0 <= self.code_prompt_seconds <= 3600.0:
            raise InvalidArgument("code_prompt_seconds must be 30 to 3600")

    def api_key(self) -> str:
        """The service API key, read from its variable."""
        value = os.environ.get(self.api_key_env, "")
        if not value:
            raise InvalidArgument(f"${self.api_key_env} (the service API key) is not set")
        return value
