"""A verifier whose data key comes from a vault (opened here by passphrases; by a FIDO2 key in
tests/token/test_vault_pcsc.py). Codes come from the test oracle; the store's data key is
derived here independently (cryptography's HKDF over the vault's verifier key and the salt)."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pyotp_hw.vault import Passphrase, Vault, VaultKey
from pyotp_hw.verifier import Verifier

from .conftest import T
from .helpers import sql_query, totp


def test_a_verifier_on_a_vault_verifies_and_rekeys(tmp_path: Path) -> None:
    path = tmp_path / "keys.vault"
    with Vault.create(path, Passphrase("first", n=2**10)) as vault:
        vault.add_unlocker(Passphrase("second", n=2**10))
        material = vault.verifier_key()
    url = f"sqlite:///{tmp_path}/v.db"
    seed = os.urandom(20)
    with Verifier.open(url, key=VaultKey.open(path, Passphrase("first", n=2**10))) as v:
        v.enroll("alice", seed, now=T)
        assert v.verify("alice", totp(seed, T), now=T).ok
    # Another slot of the same vault gives the same data key.
    provider = VaultKey.open(path, Passphrase("second", n=2**10))
    assert "first" not in repr(provider) and material.hex() not in repr(provider)
    with Verifier.open(url, key=provider, create=False) as v:
        assert v.verify("alice", totp(seed, T + 30), now=T + 30).ok
        assert v.rekey().generation == 1
        assert v.verify("alice", totp(seed, T + 60), now=T + 60).ok
    meta = dict(sql_query(url, "SELECT name, value FROM otp_meta"))
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=bytes.fromhex(meta["key:1:salt"]),
               info=b"pyotp-hw verifier data key from a vault v1").derive(material)
    (sealed,), = sql_query(url, "SELECT sealed FROM otp_credentials")
    aad = b"pyotp-hw/verifier/1\x00" + b"\x00".join([b"alice", b"totp", b"sha1", b"6", b"30",
                                                     b"0"])
    assert AESGCM(key).decrypt(bytes(sealed[:12]), bytes(sealed[12:]), aad) == seed
