"""Checklist 12 and 13: seeds sealed at rest under a provider's key, bound to their user,
decrypted only into key tables that are wiped when evicted; new secrets are 160 random bits."""

from __future__ import annotations

import base64
import logging
import os
import stat

import pyotp
import pytest

from pyotp_hw.errors import InvalidArgument
from pyotp_hw.verifier import (
    DataKey,
    EnvKey,
    KeyFile,
    PassphraseKey,
    Reason,
    Verifier,
    WrongKey,
)
from pyotp_hw.verifier.matching import SMALL_ROUND

from .conftest import T
from .helpers import new_secret, totp


def _b32(text: str) -> bytes:
    return base64.b32decode(text + "=" * (-len(text) % 8))


def _spellings(secret: bytes) -> list[bytes]:
    b32 = base64.b32encode(secret)
    return [secret, b32, b32.rstrip(b"="), b32.lower(), secret.hex().encode(),
            base64.b64encode(secret)]


def test_sqlite_file_never_holds_a_clear_seed(tmp_path, open_verifier, caplog) -> None:
    secrets = {f"user{i}": new_secret() for i in range(20)}
    url = f"sqlite:///{tmp_path}/v.db"
    with caplog.at_level(logging.DEBUG):
        v = open_verifier(url)
        v.enroll_many(list(secrets.items()), now=T)
        enrollment = v.begin_enrollment("new", issuer="Ex", name="new", now=T)
        for user, secret in secrets.items():
            assert v.verify(user, totp(secret, T), now=T).ok
        v.verify("user0", "000000", now=T + 30)
    v.close()
    pending = _b32(pyotp.parse_uri(enrollment.uri).secret)
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for secret in [*secrets.values(), pending]:
        for spelling in _spellings(secret):
            assert spelling not in blob
            assert spelling.decode("latin-1") not in caplog.text


@pytest.mark.postgres
def test_postgres_never_holds_a_clear_seed(pg_url, open_verifier) -> None:
    import psycopg

    secrets = {f"user{i}": new_secret() for i in range(5)}
    v = open_verifier(pg_url)
    v.enroll_many(list(secrets.items()), now=T)
    with psycopg.connect(pg_url) as conn:
        dump = b"".join(
            bytes(cell) if isinstance(cell, (bytes, memoryview)) else str(cell).encode()
            for table in ("otp_credentials", "otp_events", "otp_meta")
            for row in conn.execute(f"SELECT * FROM {table}").fetchall()
            for cell in row
        )
    for secret in secrets.values():
        for spelling in _spellings(secret):
            assert spelling not in dump


def test_a_seed_is_bound_to_its_user(db_url, open_verifier) -> None:
    # Copying Alice's sealed seed into Mallory's row does not give Mallory Alice's seed.
    a, m = new_secret(), new_secret()
    v = open_verifier(db_url)
    v.enroll_many([("alice", a), ("mallory", m)], now=T)
    copy = ("UPDATE otp_credentials SET sealed = (SELECT sealed FROM otp_credentials "
            "WHERE user_id = 'alice') WHERE user_id = 'mallory'")
    if db_url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(db_url[len("sqlite:///"):]) as conn:
            conn.execute(copy)
    else:
        import psycopg

        with psycopg.connect(db_url) as conn:
            conn.execute(copy)
    v2 = open_verifier(db_url)  # a fresh verifier: nothing cached
    assert v2.verify("mallory", totp(a, T), now=T).reason is Reason.UNREADABLE
    assert v2.verify("alice", totp(a, T), now=T).ok


def test_key_providers(tmp_path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path}/v.db"
    secret = new_secret()
    # Passphrase (scrypt with the store's salt).
    with Verifier.open(url, key=PassphraseKey("correct horse", n=2**12)) as v:
        v.enroll("alice", secret, now=T)
    with Verifier.open(url, key=PassphraseKey("correct horse", n=2**12)) as v:
        assert v.verify("alice", totp(secret, T), now=T).ok
    with pytest.raises(WrongKey):
        Verifier.open(url, key=PassphraseKey("wrong horse", n=2**12))
    # Key file: created owner-only, refused if it exists, hex / base64 / raw accepted.
    path = tmp_path / "k"
    KeyFile.create(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(InvalidArgument):
        KeyFile.create(path)
    url2 = f"sqlite:///{tmp_path}/v2.db"
    with Verifier.open(url2, key=KeyFile(path)) as v:
        v.enroll("bob", secret, now=T)
    material = bytes.fromhex(path.read_text())
    raw = tmp_path / "raw"
    raw.write_bytes(material)
    b64 = tmp_path / "b64"
    b64.write_text(base64.b64encode(material).decode() + "\n")
    for same in (raw, b64):
        with Verifier.open(url2, key=KeyFile(same)) as v:
            assert v.credential("bob") is not None
    # Environment variable holding the same material.
    monkeypatch.setenv("SITE_OTP_KEY", material.hex())
    with Verifier.open(url2, key=EnvKey("SITE_OTP_KEY")) as v:
        assert v.verify("bob", totp(secret, T), now=T).ok
    monkeypatch.setenv("SITE_OTP_KEY", os.urandom(32).hex())
    with pytest.raises(WrongKey):
        Verifier.open(url2, key=EnvKey("SITE_OTP_KEY"))
    monkeypatch.delenv("SITE_OTP_KEY")
    with pytest.raises(WrongKey, match="not set"):
        Verifier.open(url2, key=EnvKey("SITE_OTP_KEY"))
    bad = tmp_path / "bad"
    bad.write_text("not a key")
    with pytest.raises(WrongKey, match="32 bytes"):
        Verifier.open(url2, key=KeyFile(bad))


def test_one_key_file_gives_each_store_its_own_data_key(tmp_path) -> None:
    path = tmp_path / "k"
    KeyFile.create(path)
    salt_a, salt_b = os.urandom(16), os.urandom(16)
    assert KeyFile(path).data_key(salt_a) != KeyFile(path).data_key(salt_b)
    assert KeyFile(path).data_key(salt_a) == KeyFile(path).data_key(salt_a)


def test_a_custom_provider_fits_the_protocol(tmp_path) -> None:
    # What a hardware provider looks like: the salt is the challenge, the response the key.
    import hashlib
    import hmac

    class ChallengeResponse:
        def __init__(self, device_secret: bytes) -> None:
            self._device = device_secret

        def data_key(self, salt: bytes) -> bytes:
            return hmac.new(self._device, salt, hashlib.sha256).digest()

    url = f"sqlite:///{tmp_path}/v.db"
    secret = new_secret()
    with Verifier.open(url, key=ChallengeResponse(b"device-a")) as v:
        v.enroll("alice", secret, now=T)
    with pytest.raises(WrongKey):
        Verifier.open(url, key=ChallengeResponse(b"device-b"))


def test_reprs_hide_keys_and_secrets() -> None:
    texts = [repr(PassphraseKey("hunter2hunter2")), repr(DataKey(b"K" * 32))]
    assert not any("hunter2" in t or "KKKK" in t for t in texts)
    with Verifier.open("memory:", key=b"K" * 32) as v:
        enrollment = v.begin_enrollment("alice", issuer="Ex", name="alice")
        secret = pyotp.parse_uri(enrollment.uri).secret
        assert secret not in repr(enrollment) and secret not in repr(v)
        assert "KKKK" not in repr(v._sealer)


def test_key_tables_are_wiped_when_evicted(open_verifier) -> None:
    n = SMALL_ROUND + 1  # a batch that goes through the key cache
    v = open_verifier("memory:", cache_size=n)
    secrets = {f"u{i}": new_secret() for i in range(3 * n)}
    v.enroll_many(list(secrets.items()), now=T)
    users = list(secrets)
    v.verify_many([(u, totp(secrets[u], T)) for u in users[:n]], now=T)
    (first,) = list(v._cache._segments.values())
    assert not first.table.closed and len(v._cache) == n
    v.verify_many([(u, totp(secrets[u], T)) for u in users[n:2 * n]], now=T)
    assert first.table.closed  # evicted: its C memory wiped and freed
    assert len(v._cache) == n
    # Evicted users still verify: their seeds are decrypted again from the store.
    assert v.verify(users[0], totp(secrets[users[0]], T + 30), now=T + 30).ok
    tables = [s.table for s in v._cache._segments.values()]
    v.close()
    assert tables and all(t.closed for t in tables)


def test_replaced_credentials_leave_the_cache(open_verifier) -> None:
    v = open_verifier("memory:")
    old, new = new_secret(), new_secret()
    v.enroll("alice", old, now=T)
    assert v.verify("alice", totp(old, T), now=T).ok
    v.enroll("alice", new, replace=True, reauthenticated=True, now=T)
    assert len(v._cache) == 0
    assert not v.verify("alice", totp(old, T + 30), now=T + 30).ok
    assert v.verify("alice", totp(new, T + 60), now=T + 60).ok


def test_new_secrets_are_160_random_bits(open_verifier) -> None:
    v = open_verifier("memory:")
    seen = set()
    for i in range(64):
        enrollment = v.begin_enrollment(f"u{i}", issuer="Ex", name=f"u{i}", now=T)
        secret = _b32(pyotp.parse_uri(enrollment.uri).secret)
        assert len(secret) == 20
        seen.add(secret)
    assert len(seen) == 64
    # Not a counter or a clock: the bits look uniform (about half of 64 * 160 are ones).
    ones = sum(bin(int.from_bytes(s, "big")).count("1") for s in seen)
    assert 4600 < ones < 5640


def test_short_imported_secrets_are_refused(open_verifier) -> None:
    from pyotp_hw.errors import InvalidSecret

    v = open_verifier("memory:")
    with pytest.raises(InvalidSecret, match="128"):
        v.enroll("alice", b"0123456789", now=T)  # 80 bits
    v2 = open_verifier("memory:", min_secret_bytes=10)
    v2.enroll("alice", b"0123456789", now=T)




def test_decrypted_buffers_are_wiped_once_in_a_key_table() -> None:
    from pyotp_hw.verifier.keycache import KeyCache
    from pyotp_hw.verifier.records import Params

    cache = KeyCache()
    buffers = [bytearray(new_secret()) for _ in range(3)]
    params = [Params(i, f"u{i}", "totp", "sha1", 6, 30, 0, b"sealed") for i in range(3)]
    segment = cache.add("sha1", params, buffers)
    assert all(buf == bytearray(20) for buf in buffers)
    assert len(segment.table) == 3 and not segment.table.closed
    cache.release([segment])
    cache.clear()
    assert segment.table.closed


def test_times_as_datetimes(open_verifier) -> None:
    import datetime as dt

    v = open_verifier("memory:")
    secret = new_secret()
    v.enroll("alice", secret, now=T)
    when = dt.datetime.fromtimestamp(T, tz=dt.timezone.utc)
    assert v.verify("alice", totp(secret, T), now=when).ok
    with pytest.raises(InvalidArgument, match="naive"):
        v.verify("alice", totp(secret, T), now=when.replace(tzinfo=None))
