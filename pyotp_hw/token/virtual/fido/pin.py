"""The authenticator side of CTAP2's PIN/UV auth protocols 1 and 2 (CTAP 2.1 section 6.5).

Each protocol has its own P-256 key agreement key, made at power-up and again after a wrong PIN.
The platform sends its own public key; ECDH gives a shared point whose x coordinate is turned into
the shared secret: SHA-256 of it (protocol 1: one 32-byte key for AES-256-CBC with a zero IV and
for HMAC-SHA-256 cut to 16 bytes) or two HKDF-SHA-256 keys (protocol 2: an HMAC key, then an AES
key; AES-256-CBC with a random IV in front, HMAC-SHA-256 in full). The same ``authenticate`` rule
checks a pinUvAuthParam made with the pinUvAuthToken.
"""

from __future__ import annotations

import abc
import hashlib
import hmac
import secrets
from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ...._types import CBORValue
from ....sealing import hkdf
from .status import CtapFailure, Status

__all__ = ["PinProtocol", "PinProtocolOne", "PinProtocolTwo", "PROTOCOLS", "cose_p256"]

_ZERO_IV = bytes(16)
_COSE_KTY, _COSE_ALG, _COSE_CRV, _COSE_X, _COSE_Y = 1, 3, -1, -2, -3
_KTY_EC2, _CRV_P256 = 2, 1
#: The algorithm number CTAP2 puts in a key agreement key ("not the algorithm actually used").
_ALG_ECDH_ES_HKDF_256 = -25


def cose_p256(public: ec.EllipticCurvePublicKey, alg: int) -> dict[CBORValue, CBORValue]:
    """Return a P-256 public key as a COSE_Key map with algorithm ``alg``."""
    # Keyed by CBORValue, not int: a dict's key type is invariant, and this map nests in others.
    numbers = public.public_numbers()
    return {
        _COSE_KTY: _KTY_EC2,
        _COSE_ALG: alg,
        _COSE_CRV: _CRV_P256,
        _COSE_X: numbers.x.to_bytes(32, "big"),
        _COSE_Y: numbers.y.to_bytes(32, "big"),
    }


def _peer_key(cose: object) -> ec.EllipticCurvePublicKey:
    if not isinstance(cose, Mapping):
        raise CtapFailure(Status.CBOR_UNEXPECTED_TYPE)
    if cose.get(_COSE_KTY) != _KTY_EC2 or cose.get(_COSE_CRV) != _CRV_P256:
        raise CtapFailure(Status.INVALID_PARAMETER)
    x, y = cose.get(_COSE_X), cose.get(_COSE_Y)
    if not isinstance(x, bytes) or not isinstance(y, bytes):
        raise CtapFailure(Status.INVALID_PARAMETER)
    if len(x) != 32 or len(y) != 32:
        raise CtapFailure(Status.INVALID_PARAMETER)
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + x + y)
    except ValueError:  # not a point of the curve
        raise CtapFailure(Status.INVALID_PARAMETER) from None


def _aes_cbc(key: bytes, iv: bytes, data: bytes, *, encrypt: bool) -> bytes:
    if len(data) % 16:
        raise CtapFailure(Status.INVALID_PARAMETER)
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    worker = cipher.encryptor() if encrypt else cipher.decryptor()
    return worker.update(data) + worker.finalize()


class PinProtocol(abc.ABC):
    """What both protocols share: the key agreement key and ECDH."""

    version = 0

    def __init__(self) -> None:
        self._private = ec.generate_private_key(ec.SECP256R1())

    def regenerate(self) -> None:
        """Make a new key agreement key (power-up, and after a wrong PIN)."""
        self._private = ec.generate_private_key(ec.SECP256R1())

    def key_agreement(self) -> dict[CBORValue, CBORValue]:
        """The public key agreement key as getKeyAgreement returns it."""
        return cose_p256(self._private.public_key(), _ALG_ECDH_ES_HKDF_256)

    def decapsulate(self, peer_cose: object) -> bytes:
        """Return the shared secret for the platform's key agreement key ``peer_cose``."""
        z = self._private.exchange(ec.ECDH(), _peer_key(peer_cose))
        return self.kdf(z)

    @abc.abstractmethod
    def kdf(self, z: bytes) -> bytes:
        """Turn the ECDH x coordinate into the shared secret."""

    @abc.abstractmethod
    def encrypt(self, key: bytes, plaintext: bytes) -> bytes:
        """Encrypt ``plaintext`` (a multiple of 16 bytes) under the shared secret ``key``."""

    @abc.abstractmethod
    def decrypt(self, key: bytes, ciphertext: bytes) -> bytes:
        """Decrypt ``ciphertext``; INVALID_PARAMETER when its length is not a block multiple."""

    @abc.abstractmethod
    def mac(self, key: bytes, message: bytes) -> bytes:
        """The protocol's MAC of ``message`` under ``key`` (a shared secret or the token)."""

    def verify(self, key: bytes, message: bytes, signature: object) -> bool:
        """True when ``signature`` is this protocol's MAC of ``message`` (constant time)."""
        if not isinstance(signature, bytes):
            return False
        return hmac.compare_digest(self.mac(key, message), signature)


class PinProtocolOne(PinProtocol):
    """PIN/UV auth protocol 1: SHA-256 KDF, AES-256-CBC with a zero IV, HMAC cut to 16 bytes."""

    version = 1

    def kdf(self, z: bytes) -> bytes:
        """SHA-256 of the x coordinate."""
        return hashlib.sha256(z).digest()

    def encrypt(self, key: bytes, plaintext: bytes) -> bytes:
        """AES-256-CBC with a zero IV."""
        return _aes_cbc(key[:32], _ZERO_IV, plaintext, encrypt=True)

    def decrypt(self, key: bytes, ciphertext: bytes) -> bytes:
        """AES-256-CBC with a zero IV."""
        return _aes_cbc(key[:32], _ZERO_IV, ciphertext, encrypt=False)

    def mac(self, key: bytes, message: bytes) -> bytes:
        """The first 16 bytes of HMAC-SHA-256."""
        return hmac.new(key[:32], message, hashlib.sha256).digest()[:16]


class PinProtocolTwo(PinProtocol):
    """PIN/UV auth protocol 2: HKDF keys, AES-256-CBC with a random IV, full HMAC-SHA-256."""

    version = 2

    def kdf(self, z: bytes) -> bytes:
        """HKDF-SHA-256 (zero salt) twice: the HMAC key, then the AES key."""
        keys = b""
        for info in (b"CTAP2 HMAC key", b"CTAP2 AES key"):
            keys += hkdf(z, bytes(32), info, feature="the virtual FIDO2 authenticator",
                         extra="fido")
        return keys

    def encrypt(self, key: bytes, plaintext: bytes) -> bytes:
        """A random IV followed by AES-256-CBC under the AES half of ``key``."""
        iv = secrets.token_bytes(16)
        return iv + _aes_cbc(self._aes_key(key), iv, plaintext, encrypt=True)

    def decrypt(self, key: bytes, ciphertext: bytes) -> bytes:
        """Split off the IV and decrypt the rest."""
        if len(ciphertext) < 16:
            raise CtapFailure(Status.INVALID_PARAMETER)
        return _aes_cbc(self._aes_key(key), ciphertext[:16], ciphertext[16:], encrypt=False)

    def mac(self, key: bytes, message: bytes) -> bytes:
        """HMAC-SHA-256 under the first 32 bytes of ``key`` (the HMAC key, or the token)."""
        return hmac.new(key[:32], message, hashlib.sha256).digest()

    @staticmethod
    def _aes_key(key: bytes) -> bytes:
        # A shared secret of protocol 2 is the HMAC key followed by the AES key.
        return key[32:]


#: Protocol numbers in the order getInfo lists them (the preferred one first).
PROTOCOLS: tuple[type[PinProtocol], ...] = (PinProtocolTwo, PinProtocolOne)
