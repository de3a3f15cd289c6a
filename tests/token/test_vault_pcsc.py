"""The vault opened by python-fido2 and by the OATH token, through the real pcscd.

python-fido2's own ``Fido2Client`` over ``CtapPcscDevice`` talks to the virtual token's FIDO2
applet (``pyotp-hw token virtual`` in its own process) through pcscd and vpcd; the OATH slot
uses the same token's YKOATH applet over pyscard. The expected PRF output of the vault's
credential is computed independently (``fido_helpers.expected_prf`` over the documented
credential-id format) from the token's state file.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fido2.ctap2 import Ctap2
from fido2.ctap2.pin import ClientPin

from pyotp_hw.token import open_token
from pyotp_hw.vault import (
    Passphrase,
    SlotSettingsMismatch,
    UnlockerUnavailable,
    UnlockFailed,
    Vault,
    VaultError,
)
from pyotp_hw.vault.fido import Fido2Unlocker
from pyotp_hw.vault.file import canonical
from pyotp_hw.vault.oath import OathTokenUnlocker

from .test_fido_pcsc import fido_device

pytestmark = pytest.mark.pcsc
URI = "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Example"
PIN = "246810"


def _open_with_fido(rig: Any, path: Path, slot: int = 0, **kwargs: Any) -> Vault:
    with fido_device(rig, slot) as dev:
        return Vault.open(path, Fido2Unlocker(dev, **kwargs))


def _edit_slot(path: Path, kind: str, **changes: Any) -> None:
    data = json.loads(path.read_bytes())
    for slot in data["slots"]:
        if slot["kind"] == kind:
            slot["params"].update(changes)
    path.write_bytes(canonical(data) + b"\n")


def test_fido2_creates_the_credential_and_opens_the_vault(
        rig: Any, vtoken: Callable[..., Any], tmp_path: Path) -> None:
    vtoken()
    vtoken(slot=1)
    path = tmp_path / "seeds.vault"
    touches: list[int] = []
    with fido_device(rig) as dev:
        info = Ctap2(dev).info
        assert "hmac-secret" in info.extensions
        with Vault.create(path, Fido2Unlocker(dev, on_touch=lambda: touches.append(1))) as vault:
            vault.import_uris([URI])
    slot = json.loads(path.read_bytes())["slots"][0]
    assert slot["kind"] == "fido2" and slot["params"]["uv"] == "discouraged"
    assert slot["params"]["uv_done"] is False and slot["params"]["mode"] == "prf"
    with _open_with_fido(rig, path) as vault:
        assert vault.uri("Example:alice") == URI
    # Another authenticator holds no credential of the vault.
    with pytest.raises(UnlockFailed, match="different authenticator"):
        _open_with_fido(rig, path, slot=1)
    original = path.read_bytes()
    # A wrong salt: the key answers with another secret.
    _edit_slot(path, "fido2", salt=base64.b64encode(os.urandom(32)).decode())
    with pytest.raises(UnlockFailed, match="salt is wrong or its UV setting changed"):
        _open_with_fido(rig, path)
    # A changed UV setting: asked with UV, the key verifies the user and the secret differs.
    path.write_bytes(original)
    with fido_device(rig) as dev:
        ClientPin(Ctap2(dev)).set_pin(PIN)
    _edit_slot(path, "fido2", uv="required")
    with pytest.raises(UnlockFailed, match="enrolled without user verification"):
        _open_with_fido(rig, path, pin=PIN)
    path.write_bytes(original)
    with _open_with_fido(rig, path, pin=PIN) as vault:  # its own choice: still without UV
        assert vault.names() == ["Example:alice"]


def test_uv_required_slot_with_cred_protect_needs_the_pin(
        rig: Any, token: Any, tmp_path: Path) -> None:
    path = tmp_path / "uv.vault"
    with fido_device(rig) as dev:
        ClientPin(Ctap2(dev)).set_pin(PIN)
        with pytest.raises(UnlockerUnavailable, match="PIN"):
            Vault.create(path, Fido2Unlocker(dev, uv="required"))
        Vault.create(path, Fido2Unlocker(dev, uv="required", pin=PIN)).close()
    params = json.loads(path.read_bytes())["slots"][0]["params"]
    assert params["uv"] == "required" and params["uv_done"] is True
    assert params["cred_protect"] == 3
    with pytest.raises(UnlockFailed, match="wrong PIN"):
        _open_with_fido(rig, path, pin="000000")
    with pytest.raises(VaultError):  # no PIN: credProtect hides the credential without UV
        _open_with_fido(rig, path)
    _open_with_fido(rig, path, pin=PIN).close()


def test_rotating_a_uv_required_slot_keeps_uv_and_cred_protect(
        rig: Any, token: Any, tmp_path: Path) -> None:
    path = tmp_path / "rotate.vault"
    recovery = Passphrase("recovery words", n=2**10)
    with fido_device(rig) as dev:
        ClientPin(Ctap2(dev)).set_pin(PIN)
        with Vault.create(path, recovery) as vault:
            slot = vault.add_unlocker(Fido2Unlocker(dev, uv="required", pin=PIN))
        # Rotated by an unlocker given no UV choice: the slot keeps its own.
        with Vault.open(path, Fido2Unlocker(dev, pin=PIN)) as vault:
            rotated = vault.rotate_unlocker(slot.id, Fido2Unlocker(dev, pin=PIN))
    assert rotated.params["uv"] == "required" and rotated.params["cred_protect"] == 3
    assert rotated.params["uv_done"] is True
    with pytest.raises(VaultError):  # still no opening without the PIN
        _open_with_fido(rig, path)
    with _open_with_fido(rig, path, pin=PIN) as vault:
        assert vault.opened_by == rotated.id


def test_a_uv_setting_edited_against_cred_protect_is_named(
        rig: Any, token: Any, tmp_path: Path) -> None:
    path = tmp_path / "edited.vault"
    with fido_device(rig) as dev:
        ClientPin(Ctap2(dev)).set_pin(PIN)
        with Vault.create(path, Fido2Unlocker(dev, uv="required", pin=PIN)) as vault:
            slot_id = vault.opened_by
    _edit_slot(path, "fido2", uv="discouraged")  # credProtect 3 stays: it hides the credential
    for pin in (None, PIN):
        with pytest.raises(SlotSettingsMismatch) as info:
            _open_with_fido(rig, path, pin=pin)
        message = str(info.value)
        assert f"FIDO2 slot {slot_id}" in message and "does not match" in message
        assert "credProtect" in message and "different authenticator" not in message
        assert PIN not in message


def test_three_slots_open_with_any_one(rig: Any, vtoken: Callable[..., Any],
                                       tmp_path: Path) -> None:
    vtoken()
    vtoken(slot=1)
    path = tmp_path / "three.vault"
    passphrase = Passphrase("recovery words", n=2**10)
    with Vault.create(path, passphrase) as vault:
        vault.import_uris([URI])
        with fido_device(rig, 0) as dev:
            vault.add_unlocker(Fido2Unlocker(dev))
        with open_token(rig.reader(1)) as session:
            vault.add_unlocker(OathTokenUnlocker(session))
        with fido_device(rig, 1) as dev:  # a backup key: one assertion lists both
            vault.add_unlocker(Fido2Unlocker(dev))
    kinds = sorted(s["kind"] for s in json.loads(path.read_bytes())["slots"])
    assert kinds == ["fido2", "fido2", "oath", "passphrase"]
    opened = set()
    for slot in (0, 1):
        with _open_with_fido(rig, path, slot=slot) as vault:
            assert vault.uri("Example:alice") == URI
            opened.add(vault.opened_by)
    with open_token(rig.reader(1)) as session, Vault.open(path, OathTokenUnlocker(session)
                                                         ) as vault:
        assert vault.uri("Example:alice") == URI
        opened.add(vault.opened_by)
    with open_token(rig.reader(0)) as session, pytest.raises(UnlockFailed,
                                                             match="different token"):
        Vault.open(path, OathTokenUnlocker(session))
    with Vault.open(path, passphrase) as vault:
        opened.add(vault.opened_by)
    assert len(opened) == 4


def test_oath_slot_challenge_is_checked(rig: Any, token: Any, tmp_path: Path) -> None:
    path = tmp_path / "oath.vault"
    with open_token(rig.reader(0)) as session:
        Vault.create(path, OathTokenUnlocker(session)).close()
        listed = [c.id for c in session.list()]
    name = json.loads(path.read_bytes())["slots"][0]["params"]["credential"]
    assert name in listed and name.startswith("pyotp-hw-vault:")
    _edit_slot(path, "oath", challenge=base64.b64encode(os.urandom(32)).decode())
    with open_token(rig.reader(0)) as session, pytest.raises(UnlockFailed,
                                                             match="challenge was changed"):
        Vault.open(path, OathTokenUnlocker(session))


def test_a_verifier_unlocks_its_data_key_with_the_security_key(
        rig: Any, token: Any, tmp_path: Path) -> None:
    from pyotp_hw.vault import VaultKey
    from pyotp_hw.verifier import Verifier

    from ..oracle import totp

    path = tmp_path / "keys.vault"
    with fido_device(rig) as dev:
        Vault.create(path, Fido2Unlocker(dev)).close()
    seed = os.urandom(20)
    url = f"sqlite:///{tmp_path}/v.db"
    t = 1_700_000_000
    with fido_device(rig) as dev:
        provider = VaultKey.open(path, Fido2Unlocker(dev))
    with Verifier.open(url, key=provider) as v:
        v.enroll("alice", seed, now=t)
    with fido_device(rig) as dev:  # a restart: the key is unlocked again
        provider = VaultKey.open(path, Fido2Unlocker(dev))
    with Verifier.open(url, key=provider, create=False) as v:
        assert v.verify("alice", totp(seed, t + 30, 6, "sha1", 30, 0), now=t + 30).ok
        assert not v.verify("alice", totp(seed, t + 30, 6, "sha1", 30, 0), now=t + 30).ok
