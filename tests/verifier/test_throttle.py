"""Checklist 8 and 9: throttling per credential across sessions; a locked credential is not
evaluated at all."""

from __future__ import annotations

import pytest

from pyotp_hw import bulk
from pyotp_hw.errors import InvalidArgument
from pyotp_hw.verifier import EventKind, NotEnrolled, Policy, Reason

from .conftest import SECRET, T
from .helpers import totp, wrong_code

# Default policy: three free failures, then 1, 2, 4, 8, 16, 32 s, and a lockout at the tenth.
EXPECTED_DELAYS = [0, 0, 0, 1, 2, 4, 8, 16, 32]


def test_policy_delays() -> None:
    policy = Policy()
    assert [policy.delay(n) for n in range(1, 10)] == EXPECTED_DELAYS
    assert Policy(base_delay=2, max_delay=5).delay(9) == 5
    assert policy.lockout_after == 10


def test_lockout_must_come_before_one_hundred_failures() -> None:
    assert Policy(lockout_after=99).lockout_after == 99
    for bad in (0, 100, 1000):
        with pytest.raises(InvalidArgument):
            Policy(lockout_after=bad)


def test_increasing_delay_then_lockout(store_url, open_verifier) -> None:
    v = open_verifier(store_url)
    events = []
    v.on_event(events.append)
    v.enroll("alice", SECRET, now=T)
    bad = wrong_code(SECRET, T, window=400)
    t = T
    for n, delay in enumerate(EXPECTED_DELAYS, start=1):
        assert v.verify("alice", bad, now=t).reason is Reason.INVALID, n
        info = v.credential("alice")
        assert info is not None and info.failures == n and not info.locked
        if delay:
            # Inside the delay: rejected unevaluated and not counted.
            assert v.verify("alice", bad, now=t + delay - 0.01).reason is Reason.THROTTLED
            assert v.credential("alice").failures == n  # type: ignore[union-attr]
        t += delay
    assert v.verify("alice", bad, now=t).reason is Reason.INVALID  # the tenth failure
    info = v.credential("alice")
    assert info is not None and info.failures == 10 and info.locked
    locked = [e for e in events if e.kind is EventKind.LOCKED]
    assert len(locked) == 1 and locked[0].at == t
    assert [e.kind for e in v.events("alice")].count(EventKind.LOCKED) == 1
    # Locked: even the right code is refused, for as long as it takes.
    assert v.verify("alice", totp(SECRET, t + 10**6), now=t + 10**6).reason is Reason.LOCKED
    assert v.stats()["locked"] == 1 and v.stats()["lockouts"] == 1


def test_a_locked_credential_is_not_evaluated(store_url, open_verifier, monkeypatch) -> None:
    v = open_verifier(store_url, lockout_after=2, delay_after=5)
    v.enroll("alice", SECRET, now=T)
    bad = wrong_code(SECRET, T)
    v.verify("alice", bad, now=T)
    v.verify("alice", bad, now=T)
    before = v.credential("alice")
    assert before is not None and before.locked

    def no_core(*args, **kwargs):
        raise AssertionError("a locked credential reached the C core")

    monkeypatch.setattr(bulk, "verify_totp", no_core)
    monkeypatch.setattr(v._cache, "lookup", no_core)
    right, wrong = totp(SECRET, T), bad
    # Same answer for the right and a wrong code: the lockout is no oracle.
    assert v.verify("alice", right, now=T) == v.verify("alice", wrong, now=T)
    assert v.verify("alice", right, now=T).reason is Reason.LOCKED
    assert v.credential("alice") == before


def test_success_resets_the_count(store_url, open_verifier) -> None:
    v = open_verifier(store_url)
    v.enroll("alice", SECRET, now=T)
    bad = wrong_code(SECRET, T)
    for _ in range(3):
        v.verify("alice", bad, now=T)
    assert v.verify("alice", totp(SECRET, T), now=T).ok
    assert v.credential("alice").failures == 0  # type: ignore[union-attr]
    # Three free failures again, no delay after them.
    for _ in range(3):
        assert v.verify("alice", bad, now=T + 30).reason is Reason.INVALID
    assert v.verify("alice", totp(SECRET, T + 30), now=T + 30).ok


def test_throttling_spans_sessions(db_url, open_verifier) -> None:
    # Two verifiers (two connections, as two processes or machines would have) share the count.
    a = open_verifier(db_url, lockout_after=4, delay_after=10)
    b = open_verifier(db_url, lockout_after=4, delay_after=10)
    a.enroll("alice", SECRET, now=T)
    bad = wrong_code(SECRET, T)
    for n, verifier in enumerate([a, b, a, b], start=1):
        assert verifier.verify("alice", bad, now=T).reason is Reason.INVALID
        assert b.credential("alice").failures == n  # type: ignore[union-attr]
    assert a.verify("alice", totp(SECRET, T), now=T).reason is Reason.LOCKED
    assert b.verify("alice", totp(SECRET, T), now=T).reason is Reason.LOCKED


def test_unlock(store_url, open_verifier) -> None:
    v = open_verifier(store_url, lockout_after=1)
    v.enroll("alice", SECRET, now=T)
    v.verify("alice", wrong_code(SECRET, T), now=T)
    assert v.verify("alice", totp(SECRET, T), now=T).reason is Reason.LOCKED
    v.unlock("alice", now=T + 1)
    assert v.events("alice")[-1].kind is EventKind.UNLOCKED
    assert v.verify("alice", totp(SECRET, T), now=T).ok
    with pytest.raises(NotEnrolled):
        v.unlock("nobody")


def test_pending_enrollments_are_throttled_too(store_url, open_verifier) -> None:
    v = open_verifier(store_url, lockout_after=3, delay_after=5)
    enrollment = v.begin_enrollment("bob", issuer="Example", name="bob", now=T)
    import pyotp

    secret_b32 = pyotp.parse_uri(enrollment.uri).secret
    good = pyotp.TOTP(secret_b32).at(T)
    bad = "000000" if good != "000000" else "111111"
    for _ in range(3):
        assert v.confirm_enrollment("bob", bad, now=T).reason is Reason.INVALID
    assert v.confirm_enrollment("bob", good, now=T).reason is Reason.LOCKED
