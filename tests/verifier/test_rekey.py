"""``Verifier.rekey``: every credential re-sealed under a new data key while verifying goes on.

The oracle for "sealed under which key" is independent: the data key of each generation is
derived here with cryptography's HKDF from the key file and the salt in the store's metadata,
and each row is opened with cryptography's AESGCM under the associated data the sealing module
documents. Codes come from the test oracle.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pyotp_hw.errors import InvalidArgument, InvalidType
from pyotp_hw.verifier import KeyFile, Verifier

from .conftest import T
from .helpers import sql_query, totp

USERS = 24


def _material(key_file: Path) -> bytes:
    return bytes.fromhex(key_file.read_text().strip())


def _key(material: bytes, salt_hex: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=bytes.fromhex(salt_hex),
                info=b"pyotp-hw verifier data key v1").derive(material)


def _meta(url: str) -> dict[str, str]:
    return {str(n): str(v) for n, v in sql_query(url, "SELECT name, value FROM otp_meta")}


def _generations(url: str, material: bytes) -> dict[str, int]:
    """Which generation's key opens each user's row (-1: none)."""
    meta = _meta(url)
    keys = {0: _key(material, meta["salt"])}
    for name, value in meta.items():
        if name.startswith("key:") and name.endswith(":salt"):
            keys[int(name.split(":")[1])] = _key(material, value)
    out = {}
    rows = sql_query(url, "SELECT user_id, kind, digest, digits, period, t0, sealed, state "
                          "FROM otp_credentials")
    for user, kind, digest, digits, period, t0, sealed, state in rows:
        fields = (user, kind, digest, str(digits), str(period), str(t0))
        aad = b"pyotp-hw/verifier/1\x00" + b"\x00".join(f.encode() for f in fields)
        found = -1
        for generation, key in keys.items():
            try:
                AESGCM(key).decrypt(bytes(sealed[:12]), bytes(sealed[12:]), aad)
            except InvalidTag:
                continue
            found = generation
        out[f"{user}/{state}"] = found
    return out


def _secrets() -> dict[str, bytes]:
    return {f"user{i}": os.urandom(20) for i in range(USERS)}


def _no_clear_seed(url: str, seeds: dict[str, bytes]) -> None:
    """No seed, raw or base32, in the database files (SQLite) or in any stored value."""
    import base64

    if url.startswith("sqlite"):
        db = Path(url[len("sqlite:///"):])
        blobs = [p.read_bytes() for p in db.parent.glob(db.name + "*")]
    else:
        rows = sql_query(url, "SELECT * FROM otp_credentials") + sql_query(
            url, "SELECT * FROM otp_meta") + sql_query(url, "SELECT * FROM otp_events")
        blobs = [bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode()
                 for row in rows for v in row]
    for raw in blobs:
        for seed in seeds.values():
            assert seed not in raw and base64.b32encode(seed) not in raw


def test_rekey_under_concurrent_verification_loses_nothing_and_accepts_no_replay(
        tmp_path: Path, db_url: str) -> None:
    url = db_url
    key_file = tmp_path / "key"
    KeyFile.create(key_file)
    seeds = _secrets()
    serving = Verifier.open(url, key=KeyFile(key_file))
    serving.enroll_many(list(seeds.items()), now=T)
    _no_clear_seed(url, seeds)
    rekeyer = Verifier.open(url, key=KeyFile(key_file))
    done = threading.Event()
    report: list[object] = []

    round_done = threading.Event()

    def progress(_: object) -> None:  # after each batch: let a round of verification run
        _no_clear_seed(url, seeds)
        round_done.wait(timeout=30)
        round_done.clear()

    def run_rekey() -> None:
        try:
            report.append(rekeyer.rekey(batch=3, progress=progress))
        finally:
            done.set()

    tallies: list[Counter[str]] = []
    during = 0
    worker = threading.Thread(target=run_rekey)
    worker.start()
    r = 0
    while not done.is_set() or r < during + 2:
        r += 1
        now = T + 30 * r
        tally: Counter[str] = Counter()
        lock = threading.Lock()

        def submit(user: str, code: str, now: int = now, tally: Counter[str] = tally,
                   lock: threading.Lock = lock) -> None:
            result = serving.verify(user, code, now=now)
            with lock:
                tally[f"{user}:{result.reason.value}"] += 1

        threads = [threading.Thread(target=submit, args=(u, totp(s, now)))
                   for u, s in seeds.items() for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        if not done.is_set():
            during += 1
        tallies.append(tally)
        round_done.set()
    worker.join(timeout=60)
    assert during >= 2, "verification ran while the rekey did"
    for tally in tallies:
        for user in seeds:
            assert tally[f"{user}:ok"] == 1, tally
            assert tally[f"{user}:replayed code"] == 1, tally
    assert report and report[0].generation == 1  # type: ignore[attr-defined]
    material = _material(key_file)
    assert set(_generations(url, material).values()) == {1}
    assert "key:1:done" in _meta(url)
    _no_clear_seed(url, seeds)
    # A verifier started after the rekey, and the one that ran all along, still verify.
    with Verifier.open(url, key=KeyFile(key_file)) as fresh:
        now = T + 30 * (r + 1)
        assert fresh.verify("user0", totp(seeds["user0"], now), now=now).ok
        assert not serving.verify("user0", totp(seeds["user0"], now), now=now).ok
    serving.close()
    rekeyer.close()


def test_a_rekey_killed_at_every_statement_leaves_every_row_readable(tmp_path: Path) -> None:
    db = tmp_path / "verifier.db"
    url = f"sqlite:///{db}"
    key_file = tmp_path / "key"
    KeyFile.create(key_file)
    seeds = {f"user{i}": os.urandom(20) for i in range(5)}
    with Verifier.open(url, key=KeyFile(key_file)) as v:
        v.enroll_many(list(seeds.items()), now=T)
    material = _material(key_file)
    pristine = db.read_bytes()
    child = Path(__file__).with_name("rekey_child.py")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    seen = set()
    resumed = False
    for step in range(1, 400):
        for extra in db.parent.glob(db.name + "-*"):
            extra.unlink()
        db.write_bytes(pristine)
        proc = subprocess.run([sys.executable, str(child), url, str(key_file), str(step)],
                              env=env, capture_output=True, timeout=120)
        assert proc.returncode in (0, -signal.SIGKILL), proc.stderr.decode()
        generations = _generations(url, material)
        assert -1 not in generations.values(), (step, generations)
        seen.add(tuple(sorted(Counter(generations.values()).items())))
        with Verifier.open(url, key=KeyFile(key_file), create=False) as v:
            now = T + 30
            for user, seed in seeds.items():
                assert v.verify(user, totp(seed, now), now=now).ok, (step, user)
        if proc.returncode == 0:
            assert set(generations.values()) == {1}
            break
        if not resumed and set(generations.values()) == {0, 1}:  # killed half-way: resume it
            resumed = True
            with Verifier.open(url, key=KeyFile(key_file), create=False) as v:
                assert v.rekey().generation == 1
            assert set(_generations(url, material).values()) == {1}
    else:  # pragma: no cover
        pytest.fail("the rekey never finished")
    assert len(seen) >= 3, "kills fell before, during and after the re-sealing"
    assert resumed


def test_a_raw_data_key_cannot_be_rekeyed(tmp_path: Path) -> None:
    from pyotp_hw.verifier import WrongKey

    with Verifier.open(f"sqlite:///{tmp_path}/v.db", key=os.urandom(32)) as v, \
            pytest.raises(WrongKey, match="same data key for every salt"):
        v.rekey()


@pytest.mark.parametrize(("arguments", "error", "words"), [
    ({"batch": 0}, InvalidArgument, "^batch must be between 1 and 100000, got 0$"),
    ({"batch": 100_001}, InvalidArgument, "between 1 and 100000"),
    ({"batch": "5"}, InvalidArgument, "^batch must be an int, not str$"),
    ({"batch": True}, InvalidArgument, "not bool"),
    ({"pause": -1}, InvalidArgument, "^pause must be between 0.0 and 86400.0, got -1$"),
    ({"pause": float("nan")}, InvalidArgument, "pause must be a finite number"),
    ({"pause": float("inf")}, InvalidArgument, "pause must be a finite number"),
    ({"pause": "1"}, InvalidType, "^pause must be a number of seconds, not str$"),
])
def test_rekey_arguments_are_checked_before_any_work(
        tmp_path: Path, arguments: dict[str, object], error: type[Exception], words: str) -> None:
    url = f"sqlite:///{tmp_path}/v.db"
    with Verifier.open(url, key=KeyFile.create(tmp_path / "key")) as v:
        before = _meta(url)
        with pytest.raises(error, match=words):
            v.rekey(**arguments)  # type: ignore[arg-type]
        assert _meta(url) == before
