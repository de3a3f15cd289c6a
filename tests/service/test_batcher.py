"""The coalescer in process: batching under load, no wait alone, bounded queue, deadlines,
cancellation, one bad item, single success per code. A real Verifier where the verifier's
answers matter, a recording stand-in where only the batching is observed (in addition)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from pyotp_hw.service.batcher import Coalescer, DeadlineExceeded, Overloaded
from pyotp_hw.service.metrics import Metrics
from pyotp_hw.verifier import Reason, Result, Verifier
from tests import oracle

pytestmark = pytest.mark.timeout(120)

OK = Result(True, Reason.OK, 1)


class Recorder:
    """verify_many that records each batch and may block until released."""

    def __init__(self, hold: float = 0.0) -> None:
        self.batches: list[list[tuple[str, str]]] = []
        self.hold = hold
        self.gate = threading.Event()
        self.gate.set()
        self.threads: set[int] = set()

    def __call__(self, pairs: Sequence[tuple[str, str]]) -> list[Result]:
        self.threads.add(threading.get_ident())
        self.batches.append(list(pairs))
        self.gate.wait(10)
        time.sleep(self.hold)
        if any(u == "bad" for u, _ in pairs):
            raise ValueError("a bad item")
        return [OK] * len(pairs)


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


async def until(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        await asyncio.sleep(0.005)


def test_lone_request_goes_at_once() -> None:
    rec = Recorder()

    async def main() -> float:
        c = Coalescer(rec, linger=3.0)  # a long linger: a lone request must not wait for it
        c.start()
        t = time.perf_counter()
        assert (await c.verify("a", "123456", 5)).ok
        elapsed = time.perf_counter() - t
        await c.close()
        return elapsed

    assert run(main()) < 2.0
    assert rec.batches == [[("a", "123456")]]


def test_concurrent_requests_coalesce() -> None:
    rec = Recorder(hold=0.05)
    metrics = Metrics()

    async def main() -> None:
        c = Coalescer(rec, max_batch=64, threads=1, metrics=metrics)
        c.start()
        results = await asyncio.gather(*(c.verify(f"u{i}", "123456", 10) for i in range(200)))
        assert all(r.ok for r in results)
        await c.close()

    run(main())
    sizes = [len(b) for b in rec.batches]
    assert sum(sizes) == 200 and max(sizes) <= 64
    assert len(rec.batches) < 20  # 200 requests, a handful of batches
    assert threading.get_ident() not in rec.threads  # off the event loop's thread
    assert metrics.batches.n == len(rec.batches)


def test_bounded_queue_refuses() -> None:
    rec = Recorder()
    rec.gate.clear()

    async def main() -> None:
        c = Coalescer(rec, max_batch=4, max_queue=8, threads=1)
        c.start()
        first = asyncio.ensure_future(c.verify("first", "1", 10))
        await until(lambda: rec.batches)  # dispatched, blocked in the stand-in
        waiting = [asyncio.ensure_future(c.verify(f"w{i}", "1", 10)) for i in range(8)]
        await asyncio.sleep(0.01)
        with pytest.raises(Overloaded) as err:
            await c.verify("one too many", "1", 10)
        assert err.value.retry_after >= 1
        rec.gate.set()
        assert all(r.ok for r in await asyncio.gather(first, *waiting))
        await c.close()

    run(main())


def test_deadline_drops_queued_items_unevaluated() -> None:
    rec = Recorder()
    rec.gate.clear()

    async def main() -> None:
        c = Coalescer(rec, threads=1)
        c.start()
        blocker = asyncio.ensure_future(c.verify("blocker", "1", 10))
        await until(lambda: rec.batches)
        with pytest.raises(DeadlineExceeded):
            await c.verify("late", "1", 0.05)
        cancelled = asyncio.ensure_future(c.verify("gone", "1", 10))
        await asyncio.sleep(0.01)
        cancelled.cancel()
        rec.gate.set()
        assert (await blocker).ok
        # The loop still serves after a deadline and a cancellation.
        assert (await c.verify("after", "1", 5)).ok
        await c.close()

    run(main())
    users = [u for b in rec.batches for u, _ in b]
    assert "late" not in users and "gone" not in users and "after" in users


def test_one_bad_item_never_fails_its_batch() -> None:
    rec = Recorder(hold=0.02)

    async def main() -> None:
        c = Coalescer(rec, threads=1)
        c.start()
        outcomes = await asyncio.gather(
            *(c.verify(u, "1", 10) for u in ["x", "y", "bad", "z", "w"]),
            return_exceptions=True)
        assert [isinstance(o, ValueError) for o in outcomes] == [False, False, True, False,
                                                                 False]
        assert all(o.ok for o in outcomes if isinstance(o, Result))
        await c.close()

    run(main())


def test_real_verifier_same_user_single_success(tmp_path: Path) -> None:
    secret = b"12345678901234567890"
    v = Verifier.open(f"sqlite:///{tmp_path}/v.db", key=bytes(32))
    v.enroll("alice", secret)
    v.enroll("bob", secret)
    now = int(time.time())
    code = oracle.totp(secret, now)

    async def main() -> list[Result]:
        c = Coalescer(v.verify_many, max_batch=16, threads=2)
        c.start()
        out = await asyncio.gather(*(c.verify(u, code, 10)
                                     for _ in range(40) for u in ("alice", "bob")))
        await c.close()
        return list(out)

    try:
        results = run(main())
    finally:
        v.close()
    alice = [r.ok for r in results[0::2]]
    bob = [r.ok for r in results[1::2]]
    assert alice.count(True) == 1 and bob.count(True) == 1
    # Replays count as failures: the later ones meet the delay (or the lock).
    assert {r.reason for r in results if not r.ok} <= {Reason.REPLAY, Reason.THROTTLED,
                                                       Reason.LOCKED}
    assert Reason.REPLAY in {r.reason for r in results}


def test_shared_deadline_answers_queued_and_dispatched_items() -> None:
    """Requests with one timeout share one deadline timer: the dispatched one (stuck in the
    store) and those queued behind it all get DeadlineExceeded at their deadline, the queued
    ones unevaluated, and the loop serves on."""
    rec = Recorder()
    rec.gate.clear()

    async def main() -> list[float]:
        c = Coalescer(rec, threads=1)
        c.start()
        started = time.monotonic()
        calls = [asyncio.ensure_future(c.verify(f"u{i}", "1", 0.2)) for i in range(5)]
        await asyncio.sleep(0.05)
        late = asyncio.ensure_future(c.verify("later", "1", 0.2))
        answered: list[float] = []
        for call in [*calls, late]:
            with pytest.raises(DeadlineExceeded):
                await call
            answered.append(time.monotonic() - started)
        rec.gate.set()
        assert (await c.verify("after", "1", 5)).ok
        await c.close()
        return answered

    answered = run(main())
    assert all(0.19 <= t < 2.0 for t in answered[:5])
    assert 0.24 <= answered[5] < 2.0  # its own deadline, not the first ones'
    users = [u for b in rec.batches for u, _ in b]
    assert users[0] == "u0" and not {"u1", "u2", "u3", "u4", "later"} & set(users)


def test_mixed_timeouts_each_meet_their_own_deadline() -> None:
    rec = Recorder()
    rec.gate.clear()

    async def main() -> dict[str, float]:
        c = Coalescer(rec, threads=1)
        c.start()
        started = time.monotonic()
        timeouts = {"long": 1.5, "short": 0.1, "mid": 0.4, "short2": 0.15}
        calls = {u: asyncio.ensure_future(c.verify(u, "1", t)) for u, t in timeouts.items()}
        answered: dict[str, float] = {}
        for user, call in sorted(calls.items(), key=lambda kv: timeouts[kv[0]]):
            with pytest.raises(DeadlineExceeded):
                await call
            answered[user] = time.monotonic() - started
        rec.gate.set()
        await c.close()
        return answered

    answered = run(main())
    for user, timeout in {"long": 1.5, "short": 0.1, "mid": 0.4, "short2": 0.15}.items():
        assert timeout - 0.01 <= answered[user] < timeout + 1.0, (user, answered)
