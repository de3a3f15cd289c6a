"""The OATH unlocker in-process (the PC/SC path is in tests/token/test_vault_pcsc.py)."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import pytest

from pyotp_hw.errors import InvalidArgument
from pyotp_hw.token import CredentialData, NotSupportedByToken, OathSession
from pyotp_hw.token.virtual import make_card
from pyotp_hw.vault import OathTokenUnlocker, UnlockFailed, Vault


def test_full_hmac_answer_matches_hashlib() -> None:
    key = os.urandom(32)
    with OathSession(make_card().connect()) as session:
        session.put(CredentialData(account="cr", secret=key, digest="sha256"))
        challenge = os.urandom(32)
        assert session.hmac("cr", challenge) == hmac.new(key, challenge, hashlib.sha256).digest()
        with pytest.raises(InvalidArgument):
            session.hmac("cr", b"")
        session.put(CredentialData(account="h", secret=key, oath_type="hotp"))
        with pytest.raises(NotSupportedByToken, match="TOTP-type"):
            session.hmac("h", challenge)


def test_a_vault_opens_with_its_token_only(tmp_path: Path) -> None:
    path = tmp_path / "v"
    card = make_card()
    with OathSession(card.connect()) as session:
        Vault.create(path, OathTokenUnlocker(session)).close()
        with Vault.open(path, OathTokenUnlocker(session)) as vault:
            assert vault.slots[0].kind == "oath"
    with OathSession(make_card().connect()) as other, pytest.raises(UnlockFailed,
                                                                    match="different token"):
        Vault.open(path, OathTokenUnlocker(other))


def test_an_enrollment_that_cannot_be_saved_leaves_no_credential_on_the_token(
        tmp_path: Path) -> None:
    from pyotp_hw.vault import Passphrase, VaultFileError

    path = tmp_path / "v"
    with OathSession(make_card().connect()) as session:
        vault = Vault.create(path, Passphrase("words", n=2**10))
        path.unlink()
        path.mkdir()  # the vault can no longer be written
        with pytest.raises(VaultFileError):
            vault.add_unlocker(OathTokenUnlocker(session))
        assert [c.id for c in session.list()] == []
        vault.close()


def test_removing_an_oath_slot_deletes_its_credential_from_that_token(tmp_path: Path) -> None:
    from pyotp_hw.vault import Passphrase

    path = tmp_path / "v"
    with OathSession(make_card().connect()) as session:
        session.put(CredentialData(account="mine", secret=os.urandom(20)))
        with Vault.create(path, Passphrase("words", n=2**10)) as vault:
            slot = vault.add_unlocker(OathTokenUnlocker(session))
        assert len(session.list()) == 2
        with Vault.open(path, OathTokenUnlocker(session)) as vault:
            vault.remove_unlocker(slot.id, cleanup=OathTokenUnlocker(session))
            assert [s.kind for s in vault.slots] == ["passphrase"]
        assert [c.id for c in session.list()] == ["mine"]  # the user's own is kept


def test_rotating_an_oath_slot_keeps_its_touch_unless_told(tmp_path: Path) -> None:
    from pyotp_hw.vault import Passphrase

    path = tmp_path / "v"
    with OathSession(make_card().connect()) as session:
        with Vault.create(path, Passphrase("words", n=2**10)) as vault:
            slot = vault.add_unlocker(OathTokenUnlocker(session, touch=True))
            assert slot.params["touch"] is True
            # An unlocker made without a touch choice (as the command line makes it).
            kept = vault.rotate_unlocker(slot.id, OathTokenUnlocker(session))
            assert kept.params["touch"] is True
            dropped = vault.rotate_unlocker(kept.id, OathTokenUnlocker(session, touch=False))
            assert dropped.params["touch"] is False  # asked for explicitly
            # Each rotation removed the replaced slot's credential from the token.
            names = {c.id for c in session.list()}
            assert dropped.params["credential"] in names
            assert not {slot.params["credential"], kept.params["credential"]} & names
