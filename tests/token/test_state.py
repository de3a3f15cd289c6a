"""The virtual token's state: atomic writes, mode 0600, sealed unless plaintext is asked for."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pyotp
import pytest

from pyotp_hw.keys import decode_base32
from pyotp_hw.token import OathSession, StateFileError
from pyotp_hw.token.virtual import FileStore, OathState, PassphraseSealer, make_card

from .helpers import SECRET_B32

URI = f"otpauth://totp/Vault:me?secret={SECRET_B32}&issuer=Vault"
HOTP_URI = f"otpauth://hotp/Count:me?secret={SECRET_B32}&issuer=Count&counter=0"


def _secret_forms() -> list[bytes]:
    key = decode_base32(SECRET_B32)
    padded = key.ljust(14, b"\0")
    return [key, SECRET_B32.encode(), base64.b64encode(key), base64.b64encode(padded),
            key.hex().encode()]


def _fill(store: FileStore) -> None:
    session = OathSession(make_card(store=store).connect())
    session.put(URI)
    session.put(HOTP_URI)
    session.calculate("Count:me")  # advance the HOTP counter: that is state too
    session.set_password("token password")


def test_sealed_state_round_trip_without_secrets_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "token.json"
    _fill(FileStore(path, PassphraseSealer("state passphrase")))
    raw = path.read_bytes()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    for form in _secret_forms():
        assert form not in raw
    assert b"Vault" not in raw and b"token password" not in raw
    document = json.loads(raw)
    assert document["protection"] == "scrypt+aes-256-gcm" and "state" not in document

    # A restarted token has the same accounts, password and HOTP counter.
    card = make_card(store=FileStore(path, PassphraseSealer("state passphrase")))
    session = OathSession(card.connect())
    session.unlock("token password")
    assert session.calculate("Vault:me", for_time=59).value == pyotp.TOTP(SECRET_B32).at(59)
    assert session.calculate("Count:me").value == pyotp.HOTP(SECRET_B32).at(1)
    assert [p.name for p in tmp_path.iterdir()] == ["token.json"]  # no temporary files left


def test_wrong_passphrase_and_tampering(tmp_path: Path) -> None:
    path = tmp_path / "token.json"
    _fill(FileStore(path, PassphraseSealer("right")))
    with pytest.raises(StateFileError, match="wrong passphrase") as exc:
        FileStore(path, PassphraseSealer("wrong")).load()
    assert "right" not in str(exc.value)
    document = json.loads(path.read_text())
    ciphertext = bytearray(base64.b64decode(document["ciphertext"]))
    ciphertext[5] ^= 1
    document["ciphertext"] = base64.b64encode(bytes(ciphertext)).decode()
    path.write_text(json.dumps(document))
    with pytest.raises(StateFileError, match="changed"):
        FileStore(path, PassphraseSealer("right")).load()
    document["kdf"]["n"] = 2
    path.write_text(json.dumps(document))
    with pytest.raises(StateFileError, match="scrypt parameters"):
        FileStore(path, PassphraseSealer("right")).load()


def test_plaintext_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "plain.json"
    with pytest.raises(StateFileError, match="holds secrets"):
        FileStore(path)
    _fill(FileStore(path, plaintext=True))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    document = json.loads(path.read_text())
    assert document["protection"] == "none"
    keys = [base64.b64decode(c["key"]) for c in document["state"]["credentials"]]
    assert decode_base32(SECRET_B32).ljust(14, b"\0") in keys
    with pytest.raises(StateFileError, match="not sealed"):
        FileStore(path, PassphraseSealer("x")).load()
    sealed = tmp_path / "sealed.json"
    FileStore(sealed, PassphraseSealer("x")).save(OathState())
    with pytest.raises(StateFileError, match="is sealed"):
        FileStore(sealed, plaintext=True).load()


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    path = tmp_path / "token.json"
    store = FileStore(path, PassphraseSealer("p"))
    session = OathSession(make_card(store=store).connect())
    session.put(URI)
    before = path.read_bytes()

    def crash(src: str, dst: str) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", crash)
    from pyotp_hw.token import TokenMemoryError

    with pytest.raises(TokenMemoryError):
        session.put(URI.replace("Vault:me", "Other:me").replace("issuer=Vault", "issuer=Other"))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["token.json"]
    assert [c.id for c in session.list()] == ["Vault:me"]
    reloaded = OathSession(make_card(store=FileStore(path, PassphraseSealer("p"))).connect())
    assert [c.id for c in reloaded.list()] == ["Vault:me"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "not a virtual-token state file"),
        (b'{"format": "other"}', "not a virtual-token state file"),
        (b'{"format": "pyotp-hw-virtual-token", "version": 9}', "version 9"),
        (b'{"format": "pyotp-hw-virtual-token", "version": 1, "protection": "rot13"}',
         "rot13"),
        (b'{"format": "pyotp-hw-virtual-token", "version": 1, "protection": "none", '
         b'"state": {"credentials": "x"}}', "credentials"),
        (b'{"format": "pyotp-hw-virtual-token", "version": 1, "protection": "none", '
         b'"state": {"credentials": [], "pin_retries": 8, "serial": 1, "salt": "@@"}}',
         "base64"),
    ],
)
def test_damaged_files_are_clear_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(StateFileError, match=message):
        FileStore(path, plaintext=True).load()
