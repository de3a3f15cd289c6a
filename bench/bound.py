"""Each kernel's cycles per code against this CPU's bound, and the fraction reached.

Measures the clock (dependent adds), the throughput and latency of every instruction class the
kernels use (inline-assembly loops in csrc/probe.c), and every kernel this CPU runs, all in this
one process, interleaved, best of several runs (see pyotp_hw/bound.py for the model).

Run:  python bench/bound.py [--quick]      (the same as: pyotp-hw bench --bound)
"""

from __future__ import annotations

import argparse

from pyotp_hw import bench, bound


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller batches")
    args = parser.parse_args()
    info = bench.machine()
    print(f"{info['cpu']} ({info['cpus']} CPUs); kernels: {', '.join(info['kernels'])}")
    ghz, probes, rows = bound.run(quick=args.quick)
    print(bound.format_bound(ghz, probes, rows))


if __name__ == "__main__":
    main()
