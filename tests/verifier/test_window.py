"""Checklist 3 and 4: small windows with exact edges; matching in constant work in the C core."""

from __future__ import annotations

import pytest

from pyotp_hw import bulk
from pyotp_hw.errors import InvalidArgument
from pyotp_hw.verifier import Policy, Reason
from pyotp_hw.verifier.matching import SMALL_ROUND

from .conftest import SECRET, T
from .helpers import hotp, step_of, totp, wrong_code


def test_default_window_is_one_step_each_way(open_verifier) -> None:
    v = open_verifier("memory:")
    assert (v.policy.past, v.policy.future) == (1, 1)


@pytest.mark.parametrize(("past", "future"), [(1, 1), (2, 2), (2, 0), (0, 3)])
def test_window_edges(store_url, open_verifier, past, future) -> None:
    v = open_verifier(store_url, window=(past, future))
    now_step = step_of(T)
    # Each case gets its own user so that accepting one step does not consume another.
    cases = {k: f"u{k + 10}" for k in range(-past - 1, future + 2)}
    v.enroll_many([(user, SECRET) for user in cases.values()], now=T)
    for k, user in cases.items():
        result = v.verify(user, totp(SECRET, T, step_offset=k), now=T)
        inside = -past <= k <= future
        assert result.ok is inside, (k, result)
        if inside:
            assert result.step == now_step + k
        else:
            assert result.reason is Reason.INVALID


def test_window_uses_the_step_boundaries(open_verifier) -> None:
    # The last second of a step and the first of the next are one step apart.
    v = open_verifier("memory:", window=0)
    v.enroll_many([("a", SECRET), ("b", SECRET)], now=T)
    boundary = (step_of(T) + 1) * 30
    assert v.verify("a", totp(SECRET, boundary - 1), now=boundary - 1).ok
    assert not v.verify("b", totp(SECRET, boundary - 1), now=boundary).ok


@pytest.mark.parametrize("look_ahead", [0, 1, 3])
def test_hotp_look_ahead_edges(store_url, open_verifier, look_ahead) -> None:
    v = open_verifier(store_url, look_ahead=look_ahead)
    start = 7
    cases = {k: f"h{k}" for k in range(-1, look_ahead + 2)}
    v.enroll_many([(user, SECRET) for user in cases.values()], kind="hotp", counter=start, now=T)
    for k, user in cases.items():
        result = v.verify(user, hotp(SECRET, start + k), now=T)
        assert result.ok is (0 <= k <= look_ahead), (k, result)
        if result.ok:
            assert result.step == start + k


def test_windows_stay_small() -> None:
    with pytest.raises(InvalidArgument):
        Policy(past=11)
    with pytest.raises(InvalidArgument):
        Policy(future=-1)
    with pytest.raises(InvalidArgument):
        Policy(look_ahead=101)


def test_every_lone_verification_computes_the_whole_window_in_the_c_core(open_verifier,
                                                                         monkeypatch) -> None:
    # Wherever the code matches (oldest step, current, newest) or whether it matches at all, a
    # lone verification makes the same C call: the whole (past, future) window with the
    # used-step floor and, in the same call, without it (which tells a replay). The C kernel
    # computes both windows' codes whatever matches and compares in constant time.
    calls: list[tuple[tuple[int, int], bool]] = []
    real = bulk.verify_totp_key

    def spy(key, code, for_time, **kw):
        calls.append((kw["window"], "last_step" in kw))
        return real(key, code, for_time, **kw)

    v = open_verifier("memory:", window=(2, 2))
    users = [f"u{i}" for i in range(6)]
    v.enroll_many([(u, SECRET) for u in users], now=T)
    monkeypatch.setattr(bulk, "verify_totp_key", spy)
    shapes = []
    for user, offset in zip(users, [-2, 0, 2], strict=False):
        calls.clear()
        assert v.verify(user, totp(SECRET, T, step_offset=offset), now=T).ok
        shapes.append(list(calls))
    calls.clear()
    assert not v.verify(users[3], wrong_code(SECRET, T), now=T).ok
    shapes.append(list(calls))
    assert v.verify(users[4], totp(SECRET, T), now=T).ok
    calls.clear()
    assert v.verify(users[4], totp(SECRET, T), now=T).reason is Reason.REPLAY
    shapes.append(list(calls))
    assert shapes == [[((2, 2), True)]] * 5


def test_every_batch_computes_the_whole_window_in_the_c_core(open_verifier, monkeypatch
                                                             ) -> None:
    # The same for a batch (more than SMALL_ROUND codes): one bulk call over the whole window
    # with the used-step floor wherever the codes match; failures take a second call of the
    # same window without the floor, for wrong codes and replays alike.
    calls: list[tuple[int, tuple[int, int], bool]] = []
    real = bulk.verify_totp

    def spy(keys, codes, for_time, **kw):
        calls.append((len(codes), kw["window"], kw.get("last_steps") is not None))
        return real(keys, codes, for_time, **kw)

    n = SMALL_ROUND + 1
    v = open_verifier("memory:", window=(2, 2))
    groups = [[f"g{g}u{i}" for i in range(n)] for g in range(5)]
    v.enroll_many([(u, SECRET) for group in groups for u in group], now=T)
    monkeypatch.setattr(bulk, "verify_totp", spy)
    shapes = []
    for group, offset in zip(groups, [-2, 0, 2], strict=False):
        calls.clear()
        assert all(r.ok for r in v.verify_many(
            [(u, totp(SECRET, T, step_offset=offset)) for u in group], now=T))
        shapes.append(list(calls))
    assert shapes[0] == shapes[1] == shapes[2] == [(n, (2, 2), True)]
    calls.clear()
    assert not any(r.ok for r in v.verify_many([(u, wrong_code(SECRET, T)) for u in groups[3]],
                                               now=T))
    wrong = list(calls)
    assert all(r.ok for r in v.verify_many([(u, totp(SECRET, T)) for u in groups[4]], now=T))
    calls.clear()
    assert all(r.reason is Reason.REPLAY
               for r in v.verify_many([(u, totp(SECRET, T)) for u in groups[4]], now=T))
    replay = list(calls)
    assert wrong == replay == [(n, (2, 2), True), (n, (2, 2), False)]
