"""A lone ``Verifier.verify``: the raw-key path of small rounds against the key-cache path.

A round of at most ``matching.SMALL_ROUND`` codes decrypts each seed and checks its code in one C
call against the raw key (``match_each``: HMAC states on the C stack); before, every round went
through the key cache (a cached key table's row, or a new one-key table for a miss) and the bulk
calls. One verifier alternates chunks between the two (``SMALL_ROUND`` as it is, then 0), so a
busy moment of a shared machine hits both alike; the key cache is emptied before each chunk and
every user verified once, untimed, so that the cache path's keys are cached (its best case).
Each timed call carries a new valid code of one of ``--users`` users. Figures are CPU time of
this process (``time.process_time``) and wall time per call, best and median of the chunks;
``--store memory:`` leaves the store's SQL out of it.

Run:  python bench/lone_ab.py [--users N] [--chunks N] [--steps N] [--store sqlite|memory]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import pyotp

from pyotp_hw.verifier import Verifier, matching

T = 1_700_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--chunks", type=int, default=10, help="chunks of each kind")
    parser.add_argument("--steps", type=int, default=3, help="30 s steps per chunk")
    parser.add_argument("--store", choices=("sqlite", "memory"), default="sqlite")
    args = parser.parse_args()
    kinds = {"raw keys (small round)": matching.SMALL_ROUND, "key cache (before)": 0}
    with tempfile.TemporaryDirectory() as tmp:
        url = "memory:" if args.store == "memory" else f"sqlite:///{tmp}/v.db"
        v = Verifier.open(url, key=os.urandom(32))
        names = [f"user{i:05d}" for i in range(args.users)]
        totps = {u: pyotp.TOTP(pyotp.random_base32(32)) for u in names}
        v.enroll_many([(u, totp.secret) for u, totp in totps.items()], now=T)
        now = T
        cpu: dict[str, list[float]] = {k: [] for k in kinds}
        wall: dict[str, list[float]] = {k: [] for k in kinds}
        try:
            for c in range(2 * args.chunks):
                kind = list(kinds)[c % 2]
                matching.SMALL_ROUND = kinds[kind]
                v._seeds.clear()
                now += 30
                assert all(v.verify(u, totps[u].at(now), now=now).ok for u in names)
                codes = []
                for _ in range(args.steps):
                    now += 30
                    codes += [(u, totps[u].at(now), now) for u in names]
                start, cpu_start = time.perf_counter(), time.process_time()
                accepted = sum(v.verify(u, code, now=t).ok for u, code, t in codes)
                wall[kind].append((time.perf_counter() - start) / len(codes) * 1e6)
                cpu[kind].append((time.process_time() - cpu_start) / len(codes) * 1e6)
                assert accepted == len(codes)
        finally:
            matching.SMALL_ROUND = kinds["raw keys (small round)"]
            v.close()
    for kind in kinds:
        print(f"lone verify, {args.store}, {args.users} users, {kind}: "
              f"CPU best {min(cpu[kind]):.0f} median {statistics.median(cpu[kind]):.0f} us, "
              f"wall best {min(wall[kind]):.0f} median {statistics.median(wall[kind]):.0f} us "
              "per call")


if __name__ == "__main__":
    main()
