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
    # Both issue floors are reported against the portable rows' ratios, met or not.
    floors = {f["group"]: f for f in data["floors"]}
    assert {f["minimum"] for f in floors.values()} == {40.0, 3.0}
    for group, f in floors.items():
        assert f["measured"] == by_name[(group, "pyotp-hw sha1-portable")]["ratio_to_pyotp"]
        assert f["met"] is (f["measured"] >= f["minimum"])


def test_table_reports_the_issue_floors() -> None:
    proc = _cli("bench", "--quick", "--digest", "sha1")
    assert proc.returncode == 0, proc.stderr
    lines = [x for x in proc.stdout.splitlines() if x.startswith("issue floor: ")]
    assert len(lines) == 2, proc.stdout
    assert lines[0].startswith("issue floor: portable bulk HOTP-SHA1 >= 40x pyotp HOTP.at: "
                               "measured ")
    assert lines[1].startswith("issue floor: portable TOTP.now() >= 3x pyotp TOTP.now: measured ")
    assert all(x.endswith((", met", ", NOT met")) for x in lines)


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


def _fake_hashcat(folder: Path, monkeypatch: pytest.MonkeyPatch, benchmark: str) -> None:
    """A ``hashcat`` on PATH that lists an OpenCL device and runs ``benchmark`` for ``-b``."""
    exe = folder / "hashcat"
    exe.write_text('#!/bin/sh\nif [ "$1" = -I ]; then echo "Backend Device ID #1"; exit 0; fi\n'
                   f"{benchmark}\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}:/usr/bin:/bin")


@pytest.mark.parametrize(("script", "words"), [
    ("echo 'no OpenCL platform' >&2; exit 3", "^hashcat exited with 3: no OpenCL platform$"),
    ("echo '# version: v6'", "^hashcat printed no mode-160 benchmark line$"),
    ("echo '1:160:1:1:1.0:fast'", "^hashcat printed a mode-160 line without a speed$"),
])
def test_a_failing_hashcat_is_a_typed_error_and_its_row_is_left_out_with_the_reason(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        script: str, words: str) -> None:
    import argparse

    from pyotp_hw import bench_hashcat
    from pyotp_hw.cli.bench_cmd import _hashcat_rows
    from pyotp_hw.errors import OTPError

    _fake_hashcat(tmp_path, monkeypatch, script)
    with pytest.raises(bench_hashcat.HashcatFailed, match=words) as caught:
        bench_hashcat.measure(timeout=60)
    assert isinstance(caught.value, OTPError) and isinstance(caught.value, RuntimeError)
    capsys.readouterr()
    assert _hashcat_rows(argparse.Namespace(quick=False, no_hashcat=False), []) == []
    reason = words.strip("^$")
    assert f"hashcat row left out: {reason}\n" in capsys.readouterr().err


def test_hashcat_missing_is_a_typed_error_naming_the_reason(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from pyotp_hw import bench_hashcat

    monkeypatch.setattr(bench_hashcat.shutil, "which", lambda *a, **k: None)
    with pytest.raises(bench_hashcat.HashcatFailed, match="hashcat is not installed"):
        bench_hashcat.measure()


def test_hashcat_row_left_out_with_a_reason_when_absent() -> None:
    proc = _cli("bench", "--digest", "sha1", "--json",
                prelude="import shutil; shutil.which = lambda *a, **k: None")
    assert proc.returncode == 0, proc.stderr
    assert "hashcat row left out: hashcat is not installed" in proc.stderr
    assert not any(r["name"].startswith("hashcat") for r in json.loads(proc.stdout)["results"])
def test_plot_to_a_missing_folder_fails_before_running(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the plot extra")
    target = tmp_path / "no" / "such" / "bench.png"
    proc = _cli("bench", "--quick", "--plot", str(target))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pyotp-hw: error: cannot write"), proc.stderr
    assert "does not exist" in lines[0] and "Traceback" not in proc.stderr
    assert proc.stdout == "" and "[" not in proc.stderr  # no progress: nothing ran


def test_plot_onto_a_folder_fails_before_running(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the plot extra")
    proc = _cli("bench", "--quick", "--plot", str(tmp_path))
    assert proc.returncode == 2 and "not a regular file" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stdout == ""


@pytest.mark.parametrize("columns", [80, 40])
def test_progress_bar_fits_the_terminal(columns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import fcntl
    import os
    import pty
    import select
    import struct
    import termios

    from pyotp_hw import bench
    from pyotp_hw.cli import bench_cmd

    monkeypatch.delenv("COLUMNS", raising=False)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    stream = os.fdopen(slave, "w", encoding="utf-8")
    monkeypatch.setattr(sys, "stderr", stream)
    cases = bench.cases(quick=True, digests=("sha1",))
    progress = bench_cmd._Progress()
    assert progress.tty
    for i, case in enumerate(cases):
        progress(i, len(cases), case)
    progress(len(cases), len(cases), cases[-1])
    stream.flush()
    stream.close()
    chunks = []
    while select.select([master], [], [], 5)[0]:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the terminal's other end is closed and everything was read
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    text = b"".join(chunks).decode()
    steps = [s for s in text.replace("\r\n", "\n").split("\r\x1b[K") if s]
    assert len(steps) == len(cases) + 1
    # Every step rewrites one line that fits: shorter than the width, no newline but the last.
    longest = max(len(s.rstrip("\n")) for s in steps)
    assert longest < columns, (longest, steps)
    assert longest > columns - 10  # cut to the width, not to some fixed shorter length
    assert all("\n" not in s for s in steps[:-1]) and steps[-1].endswith("\n")
    assert f"{len(cases)}/{len(cases)}" in steps[-1] and "done" in steps[-1]
