"""The card process killed in the middle of a command, over the real stack.

The virtual token's hidden ``--stall-on INS`` makes it stop, before answering, at the first
command with that instruction and say so; the test then kills it with SIGKILL, as a token pulled
out of the reader or a crashed card would vanish.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyotp
import pytest

from pyotp_hw.token import TokenConnectionError, open_token

from .helpers import SECRET_B32

pytestmark = pytest.mark.pcsc


def uri(label: str) -> str:
    return f"otpauth://totp/{label}?secret={SECRET_B32}"


def _run_in_thread(action: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = action()
        except BaseException as exc:  # the test inspects it
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def _state_env(rig: Any) -> dict[str, str]:
    env = rig.env()
    env["PYOTP_HW_TOKEN_STATE_PASSPHRASE"] = "fault tests"
    return env


def test_killed_during_put(rig: Any, vtoken: Callable[..., Any], tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    env = _state_env(rig)
    first = vtoken("--state", str(state), env=env)
    with open_token() as tok:
        tok.put(uri("Before:kill"))
    first.stop()
    rig.wait_card(0, present=False)

    stalling = vtoken("--state", str(state), "--stall-on", "01", env=env)
    tok = open_token()
    thread, outcome = _run_in_thread(lambda: tok.put(uri("During:kill")))
    stalling.wait_output("stalled on INS 01")
    stalling.kill()
    thread.join(20)
    assert not thread.is_alive()
    assert "result" not in outcome
    error = outcome["error"]
    assert isinstance(error, TokenConnectionError), error
    with pytest.raises(TokenConnectionError):
        tok.list()  # the session is dead; nothing half-done is reported as stored
    tok.close()
    rig.wait_card(0, present=False)

    vtoken("--state", str(state), env=env)
    with open_token() as tok:
        assert [c.id for c in tok.list()] == ["Before:kill"]
        assert tok.calculate("Before:kill", for_time=59).value == pyotp.TOTP(SECRET_B32).at(59)
        tok.put(uri("During:kill"))  # the name is free: nothing half-written blocks it
        assert {c.id for c in tok.list()} == {"Before:kill", "During:kill"}


def test_killed_during_calculate_all(rig: Any, vtoken: Callable[..., Any],
                                     tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    env = _state_env(rig)
    first = vtoken("--state", str(state), env=env)
    with open_token() as tok:
        for i in range(20):
            tok.put(uri(f"Issuer{i:02d}:account{i:02d}"))
    first.stop()
    rig.wait_card(0, present=False)

    stalling = vtoken("--state", str(state), "--stall-on", "A5", env=env)
    tok = open_token()
    thread, outcome = _run_in_thread(lambda: tok.calculate_all(for_time=59))
    stalling.wait_output("stalled on INS A5")  # the first part of the answer was sent
    stalling.kill()
    thread.join(20)
    assert not thread.is_alive()
    assert "result" not in outcome  # no partial list of codes
    assert isinstance(outcome["error"], TokenConnectionError), outcome["error"]
    tok.close()
    rig.wait_card(0, present=False)

    vtoken("--state", str(state), env=env)
    with open_token() as tok:
        codes = tok.calculate_all(for_time=59)
        assert len(codes) == 20
        assert {k.value for k in codes.values() if k} == {pyotp.TOTP(SECRET_B32).at(59)}


def test_pcscd_gone_is_exit_status_3(cli: Callable[..., Any], tmp_path: Path) -> None:
    result = cli("token", "list", env={"PCSCLITE_CSOCK_NAME": str(tmp_path / "no.sock")})
    assert result.returncode == 3
    assert "no PC/SC service is running" in result.stderr and "pcscd" in result.stderr
