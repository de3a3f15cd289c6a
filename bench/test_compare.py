"""pytest-benchmark comparison: the same cases as ``pyotp-hw bench --quick``, one group per job.

Every row of a group does the same work per call (``units`` codes or users), so the group's
table compares implementations directly: pyotp, the standard library's hmac, cryptography's HMAC
(OpenSSL) and pyotp-hw on every kernel this CPU runs (selected one at a time through the
internal hook ``_native.forced_kernels``; one thread unless the name says otherwise).

Run:  pytest bench/test_compare.py --benchmark-only --benchmark-group-by=group \\
          --benchmark-columns=mean,ops
"""

from __future__ import annotations

import re
from typing import Any

import pytest

pytest.importorskip("pyotp", reason="the comparison's baseline is pyotp (the bench extra)")
pytest.importorskip("pytest_benchmark")

from pyotp_hw import bench

CASES = bench.cases(quick=True)


def _id(case: bench.Case) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "_", f"{case.group}__{case.name}").strip("_")


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_compare(benchmark: Any, case: bench.Case) -> None:
    benchmark.group = f"{case.group} ({case.units:,} {case.unit}s per call)"
    benchmark.name = case.name
    benchmark.extra_info.update(unit=case.unit, units=case.units, kernel=case.kernel,
                                threads=case.threads)
    with case.selected():
        fn = case.prepare()
        benchmark(fn)
    stats = benchmark.stats.stats if benchmark.stats is not None else None
    if stats is not None:
        benchmark.extra_info["ns_per_unit"] = stats.min * 1e9 / case.units
