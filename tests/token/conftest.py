"""Fixtures for the token tests: in-process virtual cards, and the real PC/SC stack.

The PC/SC fixtures start one pcscd per test session with a private configuration (a private
socket where the machine allows it, and free random ports for the two vpcd readers), then one
virtual-token process per test. Everything is stopped in the fixtures' teardown, which runs even
when a test fails; children also get SIGTERM if the test process dies, and a later session stops
what a dead one left behind.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyotp_hw.token.oath import OathSession
from pyotp_hw.token.virtual import TouchPolicy, VirtualCard, make_card

from .helpers import YKMAN, Run


@pytest.fixture
def make_virtual() -> Callable[..., VirtualCard]:
    """Build an in-process virtual card: make_virtual(profile=..., touch=..., capacity=...)."""

    def build(**kwargs: Any) -> VirtualCard:
        kwargs.setdefault("touch", TouchPolicy("auto", delay=0.01, timeout=1.0))
        return make_card(**kwargs)

    return build


@pytest.fixture(autouse=True)
def private_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private XDG_CONFIG_HOME for each test (remembered token keys), inherited by children."""
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return config


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """The command line, called in-process (see :class:`.helpers.Run`)."""
    return Run(capsys)


@pytest.fixture
def card(make_virtual: Callable[..., VirtualCard]) -> VirtualCard:
    """A fresh YubiKey-like virtual card."""
    return make_virtual()


@pytest.fixture
def session(card: VirtualCard) -> Iterator[OathSession]:
    """An open session with the fresh virtual card."""
    with OathSession(card.connect()) as s:
        yield s


# --- the real PC/SC stack -----------------------------------------------------------------------


@pytest.fixture
def vtoken(rig: Any) -> Iterator[Callable[..., Any]]:
    """Start virtual-token processes on the rig's readers; all are stopped after the test."""
    started: list[Any] = []

    def start(*args: str, slot: int = 0, env: dict[str, str] | None = None,
              wait: bool = True) -> Any:
        token = rig.start_token(
            ["--touch-delay", "0.05", *args], slot=slot, env=env, wait=wait
        )
        started.append(token)
        return token

    try:
        yield start
    finally:
        for token in started:
            token.stop()
        for slot in (0, 1):
            try:
                rig.wait_card(slot, present=False, timeout=5)
            except Exception:
                pass


@pytest.fixture
def token(vtoken: Callable[..., Any]) -> Any:
    """One fresh virtual token (in memory) on reader slot 0."""
    return vtoken()


@pytest.fixture
def ykman(rig: Any, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``ykman --reader <slot 0> ARGS`` against the rig (with a private HOME)."""
    home = tmp_path / "ykman-home"
    home.mkdir()

    def run(*args: str, check: bool = True, input: str | None = None,
            reader: str | None = None) -> subprocess.CompletedProcess[str]:
        env = rig.env()
        env["HOME"] = str(home)
        env["XDG_CONFIG_HOME"] = str(home / ".config")
        result = subprocess.run(
            [str(YKMAN), "--reader", reader or rig.reader(0), *args],
            env=env, capture_output=True, text=True, input=input, timeout=60,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"ykman {' '.join(args)} failed ({result.returncode}): "
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    return run


@pytest.fixture
def cli(rig: Any) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m pyotp_hw ARGS`` as a separate process against the rig."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
        full = rig.env()
        full.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "pyotp_hw", *args],
            env=full, capture_output=True, text=True, input=input, timeout=60,
        )

    return run
