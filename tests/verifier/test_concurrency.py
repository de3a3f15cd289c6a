"""Checklist 6: check-and-consume is atomic across threads and processes, on real databases.

32 submitters present the same valid code for the same user at the same moment, round after
round: exactly one is accepted, every time. The same harness run against a store without the
conditional consume accepts the code more than once, which shows it catches the race.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter

from pyotp_hw.verifier import Policy, Verifier

from .conftest import SECRET, T
from .helpers import totp
from .race import make_store, process_main, run_rounds

THREADS = 32
THREAD_ROUNDS = 25
PROCESSES = 4
PROCESS_ROUNDS = 15


def _rounds(count: int, prefix: str) -> list[tuple[str, str, int]]:
    # One user per round (the losers' replays lock a user out); times move on by a step.
    return [(f"{prefix}{r}", totp(SECRET, T + 30 * r), T + 30 * r) for r in range(count)]


def _fast(url: str) -> str:
    # Without an fsync per commit SQLite runs the rounds faster; locking is the same.
    return f"{url}?synchronous=normal" if url.startswith("sqlite") else url


def _enroll(url: str, key: bytes, rounds: list[tuple[str, str, int]]) -> None:
    with Verifier.open(url, key=key) as v:
        v.enroll_many([(user, SECRET) for user, _, _ in rounds], now=T)


def _threads(url: str, key: bytes, atomic: bool) -> list[Counter[str]]:
    url = _fast(url)
    rounds = _rounds(THREAD_ROUNDS, "t")
    _enroll(url, key, rounds)
    v = Verifier(make_store(url, atomic), key, policy=Policy())
    try:
        return run_rounds(v, rounds, THREADS)
    finally:
        v.close()


def _processes(url: str, key: bytes, atomic: bool) -> list[Counter[str]]:
    url = _fast(url)
    rounds = _rounds(PROCESS_ROUNDS, "p")
    _enroll(url, key, rounds)
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    queue = ctx.Queue()
    procs = [ctx.Process(target=process_main,
                         args=(url, key, atomic, rounds, THREADS // PROCESSES, barrier, queue))
             for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    try:
        reports = [queue.get(timeout=240) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
                p.join()
    errors = [detail for status, detail in reports if status != "ok"]
    assert not errors, errors
    totals = [Counter() for _ in rounds]
    for _, per_round in reports:
        for total, tally in zip(totals, per_round, strict=True):
            total.update(tally)
    return totals


def _check_exactly_one(tallies: list[Counter[str]], submitters: int) -> None:
    for r, tally in enumerate(tallies):
        assert sum(tally.values()) == submitters, (r, tally)
        assert tally["ok"] == 1, (r, tally)
        assert set(tally) <= {"ok", "replayed code", "throttled", "credential locked"}, tally


def test_threads_exactly_one_success(db_url, key) -> None:
    _check_exactly_one(_threads(db_url, key, atomic=True), THREADS)


def test_processes_exactly_one_success(db_url, key) -> None:
    _check_exactly_one(_processes(db_url, key, atomic=True), THREADS)


def test_the_harness_catches_a_non_atomic_store_with_threads(db_url, key) -> None:
    tallies = _threads(db_url, key, atomic=False)
    print("accepted per round:", [t["ok"] for t in tallies])
    assert max(t["ok"] for t in tallies) > 1, tallies  # the same code accepted twice


def test_the_harness_catches_a_non_atomic_store_with_processes(db_url, key) -> None:
    tallies = _processes(db_url, key, atomic=False)
    print("accepted per round:", [t["ok"] for t in tallies])
    assert max(t["ok"] for t in tallies) > 1, tallies


def test_memory_store_is_atomic_across_threads(key) -> None:
    v = Verifier.open("memory:", key=key)
    rounds = _rounds(THREAD_ROUNDS, "m")
    v.enroll_many([(user, SECRET) for user, _, _ in rounds], now=T)
    try:
        _check_exactly_one(run_rounds(v, rounds, THREADS), THREADS)
    finally:
        v.close()




def test_overlapping_batches_from_several_workers(db_url, key) -> None:
    # Four workers submit batches holding the same 60 users' codes in different orders (on
    # PostgreSQL such batches can deadlock each other; the loser is rolled back and retried).
    # Each user's code is accepted exactly once, whichever worker gets it.
    import random
    import threading

    url = _fast(db_url)
    users = [f"b{i}" for i in range(60)]
    rounds = 6
    with Verifier.open(url, key=key) as v:
        v.enroll_many([(u, SECRET) for u in users], now=T)
    verifiers = [Verifier.open(url, key=key) for _ in range(4)]
    try:
        for r in range(rounds):
            now = T + 30 * r
            code = totp(SECRET, now)
            gate = threading.Barrier(len(verifiers))
            accepted: Counter[str] = Counter()
            lock = threading.Lock()

            def work(v: Verifier, seed: int, now: int = now, code: str = code,
                     gate: threading.Barrier = gate, accepted: Counter[str] = accepted,
                     lock: threading.Lock = lock) -> None:
                order = list(users)
                random.Random(seed).shuffle(order)
                gate.wait(timeout=60)
                results = v.verify_many([(u, code) for u in order], now=now)
                with lock:
                    accepted.update(u for u, res in zip(order, results, strict=True) if res.ok)

            threads = [threading.Thread(target=work, args=(v, 1000 * r + i))
                       for i, v in enumerate(verifiers)]
            for th in threads:
                th.start()
            for th in threads:
                th.join(timeout=120)
            assert accepted == Counter({u: 1 for u in users}), (r, accepted)
    finally:
        for v in verifiers:
            v.close()
