"""The one AEAD module: AES-256-GCM checked against cryptography's AESGCM used directly."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pyotp_hw.errors import InvalidArgument
from pyotp_hw.sealing import (
    Aead,
    SealFormatError,
    SealOpenFailed,
    open_versioned,
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
