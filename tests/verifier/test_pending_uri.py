"""``Verifier.pending_enrollment``: the pending URI rebuilt from the sealed seed, by any
verifier sharing the store, until confirmed or expired."""

from __future__ import annotations

import base64
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from pyotp_hw.verifier import Verifier
from tests import oracle

from .conftest import T


def test_pending_uri_is_the_issued_one(db_url: str, open_verifier: Callable[..., Verifier]
                                       ) -> None:
    v = open_verifier(db_url)
    issued = v.begin_enrollment("alice", issuer="Example", name="alice@example.com", now=T)
    other = open_verifier(db_url)  # another process would see the same
    again = other.pending_enrollment("alice", now=T + 1)
    assert again is not None and again.uri == issued.uri
    assert again.expires_at == issued.expires_at
    assert other.pending_enrollment("bob", now=T) is None
    assert other.pending_enrollment("alice", now=issued.expires_at) is None
    b32 = parse_qs(urlsplit(issued.uri).query)["secret"][0]
    secret = base64.b32decode(b32 + "=" * (-len(b32) % 8))
    assert v.confirm_enrollment("alice", oracle.totp(secret, T + 2), now=T + 2).ok
    assert other.pending_enrollment("alice", now=T + 3) is None
