"""The vault as a verifier's key provider: a verifier server unlocks its data key at start-up
with a FIDO2 key, an OATH token or a passphrase.

The vault holds 32 bytes of verifier key material; a store's data key is HKDF-SHA256 of them
with the store's salt (the key provider protocol of :mod:`pyotp_hw.verifier.keyprovider`, which
this class meets without importing it). The material stays in this object (a wipeable buffer)
after the vault is closed, so ``verifier rekey`` and every running verifier derive new key
generations from it.
"""

from __future__ import annotations

import os

from ..sealing import hkdf, wipe
from .unlockers import Unlocker
from .vault import Vault

__all__ = ["VaultKey"]

_INFO = b"pyotp-hw verifier data key from a vault v1"


class VaultKey:
    """A verifier key provider backed by a vault's verifier key (see :meth:`open`)."""

    __slots__ = ("_material", "path")

    def __init__(self, vault: Vault) -> None:
        self.path = vault.path
        self._material = bytearray(vault.verifier_key())

    @classmethod
    def open(cls, path: str | os.PathLike[str], unlocker: Unlocker) -> VaultKey:
        """Open the vault with ``unlocker``, keep its verifier key, close the vault."""
        with Vault.open(path, unlocker) as vault:
            return cls(vault)

    def data_key(self, salt: bytes) -> bytes:
        """HKDF-SHA256 of the vault's verifier key with the store's salt."""
        derived = hkdf(self._material, salt, _INFO)
        try:
            return bytes(derived)
        finally:
            wipe(derived)

    def close(self) -> None:
        """Forget the key material."""
        wipe(self._material)

    def __repr__(self) -> str:
        return f"VaultKey({str(self.path)!r}, <key hidden>)"
