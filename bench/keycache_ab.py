"""Lone ``Verifier.verify`` on SQLite over many users: key-cache compaction against eviction.

One verifier alternates chunks between the key cache as it is (segments past ``max_segments``
are compacted, so every user's key stays cached up to ``capacity``) and the cache as it was
(the least recently used segment evicted once there are more than ``max_segments``, emulated by
turning compaction off), so a busy moment of a shared machine hits both alike. Each chunk empties
the cache and verifies every user once, untimed (every seed decrypted into a one-key segment), then
times ``--passes`` passes over all users, each call with a new valid code. Figures are CPU time
of this process (``time.process_time``) and wall time per call, best and median of the chunks,
and the seeds decrypted per timed call.

Run:  python bench/keycache_ab.py [--users N] [--chunks N] [--passes N] [--sync normal|full]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from typing import Any

import pyotp

from pyotp_hw.verifier import Verifier
from pyotp_hw.verifier.keyring import DataKeyRing

T = 1_700_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=480)
    parser.add_argument("--chunks", type=int, default=8, help="chunks of each kind")
    parser.add_argument("--passes", type=int, default=2, help="timed passes per chunk")
    parser.add_argument("--sync", choices=("normal", "full"), default="full")
    args = parser.parse_args()
    opened = [0]
    real_open = DataKeyRing.open_into

    def counting(self: DataKeyRing, sealed: bytes, aad: bytes) -> bytearray:
        opened[0] += 1
        return real_open(self, sealed, aad)

    DataKeyRing.open_into = counting  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        v = Verifier.open(f"sqlite:///{tmp}/v.db?synchronous={args.sync}", key=os.urandom(32))
        cache = v._cache
        compact = cache._to_merge
        kinds: dict[str, Any] = {"compaction": compact, "eviction (before)": lambda: []}
        names = [f"user{i:05d}" for i in range(args.users)]
        totps = {u: pyotp.TOTP(pyotp.random_base32(32)) for u in names}
        v.enroll_many([(u, totp.secret) for u, totp in totps.items()], now=T)
        now = T
        cpu: dict[str, list[float]] = {k: [] for k in kinds}
        wall: dict[str, list[float]] = {k: [] for k in kinds}
        decrypts: dict[str, list[float]] = {k: [] for k in kinds}
        for c in range(2 * args.chunks):
            kind = list(kinds)[c % 2]
            cache._to_merge = kinds[kind]  # type: ignore[method-assign]
            cache.clear()  # start each chunk from an empty cache, as after a restart
            now += 30
            assert all(v.verify(u, totps[u].at(now), now=now).ok for u in names)
            codes = []
            for _ in range(args.passes):
                now += 30
                codes += [(u, totps[u].at(now), now) for u in names]
            before = opened[0]
            start, cpu_start = time.perf_counter(), time.process_time()
            accepted = sum(v.verify(u, code, now=t).ok for u, code, t in codes)
            wall[kind].append((time.perf_counter() - start) / len(codes) * 1e6)
            cpu[kind].append((time.process_time() - cpu_start) / len(codes) * 1e6)
            decrypts[kind].append((opened[0] - before) / len(codes))
            assert accepted == len(codes)
            assert cache.segments <= cache.max_segments
        v.close()
    for kind in kinds:
        print(f"lone verify, SQLite synchronous={args.sync}, {args.users} users, {kind}: "
              f"CPU best {min(cpu[kind]):.0f} median {statistics.median(cpu[kind]):.0f} us, "
              f"wall best {min(wall[kind]):.0f} median {statistics.median(wall[kind]):.0f} us "
              f"per call, {statistics.mean(decrypts[kind]):.2f} seeds decrypted per call")


if __name__ == "__main__":
    main()
