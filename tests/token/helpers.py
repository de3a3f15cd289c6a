"""Helpers shared by the token tests (oracles stay in tests/oracle.py and pyotp)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from pyotp_hw.token.virtual import MemoryStore, OathApplet, VirtualCard

ROOT = Path(__file__).resolve().parents[2]
YKMAN = ROOT / ".venv" / "bin" / "ykman"
# Secrets of at least 112 bits, so that pyotp (the oracle) accepts them.
SECRET_B32 = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
OTHER_B32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


class Run:
    """Call the CLI in-process and capture its exit status, stdout and stderr."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        from pyotp_hw.cli import main

        self.capsys.readouterr()
        status = main(list(args))
        out, err = self.capsys.readouterr()
        return status, out, err

    def json(self, *args: str) -> Any:
        status, out, err = self(*args, "--json")
        assert status == 0, err
        return json.loads(out)


class Recorder:
    """A connection wrapper that records every APDU sent (for counting exchanges)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.apdus: list[bytes] = []
        self.responses: list[tuple[bytes, int]] = []

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        self.apdus.append(bytes(apdu))
        answer: tuple[bytes, int] = self.inner.transmit(apdu)
        self.responses.append(answer)
        return answer

    def clear(self) -> None:
        self.apdus.clear()
        self.responses.clear()

    def close(self) -> None:
        self.inner.close()

    def instructions(self) -> list[int]:
        return [a[1] for a in self.apdus]


def oath_applet(card: VirtualCard) -> OathApplet:
    """The OATH applet of a virtual card."""
    applet = card.applets[0]
    assert isinstance(applet, OathApplet)
    return applet


def codes_window(compute: Callable[[int], str], run: Callable[[], Any]) -> tuple[Any, set[str]]:
    """Run ``run`` and return its result with the codes valid at its start and at its end.

    Clients without a time option (ykman) compute for "now"; a step may pass meanwhile.
    """
    before = int(time.time())
    result = run()
    after = int(time.time())
    return result, {compute(before), compute(after)}


def store_with(state_credentials: Sequence[Any]) -> MemoryStore:
    """A memory store preloaded with credentials (for building cards in a given state)."""
    from pyotp_hw.token.virtual import OathState

    return MemoryStore(OathState(credentials=list(state_credentials)))
