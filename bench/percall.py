"""Per-call Python costs: the scalar objects and ``Verifier.verify_many``, as ratios to pyotp.

Every figure is the best of interleaved runs in this one process (pyotp, then pyotp-hw, again
and again), so that a busy moment of a shared machine hits both sides alike; per-call figures
are CPU time of this process (``time.process_time``), which waiting for a busy CPU does not
inflate:

- ``TOTP.now()``, ``TOTP.at``, ``HOTP.at``, ``HOTP.verify``, ``verify`` (window +-1) on a
  long-lived object;
- a per-request object: ``TOTP(secret)`` alone, and ``TOTP(secret).verify(code)``, for
  ``pyotp_hw.TOTP`` and the drop-in ``pyotp_hw.pyotp.TOTP``;
- ``verify_many`` on SQLite, one batch of ``--users`` users, against a loop that reads each
  user's state, verifies with pyotp and consumes the step in its own transaction;
- ``Verifier.verify`` on SQLite, one code per call (a lone request: one store transaction), for
  a twentieth of those users, each with a new valid code.

Run:  python bench/percall.py [--rounds N] [--users N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable

import pyotp

import pyotp_hw
import pyotp_hw.pyotp as dropin
from pyotp_hw.verifier import Verifier
from pyotp_hw.verifier.records import Attempt, Verdict

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
T = 1_700_000_000


def per_call(fns: dict[str, Callable[[], object]], calls: int, rounds: int) -> dict[str, float]:
    """Best nanoseconds per call of each function, measured in turn, ``rounds`` times."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.process_time()
            for _ in range(calls):
                fn()
            best[name] = min(best[name], (time.process_time() - start) / calls * 1e9)
    return best


def scalar_rows(rounds: int) -> list[str]:
    theirs, ours, drop = pyotp.TOTP(SECRET), pyotp_hw.TOTP(SECRET), dropin.TOTP(SECRET)
    their_h, our_h = pyotp.HOTP(SECRET), pyotp_hw.HOTP(SECRET)
    code, hcode = theirs.at(T), their_h.at(5)
    cases: list[tuple[str, int, dict[str, Callable[[], object]]]] = [
        ("TOTP.now()", 20_000, {"pyotp": theirs.now, "hw": ours.now, "dropin": drop.now}),
        ("TOTP.at(t)", 20_000, {"pyotp": lambda: theirs.at(T), "hw": lambda: ours.at(T),
                                "dropin": lambda: drop.at(T)}),
        ("HOTP.at(n)", 20_000, {"pyotp": lambda: their_h.at(5), "hw": lambda: our_h.at(5)}),
        ("HOTP.verify(code, n)", 10_000, {"pyotp": lambda: their_h.verify(hcode, 5),
                                          "hw": lambda: our_h.verify(hcode, 5)}),
        ("verify, window 1", 10_000, {
            "pyotp": lambda: theirs.verify(code, for_time=T, valid_window=1),
            "hw": lambda: ours.verify(code, T, 1),
            "dropin": lambda: drop.verify(code, for_time=T, valid_window=1)}),
        ("TOTP(secret)", 2_000, {"pyotp": lambda: pyotp.TOTP(SECRET),
                                 "hw": lambda: pyotp_hw.TOTP(SECRET),
                                 "dropin": lambda: dropin.TOTP(SECRET)}),
        ("TOTP(secret).verify", 2_000, {
            "pyotp": lambda: pyotp.TOTP(SECRET).verify(code, for_time=T, valid_window=1),
            "hw": lambda: pyotp_hw.TOTP(SECRET).verify(code, T, 1),
            "dropin": lambda: dropin.TOTP(SECRET).verify(code, for_time=T, valid_window=1)}),
    ]
    rows = []
    for name, calls, fns in cases:
        ns = per_call(fns, calls, rounds)
        cells = [f"pyotp {ns['pyotp']:7.0f} ns", f"pyotp-hw {ns['hw']:7.0f} ns "
                 f"({ns['pyotp'] / ns['hw']:5.2f}x)"]
        if "dropin" in ns:
            cells.append(f"pyotp_hw.pyotp {ns['dropin']:7.0f} ns "
                         f"({ns['pyotp'] / ns['dropin']:5.2f}x)")
        rows.append(f"{name:21s} " + "  ".join(cells))
    return rows


def verifier_rows(users: int, rounds: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        verifier = Verifier.open(f"sqlite:///{tmp}/verifier.db", key=os.urandom(32))
        names = [f"user{i:05d}" for i in range(users)]
        secrets = {u: pyotp.random_base32(32) for u in names}
        verifier.enroll_many(list(secrets.items()), now=T)
        totps = {u: pyotp.TOTP(s) for u, s in secrets.items()}
        now = T
        bulk = bulk_cpu = loop = lone = lone_cpu = float("inf")
        loop_users = names[: max(1, users // 20)]
        for r in range(rounds + 1):
            now += 30
            items = [(u, totps[u].at(now)) for u in names]
            start, cpu = time.perf_counter(), time.process_time()
            results = verifier.verify_many(items, now=now)
            if r:  # the first batch decrypts every seed into the key cache
                bulk = min(bulk, (time.perf_counter() - start) / users)
                bulk_cpu = min(bulk_cpu, (time.process_time() - cpu) / users)
            assert all(res.ok for res in results)
            now += 30
            start = time.perf_counter()
            accepted = _pyotp_loop(verifier, loop_users, secrets, totps, now)
            loop = min(loop, (time.perf_counter() - start) / len(loop_users))
            assert accepted == len(loop_users)
            now += 30
            codes = [(u, totps[u].at(now)) for u in loop_users]
            start, cpu = time.perf_counter(), time.process_time()
            accepted = sum(verifier.verify(u, code, now=now).ok for u, code in codes)
            if r:  # as for the batch, the first round warms up
                lone = min(lone, (time.perf_counter() - start) / len(loop_users))
                lone_cpu = min(lone_cpu, (time.process_time() - cpu) / len(loop_users))
            assert accepted == len(loop_users)
        verifier.close()
    return [f"verify_many, SQLite, {users:,} users: {bulk * 1e6:.2f} us/user wall, "
            f"{bulk_cpu * 1e6:.2f} us/user CPU; pyotp + sqlite loop {loop * 1e6:.1f} us/user "
            f"wall ({loop / bulk:.1f}x)",
            f"verify, SQLite, one code per call, {len(loop_users):,} users: {lone * 1e6:.0f} "
            f"us/call wall, {lone_cpu * 1e6:.0f} us/call CPU"]


def _pyotp_loop(verifier: Verifier, users: list[str], secrets: dict[str, str],
                totps: dict[str, pyotp.TOTP], now: int) -> int:
    """One request at a time: state read, pyotp verification (window +-1), atomic consume."""
    store, policy = verifier.store, verifier.policy
    accepted = 0
    for user in users:
        state = store.load_states([user]).get(user)
        if state is None or state.locked_at is not None or state.next_allowed_at > now:
            continue
        code = totps[user].at(now)
        totp = pyotp.TOTP(secrets[user])
        step = None
        for offset in (-1, 0, 1):
            if totp.verify(code, for_time=now + 30 * offset):
                step = now // 30 + offset
                break
        replay = step is not None and state.last_step is not None and step <= state.last_step
        verdicts, _ = store.commit(
            [Attempt(state.id, user, None if replay else step, 0, replay)], now, policy)
        accepted += verdicts[0] is Verdict.ACCEPTED
    return accepted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--users", type=int, default=10_000)
    args = parser.parse_args()
    for row in scalar_rows(args.rounds):
        print(row, flush=True)
    for row in verifier_rows(args.users, max(1, args.rounds // 2)):
        print(row, flush=True)


if __name__ == "__main__":
    main()
