"""Seeds at rest: AES-256-GCM under the data key, bound to their user and parameters.

A sealed seed is ``nonce (12 bytes) || ciphertext || tag (16 bytes)``. The associated data names
the format version, the user id and the credential's parameters, so a sealed seed copied to another
user's row, or a row whose digits or digest were altered, fails to open instead of verifying.
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import MissingExtra
from .errors import WrongKey

__all__ = ["Sealer", "credential_aad", "KEY_CHECK_AAD"]

NONCE_BYTES = 12
TAG_BYTES = 16
KEY_CHECK_AAD = b"pyotp-hw/verifier/1\x00key-check"
_KEY_CHECK_PLAINTEXT = b"pyotp-hw verifier key check"


def credential_aad(
    user: str, kind: str, digest: str, digits: int, period: int, t0: int
) -> bytes:
    """The associated data that binds a sealed seed to its user and parameters."""
    fields = (user, kind, digest, str(digits), str(period), str(t0))
    return b"pyotp-hw/verifier/1\x00" + b"\x00".join(f.encode("utf-8") for f in fields)


def _aesgcm(key: bytes) -> Any:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise MissingExtra("sealing seeds at rest", "verifier", "cryptography") from None
    return AESGCM(key)


def _gcm_decrypt_into(key: bytes, nonce: bytes, body: bytes, aad: bytes, out: bytearray) -> None:
    """AES-GCM decryption into ``out`` for cryptography releases without ``decrypt_into``.

    ``AESGCM.decrypt`` would return the plaintext as an immutable ``bytes`` that nothing can
    wipe; the streaming decryptor writes into buffers of ours instead. Raises InvalidTag.
    """
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    ciphertext, tag = body[:-TAG_BYTES], body[-TAG_BYTES:]
    decryptor = Cipher(algorithms.AES(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    scratch = bytearray(len(ciphertext) + 15)  # update_into wants a block's room to spare
    try:
        written = decryptor.update_into(ciphertext, scratch)
        decryptor.finalize()  # checks the tag
        if written != len(out):  # pragma: no cover - GCM is a stream mode
            raise RuntimeError("AES-GCM wrote an unexpected length")
        memoryview(out)[:] = memoryview(scratch)[:written]
    finally:
        wipe(scratch)


class Sealer:
    """Seals and opens seeds under one data key."""

    __slots__ = ("_aead", "_key")

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) != 32:
            raise WrongKey("the data key must be 32 bytes")
        self._aead = _aesgcm(key)
        # cryptography < 47 has no AESGCM.decrypt_into; opening then needs the key itself.
        self._key = None if hasattr(self._aead, "decrypt_into") else key

    def seal(self, secret: bytes | bytearray, aad: bytes) -> bytes:
        """Encrypt ``secret`` with a fresh random nonce."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + bytes(self._aead.encrypt(nonce, bytes(secret), aad))

    def open_into(self, sealed: bytes, aad: bytes) -> bytearray:
        """Decrypt into a new bytearray (which the caller wipes); raise WrongKey when it fails."""
        if len(sealed) <= NONCE_BYTES + TAG_BYTES:
            raise WrongKey("a sealed seed is truncated")
        from cryptography.exceptions import InvalidTag

        nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        buf = bytearray(len(sealed) - NONCE_BYTES - TAG_BYTES)
        try:
            if self._key is None:
                self._aead.decrypt_into(nonce, body, aad, buf)
            else:
                _gcm_decrypt_into(self._key, nonce, body, aad, buf)
        except BaseException as exc:
            wipe(buf)
            if isinstance(exc, InvalidTag):  # only a failed authentication means a wrong key
                raise WrongKey("a sealed seed does not open under this data key") from None
            raise
        return buf

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


def wipe(buf: bytearray) -> None:
    """Overwrite a buffer holding key material."""
    buf[:] = bytes(len(buf))
