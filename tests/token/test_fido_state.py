"""The FIDO2 authenticator's state file: sealed, atomic, 0600, and refused when wrong."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from fido2.ctap import CtapError
from fido2.ctap2 import Ctap2
from fido2.ctap2.pin import ClientPin

from pyotp_hw.token.errors import StateFileError
from pyotp_hw.token.virtual import FileStore, OathState, PassphraseSealer, TouchPolicy, make_card
from pyotp_hw.token.virtual.fido import Authenticator, FidoApplet, FidoFileStore, FidoState

from ..typed_errors import assert_clean_error
from .fido_helpers import client, device, make_prf_credential, prf

PASSPHRASE = "correct horse battery staple"


def card_on(store: FidoFileStore) -> tuple[object, Authenticator]:
    authenticator = Authenticator(store, touch=TouchPolicy(delay=0.0))
    return make_card(extra_applets=[FidoApplet(authenticator)]), authenticator


def test_sealed_file_round_trip_mode_and_no_clear_secret(tmp_path: Path) -> None:
    path = tmp_path / "token.json.fido"
    store = FidoFileStore(path, PassphraseSealer(PASSPHRASE))
    state = FidoState(sign_count=7, pin_hash=bytes(range(16)), pin_retries=5)
    store.save(state)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = path.read_bytes()
    document = json.loads(raw)
    assert document["format"] == "pyotp-hw-virtual-token"
    assert document["protection"] == "scrypt+aes-256-gcm"
    for secret in (state.master_key, bytes(range(16))):
        assert secret not in raw and secret.hex().encode() not in raw
    loaded = FidoFileStore(path, PassphraseSealer(PASSPHRASE)).load()
    assert loaded == state
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_wrong_passphrase_tampering_and_the_oath_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.fido"
    FidoFileStore(path, PassphraseSealer(PASSPHRASE)).save(FidoState())
    with pytest.raises(StateFileError) as excinfo:
        FidoFileStore(path, PassphraseSealer("wrong")).load()
    assert_clean_error(excinfo.value, [PASSPHRASE])
    document = json.loads(path.read_text())
    document["ciphertext"] = document["ciphertext"][:-8] + "AAAAAAA="
    path.write_text(json.dumps(document))
    with pytest.raises(StateFileError):
        FidoFileStore(path, PassphraseSealer(PASSPHRASE)).load()
    # The OATH applet's file has the same envelope but not a FIDO2 state inside.
    oath = tmp_path / "oath.json"
    FileStore(oath, PassphraseSealer(PASSPHRASE)).save(OathState())
    with pytest.raises(StateFileError, match="not a FIDO2 state file"):
        FidoFileStore(oath, PassphraseSealer(PASSPHRASE)).load()
    fido = tmp_path / "plain.fido"
    FidoFileStore(fido, plaintext=True).save(FidoState())
    with pytest.raises(StateFileError):
        FileStore(fido, plaintext=True).load()


def test_plaintext_must_be_asked_for(tmp_path: Path) -> None:
    with pytest.raises(StateFileError):
        FidoFileStore(tmp_path / "x")
    FidoFileStore(tmp_path / "x", plaintext=True).save(FidoState())
    with pytest.raises(StateFileError, match="not sealed"):
        FidoFileStore(tmp_path / "x", PassphraseSealer(PASSPHRASE)).load()
    with pytest.raises(StateFileError, match="sealed"):
        path = tmp_path / "y"
        FidoFileStore(path, PassphraseSealer(PASSPHRASE)).save(FidoState())
        FidoFileStore(path, plaintext=True).load()


@pytest.mark.parametrize("field, value", [
    ("master_key", "AAAA"), ("sign_count", -1), ("sign_count", "7"), ("pin_retries", 9),
    ("pin_hash", 12), ("state_version", 2), ("applet", "oath"),
])
def test_bad_fields_are_refused(tmp_path: Path, field: str, value: object) -> None:
    path = tmp_path / "p.fido"
    FidoFileStore(path, plaintext=True).save(FidoState())
    document = json.loads(path.read_text())
    document["state"][field] = value
    path.write_text(json.dumps(document))
    with pytest.raises(StateFileError) as excinfo:
        FidoFileStore(path, plaintext=True).load()
    assert_clean_error(excinfo.value)


def test_credentials_pin_and_counter_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "t.fido"
    card, _ = card_on(FidoFileStore(path, PassphraseSealer(PASSPHRASE)))
    dev = device(card)  # type: ignore[arg-type]
    fido, _ = client(dev)
    cred_id = make_prf_credential(fido).raw_id
    salt = os.urandom(32)
    before = prf(fido, cred_id, salt)
    ClientPin(Ctap2(dev)).set_pin("1234")
    count = FidoFileStore(path, PassphraseSealer(PASSPHRASE)).load()
    # One registration, then the client's silent probe and the assertion.
    assert count is not None and count.sign_count == 3

    card2, _ = card_on(FidoFileStore(path, PassphraseSealer(PASSPHRASE)))
    dev2 = device(card2)  # type: ignore[arg-type]
    assert Ctap2(dev2).info.options["clientPin"] is True
    fido2_client, _ = client(dev2)
    assert prf(fido2_client, cred_id, salt) == before
    reloaded = FidoFileStore(path, PassphraseSealer(PASSPHRASE)).load()
    assert reloaded is not None and reloaded.sign_count == 5


def test_a_failed_save_changes_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "d"
    directory.mkdir()
    card, authenticator = card_on(FidoFileStore(directory / "s.fido", plaintext=True))
    dev = device(card)  # type: ignore[arg-type]
    (directory / "s.fido").unlink()
    directory.rmdir()  # the next save cannot create its file
    with pytest.raises(CtapError) as excinfo:
        ClientPin(Ctap2(dev)).set_pin("1234")
    assert excinfo.value.code == CtapError.ERR.OTHER
    assert authenticator.state.pin_hash is None
    assert Ctap2(dev).get_info().options["clientPin"] is False
