"""One AEAD for the whole package: AES-256-GCM, used by the verifier store, the virtual token's
state files and the vault.

A sealed value is ``nonce (12 bytes) || ciphertext || tag (16 bytes)``; the nonce is random for
every seal. What a value means is bound into its associated data by the caller; a *versioned*
value (:func:`seal_versioned`) also carries a short header in front (``magic || version``) that
is authenticated with the ciphertext, so a value of another format or version is refused by its
header before any decryption, and a changed header fails to open.

Keys made from a passphrase come from :func:`scrypt_key` (RFC 7914), the one key derivation of
the verifier's passphrase keys, the vault's passphrase slots and the virtual token's state
files; it checks the cost (:func:`check_scrypt_cost`) before any work, so a changed file cannot
make an unlock allocate more than :data:`SCRYPT_MAX_MEMORY`. Keys made from key material that is
already strong (a key file, a token's HMAC answer, an X25519 exchange) come from :func:`hkdf`
(HKDF-SHA256, RFC 5869), the one expansion of the verifier's key files and the vault's slots.

Only a failed authentication (cryptography's ``InvalidTag``) is reported as
:class:`SealOpenFailed` ("wrong key, or the data was changed"). Any other failure is a bug or a
broken install and comes out as itself. Plaintext is decrypted into a ``bytearray`` that the
caller can :func:`wipe`; on cryptography releases without ``AESGCM.decrypt_into`` (before 47) the
streaming decryptor writes into buffers of ours instead.
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING

from ._numbers import option
from .errors import InvalidArgument, InvalidType, MissingExtra, OTPError

if TYPE_CHECKING:  # cryptography is an optional extra, imported when a key is used
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "KEY_BYTES",
    "NONCE_BYTES",
    "TAG_BYTES",
    "SealOpenFailed",
    "SealFormatError",
    "Aead",
    "seal_versioned",
    "open_versioned",
    "wipe",
    "require",
    "SCRYPT_MAX_MEMORY",
    "passphrase_bytes",
    "check_scrypt_cost",
    "scrypt_key",
    "hkdf",
]

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
#: The most memory a scrypt cost may ask for (128 * n * r bytes).
SCRYPT_MAX_MEMORY = 1 << 30
_SCRYPT_MAX_N = 2**20
_SCRYPT_MAX_R = 32
_SCRYPT_MAX_P = 16
_HKDF_MAX_LENGTH = 255 * 32  # RFC 5869: at most 255 blocks of the hash


class SealOpenFailed(OTPError):
    """A sealed value did not authenticate: a wrong key, or the value (or its context) changed."""


class SealFormatError(OTPError):
    """A sealed value is not of the expected format or version, or is cut short."""


def _aesgcm_class(feature: str, extra: str) -> type[AESGCM]:
    try:
        # Looked up at every call, so tests can stand an older AESGCM in for the real one.
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise MissingExtra(feature, extra, "cryptography") from None
    return AESGCM


def require(feature: str, extra: str) -> None:
    """Raise :class:`MissingExtra` now (naming ``feature`` and ``extra``) when sealing is not
    available, for callers that must fail before their first side effect."""
    _aesgcm_class(feature, extra)


def _gcm_decrypt_into(key: bytes, nonce: bytes, body: bytes, aad: bytes, out: bytearray) -> None:
    """AES-GCM decryption into ``out`` without ``decrypt_into``; raises InvalidTag."""
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


class Aead:
    """AES-256-GCM under one 32-byte key.

    ``feature`` and ``extra`` name what needs the ``cryptography`` package and the pip extra that
    brings it, for the error raised when it is missing.
    """

    __slots__ = ("_aead", "_key")

    def __init__(self, key: bytes | bytearray, *, feature: str = "AES-256-GCM sealing",
                 extra: str = "verifier") -> None:
        if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_BYTES:
            raise InvalidArgument(f"an AES-256-GCM key must be {KEY_BYTES} bytes")
        key = bytes(key)
        self._aead = _aesgcm_class(feature, extra)(key)
        # cryptography < 47 has no AESGCM.decrypt_into; opening then needs the key itself.
        self._key = None if hasattr(self._aead, "decrypt_into") else key

    def __repr__(self) -> str:
        return "Aead(<key hidden>)"

    def seal(self, plaintext: bytes | bytearray, aad: bytes) -> bytes:
        """Encrypt ``plaintext`` with a fresh random nonce; return ``nonce || ct || tag``."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + bytes(self._aead.encrypt(nonce, bytes(plaintext), aad))

    def open_into(self, sealed: bytes, aad: bytes) -> bytearray:
        """Decrypt into a new bytearray (the caller wipes it).

        Raises :class:`SealFormatError` when ``sealed`` is too short to hold a nonce and a tag,
        :class:`SealOpenFailed` when it does not authenticate.
        """
        if len(sealed) < NONCE_BYTES + TAG_BYTES:
            raise SealFormatError("a sealed value is truncated")
        from cryptography.exceptions import InvalidTag

        nonce, body = bytes(sealed[:NONCE_BYTES]), bytes(sealed[NONCE_BYTES:])
        buf = bytearray(len(sealed) - NONCE_BYTES - TAG_BYTES)
        try:
            if self._key is None:
                self._aead.decrypt_into(nonce, body, aad, buf)
            elif buf:
                _gcm_decrypt_into(self._key, nonce, body, aad, buf)
            else:  # nothing to write into: the plain call returns b"" or raises InvalidTag
                self._aead.decrypt(nonce, body, aad)
        except BaseException as exc:
            wipe(buf)
            if isinstance(exc, InvalidTag):  # only a failed authentication means a wrong key
                raise SealOpenFailed("the sealed value does not open: wrong key, or it was "
                                     "changed") from None
            raise
        return buf

    def open(self, sealed: bytes, aad: bytes) -> bytes:
        """Decrypt and return ``bytes`` (for values that are not secret key material)."""
        buf = self.open_into(sealed, aad)
        try:
            return bytes(buf)
        finally:
            wipe(buf)


def _header(magic: bytes, version: int) -> bytes:
    if not magic or len(magic) > 32 or not 0 <= version <= 255:
        raise InvalidArgument("a sealing header needs a magic of 1-32 bytes and a version 0-255")
    return magic + bytes([version])


def seal_versioned(aead: Aead, magic: bytes, version: int, plaintext: bytes | bytearray,
                   aad: bytes = b"") -> bytes:
    """Seal with a header ``magic || version`` in front, authenticated with the value."""
    header = _header(magic, version)
    return header + aead.seal(plaintext, header + aad)


def open_versioned(aead: Aead, magic: bytes, version: int, sealed: bytes,
                   aad: bytes = b"") -> bytearray:
    """Open what :func:`seal_versioned` made; check the header first.

    Raises :class:`SealFormatError` for another magic or version, :class:`SealOpenFailed` when
    the value does not authenticate.
    """
    header = _header(magic, version)
    if sealed[: len(magic)] != magic:
        raise SealFormatError("the sealed value is not of the expected format")
    if len(sealed) <= len(magic):
        raise SealFormatError("the sealed value is truncated")
    if sealed[len(magic)] != version:
        raise SealFormatError(f"sealed format version {sealed[len(magic)]} is not supported "
                              f"(expected {version})")
    return aead.open_into(sealed[len(header):], header + aad)


def wipe(buf: bytearray) -> None:
    """Overwrite a buffer that held key material."""
    buf[:] = bytes(len(buf))


def passphrase_bytes(passphrase: object, what: str = "the passphrase",
                     error: type[OTPError] = InvalidArgument) -> bytes:
    """``passphrase`` (a str, taken as UTF-8, or bytes) as the bytes a KDF stretches.

    An empty one, or text with a lone surrogate (an undecodable byte), raises ``error``, another
    type :class:`InvalidType`; no message echoes it.
    """
    if isinstance(passphrase, str):
        try:
            encoded: bytes | None = passphrase.encode("utf-8")
        except UnicodeEncodeError:
            encoded = None
        if encoded is None:  # raised out here: the codec's error, which holds it, is no context
            raise error(f"{what} is not valid Unicode text (a lone surrogate)")
        passphrase = encoded
    if not isinstance(passphrase, bytes):
        raise InvalidType(f"{what} must be str or bytes, not {type(passphrase).__name__}")
    if not passphrase:
        raise error(f"{what} is empty")
    return passphrase


def check_scrypt_cost(n: object, r: object, p: object, *, min_n: int = 2) -> tuple[int, int, int]:
    """``(n, r, p)`` when they are a scrypt cost this package runs, else a typed error.

    ``n`` is a power of two from ``min_n`` to 2**20, ``r`` 1 to 32, ``p`` 1 to 16, and together
    they ask for at most :data:`SCRYPT_MAX_MEMORY`.
    """
    cost_n = option(n, "scrypt n", min_n, _SCRYPT_MAX_N)
    if cost_n & (cost_n - 1):
        raise InvalidArgument(f"scrypt n must be a power of two, got {cost_n}")
    cost_r = option(r, "scrypt r", 1, _SCRYPT_MAX_R)
    cost_p = option(p, "scrypt p", 1, _SCRYPT_MAX_P)
    if 128 * cost_n * cost_r > SCRYPT_MAX_MEMORY:
        raise InvalidArgument(f"scrypt n and r ask for more than {SCRYPT_MAX_MEMORY >> 20} MiB")
    return cost_n, cost_r, cost_p


def scrypt_key(passphrase: bytes, salt: bytes, *, n: int, r: int, p: int,
               length: int = KEY_BYTES) -> bytes:
    """scrypt (RFC 7914) of ``passphrase`` over ``salt``: ``length`` bytes, the cost checked."""
    n, r, p = check_scrypt_cost(n, r, p)
    # OpenSSL wants room for 128 * r * (n + p + 2) bytes; r and p are small enough that a MiB
    # over 129 * r * n covers every allowed cost.
    return hashlib.scrypt(passphrase, salt=salt, n=n, r=r, p=p, dklen=length,
                          maxmem=129 * r * n + (1 << 20))


def hkdf(material: bytes | bytearray, salt: bytes, info: bytes, length: int = KEY_BYTES, *,
         feature: str = "deriving keys", extra: str = "verifier") -> bytearray:
    """HKDF-SHA256 (RFC 5869) of ``material`` with ``salt`` and ``info``: ``length`` bytes in a
    bytearray the caller wipes.

    ``feature`` and ``extra`` name what needs the ``cryptography`` package and the pip extra that
    brings it, for the :class:`MissingExtra` raised when it is missing.
    """
    size = option(length, "the HKDF length", 1, _HKDF_MAX_LENGTH)
    try:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise MissingExtra(feature, extra, "cryptography") from None
    return bytearray(HKDF(algorithm=hashes.SHA256(), length=size, salt=salt, info=info)
                     .derive(bytes(material)))
