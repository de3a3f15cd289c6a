"""pyotp 2.12.1's own test suite passes against pyotp_hw.pyotp: every test and every subtest.

The suite is not ours and is not committed: its sdist is downloaded from PyPI with pip (pinned
by version and SHA-256), only ``test.py`` is taken out of it, and it runs in a subprocess with
``pyotp`` aliased to ``pyotp_hw.pyotp`` (tests/pyotp_suite/alias.py). Without network the test
is skipped and says so.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

VERSION = "2.12.1"
SDIST_SHA256 = "8d0c4192f3c5d1b1a8792df23b9d8acbb7e70abd2b160962af55c5700edbd236"
HERE = Path(__file__).parent
ROOT = HERE.parent.parent
# pyotp 2.12.1's suite: 64 tests and 601 subtests (the counts it reports against pyotp itself).
TESTS = 64
SUBTESTS = 601
# Deliberate deviations from pyotp that the suite notices, each with its security reason: none.
DEVIATIONS: dict[str, str] = {}


@pytest.fixture(scope="module")
def upstream_suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding pyotp 2.12.1's test.py and nothing else of pyotp."""
    download = tmp_path_factory.mktemp("pyotp-sdist")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", f"pyotp=={VERSION}", "--no-deps",
         "--no-binary", ":all:", "--disable-pip-version-check", "-q", "-d", str(download)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    archives = list(download.glob("*.tar.gz"))
    if proc.returncode != 0 or len(archives) != 1:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"cannot download the pyotp {VERSION} sdist from PyPI (no network?): {last}")
    digest = hashlib.sha256(archives[0].read_bytes()).hexdigest()
    assert digest == SDIST_SHA256, f"pyotp {VERSION} sdist has SHA-256 {digest}, not the pinned one"
    suite = tmp_path_factory.mktemp("pyotp-suite")
    with tarfile.open(archives[0]) as tar:
        member = tar.getmember(f"pyotp-{VERSION}/test.py")
        source = tar.extractfile(member)
        assert source is not None
        (suite / "test.py").write_bytes(source.read())
    return suite


def test_pyotp_suite_passes_against_pyotp_hw(upstream_suite: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(HERE / "run_upstream.py"), str(upstream_suite)],
        capture_output=True, text=True, timeout=600, cwd=ROOT, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    # The suite really exercised pyotp_hw.pyotp, not a pyotp found on the path.
    assert report["suite_pyotp_is_pyotp_hw"]
    assert report["pyotp_modules"], report
    assert all(v.startswith("pyotp_hw.pyotp") for v in report["pyotp_modules"].values()), report
    failing = set(report["failures"]) | set(report["errors"])
    assert failing <= set(DEVIATIONS), proc.stderr[-6000:]
    assert report["tests_run"] == TESTS
    assert not report["skipped"] and not report["unexpected_successes"]
    assert report["expected_failures"] == 0
    assert report["subtests_failed"] == 0, proc.stderr[-6000:]
    assert report["subtests_passed"] == SUBTESTS, report
