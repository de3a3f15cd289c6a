"""``pyotp-hw bench``: table, JSON, plot, progress, and missing extras (not a benchmark itself).

Run:  pytest bench/test_bench_cli.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyotp", reason="the benchmark's baseline is pyotp (the bench extra)")


def _cli(*args: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    code = f"{prelude}\nimport sys\nfrom pyotp_hw.cli import main\nsys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120)


def test_quick_json_for_one_digest() -> None:
    proc = _cli("bench", "--quick", "--json", "--digest", "sha1")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["machine"]["kernels"] and data["machine"]["selected"]["sha1"]
    rows = data["results"]
    groups = {r["group"] for r in rows}
    assert {"sha1 HOTP generation", "sha1 TOTP verify +-1, new key per user",
            "sha1 TOTP verify +-1, keys prepared"} <= groups
    assert not any(g.startswith(("sha256", "sha512")) for g in groups)
    by_name = {(r["group"], r["name"]): r for r in rows}
    assert by_name[("sha1 HOTP generation", "pyotp HOTP.at")]["ratio_to_pyotp"] == 1.0
    kernels = {r["kernel"] for r in rows if r["kernel"]}
    assert {k for k in data["machine"]["kernels"] if k.startswith("sha1-")} <= kernels
    for r in rows:
        assert r["ns_per_unit"] > 0 and r["per_second"] > 0
        assert r["ratio_to_pyotp"] is not None and r["ratio_to_pyotp"] > 0
    # Every pyotp-hw row outruns pyotp, and every row of a group did the same work.
    for r in rows:
        if r["name"].startswith("pyotp-hw"):
            assert r["ratio_to_pyotp"] > 1, r
    for g in groups:
        assert len({r["units"] for r in rows if r["group"] == g}) == 1
    # The progress bar went to stderr and ended.
    assert "done" in proc.stderr and "[" in proc.stderr


def test_table_and_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the plot extra")
    png = tmp_path / "bench.png"
    proc = _cli("bench", "--quick", "--digest", "sha512", "--plot", str(png))
    assert proc.returncode == 0, proc.stderr
    assert "sha512 HOTP generation" in proc.stdout and "x pyotp" in proc.stdout
    assert "pyotp-hw sha512-portable" in proc.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_names_the_extra_before_running(tmp_path: Path) -> None:
    proc = _cli("bench", "--quick", "--plot", str(tmp_path / "x.png"),
                prelude="import sys; sys.modules['matplotlib'] = None")
    assert proc.returncode == 2
    assert "pyotp-hw[plot]" in proc.stderr and "matplotlib" in proc.stderr
    assert proc.stdout == "" and "done" not in proc.stderr


def test_without_pyotp_names_the_bench_extra() -> None:
    proc = _cli("bench", "--quick", prelude="import sys; sys.modules['pyotp'] = None")
    assert proc.returncode == 2
    assert "pyotp-hw[bench]" in proc.stderr


def test_bound_section_as_json() -> None:
    proc = _cli("bench", "--bound", "--quick", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    names = {r["kernel"] for r in data["kernels"]}
    assert names == set(data["machine"]["kernels"])
    for r in data["kernels"]:
        assert r["ns_per_code"] > 0 and r["cycles_per_code"] > 0
        assert 0 < r["fraction"] <= 1.5, r  # a bound well below what ran would be a wrong model
    assert 0.3 < data["ghz"] < 10


def test_hashcat_benchmark_output_is_read() -> None:
    from pyotp_hw import bench_hashcat

    # hashcat 6.2.6 -b -m 160 --machine-readable on this project's Zen 5 machine (PoCL, 2 cores).
    out = ("# version: v6.2.6\n# option: --optimized-kernel-enable\n"
           "1:160:4294967295:4294967295:109.57:8192390\n"
           "Started: Wed Dec  2 14:59:13 2026\nStopped: Wed Dec  2 15:04:02 2026\n")
    speed = bench_hashcat.parse(out)
    assert speed.version == "v6.2.6" and speed.devices == 1
    assert speed.hashes_per_second == 8192390.0
    with pytest.raises(ValueError, match="no mode-160"):
        bench_hashcat.parse("# version: v6.2.6\n")


def test_hashcat_row_left_out_with_a_reason_when_absent() -> None:
    proc = _cli("bench", "--digest", "sha1", "--json",
                prelude="import shutil; shutil.which = lambda *a, **k: None")
    assert proc.returncode == 0, proc.stderr
    assert "hashcat row left out: hashcat is not installed" in proc.stderr
    assert not any(r["name"].startswith("hashcat") for r in json.loads(proc.stdout)["results"])
