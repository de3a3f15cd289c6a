"""Verification does the same work wherever, and whether, a code matches.

Measured as the instructions executed inside the C verifiers: valgrind's callgrind counts
instructions, which, unlike time, are exact and repeatable on a shared machine. A match at the
start, middle or end of the window, and no match at all, must cost exactly the same.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pyotp_hw import bulk

VALGRIND = shutil.which("valgrind")

# One verify call per (entry, position), in this order; callgrind dumps a profile after each.
CASES = [("totp", w) for w in ("-2", "0", "2", "none")] + [
    ("hotp", w) for w in ("0", "2", "4", "none")]

# The head of both scripts: the digest from argv and an independent code oracle (hmac).
ORACLE = r"""
import hashlib, hmac, struct, sys
from pyotp_hw import bulk

digest = sys.argv[1]

def code(key, counter):
    mac = hmac.new(key, struct.pack(">Q", counter), getattr(hashlib, digest)).digest()
    o = mac[-1] & 15
    return (int.from_bytes(mac[o:o + 4], "big") & 0x7FFFFFFF) % 10**6
"""

SCRIPT = ORACLE + r"""
keys = [bytes([i]) * 20 for i in range(1, 41)]
table = bulk.KeyTable(keys, digest=digest)
for case in sys.argv[2:]:
    entry, where = case.split(":")
    base = 1000 if entry == "totp" else 500
    target = base + (0 if where == "none" else int(where))
    codes = [code(k, target) if where != "none" else (code(k, base) + 1) % 10**6 for k in keys]
    if entry == "totp":
        result = bulk.verify_totp(table, codes, base * 30, window=(2, 2), threads=1)
    else:
        result = bulk.verify_hotp(table, codes, base, look_ahead=4, threads=1)
    expect = -1 if where == "none" else target
    # A colliding code elsewhere in the window would spoil the expectation; none occurs here.
    assert all(r == expect for r in result), (case, list(result))
"""


# The one-key entries of a small verification round (bulk.verify_totp_key / verify_hotp_key):
# both windows are computed whatever matches, so a replay costs what a wrong code costs too.
KEY_CASES = [("totp", w) for w in ("-2", "0", "2", "none", "replay")] + [
    ("hotp", w) for w in ("0", "2", "4", "none", "replay")]

KEY_SCRIPT = ORACLE + r"""
key = bytearray(range(1, 21))
for case in sys.argv[2:]:
    entry, where = case.split(":")
    base = 1000 if entry == "totp" else 500
    target = base + (0 if where in ("none", "replay") else int(where))
    value = (code(key, base) + 1) % 10**6 if where == "none" else code(key, target)
    if entry == "totp":
        used = target if where == "replay" else -1
        step, seen = bulk.verify_totp_key(key, value, base * 30, window=(2, 2), digest=digest,
                                          last_step=used)
        assert (step, seen) == ((-1, target) if where == "replay" else
                                (-1, -1) if where == "none" else (target, target)), case
    else:
        # The same counters in every case (they are public, but would change the work): a
        # replay is a code of a counter below the next expected one.
        if where == "replay":
            value = code(key, base - 3)
        found, old = bulk.verify_hotp_key(key, value, base, look_ahead=4, digest=digest,
                                          replay_from=base - 5)
        assert (found is None) == (where in ("none", "replay")), case
        assert (old is not None) == (where == "replay"), case
"""


def _valgrind_kernels() -> list[str]:
    # valgrind emulates neither SHA-NI nor AVX-512; every other kernel this CPU runs is measured.
    return [k for k in bulk.implementations() if "shani" not in k and "avx512" not in k]


def _instruction_counts(kernel: str, workdir: str, one_key: bool = False) -> list[int]:
    base = Path(workdir) / f"cg.{kernel}{'.key' if one_key else ''}"
    env = dict(os.environ, PYOTP_HW_KERNEL=kernel)
    if one_key:
        probes = ["--toggle-collect=otp_verify_*_key", "--dump-after=otp_verify_totp_key",
                  "--dump-after=otp_verify_hotp_key"]
        script, cases = KEY_SCRIPT, KEY_CASES
    else:
        probes = ["--toggle-collect=otp_verify_*", "--dump-after=otp_verify_totp",
                  "--dump-after=otp_verify_hotp"]
        script, cases = SCRIPT, CASES
    done = subprocess.run(
        [VALGRIND or "valgrind", "--tool=callgrind", f"--callgrind-out-file={base}", *probes,
         sys.executable, "-c", script, kernel.split("-")[0],
         *[f"{entry}:{where}" for entry, where in cases]],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    counts = []
    for part in range(1, len(cases) + 1):
        text = Path(f"{base}.{part}").read_text()
        match = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        assert match, f"no totals in dump {part}"
        counts.append(int(match.group(1)))
    return counts


@pytest.mark.slow
@pytest.mark.skipif(VALGRIND is None, reason="valgrind is installed by scripts/system-deps.sh")
def test_same_instruction_count_wherever_the_code_matches() -> None:
    kernels = _valgrind_kernels()
    with tempfile.TemporaryDirectory() as workdir, ThreadPoolExecutor(2) as pool:
        results = dict(zip(kernels, pool.map(lambda k: _instruction_counts(k, workdir), kernels),
                           strict=True))
    for kernel, counts in results.items():
        totp, hotp = counts[:4], counts[4:]
        assert min(counts) > 10_000, (kernel, counts)  # the counter really saw the C code
        assert len(set(totp)) == 1, (kernel, dict(zip(CASES[:4], totp, strict=True)))
        assert len(set(hotp)) == 1, (kernel, dict(zip(CASES[4:], hotp, strict=True)))


@pytest.mark.slow
@pytest.mark.skipif(VALGRIND is None, reason="valgrind is installed by scripts/system-deps.sh")
def test_one_key_checks_cost_the_same_for_a_match_a_replay_and_a_wrong_code() -> None:
    kernels = _valgrind_kernels()
    with tempfile.TemporaryDirectory() as workdir, ThreadPoolExecutor(2) as pool:
        results = dict(zip(kernels, pool.map(
            lambda k: _instruction_counts(k, workdir, one_key=True), kernels), strict=True))
    for kernel, counts in results.items():
        totp, hotp = counts[:5], counts[5:]
        assert min(counts) > 10_000, (kernel, counts)
        assert len(set(totp)) == 1, (kernel, dict(zip(KEY_CASES[:5], totp, strict=True)))
        assert len(set(hotp)) == 1, (kernel, dict(zip(KEY_CASES[5:], hotp, strict=True)))
