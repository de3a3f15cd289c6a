"""The load benchmark measures real work: a one-second run of each service at every concurrency,
where every answer must be an acceptance (valid codes of fresh users) and nothing may fail.

Needs wrk (Debian: apt-get install wrk); skipped without it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

pytestmark = [pytest.mark.timeout(300),
              pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")]


def test_short_run_accepts_every_request(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    proc = subprocess.run([sys.executable, str(HERE / "service_load.py"), "--duration", "1",
                           "--users", "20000", "--reps", "1", "--json", str(out)],
                          capture_output=True, text=True, timeout=280, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(out.read_text())["best"]
    for name in ("service", "naive"):
        for conc in ("1", "64", "256"):
            r = results[name][conc]
            assert r["requests"] > 0 and r["errors"] == 0 and r["non2xx"] == 0, (name, conc, r)
            if r["wrapped"] == 0:
                assert r["accepted"] == r["answered"], (name, conc, r)
            assert r["p50_us"] <= r["p99_us"] and r["cpu_us_per_request"] > 0
    assert results["service"]["256"]["mean_batch"] > 1.0
    assert "| 256 |" in proc.stdout
