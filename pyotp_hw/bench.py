"""The benchmark engine behind ``pyotp-hw bench`` and the ``bench/`` pytest-benchmark suite.

Its cases (:mod:`.bench_cases`) are implementations doing the same work in groups: pyotp, the
standard library's ``hmac``, ``cryptography``'s HMAC (OpenSSL) and pyotp-hw on every kernel this
CPU runs. :func:`run` measures them: times are the best of several runs in this one process;
ratios to pyotp are taken within a group. The results are shown by :mod:`.bench_report` and
checked against the floors of :mod:`._bench_floors`; this module is the one the command line and
the suite import.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from ._bench_floors import FLOORS, Floor, FloorCheck, check_floors
from .bench_cases import DIGESTS, Case, cases
from .bench_report import (
    Result,
    check_plot_path,
    format_markdown,
    format_table,
    machine,
    plot,
    plotting,
    to_json,
)

__all__ = [
    "Case",
    "best_ns",
    "Result",
    "cases",
    "run",
    "format_table",
    "to_json",
    "plot",
    "plotting",
    "format_markdown",
    "machine",
    "DIGESTS",
    "FLOORS",
    "Floor",
    "FloorCheck",
    "check_floors",
    "check_plot_path",
]


def best_ns(fn: Callable[[], object], repeat: int) -> int:
    """Nanoseconds of the fastest of ``repeat`` calls of ``fn`` (after one warm-up call), >= 1."""
    fn()  # warm up: caches, lazy imports, the thread pool
    best = None
    for _ in range(repeat):
        start = time.perf_counter_ns()
        fn()
        elapsed = time.perf_counter_ns() - start
        best = elapsed if best is None else min(best, elapsed)
    assert best is not None
    return max(best, 1)


def run(
    selected: Sequence[Case],
    *,
    repeat: int = 5,
    progress: Callable[[int, int, Case], None] | None = None,
) -> list[Result]:
    """Measure every case (best of ``repeat`` runs); ratios to pyotp within each group."""
    timings: list[tuple[Case, float]] = []
    for i, case in enumerate(selected):
        if progress is not None:
            progress(i, len(selected), case)
        with case.selected():
            ns = best_ns(case.prepare(), repeat) / case.units
        timings.append((case, ns))
    if progress is not None and selected:
        progress(len(selected), len(selected), selected[-1])
    baselines = {c.group: ns for c, ns in timings if c.family == "pyotp" and not c.baseline_group}
    results = []
    for case, ns in timings:
        base = baselines.get(case.baseline_group or case.group)
        results.append(Result(
            group=case.group, name=case.name, kernel=case.kernel, threads=case.threads,
            unit=case.unit, units=case.units, ns_per_unit=ns, per_second=1e9 / ns,
            ratio_to_pyotp=None if base is None else base / ns,
            baseline=case.baseline_group,
        ))
    return results
