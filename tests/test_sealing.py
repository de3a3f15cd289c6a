"""The one AEAD module: AES-256-GCM checked against cryptography's AESGCM used directly."""

from __future__ import annotations

import hmac
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pyotp_hw.errors import InvalidArgument, InvalidType
from pyotp_hw.sealing import (
    Aead,
    SealFormatError,
    SealOpenFailed,
    check_scrypt_cost,
    hkdf,
    open_versioned,
    passphrase_bytes,
    scrypt_key,
    seal_versioned,
)

KEY = os.urandom(32)


def test_seal_is_nonce_then_standard_gcm() -> None:
    sealed = Aead(KEY).seal(b"seed bytes", b"context")
    assert AESGCM(KEY).decrypt(sealed[:12], sealed[12:], b"context") == b"seed bytes"
    nonce = os.urandom(12)
    theirs = nonce + AESGCM(KEY).encrypt(nonce, b"", b"ctx")
    assert Aead(KEY).open(theirs, b"ctx") == b""


def test_every_flipped_byte_and_another_context_fail_as_open_failures() -> None:
    aead = Aead(KEY)
    sealed = aead.seal(b"0123456789", b"ctx")
    for i in range(len(sealed)):
        changed = bytearray(sealed)
        changed[i] ^= 0x01
        with pytest.raises(SealOpenFailed):
            aead.open_into(bytes(changed), b"ctx")
    with pytest.raises(SealOpenFailed):
        aead.open(sealed, b"other")
    with pytest.raises(SealOpenFailed):
        Aead(os.urandom(32)).open(sealed, b"ctx")
    with pytest.raises(SealFormatError, match="truncated"):
        aead.open(sealed[:27], b"ctx")


def test_versioned_values_refuse_another_magic_or_version_before_decrypting() -> None:
    aead = Aead(KEY)
    sealed = seal_versioned(aead, b"PHV", 2, b"payload", b"ad")
    assert sealed[:4] == b"PHV\x02"
    assert bytes(open_versioned(aead, b"PHV", 2, sealed, b"ad")) == b"payload"
    with pytest.raises(SealFormatError, match="version 2 is not supported"):
        open_versioned(aead, b"PHV", 1, sealed, b"ad")
    with pytest.raises(SealFormatError, match="not of the expected format"):
        open_versioned(aead, b"XYZ", 2, sealed, b"ad")
    with pytest.raises(SealFormatError, match="truncated"):
        open_versioned(aead, b"PHV", 2, b"PHV", b"ad")
    header_changed = b"PHV\x03" + sealed[4:]
    with pytest.raises(SealOpenFailed):  # the header is authenticated too
        open_versioned(aead, b"PHV", 3, header_changed, b"ad")


def test_a_key_of_the_wrong_length_is_refused_and_never_shown() -> None:
    with pytest.raises(InvalidArgument):
        Aead(b"short")
    assert KEY.hex() not in repr(Aead(KEY))


def test_scrypt_key_is_rfc_7914_scrypt() -> None:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    salt = os.urandom(16)
    theirs = Scrypt(salt=salt, length=32, n=2**10, r=8, p=2).derive(b"words")
    assert scrypt_key(b"words", salt, n=2**10, r=8, p=2) == theirs
    # RFC 7914 section 12, the second vector (its first 16 bytes).
    ours = scrypt_key(b"password", b"NaCl", n=1024, r=8, p=16, length=64)
    assert ours[:16].hex() == "fdbabe1c9d3472007856e7190d01e9fe"


@pytest.mark.parametrize(("cost", "error", "words"), [
    ((3, 8, 1), InvalidArgument, "power of two"),
    ((1, 8, 1), InvalidArgument, "scrypt n must be between 2 and"),
    ((2**21, 1, 1), InvalidArgument, "scrypt n"),
    ((2**10, 0, 1), InvalidArgument, "scrypt r"),
    ((2**10, 8, 17), InvalidArgument, "scrypt p"),
    ((2**20, 32, 1), InvalidArgument, "more than 1024 MiB"),
    ((2.0**10, 8, 1), InvalidType, "scrypt n must be an int"),
    ((2**10, True, 1), InvalidType, "scrypt r"),
])
def test_a_scrypt_cost_is_checked_before_any_work(cost: tuple[object, object, object],
                                                  error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        check_scrypt_cost(*cost)
    with pytest.raises(error, match=words):
        scrypt_key(b"words", b"salt", n=cost[0], r=cost[1], p=cost[2])  # type: ignore[arg-type]
    assert check_scrypt_cost(2**20, 8, 16) == (2**20, 8, 16)
    with pytest.raises(InvalidArgument, match="between 1024"):
        check_scrypt_cost(2**9, 8, 1, min_n=2**10)


def test_a_passphrase_is_text_or_bytes_and_never_echoed() -> None:
    assert passphrase_bytes("pässword") == "pässword".encode()
    assert passphrase_bytes(b"\xff") == b"\xff"
    with pytest.raises(InvalidArgument, match=r"^the passphrase is empty$"):
        passphrase_bytes("")
    with pytest.raises(SealFormatError, match=r"^the key's passphrase is empty$"):
        passphrase_bytes(b"", "the key's passphrase", SealFormatError)
    with pytest.raises(InvalidType, match="must be str or bytes, not int"):
        passphrase_bytes(1234)
    with pytest.raises(InvalidArgument, match="lone surrogate") as caught:
        passphrase_bytes("secret\udcff")
    assert "secret" not in str(caught.value) and caught.value.__context__ is None


def _rfc5869(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """HKDF-SHA256 written from RFC 5869 with the standard library: the independent oracle."""
    prk = hmac.new(salt or bytes(32), ikm, "sha256").digest()
    okm, block = b"", b""
    for counter in range(1, -(-length // 32) + 1):
        block = hmac.new(prk, block + info + bytes([counter]), "sha256").digest()
        okm += block
    return okm[:length]


@pytest.mark.parametrize(("ikm", "salt", "info", "okm"), [
    # RFC 5869 appendix A.1 and A.3 (SHA-256, L = 42).
    (bytes([0x0B] * 22), bytes(range(13)), bytes(range(0xF0, 0xFA)),
     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"),
    (bytes([0x0B] * 22), b"", b"",
     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"),
])
def test_hkdf_is_rfc_5869_hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, okm: str) -> None:
    assert _rfc5869(ikm, salt, info, 42).hex() == okm
    derived = hkdf(ikm, salt, info, 42)
    assert isinstance(derived, bytearray) and derived.hex() == okm
    assert hkdf(bytearray(ikm), salt, info, 42).hex() == okm


def test_the_verifier_and_the_vault_expand_keys_through_the_one_hkdf(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from pyotp_hw import sealing
    from pyotp_hw.vault import slots, verifier_key
    from pyotp_hw.verifier import keyprovider

    assert slots.hkdf is keyprovider.hkdf is verifier_key.hkdf is sealing.hkdf
    material, salt = bytes(range(32)), b"salt-0123456789abcdef"
    # The same bytes as before the two copies became one (the store and vault formats).
    store_key = "5021e9c121c07372855abb7819a8a6df90b72920d111c81b6a171f569bda4269"
    assert _rfc5869(material, salt, b"pyotp-hw verifier data key v1", 32).hex() == store_key
    monkeypatch.setenv("SEALING_TEST_KEY", material.hex())
    assert keyprovider.EnvKey("SEALING_TEST_KEY").data_key(salt).hex() == store_key
    key_file = tmp_path / "key"
    key_file.write_text(material.hex() + "\n")
    key_file.chmod(0o600)
    assert keyprovider.KeyFile(key_file).data_key(salt).hex() == store_key
    kek, check = slots.SlotSecret(bytearray(material)).derive("0123456789abcdef")
    slot_id = b"0123456789abcdef"
    assert kek == _rfc5869(material, slot_id, b"pyotp-hw vault key-encryption key v1", 32)
    assert kek.hex() == "79c34e58e838978cc8082056f6a9f9195dbbeb1df70d15b2ecab984bb84455c2"
    assert check == _rfc5869(material, slot_id, b"pyotp-hw vault unlocker check v1", 16)
    assert check.hex() == "86cf9b7f80299090768ea5f75ac7f37f"


@pytest.mark.parametrize(("length", "error"), [
    (0, InvalidArgument), (255 * 32 + 1, InvalidArgument), ("32", InvalidType),
    (True, InvalidType),
])
def test_an_hkdf_length_is_checked_before_any_work(length: object, error: type[Exception]
                                                   ) -> None:
    with pytest.raises(error, match="the HKDF length"):
        hkdf(b"material", b"salt", b"info", length)  # type: ignore[arg-type]
    assert len(hkdf(b"material", b"salt", b"info", 255 * 32)) == 255 * 32
