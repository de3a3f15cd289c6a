"""Shared test fixtures: the known-answer vectors and hypothesis profiles."""

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
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


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
