"""Server-side verification: replay-safe, throttled, resynchronising, in bulk.

    >>> from pyotp_hw.verifier import Verifier, KeyFile
    >>> v = Verifier.open("sqlite:////var/lib/site/otp.db", key=KeyFile("/etc/site/otp.key"))
    >>> enrollment = v.begin_enrollment("alice", issuer="Example", name="alice@example.com")
    >>> # show enrollment.qr() to Alice; then, with the code her app shows:
    >>> v.confirm_enrollment("alice", "123456")         # doctest: +SKIP
    >>> v.verify("alice", "654321").ok                    # doctest: +SKIP

Stores: ``memory:`` (one process), ``sqlite:///path`` (the embedded default; WAL, safe across
processes) and ``postgresql://user@host:port/db`` (several machines; the ``postgres`` extra).
Seeds are sealed with AES-256-GCM (the ``verifier`` extra) under a data key from a key provider.
"""

from __future__ import annotations

from .core import Verifier
from .enrollment import Enrollment
from .errors import (
    AlreadyEnrolled,
    InvalidStoreURL,
    NotEnrolled,
    SchemaError,
    StoreError,
    VerifierError,
    WrongKey,
)
from .keyprovider import DataKey, EnvKey, KeyFile, KeyProvider, PassphraseKey
from .policy import Policy
from .records import CredentialInfo, Event, EventKind, Reason, Result

__all__ = [
    "Verifier",
    "Policy",
    "Result",
    "Reason",
    "Event",
    "EventKind",
    "Enrollment",
    "CredentialInfo",
    "KeyProvider",
    "DataKey",
    "PassphraseKey",
    "KeyFile",
    "EnvKey",
    "VerifierError",
    "InvalidStoreURL",
    "WrongKey",
    "StoreError",
    "SchemaError",
    "NotEnrolled",
    "AlreadyEnrolled",
]
