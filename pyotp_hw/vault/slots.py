"""Unlocker slots: how each one holds the vault's data key.

Every slot has an X25519 key pair. Its private key is sealed (AES-256-GCM, :mod:`pyotp_hw.sealing`)
under a key-encryption key that only its unlocker can produce (scrypt of a passphrase, the
HMAC of an OATH token, the PRF output of a FIDO2 key, each through HKDF); the data key is sealed
to its public key (an ephemeral X25519 exchange, HKDF, AES-256-GCM). So the data key can be
rotated for every slot without any unlocker present, while only an unlocker opens its slot.

The slot's public parameters (kind, id, salt, challenge, credential id, UV choice, KDF
parameters, public key) are in clear and authenticated as the associated data of its sealed
private key: changing one makes that slot fail to open. ``check`` is 16 bytes derived from the
unlocker's output apart from the key-encryption key, so a wrong secret (a wrong passphrase, a
changed UV setting) is told apart from a changed slot.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .._types import JSONObject, JSONValue
from ..sealing import Aead, SealFormatError, SealOpenFailed, hkdf, wipe
from .errors import VaultCorrupted

if TYPE_CHECKING:  # imported where used: cryptography loads only when a slot is opened or made
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

__all__ = ["Slot", "SlotSecret", "new_slot", "open_slot", "wrap_data_key", "b64", "unb64"]

_PRIVATE_AAD = b"pyotp-hw-vault/1\x00slot-private\x00"
_WRAP_AAD = b"pyotp-hw-vault/1\x00data-key\x00"
_INFO_KEK = b"pyotp-hw vault key-encryption key v1"
_INFO_CHECK = b"pyotp-hw vault unlocker check v1"
_INFO_WRAP = b"pyotp-hw vault data-key wrap v1"
_FEATURE = "the vault"


def b64(data: bytes | bytearray) -> str:
    """Standard base64 text of ``data``."""
    import base64

    return base64.b64encode(bytes(data)).decode("ascii")


def unb64(text: object, what: str) -> bytes:
    """Bytes of base64 ``text``; VaultCorrupted naming ``what`` when it is not base64."""
    import base64
    import binascii

    if not isinstance(text, str):
        raise VaultCorrupted(f"the vault file is damaged: {what} is not text")
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise VaultCorrupted(f"the vault file is damaged: {what} is not base64") from None
    if base64.b64encode(data).decode("ascii") != text:  # stray bits in the last character
        raise VaultCorrupted(f"the vault file was changed: {what} is not in canonical base64")
    return data


def _canonical(value: JSONValue) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


@dataclass
class Slot:
    """One unlocker slot as stored: public parameters and the two sealed values."""

    id: str
    kind: str
    params: JSONObject
    public: bytes
    sealed_private: bytes = field(repr=False)
    ephemeral: bytes = b""
    wrapped: bytes = field(default=b"", repr=False)
    check: bytes = field(default=b"", repr=False)
    created: int = 0

    def public_fields(self) -> JSONObject:
        """What the slot shows in clear (listings, and the private key's associated data)."""
        return {"id": self.id, "kind": self.kind, "params": self.params,
                "public": b64(self.public), "created": self.created}

    def to_json(self) -> JSONObject:
        """The slot as the vault file stores it."""
        return {**self.public_fields(), "sealed_private": b64(self.sealed_private),
                "ephemeral": b64(self.ephemeral), "wrapped": b64(self.wrapped),
                "check": b64(self.check)}

    @classmethod
    def from_json(cls, data: object) -> Slot:
        """Read a slot back; VaultCorrupted when a field is missing or of the wrong type."""
        if not isinstance(data, dict) or set(data) != {
                "id", "kind", "params", "public", "created", "sealed_private", "ephemeral",
                "wrapped", "check"}:
            raise VaultCorrupted("the vault file is damaged: a slot has the wrong fields")
        if not isinstance(data["id"], str) or not isinstance(data["kind"], str):
            raise VaultCorrupted("the vault file is damaged: a slot's id or kind is not text")
        if not isinstance(data["params"], dict):
            raise VaultCorrupted("the vault file is damaged: a slot's parameters are not an "
                                 "object")
        created = data["created"]
        if not isinstance(created, int) or isinstance(created, bool):
            raise VaultCorrupted("the vault file is damaged: a slot's time is not a number")
        return cls(
            id=data["id"], kind=data["kind"], params=data["params"],
            public=unb64(data["public"], "a slot's public key"),
            sealed_private=unb64(data["sealed_private"], "a slot's sealed key"),
            ephemeral=unb64(data["ephemeral"], "a slot's ephemeral key"),
            wrapped=unb64(data["wrapped"], "a slot's wrapped data key"),
            check=unb64(data["check"], "a slot's check value"),
            created=created,
        )


@dataclass
class SlotSecret:
    """What an unlocker produced for a slot: its raw output (wiped after use)."""

    material: bytearray = field(repr=False)

    def derive(self, slot_id: str) -> tuple[bytearray, bytes]:
        """The key-encryption key and the check value for slot ``slot_id``."""
        salt = slot_id.encode("utf-8")
        kek = hkdf(self.material, salt, _INFO_KEK, feature=_FEATURE, extra="vault")
        check = bytes(hkdf(self.material, salt, _INFO_CHECK, 16, feature=_FEATURE,
                           extra="vault"))
        return kek, check

    def wipe(self) -> None:
        """Forget the material."""
        wipe(self.material)


def _raw_private(key: X25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization as s

    return bytes(key.private_bytes(s.Encoding.Raw, s.PrivateFormat.Raw, s.NoEncryption()))


def _raw_public(key: X25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization as s

    return bytes(key.public_bytes(s.Encoding.Raw, s.PublicFormat.Raw))


def _wrap_key(shared: bytes, ephemeral: bytes, public: bytes) -> bytearray:
    return hkdf(shared, ephemeral + public, _INFO_WRAP, feature=_FEATURE, extra="vault")


def wrap_data_key(slot: Slot, data_key: bytes | bytearray) -> None:
    """Seal ``data_key`` to the slot's public key (a new ephemeral key every time)."""
    from cryptography.hazmat.primitives.asymmetric import x25519

    ephemeral = x25519.X25519PrivateKey.generate()
    shared = ephemeral.exchange(x25519.X25519PublicKey.from_public_bytes(slot.public))
    key = _wrap_key(shared, _raw_public(ephemeral.public_key()), slot.public)
    try:
        slot.ephemeral = _raw_public(ephemeral.public_key())
        slot.wrapped = Aead(key, feature=_FEATURE, extra="vault").seal(
            data_key, _WRAP_AAD + slot.id.encode())
    finally:
        wipe(key)


def new_slot(kind: str, params: JSONObject, secret: SlotSecret, data_key: bytes | bytearray,
             *, slot_id: str | None = None, created: int = 0) -> Slot:
    """A slot of ``kind`` whose unlocker produced ``secret``, holding ``data_key``."""
    import time

    from cryptography.hazmat.primitives.asymmetric import x25519

    private = x25519.X25519PrivateKey.generate()
    slot = Slot(id=slot_id or secrets.token_hex(8), kind=kind, params=params,
                public=_raw_public(private.public_key()), sealed_private=b"",
                created=created or int(time.time()))
    kek, slot.check = secret.derive(slot.id)
    raw = bytearray(_raw_private(private))
    try:
        aad = _PRIVATE_AAD + _canonical(slot.public_fields())
        slot.sealed_private = Aead(kek, feature=_FEATURE, extra="vault").seal(raw, aad)
    finally:
        wipe(kek)
        wipe(raw)
    wrap_data_key(slot, data_key)
    return slot


def open_slot(slot: Slot, secret: SlotSecret) -> bytearray:
    """The data key from ``slot`` with its unlocker's ``secret``.

    Raises :class:`SealOpenFailed` (with a reason) when the secret is not the slot's, and
    :class:`VaultCorrupted` when the secret is right but the slot was changed.
    """
    kek, check = secret.derive(slot.id)
    try:
        if not hmac.compare_digest(check, slot.check):
            raise SealOpenFailed("the unlocker's secret is not the one this slot was made with")
        aad = _PRIVATE_AAD + _canonical(slot.public_fields())
        try:
            raw = Aead(kek, feature=_FEATURE, extra="vault").open_into(slot.sealed_private, aad)
        except (SealOpenFailed, SealFormatError):
            raise VaultCorrupted(f"unlocker slot {slot.id} was changed: its parameters or "
                                 "sealed key do not authenticate") from None
    finally:
        wipe(kek)
    try:
        from cryptography.hazmat.primitives.asymmetric import x25519

        try:
            private = x25519.X25519PrivateKey.from_private_bytes(bytes(raw))
            shared = private.exchange(x25519.X25519PublicKey.from_public_bytes(slot.ephemeral))
        except ValueError:
            raise VaultCorrupted(f"unlocker slot {slot.id} was changed: its keys are not "
                                 "X25519 keys") from None
        if _raw_public(private.public_key()) != slot.public:
            raise VaultCorrupted(f"unlocker slot {slot.id} was changed: its public key")
    finally:
        wipe(raw)
    key = _wrap_key(shared, slot.ephemeral, slot.public)
    try:
        return Aead(key, feature=_FEATURE, extra="vault").open_into(
            slot.wrapped, _WRAP_AAD + slot.id.encode())
    except (SealOpenFailed, SealFormatError):
        raise VaultCorrupted(f"unlocker slot {slot.id} was changed: its wrapped data key does "
                             "not authenticate") from None
    finally:
        wipe(key)
