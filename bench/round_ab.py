"""A lone ``Verifier.verify`` on SQLite: one store transaction against two, in one process.

The same verifier alternates chunks of lone verifications between the SQL store's round (read,
decide and commit in one transaction) and the base class's round (``load_states``, then
``commit``: two transactions, what every verification took before the round was one), so a busy
moment of a shared machine hits both alike. Every call carries a new valid code of one of
``--users`` users; their keys stay cached (up to the key cache's capacity, 100,000: past 16
segments it compacts them). Before the compaction, with more than 16 users every call decrypted
its user's seed (``bench/keycache_ab.py`` compares the two). Figures are CPU time of this process
(``time.process_time``) and wall time per call, best and median of the chunks.

Run:  python bench/round_ab.py [--users N] [--chunks N] [--steps N] [--sync normal|full]
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import pyotp

from pyotp_hw.verifier import Verifier
from pyotp_hw.verifier.stores import Store

T = 1_700_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--chunks", type=int, default=20, help="chunks of each kind")
    parser.add_argument("--steps", type=int, default=10, help="30 s steps per chunk")
    parser.add_argument("--sync", choices=("normal", "full"), default="normal")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        v = Verifier.open(f"sqlite:///{tmp}/v.db?synchronous={args.sync}", key=os.urandom(32))
        store = v.store
        rounds: dict[str, Callable[..., Any]] = {
            "one transaction": store.verify_round,
            "two transactions": functools.partial(Store.verify_round, store),
        }
        names = [f"user{i:05d}" for i in range(args.users)]
        totps = {u: pyotp.TOTP(pyotp.random_base32(32)) for u in names}
        v.enroll_many([(u, totp.secret) for u, totp in totps.items()], now=T)
        now = T
        assert all(v.verify(u, totps[u].at(now), now=now).ok for u in names)
        cpu: dict[str, list[float]] = {k: [] for k in rounds}
        wall: dict[str, list[float]] = {k: [] for k in rounds}
        for c in range(2 * args.chunks):
            kind = list(rounds)[c % 2]
            store.verify_round = rounds[kind]  # type: ignore[method-assign]
            codes = []
            for _ in range(args.steps):
                now += 30
                codes += [(u, totps[u].at(now), now) for u in names]
            start, cpu_start = time.perf_counter(), time.process_time()
            accepted = sum(v.verify(u, code, now=t).ok for u, code, t in codes)
            wall[kind].append((time.perf_counter() - start) / len(codes) * 1e6)
            cpu[kind].append((time.process_time() - cpu_start) / len(codes) * 1e6)
            assert accepted == len(codes)
        v.close()
    for kind in rounds:
        print(f"lone verify, SQLite synchronous={args.sync}, {args.users} users, {kind}: "
              f"CPU best {min(cpu[kind]):.0f} median {statistics.median(cpu[kind]):.0f} us, "
              f"wall best {min(wall[kind]):.0f} median {statistics.median(wall[kind]):.0f} us "
              "per call")


if __name__ == "__main__":
    main()
