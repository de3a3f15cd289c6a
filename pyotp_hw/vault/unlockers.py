"""What opens a vault slot: the unlocker protocol, and the passphrase unlocker.

An unlocker makes a new slot (:meth:`Unlocker.enroll`: public parameters and its secret) and,
given the vault's slots, produces the secret for those it can open (:meth:`Unlocker.secrets`).
The secret goes through HKDF in :mod:`.slots`; the unlocker never sees the data key. The FIDO2
and OATH-token unlockers live in :mod:`.fido` and :mod:`.oath`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from copy import copy
from typing import Literal, Protocol

from .._types import JSONObject
from ..errors import InvalidArgument, InvalidType
from ..sealing import check_scrypt_cost, passphrase_bytes, scrypt_key
from .errors import VaultCorrupted
from .slots import Slot, SlotSecret, b64, unb64

__all__ = ["Unlocker", "Passphrase", "PASSPHRASE_KIND", "SCRYPT_DEFAULT", "SlotKind"]

#: The kinds of unlocker (and of the slots they enroll): passphrase, FIDO2 key, OATH token.
SlotKind = Literal["passphrase", "fido2", "oath"]
PASSPHRASE_KIND: SlotKind = "passphrase"  # noqa: S105 - a slot kind
#: scrypt cost of new passphrase slots: about 64 MiB and a quarter of a second.
SCRYPT_DEFAULT = {"n": 2**16, "r": 8, "p": 1}
_MIN_N = 2**10  # the cheapest cost a slot may have (the cost the tests use)


class Unlocker(Protocol):
    """Something that opens vault slots of one kind."""

    kind: SlotKind

    def enroll(self) -> tuple[JSONObject, SlotSecret]:
        """Public parameters of a new slot, and its secret."""
        ...

    def secrets(self, slots: Sequence[Slot]) -> Iterator[tuple[Slot, SlotSecret]]:
        """For each of ``slots`` (all of this kind) it may open, that slot and its secret.

        Raises :class:`~pyotp_hw.vault.errors.UnlockFailed` or
        :class:`~pyotp_hw.vault.errors.UnlockerUnavailable` when it can open none, saying why.
        """
        ...

    def mismatch(self, slot: Slot) -> str:
        """Why this unlocker's secret did not match ``slot`` (for the error message)."""
        ...

    # Optional: ``for_rotation(params) -> Unlocker``, this unlocker as it re-enrolls the slot of
    # ``params`` (the slot's own choices where none was given explicitly; used by
    # Vault.rotate_unlocker), and ``discard(params)``, undoing what an enrollment left on a device.


def _scrypt_params(params: Mapping[str, object], slot_id: str) -> tuple[bytes, int, int, int]:
    if params.get("kdf") != "scrypt":
        raise VaultCorrupted(f"passphrase slot {slot_id}: unknown key derivation "
                             f"{params.get('kdf')!r}")
    try:
        # Checked before any work: a changed slot must not make an unlock allocate much.
        n, r, p = check_scrypt_cost(params.get("n"), params.get("r"), params.get("p"),
                                    min_n=_MIN_N)
    except (InvalidArgument, InvalidType) as exc:
        raise VaultCorrupted(f"passphrase slot {slot_id}: {exc}") from None
    salt = unb64(params.get("salt"), f"passphrase slot {slot_id}'s salt")
    if len(salt) != 16:
        raise VaultCorrupted(f"passphrase slot {slot_id}: the salt is not 16 bytes")
    return salt, n, r, p


def _checked_n(n: object) -> int | None:
    """``n`` when it is a scrypt cost a slot may have, else None."""
    try:
        return check_scrypt_cost(n, SCRYPT_DEFAULT["r"], SCRYPT_DEFAULT["p"], min_n=_MIN_N)[0]
    except (InvalidArgument, InvalidType):
        return None


class Passphrase:
    """A passphrase, stretched with scrypt (RFC 7914); the parameters are kept in the slot.

    ``n`` sets the cost of slots it enrolls (a power of two, 2**10 to 2**20; 2**16 when not
    given, and a rotated slot keeps its own unless ``n`` is given); opening uses the cost each
    slot stored.
    """

    kind = PASSPHRASE_KIND

    def __init__(self, passphrase: str | bytes, *, n: int | None = None) -> None:
        self._passphrase = passphrase_bytes(passphrase)
        if n is not None:
            check_scrypt_cost(n, SCRYPT_DEFAULT["r"], SCRYPT_DEFAULT["p"], min_n=_MIN_N)
        self._n_choice = n

    @property
    def _n(self) -> int:
        return self._n_choice or SCRYPT_DEFAULT["n"]

    def for_rotation(self, params: Mapping[str, object]) -> Passphrase:
        """This unlocker to re-enroll the slot of ``params``: with the slot's own scrypt cost
        unless ``n`` was given explicitly, so a rotation never lowers it by omission."""
        slot_n = None if self._n_choice is not None else _checked_n(params.get("n"))
        if slot_n is None:
            return self
        rotated = copy(self)
        rotated._n_choice = slot_n
        return rotated

    def __repr__(self) -> str:
        return "Passphrase(<hidden>)"

    def _stretch(self, salt: bytes, n: int, r: int, p: int) -> SlotSecret:
        return SlotSecret(bytearray(scrypt_key(self._passphrase, salt, n=n, r=r, p=p)))

    def enroll(self) -> tuple[JSONObject, SlotSecret]:
        """A new slot: a random 16-byte salt and this unlocker's cost."""
        salt = secrets.token_bytes(16)
        params: JSONObject = {"kdf": "scrypt", "salt": b64(salt), "n": self._n,
                  "r": SCRYPT_DEFAULT["r"], "p": SCRYPT_DEFAULT["p"]}
        return params, self._stretch(salt, self._n, SCRYPT_DEFAULT["r"], SCRYPT_DEFAULT["p"])

    def secrets(self, slots: Sequence[Slot]) -> Iterator[tuple[Slot, SlotSecret]]:
        """Every passphrase slot, each with the passphrase stretched by its parameters."""
        for slot in slots:
            yield slot, self._stretch(*_scrypt_params(slot.params, slot.id))

    def mismatch(self, slot: Slot) -> str:
        """A wrong passphrase."""
        return f"passphrase slot {slot.id}: wrong passphrase"
