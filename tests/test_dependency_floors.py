"""The oldest versions pyproject allows: what changed since them is feature-detected, not assumed.

``AESGCM.decrypt_into`` exists only in newer cryptography releases (pyproject allows >= 41).
Here an ``AESGCM`` with only the methods cryptography 41 has stands in for the real one; ``make
lowest`` runs the suites again on those very versions. And an error that is not a failed
authentication (a bug, a missing method) must come out as itself, never as "wrong key".
"""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest

aead = pytest.importorskip("cryptography.hazmat.primitives.ciphers.aead")

from pyotp_hw.token.errors import StateFileError  # noqa: E402
from pyotp_hw.token.virtual.state import PassphraseSealer  # noqa: E402
from pyotp_hw.verifier.errors import WrongKey  # noqa: E402
from pyotp_hw.verifier.sealing import Sealer, credential_aad  # noqa: E402

REAL_AESGCM = aead.AESGCM
KEY = bytes(range(32))
SEED = b"12345678901234567890"
AAD = credential_aad("alice", "totp", "sha1", 6, 30, 0)


class AESGCMOf41:
    """The AESGCM of cryptography 41: encrypt and decrypt, no *_into methods."""

    def __init__(self, key: bytes) -> None:
        self._real = REAL_AESGCM(key)

    def encrypt(self, nonce: bytes, data: bytes, aad: bytes | None) -> bytes:
        return bytes(self._real.encrypt(nonce, data, aad))

    def decrypt(self, nonce: bytes, data: bytes, aad: bytes | None) -> bytes:
        return bytes(self._real.decrypt(nonce, data, aad))


class BrokenAESGCM(AESGCMOf41):
    """One whose decryption fails for a reason that is not the key."""

    def decrypt_into(self, nonce: bytes, data: bytes, aad: bytes | None, buf: Any) -> int:
        raise RuntimeError("an internal failure, not a wrong key")

    def decrypt(self, nonce: bytes, data: bytes, aad: bytes | None) -> bytes:
        raise RuntimeError("an internal failure, not a wrong key")


@pytest.fixture
def old_cryptography(monkeypatch: pytest.MonkeyPatch) -> None:
    """An AESGCM without the *_into methods: this cryptography's own where it has none (as on
    41-46, which ``make lowest`` installs), else the stand-in. cryptography 41's backend checks
    ``isinstance(cipher, aead.AESGCM)``, so on it the stand-in would break real encryption."""
    if hasattr(REAL_AESGCM, "decrypt_into"):
        monkeypatch.setattr(aead, "AESGCM", AESGCMOf41)


def _sealed(key: bytes = KEY) -> bytes:
    nonce = os.urandom(12)
    return nonce + REAL_AESGCM(key).encrypt(nonce, SEED, AAD)


@pytest.mark.usefixtures("old_cryptography")
def test_sealer_opens_seeds_without_decrypt_into() -> None:
    sealer = Sealer(KEY)
    assert not hasattr(aead.AESGCM(KEY), "decrypt_into")
    opened = sealer.open_into(_sealed(), AAD)
    assert isinstance(opened, bytearray) and bytes(opened) == SEED
    assert bytes(sealer.open_into(sealer.seal(SEED, AAD), AAD)) == SEED
    sealer.verify_key_check(sealer.key_check())


@pytest.mark.usefixtures("old_cryptography")
def test_without_decrypt_into_a_wrong_key_or_a_change_is_still_wrong_key() -> None:
    sealer = Sealer(KEY)
    with pytest.raises(WrongKey, match="does not open under this data key"):
        sealer.open_into(_sealed(bytes(32)), AAD)
    tampered = bytearray(_sealed())
    tampered[20] ^= 1
    with pytest.raises(WrongKey):
        sealer.open_into(bytes(tampered), AAD)
    with pytest.raises(WrongKey):
        sealer.open_into(_sealed(), credential_aad("bob", "totp", "sha1", 6, 30, 0))
    with pytest.raises(WrongKey, match="does not open this verifier store"):
        Sealer(bytes(32)).verify_key_check(sealer.key_check())


@pytest.mark.parametrize("kind", ["current", "old"])
def test_an_unexpected_failure_is_not_reported_as_a_wrong_key(
        monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    broken: type = BrokenAESGCM
    if kind == "old":  # no decrypt_into either: the fallback path
        class BrokenOld(AESGCMOf41):
            def decrypt(self, nonce: bytes, data: bytes, aad: bytes | None) -> bytes:
                raise RuntimeError("an internal failure, not a wrong key")

        broken = BrokenOld
    sealed = _sealed()  # before the stand-in: cryptography 41's backend checks the class
    monkeypatch.setattr(aead, "AESGCM", broken)
    sealer = Sealer(KEY)
    if kind == "old":
        # The fallback needs no AESGCM method at all; break the primitive it does use.
        from cryptography.hazmat.primitives.ciphers import Cipher

        def broken_decryptor(self: Any) -> Any:
            raise RuntimeError("an internal failure, not a wrong key")

        monkeypatch.setattr(Cipher, "decryptor", broken_decryptor)
    with pytest.raises(RuntimeError, match="internal failure"):
        sealer.open_into(sealed, AAD)


def test_the_current_path_still_refuses_a_wrong_key() -> None:
    sealer = Sealer(KEY)
    assert bytes(sealer.open_into(_sealed(), AAD)) == SEED
    with pytest.raises(WrongKey):
        sealer.open_into(_sealed(bytes(32)), AAD)


# ---------------------------------------------------------------- the virtual token's state


def _sealed_document(passphrase: str = "correct horse") -> dict[str, Any]:
    return PassphraseSealer(passphrase).seal(b'{"credentials": []}')


def test_state_with_a_nonce_of_the_wrong_length_is_a_clear_error() -> None:
    doc = _sealed_document()
    doc["nonce"] = base64.b64encode(b"short").decode()
    with pytest.raises(StateFileError, match="nonce"):
        PassphraseSealer("correct horse").open(doc)


def test_state_wrong_passphrase_is_still_a_clear_error() -> None:
    with pytest.raises(StateFileError, match="wrong passphrase"):
        PassphraseSealer("not the passphrase").open(_sealed_document())


def test_state_open_does_not_turn_an_unexpected_error_into_a_passphrase_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    class Failing(AESGCMOf41):
        def decrypt_into(self, nonce: bytes, data: bytes, aad: bytes | None, buf: Any) -> int:
            raise ValueError("an internal failure, not the passphrase")

        def decrypt(self, nonce: bytes, data: bytes, aad: bytes | None) -> bytes:
            raise ValueError("an internal failure, not the passphrase")

    doc = _sealed_document()
    sealer = PassphraseSealer("correct horse")
    monkeypatch.setattr(aead, "AESGCM", Failing)  # the one AEAD module looks it up per use
    with pytest.raises(ValueError, match="internal failure") as info:
        sealer.open(doc)
    assert not isinstance(info.value, StateFileError)


@pytest.mark.usefixtures("old_cryptography")
def test_state_round_trip_on_the_oldest_cryptography() -> None:
    doc = _sealed_document()
    assert PassphraseSealer("correct horse").open(doc) == b'{"credentials": []}'


@pytest.mark.parametrize("ciphertext", [b"", b"too short for a tag"])
def test_state_with_a_cut_ciphertext_is_a_clear_error(ciphertext: bytes) -> None:
    doc = _sealed_document()
    doc["ciphertext"] = base64.b64encode(ciphertext).decode()
    with pytest.raises(StateFileError, match="wrong passphrase, or the file was changed"):
        PassphraseSealer("correct horse").open(doc)
