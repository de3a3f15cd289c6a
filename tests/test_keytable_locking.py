"""Key table memory locking tells the truth (issue 10, section 3.7).

The oracle is the kernel: /proc/self/smaps marks a locked mapping with the ``lo`` VmFlag. Small
tables used to be heap blocks sharing pages; mlock/munlock work on whole pages, so closing one
table unlocked the page a live neighbour still used, while that one said ``locked=True``. Each
table now owns its pages. A failed mlock (RLIMIT_MEMLOCK) is reported: a MemoryLockWarning and
``lock_error``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from pyotp_hw import bulk

from . import oracle

KEY = b"12345678901234567890"
linux = pytest.mark.skipif(not os.path.exists("/proc/self/smaps"), reason="needs Linux smaps")


def _locked_ranges() -> list[tuple[int, int]]:
    """Address ranges of this process's mappings that the kernel says are locked."""
    ranges: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    with open("/proc/self/smaps", encoding="ascii", errors="replace") as smaps:
        for line in smaps:
            head = line.split(" ", 1)[0]
            if "-" in head and ":" not in head:
                lo, hi = head.split("-")
                current = (int(lo, 16), int(hi, 16))
            elif line.startswith("VmFlags:") and current is not None:
                if "lo" in line.split()[1:]:
                    ranges.append(current)
    return ranges


def _kernel_says_locked(table: bulk.KeyTable) -> bool:
    address, size = table._native.memory_region()
    page = os.sysconf("SC_PAGESIZE")
    first, last = address // page * page, address + size
    ranges = _locked_ranges()
    return all(any(lo <= p < hi for lo, hi in ranges) for p in range(first, last, page))


@linux
def test_closing_a_table_leaves_the_other_tables_locked() -> None:
    tables = [bulk.KeyTable([bytes([i + 1]) * 20]) for i in range(64)]
    unlocked = [t.lock_error for t in tables if not t.locked]
    if unlocked:
        # The truth, at least: an unlocked table says why (RLIMIT_MEMLOCK is too low here).
        assert all(reason for reason in unlocked)
        pytest.skip(f"this process may not lock 64 pages: {unlocked[0]}")
    for t in tables[::2]:
        t.close()
    live = tables[1::2]
    wrong = [i for i, t in enumerate(live) if t.locked and not _kernel_says_locked(t)]
    assert not wrong, f"{len(wrong)} live tables say locked=True but their pages are not locked"
    for t in live:
        assert t.lock_error is None
        t.close()


@linux
def test_locked_agrees_with_the_kernel_for_large_and_gathered_tables() -> None:
    with bulk.KeyTable([bytes([i % 250 + 1]) * 20 for i in range(5000)]) as big:
        small = big.select([3, 4])
        if not big.locked:
            assert big.lock_error and small.lock_error
            pytest.skip(f"this process may not lock memory: {big.lock_error}")
        assert big.locked and _kernel_says_locked(big)
        assert small.locked and _kernel_says_locked(small)
        big.close()
        assert small.locked and _kernel_says_locked(small)
        small.close()
        assert not small.locked


CHILD = textwrap.dedent("""
    import resource, warnings
    from pyotp_hw import bulk
    from pyotp_hw.errors import MemoryLockWarning
    resource.setrlimit(resource.RLIMIT_MEMLOCK, (0, 0))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        table = bulk.KeyTable([b"12345678901234567890"])
    kinds = [w.category.__name__ for w in seen]
    print(table.locked, repr(table.lock_error), kinds, list(bulk.hotp(table, [1])))
""")


@linux
def test_a_failed_mlock_is_reported() -> None:
    cmd = [sys.executable, "-c", CHILD]
    if os.geteuid() == 0:
        # root may lock without limit (CAP_IPC_LOCK): run the child without that capability.
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root and setpriv (util-linux) is missing to drop CAP_IPC_LOCK")
        cmd = [setpriv, "--inh-caps=-ipc_lock", "--bounding-set=-ipc_lock", *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert out.startswith("False "), out
    assert "mlock failed" in out and "MemoryLockWarning" in out, out
    # The table still works, unlocked: the code is right.
    assert f"[{int(oracle.hotp(KEY, 1))}]" in out
