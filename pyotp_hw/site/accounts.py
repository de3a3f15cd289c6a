"""The site's accounts: email and argon2id password hash in the site's own SQLite file.

The second factor is not here: it lives in the verification service, under the user id
``site-<account id>``. The only secret kept besides the password hash is the otpauth URI of a
pending enrollment, so that its QR page and key survive a reload or the back button; it is
deleted when the enrollment is confirmed, cancelled or expires. The file is created 0600.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidArgument
from ..secret_files import write_secret_file

__all__ = ["Account", "Accounts", "PasswordHasher", "check_email", "check_password"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    pending_uri TEXT,
    pending_expires REAL
);
"""

MIN_PASSWORD = 10
MAX_PASSWORD = 256


@dataclass(frozen=True)
class Account:
    """One account (the hash and pending URI are left out of ``repr``)."""

    id: int
    email: str

    @property
    def user(self) -> str:
        """The user id this account has at the verification service."""
        return f"site-{self.id}"


def check_email(text: str) -> str:
    """A normalised email address, or InvalidArgument with a sentence for the form."""
    email = text.strip()
    local, sep, domain = email.rpartition("@")
    if (not sep or not local or "." not in domain or domain.startswith(".")
            or domain.endswith(".") or len(email) > 254 or any(c.isspace() for c in email)
            or any(ord(c) < 32 for c in email)):
        raise InvalidArgument("Enter an email address like name@example.com.")
    return f"{local}@{domain.lower()}"


def check_password(text: str) -> str:
    """``text`` if it is an acceptable new password, else InvalidArgument saying why."""
    if len(text) < MIN_PASSWORD:
        raise InvalidArgument(f"Choose a password of at least {MIN_PASSWORD} characters.")
    if len(text) > MAX_PASSWORD:
        raise InvalidArgument(f"Choose a password of at most {MAX_PASSWORD} characters.")
    return text


class PasswordHasher:
    """argon2id (argon2-cffi's defaults: RFC 9106's second recommended option)."""

    def __init__(self) -> None:
        from argon2 import PasswordHasher as Argon2

        self._ph = Argon2()
        # Verified against when the email is unknown, so that the answer takes as long.
        self._dummy = self._ph.hash("not a password of anyone")

    def hash(self, password: str) -> str:
        """The encoded argon2id hash of ``password``."""
        return str(self._ph.hash(password))

    def verify(self, encoded: str | None, password: str) -> bool:
        """Whether ``password`` matches ``encoded`` (None: compare against a dummy, False)."""
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            ok = bool(self._ph.verify(encoded or self._dummy, password))
        except (VerificationError, InvalidHashError):
            return False
        return ok and encoded is not None


class Accounts:
    """The account table in the SQLite file at ``path`` (one connection per thread)."""

    def __init__(self, path: str) -> None:
        self.path = path
        if not os.path.exists(path):
            write_secret_file(path, b"", replace=False)
        self._local = threading.local()
        with self._db() as db:
            db.executescript(_SCHEMA)
        self.hasher = PasswordHasher()

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(Path(self.path), timeout=10.0)
            db.execute("PRAGMA journal_mode=WAL")
            self._local.db = db
        return db

    def create(self, email: str, password: str) -> Account:
        """A new account; InvalidArgument when the address is taken."""
        encoded = self.hasher.hash(password)
        try:
            with self._db() as db:
                cur = db.execute(
                    "INSERT INTO accounts (email, password_hash, created_at) VALUES (?, ?, ?)",
                    (email, encoded, time.time()))
        except sqlite3.IntegrityError:
            raise InvalidArgument("An account with this email address exists: sign in.") from None
        assert cur.lastrowid is not None
        return Account(int(cur.lastrowid), email)

    def authenticate(self, email: str, password: str) -> Account | None:
        """The account if ``password`` is right for ``email``, else None (same work either way)."""
        row = self._db().execute(
            "SELECT id, email, password_hash FROM accounts WHERE email = ?", (email,)).fetchone()
        if not self.hasher.verify(row[2] if row else None, password):
            return None
        assert row is not None
        return Account(int(row[0]), str(row[1]))

    def get(self, account_id: int) -> Account | None:
        """The account of id ``account_id``, or None."""
        row = self._db().execute(
            "SELECT id, email FROM accounts WHERE id = ?", (account_id,)).fetchone()
        return None if row is None else Account(int(row[0]), str(row[1]))

    def set_pending(self, account: Account, uri: str, expires_at: float) -> None:
        """Keep the pending enrollment's URI until ``expires_at``."""
        with self._db() as db:
            db.execute("UPDATE accounts SET pending_uri = ?, pending_expires = ? WHERE id = ?",
                       (uri, expires_at, account.id))

    def pending(self, account: Account, now: float | None = None) -> str | None:
        """The pending enrollment's URI while it has not expired (expired ones are dropped)."""
        row = self._db().execute(
            "SELECT pending_uri, pending_expires FROM accounts WHERE id = ?",
            (account.id,)).fetchone()
        if row is None or row[0] is None:
            return None
        if float(row[1]) <= (time.time() if now is None else now):
            self.clear_pending(account)
            return None
        return str(row[0])

    def clear_pending(self, account: Account) -> None:
        """Forget the pending enrollment's URI."""
        with self._db() as db:
            db.execute("UPDATE accounts SET pending_uri = NULL, pending_expires = NULL "
                       "WHERE id = ?", (account.id,))
