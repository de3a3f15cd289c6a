"""The private PC/SC rig: isolation from other pcscd instances, clean stops, stale leftovers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pyotp_hw.token import RigError
from pyotp_hw.token import rig as rigmod

RIG_SCRIPT = """
import json, sys, time
from pyotp_hw.token.rig import PcscRig
from pyotp_hw.token import list_readers, open_token
with PcscRig(reader_name="second rig") as rig:
    token = rig.start_token(["--touch-delay", "0"])
    with open_token() as tok:
        tok.put("otpauth://totp/Second:rig?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        names = [c.id for c in tok.list()]
    print(json.dumps({"pcscd": rig._pcscd.pid, "token": token.pid, "base": str(rig.base),
                      "readers": [r.name for r in list_readers()], "names": names,
                      "isolated": rig.isolated}), flush=True)
    if sys.argv[1] == "hang":
        time.sleep(600)
"""


def _gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not rigmod._alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.pcsc
def test_a_second_rig_runs_beside_the_first_and_stops_cleanly(rig: Any, token: Any) -> None:
    if not rig.isolated:
        pytest.skip("two rigs at once need private pcscd sockets (root and unshare)")
    result = subprocess.run([sys.executable, "-c", RIG_SCRIPT, "exit"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["isolated"] and info["names"] == ["Second:rig"]
    # Each rig sees only its own readers.
    assert info["readers"] == ["second rig 00 00", "second rig 00 01"]
    from pyotp_hw.token import list_readers

    assert {r.name for r in list_readers()} == {rig.reader(0), rig.reader(1)}
    assert _gone(info["pcscd"]) and _gone(info["token"])
    assert not Path(info["base"]).exists()


@pytest.mark.pcsc
def test_children_die_with_a_killed_owner_and_leftovers_are_reaped(rig: Any) -> None:
    if not rig.isolated:
        pytest.skip("needs private pcscd sockets (root and unshare)")
    owner = subprocess.Popen([sys.executable, "-c", RIG_SCRIPT, "hang"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        info = json.loads(owner.stdout.readline())
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait(10)
    # pcscd and the token get SIGTERM when their owner dies, even by SIGKILL.
    assert _gone(info["pcscd"]) and _gone(info["token"])
    assert Path(info["base"]).exists()  # the owner had no chance to clean up...
    rigmod.reap_stale_rigs()
    assert not Path(info["base"]).exists()  # ...the next rig does


def test_reaping_stops_only_processes_of_dead_rigs(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    registry = tmp_path / "registry"
    registry.mkdir()
    monkeypatch.setattr(rigmod, "_REGISTRY", registry)
    dead_entry = registry / "rig-dead"
    live_entry = registry / "rig-live"
    dead_entry.mkdir()
    live_entry.mkdir()
    dead_owner = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_owner.wait()
    sleeper = [sys.executable, "-c", "import time, sys; time.sleep(60)"]
    leftover = subprocess.Popen([*sleeper, str(dead_entry / "conf")])
    unrelated = subprocess.Popen(sleeper)  # not naming the rig's files: never touched
    kept = subprocess.Popen([*sleeper, str(live_entry / "conf")])
    try:
        (dead_entry / "rig.json").write_text(json.dumps(
            {"owner": dead_owner.pid, "pids": [leftover.pid, unrelated.pid]}))
        (live_entry / "rig.json").write_text(json.dumps(
            {"owner": os.getpid(), "pids": [kept.pid]}))
        rigmod.reap_stale_rigs()
        assert leftover.wait(10) is not None
        assert unrelated.poll() is None and kept.poll() is None
        assert not dead_entry.exists() and live_entry.exists()
    finally:
        for proc in (leftover, unrelated, kept):
            proc.kill()
            proc.wait()


def test_stale_system_socket_is_cleared_but_a_live_pcscd_is_respected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sock, pid_file = tmp_path / "pcscd.comm", tmp_path / "pcscd.pid"
    monkeypatch.setattr(rigmod, "SYSTEM_SOCKET", sock)
    monkeypatch.setattr(rigmod, "_SYSTEM_PID", pid_file)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    sock.write_text("")
    pid_file.write_text(f"{dead.pid}\n")
    rigmod.PcscRig()._clear_system_socket()
    assert not sock.exists() and not pid_file.exists()
    sock.write_text("")
    pid_file.write_text(f"{os.getpid()}\n")
    with pytest.raises(RigError, match="already runs on the system socket"):
        rigmod.PcscRig()._clear_system_socket()
    assert sock.exists()


def test_missing_packages_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rigmod, "find_vpcd_driver", lambda: None)
    with pytest.raises(RigError, match="vsmartcard-vpcd"):
        rigmod.PcscRig().start()


def _non_loopback_ipv4() -> list[str]:
    """This machine's IPv4 addresses other than loopback (SIOCGIFADDR on each interface)."""
    import fcntl
    import socket
    import struct

    found = []
    for _, name in socket.if_nameindex():
        if name == "lo":
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                request = struct.pack("256s", name.encode()[:15])
                answer = fcntl.ioctl(probe.fileno(), 0x8915, request)
            except OSError:
                continue
        found.append(socket.inet_ntoa(answer[20:24]))
    return found


@pytest.mark.pcsc
def test_the_vpcd_ports_cannot_be_reached_from_outside_the_rig(rig: Any, token: Any) -> None:
    import socket

    if getattr(rig, "net_isolated", True) is False:
        pytest.skip("no private network namespace on this machine: the rig warned (RigWarning)")
    addresses = _non_loopback_ipv4()
    if not addresses:
        pytest.skip("this machine has no non-loopback IPv4 address to try from")
    reached = []
    for address in [*addresses, "127.0.0.1"]:
        for port in (rig.port, rig.port + 1):  # the reader with the token, and the empty one
            try:
                with socket.create_connection((address, port), timeout=2):
                    reached.append(f"{address}:{port}")
            except OSError:
                pass
    assert reached == [], f"a host could connect to vpcd as a card at {reached}"
    # The rig itself still works: its token answers through pcscd.
    from pyotp_hw.token import open_token

    with open_token(rig.reader(0)) as tok:
        assert tok.list() == []
