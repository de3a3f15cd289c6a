"""Checklist 11: bounded resynchronisation with two consecutive codes, off unless enabled; drift
recorded and applied."""

from __future__ import annotations

from pyotp_hw.verifier import EventKind, Reason

from .conftest import SECRET, T
from .helpers import hotp, step_of, totp


def test_off_unless_enabled(store_url, spy_verifier) -> None:
    v, spy = spy_verifier(store_url)
    v.enroll("alice", SECRET, now=T)
    spy.calls.clear()
    c1, c2 = totp(SECRET, T, step_offset=5), totp(SECRET, T, step_offset=6)
    assert v.resync("alice", c1, c2, now=T) == (False, Reason.RESYNC_OFF, None)
    assert spy.calls == []


def test_two_consecutive_codes_within_the_window(store_url, open_verifier) -> None:
    v = open_verifier(store_url, resync_window=10)
    v.enroll("alice", SECRET, now=T)
    # The token runs 7 steps (3.5 minutes) ahead.
    result = v.resync("alice", totp(SECRET, T, step_offset=6), totp(SECRET, T, step_offset=7),
                      now=T)
    assert result.ok and result.step == step_of(T) + 7
    info = v.credential("alice")
    assert info is not None and info.drift == 7 and info.last_used == step_of(T) + 7
    assert v.events("alice")[-1].kind is EventKind.RESYNCED
    # Used codes cannot be replayed, and the pair cannot be resubmitted.
    assert not v.resync("alice", totp(SECRET, T, step_offset=6),
                        totp(SECRET, T, step_offset=7), now=T).ok
    # Later sign-ins are checked around the drifted clock: step +8 is inside the window now,
    # although it is 8 steps ahead of the server's clock and the window is +-1.
    later = T + 30
    assert v.verify("alice", totp(SECRET, later, step_offset=7), now=later).ok


def test_bounded(store_url, open_verifier) -> None:
    v = open_verifier(store_url, resync_window=10)
    v.enroll_many([("near", SECRET), ("far", SECRET), ("gap", SECRET), ("swap", SECRET),
                   ("behind", SECRET)], now=T)
    assert v.resync("near", totp(SECRET, T, step_offset=9), totp(SECRET, T, step_offset=10),
                    now=T).ok
    # The second code at step +11 is outside the window of 10.
    assert v.resync("far", totp(SECRET, T, step_offset=10), totp(SECRET, T, step_offset=11),
                    now=T).reason is Reason.INVALID
    assert v.resync("gap", totp(SECRET, T, step_offset=3), totp(SECRET, T, step_offset=5),
                    now=T).reason is Reason.INVALID
    assert v.resync("swap", totp(SECRET, T, step_offset=4), totp(SECRET, T, step_offset=3),
                    now=T).reason is Reason.INVALID
    ok = v.resync("behind", totp(SECRET, T, step_offset=-10), totp(SECRET, T, step_offset=-9),
                  now=T)
    assert ok.ok and v.credential("behind").drift == -9  # type: ignore[union-attr]
    # A failed pair counts as a failure.
    assert v.credential("far").failures == 1  # type: ignore[union-attr]


def test_hotp_resync(store_url, open_verifier) -> None:
    v = open_verifier(store_url, resync_window=50, look_ahead=2)
    v.enroll("h", SECRET, kind="hotp", counter=3, now=T)
    # The token was pressed 40 times without signing in.
    assert not v.verify("h", hotp(SECRET, 43), now=T).ok
    v.unlock("h")
    result = v.resync("h", hotp(SECRET, 43), hotp(SECRET, 44), now=T)
    assert result.ok and result.step == 44
    assert v.verify("h", hotp(SECRET, 45), now=T).step == 45
    assert not v.resync("h", hotp(SECRET, 100), hotp(SECRET, 101), now=T).ok  # beyond 45 + 50


def test_drift_is_recorded_even_when_not_applied(store_url, open_verifier) -> None:
    # RFC 6238 section 6: record the drift. Without resync the window stays on the server clock.
    v = open_verifier(store_url)
    v.enroll("alice", SECRET, now=T)
    assert v.verify("alice", totp(SECRET, T, step_offset=1), now=T).ok
    assert v.credential("alice").drift == 1  # type: ignore[union-attr]
    later = T + 60
    assert not v.verify("alice", totp(SECRET, later, step_offset=2), now=later).ok
