"""The OATH-token unlocker: the full HMAC of a YKOATH credential made for the vault.

Enrollment stores a TOTP-type credential with a random 32-byte HMAC-SHA256 key on the token
(``pyotp-hw-vault:<id>``; the key is wiped from memory once stored and lives only on the token),
then sends it a random 32-byte challenge of the slot's own. The full 32-byte HMAC is the slot's
key material (HKDF to the key-encryption key in :mod:`.slots`). The slot stores the credential
name, the challenge and the digest in clear; it works over any YKOATH connection (PC/SC, a
virtual token).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping, Sequence
from copy import copy
from typing import TYPE_CHECKING

from .._types import JSONObject
from ..sealing import wipe
from .errors import UnlockerUnavailable, UnlockFailed, VaultCorrupted
from .slots import Slot, SlotSecret, b64, unb64
from .unlockers import SlotKind

if TYPE_CHECKING:  # the token package loads when a token is used
    from ..token import OathSession

__all__ = ["OathTokenUnlocker", "OATH_KIND", "CREDENTIAL_PREFIX"]

OATH_KIND: SlotKind = "oath"
#: Issuer part of the names of the credentials the vault stores on tokens.
CREDENTIAL_PREFIX = "pyotp-hw-vault"


class OathTokenUnlocker:
    """Opens OATH slots with an open :class:`~pyotp_hw.token.OathSession` (unlocked if the
    token has a password). ``touch`` makes enrolled credentials require a touch (not when not
    given; a rotated slot keeps its own setting unless ``touch`` is given, see
    :meth:`for_rotation`)."""

    kind = OATH_KIND

    def __init__(self, session: OathSession, *, touch: bool | None = None) -> None:
        self._session = session
        self._touch = touch

    @property
    def touch(self) -> bool:
        """Whether the credentials this unlocker enrolls require a touch."""
        return bool(self._touch)

    def for_rotation(self, params: Mapping[str, object]) -> OathTokenUnlocker:
        """This unlocker to re-enroll the slot of ``params``: with the slot's own touch setting
        unless one was given explicitly, so a rotation never drops the touch by omission."""
        if self._touch is not None:
            return self
        rotated = copy(self)
        rotated._touch = params.get("touch") is True
        return rotated

    def __repr__(self) -> str:
        return f"OathTokenUnlocker(touch={self.touch})"

    def enroll(self) -> tuple[JSONObject, SlotSecret]:
        """A new credential on the token and the HMAC of a new challenge."""
        from ..token import CredentialData

        name = secrets.token_hex(8)
        key = bytearray(secrets.token_bytes(32))
        try:
            data = CredentialData(account=name, secret=bytes(key), issuer=CREDENTIAL_PREFIX,
                                  digest="sha256")
            stored = self._session.put(data, touch=self.touch)
        finally:
            wipe(key)
        challenge = os.urandom(32)
        try:
            response = self._respond(stored.id, challenge)
        except BaseException:
            self.discard({"credential": stored.id})
            raise
        params: JSONObject = {"credential": stored.id, "challenge": b64(challenge),
                              "digest": "sha256", "touch": self.touch}
        return params, SlotSecret(bytearray(response))

    def discard(self, params: Mapping[str, object]) -> None:
        """Delete the credential an enrollment stored, when its slot was not saved."""
        name = params.get("credential")
        if isinstance(name, str) and name.startswith(CREDENTIAL_PREFIX + ":"):
            self._session.delete(name)

    def _respond(self, name: str, challenge: bytes) -> bytes:
        from ..token import TokenError, TouchTimeout

        try:
            return bytes(self._session.hmac(name, challenge))
        except TouchTimeout:
            raise UnlockerUnavailable("the token was not touched in time") from None
        except TokenError as exc:
            raise UnlockerUnavailable(f"the token cannot answer the vault's challenge: {exc}"
                                      ) from None

    def secrets(self, slots: Sequence[Slot]) -> Iterator[tuple[Slot, SlotSecret]]:
        """Each slot whose credential is on this token, with the token's answer."""
        from ..token import NoSuchCredential

        on_token = {c.id for c in self._session.list()}
        missing = []
        for slot in slots:
            name, challenge = _slot_fields(slot)
            if name not in on_token:
                missing.append(slot.id)
                continue
            try:
                response = self._respond(name, challenge)
            except NoSuchCredential:  # pragma: no cover - listed a moment ago
                missing.append(slot.id)
                continue
            yield slot, SlotSecret(bytearray(response))
        if missing:
            raise UnlockFailed(f"this token holds none of the credentials of OATH slot(s) "
                               f"{', '.join(missing)}: it is a different token (or the "
                               "credential was deleted)")

    def mismatch(self, slot: Slot) -> str:
        """The token answered with another HMAC."""
        return (f"OATH slot {slot.id}: the token's answer differs from enrollment: a different "
                "token holds a credential of that name, or the slot's challenge was changed")


def _slot_fields(slot: Slot) -> tuple[str, bytes]:
    name, digest = slot.params.get("credential"), slot.params.get("digest")
    if not isinstance(name, str) or digest != "sha256":
        raise VaultCorrupted(f"OATH slot {slot.id}: its credential name or digest is damaged")
    challenge = unb64(slot.params.get("challenge"), f"slot {slot.id}'s challenge")
    if len(challenge) != 32:
        raise VaultCorrupted(f"OATH slot {slot.id}: the challenge is not 32 bytes")
    return name, challenge
