"""Checklist 5 and 10: one-time use, monotonic; a replay is a plain rejection, recorded."""

from __future__ import annotations

from pyotp_hw.verifier import EventKind, Reason

from .conftest import SECRET, T
from .helpers import hotp, step_of, totp


def test_same_code_twice(store_url, open_verifier) -> None:
    v = open_verifier(store_url)
    seen = []
    v.on_event(seen.append)
    v.enroll("alice", SECRET, now=T)
    code = totp(SECRET, T)
    first = v.verify("alice", code, now=T)
    assert first.ok and first.step == step_of(T)
    second = v.verify("alice", code, now=T + 5)
    # Reported like any rejection: not ok, falsy; only the reason (for logs) says replay.
    assert not second.ok and not second and second.step is None
    assert second.reason is Reason.REPLAY
    replays = [e for e in v.events("alice") if e.kind is EventKind.REPLAY]
    assert len(replays) == 1 and replays[0].at == T + 5 and replays[0].user == "alice"
    assert [e.kind for e in seen if e.kind is EventKind.REPLAY] == [EventKind.REPLAY]
    assert v.stats()["replayed"] == 1


def test_earlier_step_after_a_later_one(store_url, open_verifier) -> None:
    v = open_verifier(store_url, window=2)
    v.enroll("alice", SECRET, now=T)
    assert v.verify("alice", totp(SECRET, T, step_offset=1), now=T).ok
    # Both are still inside the window, but at or below the last used step.
    assert v.verify("alice", totp(SECRET, T, step_offset=0), now=T).reason is Reason.REPLAY
    assert v.verify("alice", totp(SECRET, T, step_offset=-2), now=T).reason is Reason.REPLAY
    assert v.verify("alice", totp(SECRET, T, step_offset=1), now=T).reason is Reason.REPLAY
    later = v.verify("alice", totp(SECRET, T, step_offset=2), now=T)
    assert later.ok and later.step == step_of(T) + 2
    info = v.credential("alice")
    assert info is not None and info.last_used == step_of(T) + 2


def test_replays_count_as_failures(store_url, open_verifier) -> None:
    v = open_verifier(store_url)
    v.enroll("alice", SECRET, now=T)
    code = totp(SECRET, T)
    assert v.verify("alice", code, now=T).ok
    for _ in range(2):
        assert v.verify("alice", code, now=T).reason is Reason.REPLAY
    info = v.credential("alice")
    assert info is not None and info.failures == 2 and info.replayed == 2


def test_hotp_counters_are_used_once(store_url, open_verifier) -> None:
    v = open_verifier(store_url, look_ahead=2)
    v.enroll("h", SECRET, kind="hotp", counter=5, now=T)
    assert v.verify("h", hotp(SECRET, 6), now=T).step == 6
    assert v.verify("h", hotp(SECRET, 6), now=T).reason is Reason.REPLAY
    assert v.verify("h", hotp(SECRET, 5), now=T).reason is Reason.REPLAY  # skipped: now used up
    assert v.verify("h", hotp(SECRET, 7), now=T).step == 7
    # Codes far below the last counter are simply wrong (replays are recognised within the
    # look-ahead's width below it); either way they are refused.
    assert v.verify("h", hotp(SECRET, 0), now=T).reason is Reason.INVALID


def test_counter_zero_and_initial_counter(open_verifier) -> None:
    v = open_verifier("memory:", look_ahead=0)
    v.enroll("zero", SECRET, kind="hotp", now=T)
    v.enroll("five", SECRET, kind="hotp", counter=5, now=T)
    assert v.verify("zero", hotp(SECRET, 0), now=T).step == 0
    assert v.verify("zero", hotp(SECRET, 0), now=T).reason is Reason.REPLAY
    # Counters below the initial one were never issued to this credential's user.
    assert v.verify("five", hotp(SECRET, 4), now=T).reason is Reason.REPLAY
    assert v.verify("five", hotp(SECRET, 5), now=T).step == 5


def test_a_batch_is_handled_as_if_its_pairs_came_in_order(store_url, open_verifier) -> None:
    v = open_verifier(store_url)
    v.enroll_many([("alice", SECRET), ("bob", SECRET)], now=T)
    code = totp(SECRET, T)
    results = v.verify_many([("alice", code), ("bob", code), ("alice", code), ("alice", code)],
                            now=T)
    assert [r.reason for r in results] == [Reason.OK, Reason.OK, Reason.REPLAY, Reason.REPLAY]
