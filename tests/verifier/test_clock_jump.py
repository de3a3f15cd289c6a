"""A server clock that jumps does not brick credentials (issue 10, 3.10).

Accepting a code at a far-future ``now`` stored a far-future step; once the clock was right
again every code was at or below it, a "replay", until real time caught up. A ``now`` further
than ``Policy.max_clock_jump`` from the credential's stored step is refused unevaluated, with
its own reason and a ``clock`` event, unless the store shows others signing in near that time
(an infrequent user is not a clock jump). ``unlock`` forgets a stored step that far from now.
"""

from __future__ import annotations

import pytest

from pyotp_hw.errors import InvalidArgument, InvalidType
from pyotp_hw.verifier import EventKind, Policy, Reason

from .conftest import T
from .helpers import hotp, new_secret, step_of, totp

DAY = 86_400
YEAR = 365 * DAY


def test_a_forward_jump_is_refused_and_stores_nothing(store_url, open_verifier) -> None:
    v = open_verifier(store_url)
    heard = []
    v.on_event(heard.append)
    seed = new_secret()
    v.enroll("alice", seed, now=T)
    assert v.verify("alice", totp(seed, T), now=T).ok
    jumped = T + YEAR  # the server's clock, a year ahead; the code is right for that time
    result = v.verify("alice", totp(seed, jumped), now=jumped)
    assert result == (False, Reason.CLOCK, None)
    info = v.credential("alice")
    assert info is not None and info.last_used == step_of(T) and info.failures == 0
    clock = [e for e in v.events("alice") if e.kind is EventKind.CLOCK]
    assert len(clock) == 1 and clock[0].at == jumped and "after" in clock[0].detail
    assert heard[-1].kind is EventKind.CLOCK
    # Back at the right time, the next code signs in: nothing was bricked.
    assert v.verify("alice", totp(seed, T + 60), now=T + 60).ok


def test_an_infrequent_user_in_a_busy_store_is_not_refused(store_url, open_verifier) -> None:
    v = open_verifier(store_url)
    alice, bob = new_secret(), new_secret()
    v.enroll_many([("alice", alice), ("bob", bob)], now=T)
    assert v.verify("alice", totp(alice, T), now=T).ok
    later = T + 90 * DAY
    assert v.verify("bob", totp(bob, later), now=later).ok  # others sign in all along
    assert v.verify("alice", totp(alice, later + 30), now=later + 30).ok


def test_an_idle_store_refuses_until_unlocked(store_url, open_verifier) -> None:
    v = open_verifier(store_url)
    seed = new_secret()
    v.enroll("alice", seed, now=T)
    assert v.verify("alice", totp(seed, T), now=T).ok
    later = T + 90 * DAY
    assert v.verify("alice", totp(seed, later), now=later).reason is Reason.CLOCK
    # The operator checks the clock, then unlocks: the far step is forgotten.
    v.unlock("alice", now=later)
    assert v.credential("alice").last_used is None
    assert v.verify("alice", totp(seed, later), now=later).ok


def test_a_far_future_step_already_stored_is_reported_then_unlocked(db_url, open_verifier
                                                                   ) -> None:
    seed = new_secret()
    careless = open_verifier(db_url, max_clock_jump=0)  # the check turned off
    careless.enroll("alice", seed, now=T)
    assert careless.verify("alice", totp(seed, T + YEAR), now=T + YEAR).ok  # far step stored
    v = open_verifier(db_url)
    # The clock is right again: not a "replayed code" but what it is.
    assert v.verify("alice", totp(seed, T + 60), now=T + 60).reason is Reason.CLOCK
    events = [e for e in v.events("alice") if e.kind is EventKind.CLOCK]
    assert len(events) == 1 and "before" in events[0].detail
    v.unlock("alice", now=T + 60)
    assert v.verify("alice", totp(seed, T + 90), now=T + 90).ok


def test_unlock_keeps_a_recent_step(store_url, open_verifier) -> None:
    # Forgetting a step near now would let its code be replayed.
    v = open_verifier(store_url, lockout_after=1)
    seed = new_secret()
    v.enroll("alice", seed, now=T)
    assert v.verify("alice", totp(seed, T), now=T).ok
    v.unlock("alice", now=T + 5)
    assert v.verify("alice", totp(seed, T), now=T + 5).reason is Reason.REPLAY


def test_the_bound_is_configurable(store_url, open_verifier) -> None:
    v = open_verifier(store_url, max_clock_jump=400 * DAY)
    seed = new_secret()
    v.enroll("alice", seed, now=T)
    assert v.verify("alice", totp(seed, T), now=T).ok
    assert v.verify("alice", totp(seed, T + YEAR), now=T + YEAR).ok
    assert Policy().max_clock_jump == 30 * DAY
    with pytest.raises(InvalidArgument):
        Policy(max_clock_jump=-1)
    with pytest.raises(InvalidType):
        Policy(max_clock_jump="30d")


def test_hotp_has_no_clock(store_url, open_verifier) -> None:
    v = open_verifier(store_url)
    seed = new_secret()
    v.enroll("h", seed, kind="hotp", now=T)
    assert v.verify("h", hotp(seed, 0), now=T).ok
    assert v.verify("h", hotp(seed, 1), now=T + YEAR).ok
