"""Closing a key table while another thread's batch call reads it (issue 10, section 3.2).

The C kernels run with the GIL released, so without a guard ``close()`` in one thread freed the
table under a kernel still reading it in another (SIGSEGV; under ASan a heap-use-after-free).
``close()`` now waits for the calls in flight, and a call that starts after it is refused with a
typed error. The oracle is Python's ``hmac`` (tests/oracle.py), not the code under test.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

import pytest

from pyotp_hw import bulk
from pyotp_hw.errors import InvalidArgument

from . import oracle

T = 1_700_000_000
# Long enough that close() lands while the kernel runs: 100,000 users x 101 codes is about 60 ms
# with two threads on the fastest kernel (sha1-avx512x2 on Zen 5), seconds on portable.
USERS = 100_000
WINDOW = 50


def _keys() -> list[bytes]:
    return [hashlib.sha1(b"user %d" % i).digest() for i in range(USERS)]


def _race(table: bulk.KeyTable, codes: Any, threads: int) -> tuple[dict[str, Any], float]:
    """Start a long verify on ``table`` in a thread, close the table meanwhile.

    Returns what the worker got and how long ``close()`` took.
    """
    result: dict[str, Any] = {}
    started = threading.Event()

    def worker() -> None:
        started.set()
        try:
            result["steps"] = bulk.verify_totp(table, codes, T, window=WINDOW, threads=threads)
        except InvalidArgument as exc:
            result["error"] = exc

    thread = threading.Thread(target=worker)
    thread.start()
    started.wait()
    time.sleep(0.005)
    begin = time.monotonic()
    table.close()
    took = time.monotonic() - begin
    thread.join()
    return result, took


@pytest.mark.parametrize("threads", [1, 2])
def test_close_waits_for_a_batch_call_in_flight(threads: int) -> None:
    # With 2 threads the second part's row view is made from the table while close() waits.
    keys = _keys()
    # Codes of the step WINDOW steps ago: the kernel computes the whole window for every user.
    step = T // 30 - WINDOW
    codes = [int(oracle.hotp(k, step)) for k in keys]
    waited = False
    for _ in range(8):
        table = bulk.KeyTable(keys)
        result, took = _race(table, codes, threads)
        assert table.closed
        if "error" in result:
            # The close came first: the call was refused with a typed error, never ran.
            assert "closed" in str(result["error"])
            continue
        steps = result["steps"]
        # Every user's code was checked against that user's real key, not freed memory.
        assert list(steps) == [step] * USERS
        if took >= 0.01:
            waited = True
            break
    assert waited, "close() never overlapped the batch call; the race was not exercised"


def test_a_call_after_close_is_refused() -> None:
    table = bulk.KeyTable([b"12345678901234567890"])
    table.close()
    with pytest.raises(InvalidArgument, match="closed"):
        bulk.hotp(table, [1, 2])
    with pytest.raises(InvalidArgument, match="closed"):
        table.select([0])
    table.close()  # idempotent


def test_gather_while_a_source_is_closed_is_safe() -> None:
    # gather reads its sources in C without the GIL too: closing a source meanwhile must wait.
    keys = _keys()
    for _ in range(4):
        source = bulk.KeyTable(keys)
        rows = list(range(USERS - 1, -1, -1)) * 4
        result: dict[str, Any] = {}

        def worker(src: bulk.KeyTable = source, picked: list[int] = rows,
                   out: dict[str, Any] = result) -> None:
            try:
                out["table"] = bulk.KeyTable.gather([(src, picked)])
            except InvalidArgument as exc:
                out["error"] = exc

        thread = threading.Thread(target=worker)
        thread.start()
        time.sleep(0.005)
        source.close()
        thread.join()
        if "table" in result:
            with result["table"] as gathered:
                assert len(gathered) == 4 * USERS
                got = bulk.hotp(gathered, 7, rows=[0, USERS - 1, 3 * USERS + 5])
            want = [oracle.hotp(keys[USERS - 1], 7), oracle.hotp(keys[0], 7),
                    oracle.hotp(keys[USERS - 6], 7)]
            assert list(got) == [int(w) for w in want]
        else:
            assert "closed" in str(result["error"])
