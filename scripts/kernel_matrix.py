"""The instruction sets ``make kernels`` runs the core suite under, and those it skips and why.

Prints the runnable instruction-set names (``PYOTP_HW_KERNEL`` values: portable, avx2, shani,
avx512, ...) on stdout, space-separated, and one line per skipped one on stderr naming its kernels
and the CPU features this machine lacks.

Run:  python scripts/kernel_matrix.py
"""

from __future__ import annotations

import sys

from pyotp_hw import _native


def plan(kernels: list[_native.Kernel]) -> tuple[list[str], list[str]]:
    """(instruction sets to run, one line per instruction set skipped), in compiled order."""
    by_isa: dict[str, list[_native.Kernel]] = {}
    for k in kernels:
        by_isa.setdefault(k.name.split("-", 1)[1], []).append(k)
    run, skipped = [], []
    for isa, group in by_isa.items():
        lacking = sorted({f for k in group for f in k.missing})
        if not lacking:
            run.append(isa)
            continue
        names = ", ".join(k.name for k in group)
        skipped.append(f"make kernels: skipping PYOTP_HW_KERNEL={isa} ({names}): "
                       f"this CPU lacks {' and '.join(lacking)}")
    return run, skipped


def main() -> int:
    """Print the plan for this CPU."""
    run, skipped = plan(_native.all_kernels())
    for line in skipped:
        print(line, file=sys.stderr)
    print(" ".join(run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
