"""Non-discoverable credentials: everything about a credential lives in its sealed id.

A credential id is ``01 || nonce(12) || AES-256-GCM(key, secrets, aad = 01 || rpIdHash)`` where
``key`` is derived (HKDF-SHA-256) from the authenticator's master key and ``secrets`` is the P-256
private key (32 bytes), CredRandomWithUV and CredRandomWithoutUV (32 bytes each, the hmac-secret
extension's two secrets), the credProtect level (1 byte) and flags (1 byte: bit 0 set when the
credential was made with hmac-secret). The id is :data:`CREDENTIAL_ID_LENGTH` bytes.

Only the authenticator that made an id opens it, only for the RP it was made for, and none after
a reset; a changed byte fails the tag. Nothing is stored on the authenticator per credential.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec

from ....sealing import Aead, SealFormatError, SealOpenFailed, hkdf

__all__ = ["Credential", "CredentialSealer", "CREDENTIAL_ID_LENGTH"]

_VERSION = b"\x01"
_NONCE = 12
_SECRETS = 32 + 32 + 32 + 1 + 1
#: The length of every credential id this authenticator makes.
CREDENTIAL_ID_LENGTH = 1 + _NONCE + _SECRETS + 16
_FLAG_HMAC_SECRET = 0x01


@dataclass
class Credential:
    """A credential's private parts, as its id carries them."""

    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    cred_random_with_uv: bytes = field(repr=False)
    cred_random_without_uv: bytes = field(repr=False)
    cred_protect: int = 1
    hmac_secret: bool = False

    @classmethod
    def generate(cls, *, cred_protect: int, hmac_secret: bool) -> Credential:
        """A new P-256 key and two new CredRandoms."""
        return cls(
            ec.generate_private_key(ec.SECP256R1()),
            secrets.token_bytes(32),
            secrets.token_bytes(32),
            cred_protect,
            hmac_secret,
        )

    def cred_random(self, user_verified: bool) -> bytes:
        """The hmac-secret key for an assertion with (or without) user verification."""
        return self.cred_random_with_uv if user_verified else self.cred_random_without_uv


class CredentialSealer:
    """Seals credentials into ids and opens them, under a key derived from ``master_key``."""

    def __init__(self, master_key: bytes) -> None:
        # A zero salt of the hash's length, as RFC 5869 reads a missing one.
        key = bytes(hkdf(master_key, bytes(32), b"pyotp-hw virtual FIDO2 credential id v1",
                         feature="the virtual FIDO2 authenticator", extra="fido"))
        self._aead = Aead(key, feature="the virtual FIDO2 authenticator", extra="fido")

    def __repr__(self) -> str:
        return "CredentialSealer(<key hidden>)"

    def seal(self, credential: Credential, rp_id_hash: bytes) -> bytes:
        """Return the credential id for ``credential`` made for the RP ``rp_id_hash``."""
        scalar = credential.private_key.private_numbers().private_value.to_bytes(32, "big")
        flags = _FLAG_HMAC_SECRET if credential.hmac_secret else 0
        plaintext = (scalar + credential.cred_random_with_uv + credential.cred_random_without_uv
                     + bytes([credential.cred_protect, flags]))
        return _VERSION + self._aead.seal(plaintext, _VERSION + rp_id_hash)  # nonce || ct || tag

    def open(self, credential_id: bytes, rp_id_hash: bytes) -> Credential | None:
        """Return the credential in ``credential_id``, or None when it is not one of ours."""
        if len(credential_id) != CREDENTIAL_ID_LENGTH or credential_id[:1] != _VERSION:
            return None
        try:
            plaintext = self._aead.open(credential_id[1:], _VERSION + rp_id_hash)
        except (SealOpenFailed, SealFormatError):  # not ours, or for another RP
            return None
        scalar = int.from_bytes(plaintext[:32], "big")
        protect, flags = plaintext[96], plaintext[97]
        return Credential(
            ec.derive_private_key(scalar, ec.SECP256R1()),
            plaintext[32:64],
            plaintext[64:96],
            protect,
            bool(flags & _FLAG_HMAC_SECRET),
        )
