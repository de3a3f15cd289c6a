"""Timing does not tell who is enrolled (issue 10, 3.12).

A user without a credential was answered after one read, about 40 times faster than a known user
with a wrong code (two C calls and a store write). With ``Policy.mask_unknown_users`` (the
default) an unknown user costs the same order of work: a decoy verification in the C core over a
key table of the default parameters, and a store write (a counter of unknown-user attempts).

The measure is a ratio of per-call times in one process, best of several rounds, with loose
margins (within 3x both ways): the machine is shared, and only the order of magnitude matters.
"""

from __future__ import annotations

import time

import pytest

from pyotp_hw.verifier import Reason

from .conftest import T
from .helpers import new_secret, totp, wrong_code

ROUNDS = 7
CALLS = 30
MARGIN = 3.0


def _per_call(fn, calls: int) -> float:
    start = time.perf_counter()
    for k in range(calls):
        fn(k)
    return (time.perf_counter() - start) / calls


@pytest.mark.serial
def test_unknown_and_known_users_cost_the_same_order(store_url, open_verifier) -> None:
    # No delay and no lockout within a round: every known call is a full evaluation.
    v = open_verifier(store_url, delay_after=99, lockout_after=99)
    seed = new_secret()
    v.enroll("alice", seed, now=T)
    assert v.verify("alice", totp(seed, T), now=T).ok  # its key is cached, as in production
    bad = wrong_code(seed, T)
    probe = totp(new_secret(), T)

    def known(_: int) -> None:
        assert v.verify("alice", bad, now=T).reason is Reason.INVALID

    def unknown(k: int) -> None:
        assert v.verify(f"nobody{k}", probe, now=T).reason is Reason.NO_CREDENTIAL

    known_times, unknown_times = [], []
    for _ in range(ROUNDS):
        known_times.append(_per_call(known, CALLS))
        v.unlock("alice", now=T)  # outside the timed part: failures back to zero
        unknown_times.append(_per_call(unknown, CALLS))
    ratio = min(known_times) / min(unknown_times)
    print(f"\n{store_url.split(':')[0]}: known {min(known_times) * 1e6:.0f} us, "
          f"unknown {min(unknown_times) * 1e6:.0f} us per call, ratio {ratio:.2f}")
    assert 1 / MARGIN <= ratio <= MARGIN, f"known/unknown per-call time ratio {ratio:.2f}"


def test_the_decoy_is_counted_and_answers_no_credential(store_url, open_verifier) -> None:
    v = open_verifier(store_url)
    before = v.stats()["unknown"]
    results = v.verify_many([("nobody", "123456"), ("nobody", "12345678"), ("ghost", "654321")],
                            now=T)
    assert [r.reason for r in results] == [Reason.NO_CREDENTIAL, Reason.MALFORMED,
                                           Reason.NO_CREDENTIAL]
    assert v.stats()["unknown"] == before + 2


def test_a_site_may_keep_the_fast_answer(store_url, open_verifier) -> None:
    v = open_verifier(store_url, mask_unknown_users=False)
    assert v.verify("nobody", "123456", now=T).reason is Reason.NO_CREDENTIAL
    assert v.stats()["unknown"] == 0
