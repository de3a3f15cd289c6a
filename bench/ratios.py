"""The issue's headline figures on this machine, as ratios to pyotp measured in this one process.

One thread unless stated; each figure names its kernel; each is the best of alternating runs of
pyotp and pyotp-hw, so that a busy moment of a shared machine hits both sides alike. The last two
lines set the issue's floors (portable bulk HOTP-SHA1 >= 40x pyotp HOTP.at, portable TOTP.now()
>= 3x pyotp) against what this run measured and say whether each is met; they never fail.

Run:  python bench/ratios.py [--rounds N]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import time
from array import array
from collections.abc import Callable

import pyotp

import pyotp_hw
from pyotp_hw import _native, bench, bulk

T = 1_700_000_000
HASHES = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def best_pair(slow: Callable[[], object], fast: Callable[[], object], rounds: int
              ) -> tuple[float, float]:
    slow(), fast()
    s = f = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        slow()
        s = min(s, time.perf_counter() - t0)
        t0 = time.perf_counter()
        fast()
        f = min(f, time.perf_counter() - t0)
    return s, f


def keys_for(n: int, digest: str) -> list[bytes]:
    size = {"sha1": 20, "sha256": 32, "sha512": 64}[digest]
    return [hashlib.sha512(b"user %d" % i).digest()[:size] for i in range(n)]


def hotp_ratio(digest: str, kernel: str, rounds: int) -> tuple[str, float]:
    key = keys_for(1, digest)[0]
    h = pyotp.HOTP(base64.b32encode(key).decode(), digest=HASHES[digest])
    few, many = 20_000, 1_000_000
    counters = array("Q", range(many))
    out = array("I", bytes(4 * many))

    def theirs() -> None:
        at = h.at
        for i in range(few):
            at(i)

    with _native.forced_kernels(kernel):
        s, f = best_pair(theirs, lambda: bulk.hotp(key, counters, digest=digest, threads=1,
                                                   out=out), rounds)
    p, m = s / few * 1e9, f / many * 1e9
    return (f"HOTP-{digest.upper()} bulk, 1M counters  {kernel:15s} {m:8.1f} ns/code  "
            f"pyotp {p:8.0f} ns  ratio {p / m:6.1f}x"), p / m


def totp_now_ratio(kernel: str, rounds: int) -> tuple[str, float]:
    """pyotp_hw.TOTP.now() against pyotp.TOTP.now(), one code per call."""
    key = keys_for(1, "sha1")[0]
    secret = base64.b32encode(key).decode()
    calls = 20_000
    theirs_totp = pyotp.TOTP(secret)
    with _native.forced_kernels(kernel):
        mine_totp = pyotp_hw.TOTP(key)  # keeps the kernel it was built under

    def theirs() -> None:
        now = theirs_totp.now
        for _ in range(calls):
            now()

    def mine() -> None:
        now = mine_totp.now
        for _ in range(calls):
            now()

    s, f = best_pair(theirs, mine, rounds)
    p, m = s / calls * 1e9, f / calls * 1e9
    return (f"TOTP.now(), one code per call  {kernel:15s} {m:8.1f} ns/code  "
            f"pyotp {p:8.0f} ns  ratio {p / m:6.1f}x"), p / m


def verify_ratios(kernel: str, rounds: int, users: int = 100_000) -> list[str]:
    keys = keys_for(users, "sha1")
    secrets = [base64.b32encode(k).decode() for k in keys]
    # Codes at the step before, at or after now, in turn: every one matches somewhere.
    codes = array("I", [0]) * users
    for off in (-1, 0, 1):
        part = bulk.totp(keys, T + 30 * off)
        for i in range(off + 1, users, 3):
            codes[i] = part[i]
    texts = [f"{c:06d}" for c in codes]
    few = 3_000

    def theirs() -> None:
        for s, c in zip(secrets[:few], texts[:few], strict=True):
            pyotp.TOTP(s).verify(c, for_time=T, valid_window=1)

    lines = []
    with _native.forced_kernels(kernel):
        assert all(r != -1 for r in bulk.verify_totp(keys, codes, T, threads=1))
        s, f = best_pair(theirs, lambda: bulk.verify_totp(keys, codes, T, threads=1), rounds)
        p, m = s / few * 1e9, f / users * 1e9
        lines.append(f"TOTP-SHA1 verify +-1, new key per user (list of bytes), 100k users  "
                     f"{kernel:15s} {m:7.1f} ns/user  pyotp {p:7.0f} ns  ratio {p / m:6.1f}x")
        with bulk.KeyTable(keys) as table:
            s, f = best_pair(theirs, lambda: bulk.verify_totp(table, codes, T, threads=1),
                             rounds)
        p, m = s / few * 1e9, f / users * 1e9
        lines.append(f"TOTP-SHA1 verify +-1, KeyTable, 100k users                          "
                     f"{kernel:15s} {m:7.1f} ns/user  pyotp {p:7.0f} ns  ratio {p / m:6.1f}x")
    return lines


def threads_ratio(rounds: int) -> list[str]:
    key = keys_for(1, "sha1")[0]
    n = 4_000_000
    counters = array("Q", range(n))
    out = array("I", bytes(4 * n))
    one, two = best_pair(lambda: bulk.hotp(key, counters, threads=1, out=out),
                         lambda: bulk.hotp(key, counters, threads=2, out=out), rounds)
    lines = [f"HOTP-SHA1 4M codes, {bulk.kernel_name('sha1')}: two threads {one / two:.2f}x one"]
    users = 300_000
    keys = keys_for(users, "sha1")
    with bulk.KeyTable(keys) as table:
        codes = bulk.totp(table, T)
        one, two = best_pair(lambda: bulk.verify_totp(table, codes, T, threads=1),
                             lambda: bulk.verify_totp(table, codes, T, threads=2), rounds)
    lines.append(f"TOTP-SHA1 verify 300k users, KeyTable, {bulk.kernel_name('sha1')}: "
                 f"two threads {one / two:.2f}x one")
    return lines


def keytable_build(kernel: str, rounds: int) -> str:
    digest = kernel.split("-", 1)[0]
    n = 1_000_000
    keys = keys_for(n, digest)
    with _native.forced_kernels(kernel):
        best = float("inf")
        for _ in range(max(2, rounds // 2)):
            t0 = time.perf_counter()
            bulk.KeyTable(keys, digest=digest).close()
            best = min(best, time.perf_counter() - t0)
        # The key schedule alone: the one C call that computes every row's midstates.
        ffi, lib = _native.ffi, _native.lib
        joined = b"".join(keys)
        size = len(keys[0])
        holder = ffi.new("otp_keytable **")
        _native.check_status(lib.otp_keytable_new(_native.digest_id(digest), n, holder))
        table = ffi.gc(holder[0], lib.otp_keytable_free)
        k = _native.kernel_for(_native.digest_id(digest)).ptr
        call = float("inf")
        for _ in range(max(2, rounds // 2)):
            t0 = time.perf_counter()
            _native.check_status(lib.otp_keytable_load(k, table, 0, n, joined, len(joined),
                                                       ffi.NULL, size, ffi.NULL))
            call = min(call, time.perf_counter() - t0)
    return (f"KeyTable of 1M {digest} keys from a list of bytes  {kernel:15s} "
            f"{best * 1e3:7.1f} ms in all; the one C call {call * 1e3:6.1f} ms "
            f"({call * 1e9 / n:.0f} ns/key)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    kernels = bulk.implementations()
    print(f"kernels on this CPU: {', '.join(kernels)}; selected: "
          f"{', '.join(bulk.kernel_name(d) for d in HASHES)}")
    measured: dict[str, float] = {}
    for digest in HASHES:
        for k in sorted(k for k in kernels if k.startswith(digest + "-")):
            line, ratio = hotp_ratio(digest, k, args.rounds)
            measured.setdefault(f"hotp {k}", ratio)
            print(line, flush=True)
    for k in sorted(k for k in kernels if k.startswith("sha1-")):
        line, ratio = totp_now_ratio(k, args.rounds)
        measured[f"now {k}"] = ratio
        print(line, flush=True)
    for k in sorted(k for k in kernels if k.startswith("sha1-")):
        for line in verify_ratios(k, args.rounds):
            print(line, flush=True)
    for line in threads_ratio(args.rounds):
        print(line, flush=True)
    for k in sorted(kernels):
        print(keytable_build(k, args.rounds), flush=True)
    # The two floors: benchmark figures, reported here, never a failure.
    hotp_floor, now_floor = bench.FLOORS
    print(hotp_floor.verdict(measured.get("hotp sha1-portable")))
    print(now_floor.verdict(measured.get("now sha1-portable")))


if __name__ == "__main__":
    main()
