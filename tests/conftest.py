"""Shared test fixtures: known-answer vectors, hypothesis profiles, the kernels in the header."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

DATA = Path(__file__).parent / "data"

settings.register_profile(
    "default", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "sanitize", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# HYPOTHESIS_PROFILE=slow: a long search outside CI (the fuzz tests of typed_errors.py take
# 20,000 examples each, the kernel differential tests 500 per kernel).
settings.register_profile(
    "slow", max_examples=2_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# HYPOTHESIS_PROFILE=lowest: make lowest, where what counts is that the oldest dependency
# versions work at all; the default profile's search already ran in make unit.
settings.register_profile(
    "lowest", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_report_header() -> list[str]:
    """The hash kernels the kernel tests run here, and those they skip for want of CPU features."""
    from pyotp_hw import _native

    kernels = _native.all_kernels()
    lines = ["kernels run: " + ", ".join(k.name for k in kernels if k.supported)]
    lacking = [f"{k.name} (no {' and '.join(k.missing)})" for k in kernels if not k.supported]
    if lacking:
        lines.append("kernels skipped, this CPU lacks their instructions: " + ", ".join(lacking))
    return lines


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under scripts/sanitize.py, stop unless the tests run the instrumented core."""
    expected = os.environ.get("PYOTP_HW_EXPECT_CORE")
    if expected:
        import pyotp_hw._core as core

        if not str(core.__file__).startswith(expected):
            pytest.exit(f"the tests import {core.__file__}, not the core under {expected}",
                        returncode=3)


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    """The RFC 4226 / RFC 6238 / Steam / migration known-answer vectors."""
    with open(DATA / "test-vectors.json", encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


# --- one of each per test process --------------------------------------------------------------
# Session fixtures that the token, verifier, service and site suites share live here: defined (or
# imported) in several conftests they would be several fixtures, and so several instances. Two
# PC/SC rigs in one process cannot work (libpcsclite reads PCSCLITE_CSOCK_NAME once, so every
# rig after the first is invisible to in-process pyscard), and two PostgreSQL clusters waste a
# server.


@pytest.fixture(scope="session")
def rig() -> Iterator[Any]:
    """pcscd with a private configuration and two vpcd readers, for the whole session."""
    if os.environ.get("PYOTP_HW_SKIP_PCSC") == "1":
        pytest.skip("PYOTP_HW_SKIP_PCSC=1")
    from pyotp_hw.token.rig import PcscRig

    with PcscRig() as r:
        yield r


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Any]:
    """A private PostgreSQL cluster for the session, stopped cleanly at the end."""
    from tests.verifier.conftest import PostgresCluster

    cluster = PostgresCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
