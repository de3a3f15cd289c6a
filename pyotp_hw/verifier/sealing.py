"""Seeds at rest: AES-256-GCM under the data key, bound to their user and parameters.

A sealed seed is ``nonce (12 bytes) || ciphertext || tag (16 bytes)``. The associated data names
the format version, the user id and the credential's parameters, so a sealed seed copied to another
user's row, or a row whose digits or digest were altered, fails to open instead of verifying.
"""

from __future__ import annotations

from ..sealing import NONCE_BYTES, TAG_BYTES, Aead, SealOpenFailed, wipe
from .errors import WrongKey

__all__ = ["Sealer", "credential_aad", "KEY_CHECK_AAD", "wipe"]

KEY_CHECK_AAD = b"pyotp-hw/verifier/1\x00key-check"
_KEY_CHECK_PLAINTEXT = b"pyotp-hw verifier key check"


def credential_aad(
    user: str, kind: str, digest: str, digits: int, period: int, t0: int
) -> bytes:
    """The associated data that binds a sealed seed to its user and parameters."""
    fields = (user, kind, digest, str(digits), str(period), str(t0))
    return b"pyotp-hw/verifier/1\x00" + b"\x00".join(f.encode("utf-8") for f in fields)


class Sealer:
    """Seals and opens seeds under one data key."""

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) != 32:
            raise WrongKey("the data key must be 32 bytes")
        self._aead = Aead(key, feature="sealing seeds at rest", extra="verifier")

    def seal(self, secret: bytes | bytearray, aad: bytes) -> bytes:
        """Encrypt ``secret`` with a fresh random nonce."""
        return self._aead.seal(secret, aad)

    def open_into(self, sealed: bytes, aad: bytes) -> bytearray:
        """Decrypt into a new bytearray (which the caller wipes); raise WrongKey when it fails."""
        if len(sealed) <= NONCE_BYTES + TAG_BYTES:
            raise WrongKey("a sealed seed is truncated")
        try:
            return self._aead.open_into(sealed, aad)
        except SealOpenFailed:  # only a failed authentication means a wrong key
            raise WrongKey("a sealed seed does not open under this data key") from None

    def key_check(self) -> bytes:
        """A sealed known value that tells, on open, whether a data key is the store's key."""
        return self.seal(_KEY_CHECK_PLAINTEXT, KEY_CHECK_AAD)

    def verify_key_check(self, sealed: bytes) -> None:
        """Raise :class:`WrongKey` unless ``sealed`` came from :meth:`key_check` with this key."""
        try:
            buf = self.open_into(sealed, KEY_CHECK_AAD)
        except WrongKey:
            raise WrongKey("the data key does not open this verifier store") from None
        if bytes(buf) != _KEY_CHECK_PLAINTEXT:  # pragma: no cover - GCM authenticates it
            raise WrongKey("the data key does not open this verifier store")

    def __repr__(self) -> str:
        return "Sealer(<key hidden>)"

