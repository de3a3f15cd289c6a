"""Seeds sealed under hardware: a vault file opened by a FIDO2 key, an OATH token or a passphrase.

::

    from pyotp_hw.vault import Vault, Passphrase
    with Vault.create("seeds.vault", Passphrase("correct horse battery")) as vault:
        vault.import_uris(["otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP"])
    with Vault.open("seeds.vault", Passphrase("correct horse battery")) as vault:
        print(vault.code("Example:alice"))

The seeds (and a verifier key) are sealed with AES-256-GCM (:mod:`pyotp_hw.sealing`) under a
random data key; each unlocker slot holds that key, LUKS-style, so any one enrolled unlocker
opens the vault: :class:`Passphrase` (scrypt), :class:`Fido2Unlocker` (python-fido2's PRF over
PC/SC or USB; the ``fido`` extra) and :class:`OathTokenUnlocker` (an HMAC credential on a
YKOATH token; the ``token`` extra). See :mod:`.vault` for the guarantees of every write.
"""

from __future__ import annotations

from .errors import (
    LastUnlocker,
    NoSuchSeed,
    NoSuchUnlocker,
    SeedExists,
    SlotSettingsMismatch,
    UnlockerUnavailable,
    UnlockFailed,
    VaultChanged,
    VaultCorrupted,
    VaultError,
    VaultFileError,
    VaultVersionError,
)
from .fido import Fido2Unlocker, find_devices
from .oath import OathTokenUnlocker
from .unlockers import Passphrase, Unlocker
from .vault import SlotInfo, Vault, list_slots
from .verifier_key import VaultKey

__all__ = [
    "Vault",
    "VaultKey",
    "SlotInfo",
    "list_slots",
    "Unlocker",
    "Passphrase",
    "Fido2Unlocker",
    "find_devices",
    "OathTokenUnlocker",
    "VaultError",
    "VaultFileError",
    "VaultCorrupted",
    "VaultVersionError",
    "UnlockFailed",
    "UnlockerUnavailable",
    "SlotSettingsMismatch",
    "NoSuchUnlocker",
    "LastUnlocker",
    "NoSuchSeed",
    "SeedExists",
    "VaultChanged",
]
