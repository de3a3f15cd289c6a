"""Per-call cost of the scalar objects' warm calls, for A/B runs of two trees in turn.

One warm ``TOTP`` and one warm ``HOTP`` (SHA-1, 6 digits, kept across calls); each call is
timed in a loop of ``--calls`` calls, all of them in turn, ``--rounds`` times; the figure is the
best round's CPU time (``time.process_time``) per call minus an empty lambda's, in ns, printed as
one JSON line. Run it in alternating processes, one tree each, to compare two trees::

    for i in 1 2 3 4; do for tree in OLD NEW; do
        PYTHONPATH=$tree python bench/scalar_calls.py; done; done

``PYOTP_HW_KERNEL`` picks the kernel (the default is the lone-code kernel, sha1-shani where the
CPU has SHA-NI).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import pyotp_hw

KEY = bytes(range(1, 21))
T = 1_700_000_000


def calls() -> dict[str, Callable[[], object]]:
    """The timed calls, on objects warmed past their first uses."""
    totp, hotp = pyotp_hw.TOTP(KEY), pyotp_hw.HOTP(KEY)
    code, hcode = totp.at(T), hotp.at(5)
    for _ in range(4):
        totp.now(), totp.at(T), hotp.at(5), totp.verify(code, T, 1), hotp.verify(hcode, 5)
    return {
        "empty": lambda: None,
        "TOTP.now()": lambda: totp.now(),
        "TOTP.at(t)": lambda: totp.at(T),
        "TOTP.at(float t)": lambda: totp.at(T + 0.5),
        "HOTP.at(n)": lambda: hotp.at(5),
        "TOTP.verify(code, t)": lambda: totp.verify(code, T),
        "TOTP.verify(code, t, 1)": lambda: totp.verify(code, T, 1),
        "TOTP.verify(code, float t)": lambda: totp.verify(code, T + 0.5),
        "TOTP.verify(code)": lambda: totp.verify(code),
        "HOTP.verify(code, n)": lambda: hotp.verify(hcode, 5),
    }


def loop(fn: Callable[[], object], n: int) -> float:
    """CPU seconds of ``n`` calls of ``fn``."""
    start = time.process_time()
    for _ in range(n):
        fn()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    fns = calls()
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(args.rounds):
        for name, fn in fns.items():
            best[name] = min(best[name], loop(fn, args.calls) / args.calls * 1e9)
    empty = best.pop("empty")
    print(json.dumps({name: round(ns - empty, 1) for name, ns in best.items()}))


if __name__ == "__main__":
    main()
