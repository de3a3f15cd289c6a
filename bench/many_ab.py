"""``Verifier.verify_many`` on SQLite, CPU per user, one source tree against another.

Each round runs one child process per tree (``PYTHONPATH`` set to it), in turn, so a busy
moment of a shared machine hits both alike. A child enrolls ``--users`` users in a new SQLite
file (``synchronous=full``, the default), warms the key cache with one pass, then verifies every
user once per repetition in batches of each ``--batch`` size, each code new and valid, and
reports the best CPU time per user (``time.process_time``) over the repetitions. With
``--split`` the child also times every SQL statement the store runs (execute, fetch and
commit), in a separate pass: the SQL share and the Python rest of the same batches.

Run:  python bench/many_ab.py TREE [TREE ...] [--rounds N] [--reps N] [--batch 10000 32]
      [--split]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

T = 1_700_000_000


class _TimedCursor:
    """A cursor that adds the CPU time of each statement (and its fetches) to ``spent``."""

    def __init__(self, cur: Any, spent: list[float]) -> None:
        self._cur = cur
        self._spent = spent

    def _timed(self, fn: Any, *args: Any) -> Any:
        start = time.process_time()
        try:
            return fn(*args)
        finally:
            self._spent[0] += time.process_time() - start

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self._timed(self._cur.execute, sql, params)

    def executemany(self, sql: str, params: Any) -> Any:
        return self._timed(self._cur.executemany, sql, params)

    def fetchone(self) -> Any:
        return self._timed(self._cur.fetchone)

    def fetchall(self) -> Any:
        return self._timed(self._cur.fetchall)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)


def _time_sql(store: Any, spent: list[float]) -> None:
    """Make ``store`` add the CPU time of its SQL (BEGIN and COMMIT included) to ``spent``."""
    real = store._tx

    @contextlib.contextmanager
    def tx(*, write: bool = True) -> Iterator[Any]:
        start = time.process_time()
        with real(write=write) as cur:
            spent[0] += time.process_time() - start
            yield _TimedCursor(cur, spent)
            start = time.process_time()
        spent[0] += time.process_time() - start

    store._tx = tx


def child(users: int, reps: int, batches: list[int], split: bool) -> dict[str, Any]:
    import pyotp

    from pyotp_hw.verifier import Verifier

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        v = Verifier.open(f"sqlite:///{tmp}/v.db", key=os.urandom(32))
        names = [f"user{i:05d}" for i in range(users)]
        secrets = [pyotp.random_base32(32) for _ in names]
        v.enroll_many(list(zip(names, secrets, strict=True)), now=T)
        totps = [pyotp.TOTP(s) for s in secrets]
        now = T

        def batches_at(size: int) -> tuple[list[list[tuple[str, str]]], int]:
            nonlocal now
            now += 30
            items = [(u, totp.at(now)) for u, totp in zip(names, totps, strict=True)]
            return [items[i:i + size] for i in range(0, users, size)], now

        parts, t = batches_at(users)
        assert all(r.ok for part in parts for r in v.verify_many(part, now=t))  # warm the cache
        spent = [0.0]
        for size in batches:
            best = float("inf")
            for _ in range(reps):
                parts, t = batches_at(size)
                start = time.process_time()
                results = [v.verify_many(part, now=t) for part in parts]
                best = min(best, (time.process_time() - start) / users * 1e6)
                assert all(r.ok for rs in results for r in rs)
            out[f"batch {size}"] = best
        if split:
            _time_sql(v.store, spent)
            for size in batches:
                total = sql = float("inf")
                for _ in range(reps):
                    parts, t = batches_at(size)
                    spent[0] = 0.0
                    start = time.process_time()
                    for part in parts:
                        v.verify_many(part, now=t)
                    cpu = (time.process_time() - start) / users * 1e6
                    if cpu < total:
                        total, sql = cpu, spent[0] / users * 1e6
                out[f"split {size}"] = (total, sql)
        v.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="*", help="source trees to compare (PYTHONPATH of each)")
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the trees")
    parser.add_argument("--reps", type=int, default=5, help="passes over the users per child")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--batch", type=int, nargs="+", default=[10_000, 32])
    parser.add_argument("--split", action="store_true", help="also time the SQL on its own")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.users, args.reps, args.batch, args.split)))
        return
    trees = args.trees or [os.getcwd()]
    best: dict[str, dict[str, Any]] = {tree: {} for tree in trees}
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--reps", str(args.reps),
           "--users", str(args.users), "--batch", *map(str, args.batch)]
    if args.split:
        cmd.append("--split")
    seen: dict[str, list[float]] = collections.defaultdict(list)
    for r in range(args.rounds):
        for tree in trees:
            env = dict(os.environ, PYTHONPATH=os.path.abspath(tree))
            res = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True,
                                            text=True).stdout)
            for key, value in res.items():
                cpu = value if isinstance(value, float) else value[0]
                seen[f"{tree} {key}"].append(cpu)
                if key not in best[tree] or cpu < (best[tree][key] if isinstance(
                        best[tree][key], float) else best[tree][key][0]):
                    best[tree][key] = value
            print(f"round {r + 1}, {tree}: " + ", ".join(
                f"{k} {v if isinstance(v, float) else v[0]:.2f}" for k, v in res.items()),
                file=sys.stderr, flush=True)
    for tree in trees:
        for key, value in best[tree].items():
            if isinstance(value, float):
                print(f"{tree}: {key}: best {value:.2f} us/user CPU "
                      f"(rounds: {', '.join(f'{x:.2f}' for x in seen[f'{tree} {key}'])})")
            else:
                total, sql = value
                print(f"{tree}: {key}: {total:.2f} us/user CPU, SQL {sql:.2f}, "
                      f"Python {total - sql:.2f}")
    if len(trees) == 2:
        a, b = trees
        for key in best[a]:
            if isinstance(best[a][key], float) and key in best[b]:
                print(f"{key}: {a} / {b} = {best[a][key] / best[b][key]:.2f}x")


if __name__ == "__main__":
    main()
