"""Fuzzing the vault file: whatever the bytes, only a typed vault error comes out, and never the
passphrase or a seed (tests/typed_errors.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pyotp_hw.vault import Passphrase, Vault, VaultError
from tests.typed_errors import assert_clean_error, fuzz

PASSPHRASE = "fuzzing passphrase words"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_DIR = Path(tempfile.mkdtemp(prefix="vault-fuzz-"))
_PATH = _DIR / "good.vault"
with Vault.create(_PATH, Passphrase(PASSPHRASE, n=2**10)) as _v:
    _v.import_uris([f"otpauth://totp/Fuzz:alice?secret={SECRET}"])
GOOD = _PATH.read_bytes()


def _open(data: bytes) -> None:
    target = _DIR / "fuzzed.vault"
    target.write_bytes(data)
    try:
        Vault.open(target, Passphrase(PASSPHRASE, n=2**10)).close()
    except VaultError as exc:
        assert_clean_error(exc, [PASSPHRASE, SECRET])
    else:
        assert data == GOOD, "only the vault as written opens"


@fuzz
@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(1, 255)), min_size=1,
                max_size=4))
def test_changed_bytes_are_refused_cleanly(changes: list[tuple[int, int]]) -> None:
    data = bytearray(GOOD)
    for at, flip in changes:
        data[at] ^= flip
    _open(bytes(data))


@settings(fuzz, max_examples=300)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_are_refused_cleanly(data: bytes) -> None:
    _open(data)
