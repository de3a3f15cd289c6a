"""Server-side verification: replay-safe, throttled, resynchronising, in bulk.

A site moving its users to an authenticator app::

    from pyotp_hw.verifier import KeyFile, Verifier

    v = Verifier.open("sqlite:////var/lib/site/otp.db", key=KeyFile("/etc/site/otp.key"))
    v.on_event(lambda e: notify(e.user, e.kind))           # "your 2-step settings changed"
    enrollment = v.begin_enrollment("alice", issuer="Example", name="alice@example.com")
    show(enrollment.qr())                                  # pending until confirmed
    v.confirm_enrollment("alice", code_from_her_app)       # Result(ok=True, ...)
    v.verify("alice", next_code).ok                        # True once, then a replay
    v.verify_many([("alice", c1), ("bob", c2)])            # one transaction: read, C call, commit

Stores: ``memory:`` (one process), ``sqlite:///path`` (the embedded default; WAL, safe across
processes) and ``postgresql://user@host:port/db`` (several machines; the ``postgres`` extra).
Seeds are sealed with AES-256-GCM (the ``verifier`` extra) under a data key from a key provider;
:class:`EnvKey` reads it from the variable :data:`DEFAULT_ENV_VAR` (``PYOTP_HW_VERIFIER_KEY``)
unless given another name.
"""

from __future__ import annotations

from .core import Verifier
from .enrollment import Enrollment
from .errors import (
    AlreadyEnrolled,
    InvalidStoreURL,
    NotEnrolled,
    ReauthenticationRequired,
    SchemaError,
    StoreError,
    StoreNotFound,
    VerifierError,
    WrongKey,
)
from .keyprovider import (
    DEFAULT_ENV_VAR,
    DataKey,
    EnvKey,
    KeyFile,
    KeyProvider,
    PassphraseKey,
)
from .policy import Policy
from .records import CredentialInfo, CredentialState, Event, EventKind, Kind, Reason, Result

__all__ = [
    "Verifier",
    "Policy",
    "Result",
    "Reason",
    "Event",
    "EventKind",
    "Enrollment",
    "CredentialInfo",
    "CredentialState",
    "Kind",
    "KeyProvider",
    "DataKey",
    "PassphraseKey",
    "KeyFile",
    "EnvKey",
    "DEFAULT_ENV_VAR",
    "VerifierError",
    "InvalidStoreURL",
    "WrongKey",
    "StoreError",
    "SchemaError",
    "StoreNotFound",
    "NotEnrolled",
    "AlreadyEnrolled",
    "ReauthenticationRequired",
]
