"""Threads of one process writing through one SQLite store take turns on a lock of the store's
own, instead of meeting at BEGIN IMMEDIATE: SQLite has no waiting lock, and its busy handler
sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, then 100 ms between tries, so the later of two
threads used to start up to 100 ms after the first one committed (the service's batch threads
did, and its p99 latency showed it)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from pyotp_hw.verifier import StoreError
from pyotp_hw.verifier.stores.sqlite import SQLiteStore

# Past the busy handler's 330 ms of sleeps in all, its next try comes at 430 ms.
HOLD = 0.335


def _store(tmp_path: Path, query: str = "") -> SQLiteStore:
    store = SQLiteStore(f"sqlite:///{tmp_path}/v.db{query}")
    store.migrate(create=True)
    return store


def _hold_write(store: SQLiteStore, seconds: float, inside: threading.Event,
                released: list[float]) -> None:
    with store._tx(write=True):
        inside.set()
        time.sleep(seconds)
    released.append(time.monotonic())


@pytest.mark.serial
def test_a_second_writer_starts_as_the_first_commits(tmp_path: Path) -> None:
    store = _store(tmp_path)
    try:
        inside, released = threading.Event(), []
        holder = threading.Thread(target=_hold_write, args=(store, HOLD, inside, released))
        holder.start()
        assert inside.wait(10)
        with store._tx(write=True):
            started = time.monotonic()
        holder.join()
        # Through SQLite's busy handler this was ~95 ms; a thread's wake-up is far below it.
        assert started - released[0] < 0.06, started - released[0]
    finally:
        store.close()


def test_a_writer_held_past_the_timeout_is_a_store_error(tmp_path: Path) -> None:
    store = _store(tmp_path, "?timeout=0.2")
    try:
        inside, released = threading.Event(), []
        holder = threading.Thread(target=_hold_write, args=(store, 1.0, inside, released))
        holder.start()
        assert inside.wait(10)
        with pytest.raises(StoreError, match=r"write lock for over 0\.2 s"):
            with store._tx(write=True):
                pass
        holder.join()
        with store._tx(write=True):  # the lock is free again
            pass
    finally:
        store.close()
