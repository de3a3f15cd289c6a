"""Fixtures for the service tests: real ``pyotp-hw serve`` processes on loopback, real stores
(SQLite, and the private PostgreSQL cluster of the verifier tests), real SMTP (aiosmtpd).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import Message
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from pyotp_hw.service import Client
from tests.verifier.conftest import PostgresCluster

CLI = [sys.executable, "-m", "pyotp_hw"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120,
                          env=env, check=False)


class Store:
    """A verifier store made with the CLI (``verifier init``) and its data key file."""

    def __init__(self, url: str, key_file: Path) -> None:
        self.url = url
        self.key_file = key_file
        out = cli("verifier", "init", "--db", url, "--key-file", str(key_file), "--create-key")
        assert out.returncode == 0, out.stderr

    def new_key(self, name: str = "site") -> str:
        out = cli("serve", "key", "create", name, "--db", self.url)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()


class Served:
    """One ``pyotp-hw serve`` process tree on a free loopback port."""

    def __init__(self, store: Store, *args: str, workers: int = 1,
                 key_args: tuple[str, ...] | None = None,
                 env: dict[str, str] | None = None) -> None:
        """``key_args``: the data key options (default ``--key-file`` the store's file);
        ``env``: the process's environment (default this one's)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = store.key_file.parent / f"serve-{self.port}.log"
        self._log = open(self.log, "wb")
        self.proc = subprocess.Popen(
            [*CLI, "serve", "--db", store.url,
             *(("--key-file", str(store.key_file)) if key_args is None else key_args),
             "--listen", f"127.0.0.1:{self.port}", "--workers", str(workers), *args],
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
        self._wait()

    def _wait(self) -> None:
        probe = Client(self.url, None, timeout=2)
        end = time.monotonic() + 60
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited: {self.log.read_text()}")
            try:
                if probe.healthz():
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"serve did not start: {self.log.read_text()}")

    def client(self, key: str | None) -> Client:
        return Client(self.url, key)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._log.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """An initialised store of each SQL kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/verifier.db"
    else:
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        url = cluster.new_database()
    return Store(url, tmp_path / "data.key")


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path}/verifier.db", tmp_path / "data.key")


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    """Start services (stopped at the end of the test)."""
    started: list[Served] = []

    def make(store: Store, *args: str, workers: int = 1, **kwargs: Any) -> Served:
        s = Served(store, *args, workers=workers, **kwargs)
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()


class Mailbox:
    """An aiosmtpd server on loopback that keeps every message; stoppable and restartable on
    the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self._controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def received(self) -> list[Message]:
        with self._lock:
            return list(self.messages)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    box.stop()


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
