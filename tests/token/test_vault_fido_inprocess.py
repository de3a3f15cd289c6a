"""The FIDO2 unlocker on in-process virtual cards (python-fido2's client, no pcscd): many slots.

An addition to tests/token/test_vault_pcsc.py, which goes through the real pcscd.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pyotp_hw.vault import Fido2Unlocker, Passphrase, UnlockFailed, Vault
from pyotp_hw.vault.fido import ALLOW_LIST_MAX

from .fido_helpers import device, fido_card


def test_more_slots_than_one_allow_list_holds_still_open_with_the_last_key(
        tmp_path: Path) -> None:
    path = tmp_path / "many.vault"
    first, _ = fido_card()
    last, _ = fido_card()
    with Vault.create(path, Passphrase("recovery", n=2**10)) as vault:
        for _ in range(ALLOW_LIST_MAX + 1):
            vault.add_unlocker(Fido2Unlocker(device(first)))
        slot = vault.add_unlocker(Fido2Unlocker(device(last)))
    with Vault.open(path, Fido2Unlocker(device(last))) as vault:
        assert vault.opened_by == slot.id
    with Vault.open(path, Fido2Unlocker(device(first))) as vault:
        assert vault.opened_by != slot.id
    stranger, _ = fido_card()
    with pytest.raises(UnlockFailed, match="none of the vault's 8 FIDO2 credential"):
        Vault.open(path, Fido2Unlocker(device(stranger)))
