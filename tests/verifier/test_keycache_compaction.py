"""The key cache compacts its segments instead of evicting keys while it holds fewer than
``capacity``: small batches over many users stop decrypting their seeds again. (A round of
at most ``SMALL_ROUND`` codes does not use the cache at all.)"""

from __future__ import annotations

import math
from array import array

import pytest

from pyotp_hw import bulk
from pyotp_hw.bulk import KeyTable
from pyotp_hw.verifier.keycache import KeyCache
from pyotp_hw.verifier.keyring import DataKeyRing
from pyotp_hw.verifier.matching import SMALL_ROUND
from pyotp_hw.verifier.records import Params

from .. import oracle
from .conftest import T
from .helpers import new_secret, totp


def _params(i: int, digest: str = "sha1", sealed: bytes = b"sealed") -> Params:
    return Params(i, f"u{i}", "totp", digest, 6, 30, 0, sealed)


@pytest.fixture
def gathered(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Rows copied by each KeyTable.gather call (the only way segments are merged)."""
    copied: list[int] = []
    real = KeyTable.gather.__func__  # type: ignore[attr-defined]

    def spy(cls, parts):  # type: ignore[no-untyped-def]
        copied.append(sum(len(rows) for _, rows in parts))
        return real(cls, parts)

    monkeypatch.setattr(KeyTable, "gather", classmethod(spy))
    return copied


def _code(cache: KeyCache, p: Params, t: int) -> int:
    (hit,), pinned = cache.lookup([p])
    assert hit is not None
    try:
        seg, row, _ = hit
        return bulk.totp(seg.table, array("q", [t]), rows=array("I", [row]))[0]
    finally:
        cache.release(pinned)


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[bytearray]:
    """Every seed buffer the data key opened."""
    buffers: list[bytearray] = []
    real = DataKeyRing.open_into

    def counting(self, sealed, aad):  # type: ignore[no-untyped-def]
        buffers.append(real(self, sealed, aad))
        return buffers[-1]

    monkeypatch.setattr(DataKeyRing, "open_into", counting)
    return buffers


def test_small_batches_over_many_users_stop_decrypting(
    tmp_path, open_verifier, opened, gathered
) -> None:
    v = open_verifier(f"sqlite:///{tmp_path}/v.db")
    secrets = {f"user{i:03d}": new_secret() for i in range(200)}
    v.enroll_many(list(secrets.items()), now=T)
    users = list(secrets)
    size = SMALL_ROUND + 1  # the smallest batch that goes through the cache
    batches = [users[i:i + size] for i in range(0, len(users), size)]
    for batch in batches:
        assert all(r.ok for r in v.verify_many([(u, totp(secrets[u], T)) for u in batch],
                                               now=T))
        assert v._cache.segments <= v._cache.max_segments
    assert len(opened) == 200
    now = T + 30
    for batch in batches:
        assert all(r.ok for r in v.verify_many([(u, totp(secrets[u], now)) for u in batch],
                                               now=now))
    assert len(opened) == 200  # the second pass decrypted nothing
    assert len(v._cache) == 200 and v._cache.segments <= v._cache.max_segments
    # Each key copied O(log n) times, not once per later add.
    assert sum(gathered) <= 200 * math.log2(200)


def test_lone_verifications_decrypt_each_time_and_keep_nothing(
    tmp_path, open_verifier, opened
) -> None:
    # A sign-in at a time: decrypting the seed again costs less than a key table; the opened
    # seed is wiped as soon as its code is checked, and nothing stays in the cache.
    v = open_verifier(f"sqlite:///{tmp_path}/v.db")
    secret = new_secret()
    v.enroll("alice", secret, now=T)
    for k in range(3):
        at = T + 30 * k
        assert v.verify("alice", totp(secret, at), now=at).ok
        assert not v.verify("alice", totp(secret, at), now=at).ok  # the replay is refused
    assert len(opened) == 6
    assert all(buf == bytearray(len(buf)) for buf in opened)
    assert len(v._cache) == 0 and v._cache.segments == 0


def test_copies_stay_n_log_n(gathered) -> None:
    n = 3000
    cache = KeyCache(capacity=10 * n, max_segments=16)
    for i in range(n):
        cache.release([cache.add("sha1", [_params(i)], [bytearray(new_secret())])])
        assert cache.segments <= 16
    assert len(cache) == n
    assert 0 < sum(gathered) <= n * math.log2(n)
    cache.clear()


def test_capacity_still_evicts_least_recently_used() -> None:
    cache = KeyCache(capacity=20, max_segments=4)
    for i in range(50):
        cache.release([cache.add("sha1", [_params(i)], [bytearray(new_secret())])])
        assert len(cache) <= 20 and cache.segments <= 4
    found, pinned = cache.lookup([_params(i) for i in range(50)])
    cache.release(pinned)
    assert found[49] is not None  # the newest key is kept
    assert 10 <= sum(hit is not None for hit in found) <= 20  # compacted up to capacity
    assert all(hit is None for hit in found[:5])  # the oldest evicted
    cache.clear()


def test_a_pinned_segment_survives_compaction_and_merged_rows_keep_their_codes() -> None:
    cache = KeyCache(capacity=1000, max_segments=2)
    secrets = {i: new_secret() for i in range(40)}
    first = cache.add("sha1", [_params(0)], [bytearray(secrets[0])])  # pinned, as in a batch
    for i in range(1, 40):
        cache.release([cache.add("sha1", [_params(i)], [bytearray(secrets[i])])])
    assert cache.segments <= 2
    assert first.doomed and not first.table.closed  # merged away but in use: kept open
    t = T
    code = bulk.totp(first.table, array("q", [t]), rows=array("I", [0]))[0]
    assert f"{code:06d}" == oracle.totp(secrets[0], t)
    for i, secret in secrets.items():
        assert f"{_code(cache, _params(i), t):06d}" == oracle.totp(secret, t)
    cache.release([first])
    assert first.table.closed
    cache.clear()


def test_forget_and_changed_params_on_merged_rows() -> None:
    cache = KeyCache(capacity=1000, max_segments=2)
    secrets = {i: new_secret() for i in range(10)}
    for i, secret in secrets.items():
        cache.release([cache.add("sha1", [_params(i)], [bytearray(secret)])])
    cache.forget([3])
    found, pinned = cache.lookup([_params(i) for i in range(10)])
    cache.release(pinned)
    assert found[3] is None and all(found[i] is not None for i in range(10) if i != 3)
    assert len(cache) == 9
    # A row whose sealed seed (or user, or parameters) changed is a miss, merged or not.
    changed, pinned = cache.lookup([_params(5, sealed=b"other"), _params(6, digest="sha256")])
    cache.release(pinned)
    assert changed == [None, None]
    # Forgetting every row of a merged segment closes it.
    segs = {hit[0] for hit in found if hit is not None}
    cache.forget(list(range(10)))
    assert len(cache) == 0 and cache.segments == 0
    assert all(s.table.closed for s in segs)


def test_digests_are_never_merged_together(gathered) -> None:
    cache = KeyCache(capacity=1000, max_segments=4)
    digests = ["sha1", "sha256", "sha512"]
    secrets = {i: new_secret() for i in range(60)}
    for i, secret in secrets.items():
        d = digests[i % 3]
        cache.release([cache.add(d, [_params(i, d)], [bytearray(secret)])])
        assert cache.segments <= 4
    found, pinned = cache.lookup([_params(i, digests[i % 3]) for i in range(60)])
    try:
        assert all(hit is not None for hit in found)  # compacted, not evicted
        for i, hit in enumerate(found):
            assert hit is not None and hit[0].digest == hit[0].table.digest == digests[i % 3]
            code = bulk.totp(hit[0].table, array("q", [T]), rows=array("I", [hit[1]]))[0]
            assert f"{code:06d}" == oracle.totp(secrets[i], T, digest=digests[i % 3])
    finally:
        cache.release(pinned)
    cache.clear()


def test_a_failed_merge_evicts_instead(monkeypatch) -> None:
    from pyotp_hw.errors import NativeError

    def failing(cls, parts):  # type: ignore[no-untyped-def]
        raise NativeError("out of memory")

    monkeypatch.setattr(KeyTable, "gather", classmethod(failing))
    cache = KeyCache(capacity=1000, max_segments=3)
    segs = [cache.add("sha1", [_params(i)], [bytearray(new_secret())]) for i in range(6)]
    assert cache.segments == 3 and len(cache) == 3
    assert all(s.doomed and not s.table.closed for s in segs[:3])  # evicted, still pinned
    cache.release(segs)
    assert all(s.table.closed for s in segs[:3]) and not any(s.table.closed for s in segs[3:])
    cache.clear()
