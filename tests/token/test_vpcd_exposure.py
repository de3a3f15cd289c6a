"""vpcd binds every interface and cannot be told otherwise: ``token virtual`` says so when the
reader it connects to is reachable from the network (the rig avoids it: see test_rig.py)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyotp_hw.token.virtual.vpcd import exposed_listeners


@pytest.fixture
def listener(request: pytest.FixtureRequest) -> Iterator[socket.socket]:
    """A TCP listener on the address given by the test's parameter, at a free port."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind((request.param, 0))
    server.listen(1)
    try:
        yield server
    finally:
        server.close()


@pytest.mark.parametrize(("listener", "exposed"), [("0.0.0.0", True), ("127.0.0.1", False)],
                         indirect=["listener"])
def test_listeners_beyond_loopback_are_found(listener: socket.socket, exposed: bool) -> None:
    port = listener.getsockname()[1]
    assert bool(exposed_listeners(port)) is exposed
    if exposed:
        assert exposed_listeners(port) == ["0.0.0.0"]


def test_a_port_nothing_listens_on() -> None:
    with socket.socket() as probe:
        probe.bind(("0.0.0.0", 0))  # bound, not listening
        assert exposed_listeners(probe.getsockname()[1]) == []


def _serve_once(listener: socket.socket, log: Path) -> str:
    port = listener.getsockname()[1]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pyotp_hw", "token", "virtual", "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        listener.settimeout(20)
        conn, _ = listener.accept()  # we play vpcd: the card connects to us
        with conn:
            deadline = time.monotonic() + 10
            while "connected to the reader" not in log.read_text():
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            time.sleep(0.3)  # the warning, if any, follows the connection line
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    return log.read_text()


@pytest.mark.parametrize(("listener", "exposed"), [("0.0.0.0", True), ("127.0.0.1", False)],
                         indirect=["listener"])
def test_token_virtual_warns_when_the_reader_listens_on_every_interface(
    listener: socket.socket, exposed: bool, tmp_path: Path
) -> None:
    output = _serve_once(listener, tmp_path / "virtual.log")
    warned = "vpcd listens on port" in output
    assert warned is exposed, output
    if exposed:
        assert "firewall" in output and "PcscRig" in output
