"""The vault: seeds and a verifier key sealed under a random data key, opened by any one slot.

::

    vault = Vault.create("seeds.vault", Passphrase("correct horse"))
    vault.add_unlocker(Fido2Unlocker(device))       # needs the vault open: it has the data key
    vault.import_uri("otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP")
    vault = Vault.open("seeds.vault", Fido2Unlocker(device))   # any enrolled unlocker
    print(vault.code("Example:alice"))

Every change is one atomic write of the whole file (see :mod:`.file`): a crash leaves the old
vault or the new one. Adding or removing an unlocker, rotating one, and rotating the data key
(:meth:`Vault.rekey`: every slot re-wrapped to its public key, the payload re-sealed) need the
vault open. The last unlocker cannot be removed. Removing one rotates the data key as well, so a
copy of its secret opens no later version of the file.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from .._types import JSONObject
from ..errors import InvalidArgument
from ..sealing import KEY_BYTES, SealOpenFailed, wipe
from .errors import (
    LastUnlocker,
    NoSuchSeed,
    NoSuchUnlocker,
    SeedExists,
    UnlockFailed,
    VaultCorrupted,
)
from .file import Document, Payload, open_payload, read_document, seal_payload, write_document
from .slots import Slot, b64, new_slot, open_slot, unb64, wrap_data_key
from .unlockers import Unlocker

__all__ = ["Vault", "SlotInfo", "list_slots"]


@dataclass(frozen=True)
class SlotInfo:
    """An unlocker slot as listings show it: its public parameters only."""

    id: str
    # A SlotKind for every slot this package writes; kept as str, as a file is read back
    # without refusing a kind it does not know (one from a newer version lists as it is).
    kind: str
    created: int
    params: JSONObject

    def to_json(self) -> JSONObject:
        """JSON-ready form."""
        return {"id": self.id, "kind": self.kind, "created": self.created, "params": self.params}


def _info(slot: Slot) -> SlotInfo:
    return SlotInfo(slot.id, slot.kind, slot.created, dict(slot.params))


def list_slots(path: str | os.PathLike[str]) -> list[SlotInfo]:
    """The slots of the vault at ``path`` (read and checked, not opened)."""
    return [_info(s) for s in read_document(path).slots]


def _unlock(document: Document, unlocker: Unlocker) -> tuple[Slot, bytearray]:
    candidates = [s for s in document.slots if s.kind == unlocker.kind]
    if not candidates:
        kinds = ", ".join(sorted({s.kind for s in document.slots}))
        raise UnlockFailed(f"the vault has no {unlocker.kind} unlocker (it has: {kinds})")
    reasons = []
    for slot, secret in unlocker.secrets(candidates):
        try:
            return slot, open_slot(slot, secret)
        except SealOpenFailed:
            reasons.append(unlocker.mismatch(slot))
        finally:
            secret.wipe()
    raise UnlockFailed("the vault did not open: " + "; ".join(reasons or [
        f"no {unlocker.kind} slot answered"]))


class Vault:
    """An open vault: its slots, its data key (held in a wipeable buffer) and its contents."""

    def __init__(self, path: Path, document: Document, data_key: bytearray,
                 payload: Payload, opened_by: str) -> None:
        self.path = path
        self._document = document
        self._key = data_key
        self._payload = payload
        #: The id of the slot that opened the vault.
        self.opened_by = opened_by

    def __repr__(self) -> str:
        return f"Vault({str(self.path)!r}, {len(self._document.slots)} slots, <key hidden>)"

    # --- opening --------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike[str], unlocker: Unlocker, *,
               verifier_key: bool = True) -> Vault:
        """A new vault at ``path`` (which must not exist) with one unlocker slot.

        With ``verifier_key`` it holds a random 32-byte verifier key from the start.
        """
        target = Path(path)
        data_key = bytearray(secrets.token_bytes(KEY_BYTES))
        slot = _enroll(unlocker, data_key)
        payload: Payload = {"seeds": {}, "verifier_key": None}
        if verifier_key:
            payload["verifier_key"] = b64(secrets.token_bytes(KEY_BYTES))
        vault = cls(target, Document(0, [slot], b""), data_key, payload, slot.id)
        try:
            vault._write(replace=False)
        except BaseException:
            _discard(unlocker, slot)
            wipe(data_key)
            raise
        return vault

    @classmethod
    def open(cls, path: str | os.PathLike[str], unlocker: Unlocker) -> Vault:
        """Open the vault at ``path`` with ``unlocker`` (any slot of its kind it can open).

        Raises :class:`UnlockFailed` (the message says why for each slot tried),
        :class:`VaultCorrupted` when any byte of the file was changed, or
        :class:`VaultFileError`.
        """
        target = Path(path)
        document = read_document(target)
        slot, data_key = _unlock(document, unlocker)
        try:
            payload = open_payload(document, data_key)
        except BaseException:
            wipe(data_key)
            raise
        return cls(target, document, data_key, _check_payload(payload), slot.id)

    def close(self) -> None:
        """Forget the data key."""
        wipe(self._key)

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, *, replace: bool = True, payload: Payload | None = None) -> None:
        """Seal the payload (``payload``, which replaces the current one once written) under the
        current slots and write the file atomically."""
        payload = self._payload if payload is None else payload
        document = Document(self._document.generation + (1 if replace else 0),
                            self._document.slots, b"")
        seal_payload(document, self._key, payload)
        write_document(self.path, document, replace=replace,
                       expect_generation=self._document.generation if replace else None)
        self._document = document
        self._payload = payload

    # --- unlockers ------------------------------------------------------------------------

    @property
    def slots(self) -> list[SlotInfo]:
        """The unlocker slots (public parameters)."""
        return [_info(s) for s in self._document.slots]

    @property
    def generation(self) -> int:
        """How many times the file was rewritten since it was created."""
        return self._document.generation

    def _slot_list(self) -> list[Slot]:
        return list(self._document.slots)

    def add_unlocker(self, unlocker: Unlocker) -> SlotInfo:
        """Enroll another unlocker; return its slot."""
        slot = _enroll(unlocker, self._key)
        try:
            self._replace_slots([*self._slot_list(), slot])
        except BaseException:
            _discard(unlocker, slot)
            raise
        return _info(slot)

    def remove_unlocker(self, slot_id: str, *, rekey: bool = True,
                        cleanup: Unlocker | None = None) -> SlotInfo:
        """Remove a slot (never the last); by default rotate the data key as well.

        ``cleanup``, an unlocker of the slot's kind, removes afterwards what the slot left on its
        device (the OATH credential, when that token is the one given); the file is written
        first, so a failure there never affects the vault.
        """
        slots = self._slot_list()
        target = self._find(slot_id)
        if len(slots) == 1:
            raise LastUnlocker("the last unlocker cannot be removed: nothing could open the "
                               "vault afterwards (add another one first)")
        remaining = [s for s in slots if s.id != slot_id]
        if rekey:
            self._rekey_into(remaining)
        else:
            self._replace_slots(remaining)
        if cleanup is not None and cleanup.kind == target.kind:
            _discard(cleanup, target)
        return _info(target)

    def rotate_unlocker(self, slot_id: str, unlocker: Unlocker) -> SlotInfo:
        """Replace a slot by a new one of the same unlocker (new salt or challenge, new keys).

        ``unlocker`` is enrolled afresh, keeping the old slot's own choices (a FIDO2 slot's user
        verification, an OATH slot's touch, a passphrase slot's scrypt cost) unless the unlocker
        was given other ones explicitly: a rotation never weakens a slot by omission. The old
        slot goes in the same write, so the file always has one of the two.
        """
        old = self._find(slot_id)
        if old.kind != unlocker.kind:
            raise InvalidArgument(f"slot {slot_id} is a {old.kind} slot, not {unlocker.kind}")
        for_rotation = getattr(unlocker, "for_rotation", None)
        if for_rotation is not None:
            unlocker = for_rotation(dict(old.params))
        slot = _enroll(unlocker, self._key)
        try:
            self._replace_slots([slot if s.id == slot_id else s for s in self._slot_list()])
        except BaseException:
            _discard(unlocker, slot)
            raise
        # Saved: the old slot's credential (an OATH token's) is of no use any more, and a token
        # holds a few dozen. Best effort: a token pulled out keeps it, and the vault is sound.
        _discard(unlocker, old)
        return _info(slot)

    def rekey(self) -> None:
        """Rotate the data key: every slot re-wrapped, the contents re-sealed, one write."""
        self._rekey_into(self._slot_list())

    def _rekey_into(self, slots: Sequence[Slot]) -> None:
        new_key = bytearray(secrets.token_bytes(KEY_BYTES))
        rewrapped = [Slot(**{**s.__dict__}) for s in slots]
        for slot in rewrapped:
            wrap_data_key(slot, new_key)
        old_key, old_document = self._key, self._document
        self._key = new_key
        self._document = Document(old_document.generation, rewrapped, b"")
        try:
            self._write()
        except BaseException:
            self._key, self._document = old_key, old_document
            wipe(new_key)
            raise
        wipe(old_key)

    def _replace_slots(self, slots: list[Slot]) -> None:
        old = self._document
        self._document = Document(old.generation, slots, b"")
        try:
            self._write()
        except BaseException:
            self._document = old
            raise

    def _find(self, slot_id: str) -> Slot:
        for slot in self._document.slots:
            if slot.id == slot_id:
                return slot
        raise NoSuchUnlocker(f"the vault has no unlocker slot {slot_id!r}")

    # --- contents -------------------------------------------------------------------------

    def names(self) -> list[str]:
        """The names of the seeds, sorted."""
        return sorted(self._payload["seeds"])

    def uri(self, name: str) -> str:
        """The ``otpauth://`` URI (with its secret) of the seed ``name``."""
        try:
            return str(self._payload["seeds"][name])
        except KeyError:
            raise NoSuchSeed(f"the vault has no seed named {name!r}") from None

    def import_uris(self, uris: Sequence[str], *, replace: bool = False) -> list[str]:
        """Add seeds from ``otpauth://`` URIs (all checked before the one write); their names."""
        from ..uri import parse

        seeds = dict(self._payload["seeds"])
        added = []
        for text in uris:
            entry = parse(text)
            name = entry.label
            if (name in seeds or name in added) and not replace:
                raise SeedExists(f"the vault already has a seed named {name!r}")
            seeds[name] = text
            added.append(name)
        self._write(payload={**self._payload, "seeds": seeds})
        return added

    def remove_seed(self, name: str) -> None:
        """Remove the seed ``name``."""
        seeds = dict(self._payload["seeds"])
        if name not in seeds:
            raise NoSuchSeed(f"the vault has no seed named {name!r}")
        del seeds[name]
        self._write(payload={**self._payload, "seeds": seeds})

    def code(self, name: str, for_time: int | None = None) -> str:
        """The current code of the seed ``name`` (an HOTP seed's counter is advanced)."""
        from ..otp import HOTP, from_uri, uri_fields

        otp = from_uri(self.uri(name))
        if isinstance(otp, HOTP):
            code = otp.at(0)
            seeds = {**self._payload["seeds"],
                     name: uri_fields(otp, initial_count=otp.initial_count + 1).to_uri()}
            self._write(payload={**self._payload, "seeds": seeds})  # saved before it is shown
            return code
        return str(otp.at(for_time) if for_time is not None else otp.now())

    def verifier_key(self) -> bytes:
        """The 32 bytes of verifier key material (made and stored on first use)."""
        value = self._payload.get("verifier_key")
        if value is None:
            value = b64(secrets.token_bytes(KEY_BYTES))
            self._write(payload={**self._payload, "verifier_key": value})
        return unb64(value, "the verifier key")


def _enroll(unlocker: Unlocker, data_key: bytearray) -> Slot:
    params, secret = unlocker.enroll()
    try:
        return new_slot(unlocker.kind, params, secret, data_key)
    except BaseException:
        _discard(unlocker, Slot("", unlocker.kind, params, b"", b""))
        raise
    finally:
        secret.wipe()


def _discard(unlocker: Unlocker, slot: Slot) -> None:
    """Undo what enrolling put on a device (an OATH credential): for a slot that was not saved,
    or one that a rotation replaced."""
    discard = getattr(unlocker, "discard", None)
    if discard is not None:
        try:
            discard(slot.params)
        except Exception:  # noqa: S110 - best effort; the error being raised matters more
            pass


def _check_payload(payload: JSONObject) -> Payload:
    seeds = payload.get("seeds")
    if not isinstance(seeds, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in seeds.items()):
        raise VaultCorrupted("the vault's contents are damaged: the seeds are not a table")
    key = payload.get("verifier_key")
    if key is not None and len(unb64(key, "the verifier key")) != KEY_BYTES:
        raise VaultCorrupted("the vault's contents are damaged: the verifier key")
    return cast(Payload, payload)  # its fields were checked above
