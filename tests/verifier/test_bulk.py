"""verify_many: one state read, one bulk C call, one atomic commit that refuses steps another
worker consumed first."""

from __future__ import annotations

import pytest

from pyotp_hw import bulk
from pyotp_hw.verifier import Reason, Verifier

from .conftest import SECRET, T
from .helpers import hotp, new_secret, totp, wrong_code


def test_mixed_batch(store_url, open_verifier) -> None:
    v = open_verifier(store_url, lockout_after=1, digits=(6, 8), look_ahead=1)
    s = {name: new_secret() for name in ("ok", "wrong", "locked", "replayed", "h", "eight")}
    v.enroll_many([(u, s[u]) for u in ("ok", "wrong", "locked", "replayed")], now=T)
    v.enroll("h", s["h"], kind="hotp", counter=10, digest="sha256", now=T)
    v.enroll("eight", s["eight"], digits=8, digest="sha512", now=T)
    v.verify("locked", wrong_code(s["locked"], T), now=T)
    assert v.verify("replayed", totp(s["replayed"], T), now=T).ok
    batch = [
        ("ok", totp(s["ok"], T)),
        ("wrong", wrong_code(s["wrong"], T)),
        ("nobody", "123456"),
        ("ok", f" {totp(s['ok'], T)}"),
        ("locked", totp(s["locked"], T)),
        ("replayed", totp(s["replayed"], T)),
        ("h", hotp(s["h"], 11, digest="sha256")),
        ("eight", totp(s["eight"], T, digits=8, digest="sha512")),
        ("ok", totp(s["ok"], T, step_offset=1)),
    ]
    results = v.verify_many(batch, now=T)
    assert [r.reason for r in results] == [
        Reason.OK, Reason.INVALID, Reason.NO_CREDENTIAL, Reason.MALFORMED, Reason.LOCKED,
        Reason.REPLAY, Reason.OK, Reason.OK, Reason.OK,
    ]
    assert [r.step for r in results if r.ok] == [T // 30, 11, T // 30, T // 30 + 1]


def test_round_trips_and_one_c_call(store_url, spy_verifier, monkeypatch) -> None:
    v, spy = spy_verifier(store_url)
    secrets = {f"u{i:04d}": new_secret() for i in range(1000)}
    v.enroll_many(list(secrets.items()), now=T)
    spy.calls.clear()
    first = v.verify_many([(u, totp(sec, T)) for u, sec in secrets.items()], now=T)
    assert all(r.ok for r in first)
    # Cold: one read (the states carry the sealed seeds), one commit.
    assert spy.calls == ["load_states", "commit"]
    calls = []
    real = bulk.verify_totp

    def counting(*args, **kwargs):
        calls.append(len(args[1]))
        return real(*args, **kwargs)

    monkeypatch.setattr(bulk, "verify_totp", counting)
    spy.calls.clear()
    now = T + 30
    warm = v.verify_many([(u, totp(sec, now)) for u, sec in secrets.items()], now=now)
    assert all(r.ok for r in warm)
    # Warm: the seeds stay in the key table; one read, one C call for the batch, one commit.
    assert spy.calls == ["load_states", "commit"]
    assert calls == [1000]


def test_users_cached_in_different_segments_still_take_one_c_call(
    store_url, spy_verifier, monkeypatch
) -> None:
    v, _ = spy_verifier(store_url)
    first = {f"a{i:03d}": new_secret() for i in range(60)}
    second = {f"b{i:03d}": new_secret() for i in range(60)}
    v.enroll_many([*first.items(), *second.items()], now=T)
    # Two batches decrypt their seeds into two separate cached key tables.
    for group in (first, second):
        assert all(r.ok for r in v.verify_many([(u, totp(s, T)) for u, s in group.items()], now=T))
    calls = []
    real = bulk.verify_totp

    def counting(*args, **kwargs):
        calls.append(len(args[1]))
        return real(*args, **kwargs)

    monkeypatch.setattr(bulk, "verify_totp", counting)
    now = T + 30
    mixed = [pair for pairs in zip(first.items(), second.items(), strict=True) for pair in pairs]
    results = v.verify_many([(u, totp(s, now)) for u, s in mixed], now=now)
    assert all(r.ok for r in results)
    assert [r.step for r in results] == [now // 30] * 120
    assert calls == [120]


def test_commit_refuses_a_step_another_worker_consumed_first(db_url, key) -> None:
    # Worker A reads the batch's state; before A commits, worker B (another connection, as
    # another process would have) consumes Bob's step. A's commit must not accept Bob's code.
    from pyotp_hw.verifier.stores import open_store

    from .helpers import SpyStore

    other = Verifier.open(db_url, key=key)

    class Interleaving(SpyStore):
        def commit(self, attempts, now, policy):
            assert other.verify("bob", totp(SECRET, T), now=T).ok
            return super().commit(attempts, now, policy)

    a = Verifier(Interleaving(open_store(db_url)), key)
    try:
        a.enroll_many([("alice", SECRET), ("bob", SECRET)], now=T)
        results = a.verify_many([("alice", totp(SECRET, T)), ("bob", totp(SECRET, T))], now=T)
        assert [r.reason for r in results] == [Reason.OK, Reason.REPLAY]
        assert other.credential("bob").replayed == 1  # type: ignore[union-attr]
        # SQLite's one-UPDATE-per-attempt write came up short and was rolled back before the
        # batch statement decided: Alice's step was consumed, and counted, once.
        alice = other.credential("alice")
        assert alice is not None and (alice.accepted, alice.last_used) == (1, T // 30)
    finally:
        a.close()
        other.close()


def test_commit_refuses_a_credential_locked_meanwhile(db_url, key) -> None:
    from pyotp_hw.verifier.stores import open_store

    from .helpers import SpyStore

    other = Verifier.open(db_url, key=key, lockout_after=1)

    class Interleaving(SpyStore):
        def commit(self, attempts, now, policy):
            other.verify("bob", wrong_code(SECRET, T), now=T)
            return super().commit(attempts, now, policy)

    from pyotp_hw.verifier import Policy

    a = Verifier(Interleaving(open_store(db_url)), key, policy=Policy(lockout_after=1))
    try:
        a.enroll("bob", SECRET, now=T)
        assert a.verify("bob", totp(SECRET, T), now=T).reason is Reason.LOCKED
    finally:
        a.close()
        other.close()


@pytest.mark.parametrize("n", [1, 7, 300])
def test_bulk_agrees_with_one_by_one(n, open_verifier) -> None:
    secrets = {f"u{i}": new_secret() for i in range(n)}
    bulk_v = open_verifier("memory:")
    single_v = open_verifier("memory:")
    for v in (bulk_v, single_v):
        v.enroll_many(list(secrets.items()), now=T)
    batch = []
    for i, (u, sec) in enumerate(secrets.items()):
        batch.append((u, totp(sec, T, step_offset=i % 5 - 2) if i % 3 else wrong_code(sec, T)))
    assert bulk_v.verify_many(batch, now=T) == [single_v.verify(u, c, now=T) for u, c in batch]


def test_credential_removed_between_read_and_commit(store_url, key) -> None:
    from pyotp_hw.verifier.stores import open_store

    from .helpers import SpyStore

    class Interleaving(SpyStore):
        def commit(self, attempts, now, policy):
            self.inner.delete("bob", ["active"], [])
            return super().commit(attempts, now, policy)

    v = Verifier(Interleaving(open_store(store_url)), key)
    try:
        v.enroll_many([("alice", SECRET), ("bob", SECRET)], now=T)
        results = v.verify_many([("alice", totp(SECRET, T)), ("bob", totp(SECRET, T))], now=T)
        assert [r.reason for r in results] == [Reason.OK, Reason.NO_CREDENTIAL]
        results = v.verify_many([("alice", wrong_code(SECRET, T))], now=T)
        assert results[0].reason is Reason.INVALID
    finally:
        v.close()
