"""The vault's exceptions: each says what went wrong and what to do, never a secret."""

from __future__ import annotations

from ..errors import OTPError

__all__ = [
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


class VaultError(OTPError):
    """Base class of the vault's errors."""


class VaultFileError(VaultError, OSError):
    """The vault file cannot be read or written (missing, permissions, exists already)."""


class VaultCorrupted(VaultError):
    """The vault file was changed, cut short or is not a vault: nothing of it is used."""


class VaultVersionError(VaultCorrupted):
    """The vault file is of a format version this release does not read."""


class UnlockFailed(VaultError):
    """No enrolled unlocker opened the vault; the message says why for each one tried."""


class SlotSettingsMismatch(UnlockFailed):
    """A slot's stored settings contradict each other (a FIDO2 slot whose UV choice is not
    "required" though its credential has credProtect 3): the file was edited or the slot is
    damaged. The message names the slot and how to fix it."""


class UnlockerUnavailable(VaultError):
    """An unlocker cannot be used: no security key or token present, no PIN, cancelled."""


class NoSuchUnlocker(VaultError):
    """No unlocker slot has the id given."""


class LastUnlocker(VaultError):
    """The last unlocker of a vault cannot be removed: nothing could open it afterwards."""


class NoSuchSeed(VaultError, KeyError):
    """No seed of that name is in the vault."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class SeedExists(VaultError):
    """A seed of that name is in the vault already."""


class VaultChanged(VaultError):
    """Someone else rewrote the vault file since it was opened: open it again and retry."""
