"""API keys: created once, stored hashed, compared in constant time, revocable.

A key reads ``ohw_<id>_<secret>``: ``id`` (12 hex digits) names the stored row, ``secret`` is
32 random bytes in base64url. The store keeps the id, a name, and SHA-256 of the secret (a
random 256-bit secret needs no slow hash: nothing can be guessed from its digest). The key
itself is printed once, when it is made, and never again.

:class:`KeyRing` holds a process's copy of the table, which the service reloads every
``key_refresh`` seconds (a revoked key stops working within that time), and answers
:meth:`KeyRing.check` without touching the store.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable

from ..errors import InvalidArgument
from ..verifier.stores import open_store
from ..verifier.stores.service import ApiKeyRow, ServiceTables

__all__ = ["KeyRing", "create_key", "revoke_keys", "list_keys", "service_store", "new_key"]

_KEY = re.compile(r"ohw_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
# Compared against when the id is unknown, so that an unknown id costs what a known one does.
_DUMMY = hashlib.sha256(b"pyotp-hw: no such key").digest()


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("ascii")).digest()


def new_key() -> tuple[str, str, bytes]:
    """(the key to hand out, its id, the digest to store)."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"ohw_{key_id}_{secret}", key_id, _digest(secret)


def service_store(url: str) -> ServiceTables:
    """The existing SQL store at ``url``, with the service's tables ready."""
    store = open_store(url, create=False)
    if not isinstance(store, ServiceTables):
        store.close()
        raise InvalidArgument("the service needs a SQLite or PostgreSQL store, not memory:")
    try:
        store.migrate(create=False)
        store.prepare_service()
    except BaseException:
        store.close()
        raise
    return store


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidArgument("a key name is 1 to 64 letters, digits or ._@- (starting with a "
                              "letter or digit)")
    return name


def create_key(url: str, name: str) -> str:
    """Store a new API key named ``name`` in the store at ``url``; return the key (once)."""
    _check_name(name)
    store = service_store(url)
    try:
        key, key_id, digest = new_key()
        store.add_api_key(key_id, name, digest, time.time())
    finally:
        store.close()
    return key


def revoke_keys(url: str, name: str) -> int:
    """Revoke every live key named ``name``; return how many were revoked."""
    _check_name(name)
    store = service_store(url)
    try:
        return store.revoke_api_keys(name, time.time())
    finally:
        store.close()


def list_keys(url: str) -> list[ApiKeyRow]:
    """Every key of the store (ids, names and times; digests are not secrets but stay here)."""
    store = service_store(url)
    try:
        return store.api_keys()
    finally:
        store.close()


class KeyRing:
    """The live keys of a store, refreshed from it; :meth:`check` is constant time."""

    def __init__(self, load: Callable[[], list[ApiKeyRow]]) -> None:
        self._load = load
        self._keys: dict[str, ApiKeyRow] = {}
        self._lock = threading.Lock()
        self.reload()

    def reload(self) -> None:
        """Read the table again (called every ``refresh`` seconds by the service)."""
        rows = self._load()
        keys = {r.key_id: r for r in rows if r.revoked_at is None}
        with self._lock:
            self._keys = keys

    def check(self, authorization: str | None) -> str | None:
        """The key's name for an ``Authorization: Bearer KEY`` value, or None (no key, a
        malformed, unknown or revoked one)."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        m = _KEY.fullmatch(authorization[7:].strip())
        if m is None:
            return None
        row = self._keys.get(m.group(1))
        expected = _DUMMY if row is None else row.digest
        same = hmac.compare_digest(_digest(m.group(2)), expected)
        return row.name if same and row is not None else None
