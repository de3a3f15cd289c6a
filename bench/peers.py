"""pyotp-hw against hashcat (HMAC-SHA1 with a fixed key, mode 160) on this machine's CPUs.

hashcat runs its optimized OpenCL kernel on every core (PoCL); pyotp-hw runs HOTP-SHA1 with the
selected kernel on as many threads. Measured alternately in this one run: hashcat, pyotp-hw,
hashcat, pyotp-hw. pyotp-hw is given as the best of short runs and as the rate sustained over a
few seconds, since hashcat reports a sustained rate; hashcat's share of the CPUs while it ran is
printed too (on a shared machine it may get much less than all of them).

Run:  python bench/peers.py [--rounds N]     (left out with the reason when hashcat is absent)
"""

from __future__ import annotations

import argparse
import time
from array import array

from pyotp_hw import bench_hashcat, bulk


def pyotp_hw_rates(threads: int, seconds: float = 3.0) -> tuple[float, float]:
    """(best-of codes/s, sustained codes/s) of HOTP-SHA1 over 1M counters."""
    n = 1_000_000
    key = bytes(range(1, 21))
    counters = array("Q", range(n))
    out = array("I", bytes(4 * n))
    bulk.hotp(key, counters, threads=threads, out=out)
    best = float("inf")
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        bulk.hotp(key, counters, threads=threads, out=out)
        best = min(best, time.perf_counter() - t0)
        done += n
    return n / best, done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    reason = bench_hashcat.missing()
    if reason is not None:
        print(f"hashcat left out: {reason}")
        return
    threads = bulk._cpus()
    kernel = bulk.kernel_name("sha1")
    for _ in range(args.rounds):
        try:
            speed = bench_hashcat.measure()
        except bench_hashcat.HashcatFailed as exc:
            print(f"hashcat left out: {exc}")
            return
        best, sustained = pyotp_hw_rates(threads)
        print(f"{speed.describe()}; pyotp-hw {kernel} x{threads} threads: best "
              f"{best / 1e6:.1f} M codes/s ({best / speed.hashes_per_second:.2f}x hashcat), "
              f"sustained {sustained / 1e6:.1f} M codes/s "
              f"({sustained / speed.hashes_per_second:.2f}x)", flush=True)


if __name__ == "__main__":
    main()
