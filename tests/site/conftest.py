"""Fixtures for the site's browser tests: the PC/SC rig with a virtual token (the person's
authenticator), the whole stack (store, ``pyotp-hw serve``, ``pyotp-hw site serve``, an
aiosmtpd sink) on loopback, and headless Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.verifier.conftest import PostgresCluster

pytest.importorskip("selenium")
pytest.importorskip("argon2")
pytest.importorskip("jinja2")

from pyotp_hw.site.stack import Stack
from pyotp_hw.site.story import CHROMEDRIVER, CHROMIUM, Browser, Token

#: Set to a folder to keep the screenshots (``docs/site`` holds the README's).
SHOTS_ENV = "PYOTP_HW_SITE_SHOTS"


def _need_chromium() -> None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            pytest.skip(f"{path} is missing (apt-get install chromium chromium-driver)")


@pytest.fixture
def token(rig: Any) -> Iterator[Token]:
    """A fresh virtual token on reader 0, used through the ``pyotp-hw`` command."""
    proc = rig.start_token(["--touch-delay", "0.05"], slot=0)
    try:
        yield Token(rig.env(), rig.reader(0))
    finally:
        proc.stop()
        rig.wait_card(0, present=False, timeout=10)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stack]:
    """The service (SQLite, one worker; or PostgreSQL, two workers) and the site."""
    if request.param == "sqlite":
        s = Stack(tmp_path)
    else:
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        s = Stack(tmp_path, db=cluster.new_database(), workers=2)
    s.start()
    try:
        yield s
    except BaseException:
        print(s.logs())
        raise
    finally:
        s.stop()


@pytest.fixture
def shots(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """Where the test's screenshots go (copied to $PYOTP_HW_SITE_SHOTS afterwards when set)."""
    folder = tmp_path / "shots"
    yield folder
    keep = os.environ.get(SHOTS_ENV)
    if keep and folder.is_dir():
        Path(keep).mkdir(parents=True, exist_ok=True)
        for png in folder.glob("*.png"):
            shutil.copy(png, Path(keep) / png.name)


@pytest.fixture
def browser(stack: Stack, shots: Path) -> Iterator[Callable[[], Browser]]:
    """Start headless Chromium windows on the site (all closed at the end)."""
    _need_chromium()
    opened: list[Browser] = []

    def make() -> Browser:
        b = Browser(stack.site_url, shots)
        opened.append(b)
        return b

    yield make
    for b in opened:
        b.close()
