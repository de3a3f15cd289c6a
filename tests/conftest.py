"""Shared test fixtures: known-answer vectors, hypothesis profiles, the kernels in the header."""

from __future__ import annotations

import json
import os
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
