"""``pyotp-hw bench``: pyotp-hw against pyotp, hmac and cryptography on this machine.

A progress bar on stderr while it runs, then a table (ns per code or per user, codes or users
per second, speed relative to pyotp) on stdout, or JSON with ``--json``; ``--plot FILE.png``
also draws a bar chart (needs the ``plot`` extra). ``--quick`` runs smaller batches and fewer
repeats and finishes in well under a minute.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from ._common import EXIT_OK, print_json

if TYPE_CHECKING:
    from ..bench import Case, Result

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``bench`` command."""
    p = subparsers.add_parser(
        "bench",
        help="measure pyotp-hw against pyotp, hmac and cryptography on this machine",
        description="Time HOTP generation and TOTP verification (+-1 step window) for each "
        "digest with every kernel this CPU runs, beside pyotp, the standard library's hmac "
        "and cryptography's HMAC (OpenSSL), in this one process.",
    )
    p.add_argument("--quick", action="store_true", help="smaller batches, fewer repeats")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--plot", metavar="FILE.png", help="also draw a bar chart into FILE.png")
    p.add_argument("--no-hashcat", action="store_true",
                   help="leave out the hashcat peer row (a full run adds it when hashcat and an "
                   "OpenCL CPU runtime are installed)")
    p.add_argument("--bound", action="store_true",
                   help="instead: each kernel's cycles per code against this CPU's measured "
                   "bound (clock, instruction throughput and latency) and the fraction reached")
    p.add_argument("--digest", action="append", choices=("sha1", "sha256", "sha512"),
                   help="only this digest (repeatable; default: all three)")
    p.set_defaults(handler=_cmd_bench)


def _columns() -> int:
    """The width of the terminal stderr goes to: ``COLUMNS`` first, as shutil reads it, then the
    terminal itself, then shutil's answer for stdout (80 when nothing says)."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.stderr.fileno()).columns
        except (OSError, ValueError):
            columns = shutil.get_terminal_size((80, 24)).columns
    return max(columns, 20)


class _Progress:
    """A one-line progress bar on stderr (plain lines when stderr is not a terminal).

    On a terminal each step rewrites the line, cut to one column less than the terminal's width
    (read at every step, so a resized window is followed): a longer line would wrap, and the
    carriage return would then rewrite only its last part, a new line per step.
    """

    WIDTH = 28

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.start = time.monotonic()

    def __call__(self, done: int, total: int, case: Case) -> None:
        columns = _columns() if self.tty else 0
        # A narrow terminal gets a shorter bar, so that the count and the label still show.
        width = max(6, min(self.WIDTH, columns - 30)) if self.tty else self.WIDTH
        filled = width * done // max(total, 1)
        bar = "#" * filled + "." * (width - filled)
        label = "done" if done == total else f"{case.group}: {case.name}"
        line = f"[{bar}] {done}/{total} {time.monotonic() - self.start:5.1f}s {label}"
        if self.tty:
            sys.stderr.write("\r\033[K" + line[: columns - 1])
            if done == total:
                sys.stderr.write("\n")
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def _cmd_bench(args: argparse.Namespace) -> int:
    from .. import bench

    if args.bound:
        return _cmd_bound(args)
    digests = tuple(dict.fromkeys(args.digest)) if args.digest else bench.DIGESTS
    if args.plot:
        # Fail before the run, not after it, when matplotlib is missing or FILE cannot be written.
        bench.plotting()
        bench.check_plot_path(args.plot)
    selected = bench.cases(quick=args.quick, digests=digests)
    results = bench.run(selected, repeat=3 if args.quick else 5, progress=_Progress())
    if "sha1" in digests:
        results = results + _hashcat_rows(args, results)
    if args.json:
        print_json(bench.to_json(results))
    else:
        info = bench.machine()
        print(f"pyotp-hw bench on {info['cpu']} ({info['cpus']} CPUs), one thread unless noted; "
              f"kernels: {', '.join(info['kernels'])}")
        print(bench.format_table(results))
        checks = bench.check_floors(results)
        if any(c.measured is not None for c in checks):
            print()
            for check in checks:
                print(check.line())
    if args.plot:
        bench.plot(results, args.plot)
        print(f"plot written to {args.plot}", file=sys.stderr)
    return EXIT_OK


def _hashcat_rows(args: argparse.Namespace, results: list[Result]) -> list[Result]:
    """hashcat's row for the multi-threaded group, or none (with the reason on stderr)."""
    from .. import bench, bench_hashcat

    if args.quick or args.no_hashcat:
        return []
    reason = bench_hashcat.missing()
    if reason is not None:
        print(f"hashcat row left out: {reason}", file=sys.stderr)
        return []
    print("running hashcat -b -m 160 (the first run compiles its OpenCL kernel)...",
          file=sys.stderr)
    try:
        speed = bench_hashcat.measure()
    except bench_hashcat.HashcatFailed as exc:
        print(f"hashcat row left out: {exc}", file=sys.stderr)
        return []
    print(speed.describe(), file=sys.stderr)
    rows = [bench_hashcat.peer_result(speed, results)]
    # The multi-threaded pyotp-hw rows again, right after hashcat: the same moment of the machine.
    again = [c for c in bench.cases(quick=False, digests=("sha1",))
             if c.group == bench_hashcat.GROUP]
    base = bench_hashcat.baseline_ns(results)
    return rows + [replace(r, name=r.name + ", after hashcat",
                           ratio_to_pyotp=None if base is None else base / r.ns_per_unit)
                   for r in bench.run(again)]


def _cmd_bound(args: argparse.Namespace) -> int:
    from .. import bench, bound

    info = bench.machine()
    ghz, probes, rows = bound.run(quick=args.quick)
    if args.json:
        print_json({"machine": info, "ghz": ghz,
                    "probes": {k: p.value for k, p in probes.items()},
                    "kernels": [vars(r) for r in rows]})
    else:
        print(f"pyotp-hw bench --bound on {info['cpu']} ({info['cpus']} CPUs), one thread")
        print(bound.format_bound(ghz, probes, rows))
    return EXIT_OK
