"""The hypothesis profiles conftest registers: CI's default and the longer ``slow`` run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _max_examples(profile: str | None) -> int:
    env = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_PROFILE"}
    if profile is not None:
        env["HYPOTHESIS_PROFILE"] = profile
    # The checkout on sys.path last: the installed pyotp_hw is the one under test.
    code = (f"import sys; sys.path.append({str(ROOT)!r})\n"
            "import tests.conftest, tests.typed_errors as t\n"
            "from hypothesis import settings\n"
            "print(settings().max_examples, t.FUZZ_EXAMPLES)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    default, fuzz = map(int, out.stdout.split())
    return default * 100_000 + fuzz


def test_slow_profile_loads_and_searches_longer() -> None:
    default = _max_examples(None)
    slow = _max_examples("slow")
    assert default == 150 * 100_000 + 2_000
    assert slow == 2_000 * 100_000 + 20_000


def test_lowest_profile_searches_less() -> None:
    assert _max_examples("lowest") == 30 * 100_000 + 200
