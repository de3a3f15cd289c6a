"""A sign-in storm on PostgreSQL: 2 worker processes, 256 concurrent clients submitting the same
valid code, round after round: exactly one success per round."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

import pytest

from pyotp_hw.service import Client

from .conftest import Served, Store
from .test_api import code, enroll

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

CLIENTS = 256
ROUNDS = 24


@pytest.fixture
def pg_store(pg_cluster, tmp_path):  # type: ignore[no-untyped-def]
    return Store(pg_cluster.new_database(), tmp_path / "data.key")


def test_one_success_per_round_across_two_workers(pg_store: Store,
                                                  serve: Callable[..., Served]) -> None:
    key = pg_store.new_key()
    s = serve(pg_store, workers=2)
    admin = s.client(key)
    secrets = {f"storm{r}": enroll(admin, f"storm{r}") for r in range(ROUNDS)}
    clients = [Client(s.url, key, timeout=60) for _ in range(CLIENTS)]
    go = threading.Barrier(CLIENTS + 1)
    done = threading.Barrier(CLIENTS + 1)
    current: dict[str, str] = {}
    answers: list[list[str]] = [[] for _ in range(CLIENTS)]

    def client(i: int) -> None:
        for _ in range(ROUNDS):
            go.wait()
            try:
                answers[i].append(clients[i].verify(current["user"], current["code"]).reason)
            except Exception as exc:  # counted as a failure of the round below
                answers[i].append(f"error {type(exc).__name__}")
            done.wait()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    started = time.monotonic()
    for r in range(ROUNDS):
        user = f"storm{r}"
        current.update(user=user, code=code(secrets[user], 1))
        go.wait()
        done.wait(120)
    for t in threads:
        t.join(30)
    elapsed = time.monotonic() - started
    per_round = [[answers[i][r] for i in range(CLIENTS)] for r in range(ROUNDS)]
    for r, reasons in enumerate(per_round):
        assert reasons.count("ok") == 1, (r, sorted(set(reasons)))
        assert set(reasons) <= {"ok", "replayed code", "throttled", "credential locked"}, \
            sorted(set(reasons))
    # Both worker processes answered: each connection reports the process that serves it.
    workers: dict[str, int] = {}
    for c in clients:
        text = c.request("GET", "/metrics")[2].decode()
        pid = re.search(r'worker="(\d+)"', text)
        assert pid is not None
        workers[pid.group(1)] = workers.get(pid.group(1), 0) + 1
    assert len(workers) == 2, workers
    assert elapsed < 240
