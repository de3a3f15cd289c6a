"""How close each hash kernel comes to what this CPU can do: ``pyotp-hw bench --bound``.

Three measurements in one process, interleaved so that a busy moment of a shared machine hits
all of them alike, each the best of several runs:

1. the clock, from a chain of dependent scalar adds (one cycle each);
2. the throughput (instructions per cycle) and latency of each instruction class the kernels use,
   from the inline-assembly loops of csrc/probe.c;
3. each kernel's cost per code (HOTP, one key, many counters, one thread) and per TOTP code at one
   shared time step (verification +-1 with a ``KeyTable``, per code of the three).

The bound of a kernel is the larger of its throughput bound (its operations per code, from
``pyotp_hw.bound_model``, over the rate of the pipes that run them) and its latency bound (its
longest dependency chain over the codes in flight). The fraction reached is bound / measured.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import _native, bulk
from .bound_model import KernelModel, model_for

__all__ = ["Probe", "BoundRow", "measure_probes", "measure_kernels", "format_bound", "run"]

_CLOCK = "clock:add"


@dataclass(frozen=True)
class Probe:
    """One instruction class: instructions per cycle (``tput``) or cycles per instruction."""

    name: str
    kind: str
    value: float


@dataclass(frozen=True)
class BoundRow:
    """One kernel doing one job, against its bound."""

    kernel: str
    work: str
    ns_per_code: float
    cycles_per_code: float
    bound_cycles: float
    limit: str
    fraction: float


def _best_ns(fn: Callable[[], object], repeat: int) -> int:
    fn()
    best = None
    for _ in range(repeat):
        start = time.perf_counter_ns()
        fn()
        elapsed = time.perf_counter_ns() - start
        best = elapsed if best is None else min(best, elapsed)
    assert best is not None
    return max(best, 1)


def _timed_probe(index: int, rounds: int, repeat: int) -> tuple[int, int]:
    """(instructions executed, best ns) of a probe."""
    ops = _native.run_probe(index, rounds)
    return ops, _best_ns(lambda: _native.run_probe(index, rounds), repeat)


def _clock_ghz(repeat: int) -> float:
    index = {name: i for i, name in _native.probes()}[_CLOCK]
    ops, ns = _timed_probe(index, 100_000, repeat)
    return ops / ns


def measure_probes(repeat: int = 7) -> tuple[float, dict[str, Probe]]:
    """This CPU's clock in GHz and every instruction probe it runs."""
    ghz = _clock_ghz(repeat)
    result: dict[str, Probe] = {}
    for index, name in _native.probes():
        kind, insn = name.split(":", 1)
        if kind == "clock":
            continue
        ghz = max(ghz, _clock_ghz(3))
        ops, ns = _timed_probe(index, 20_000, repeat)
        cycles = ns * ghz
        value = ops / cycles if kind == "tput" else cycles / ops
        result[f"{kind}:{insn}"] = Probe(insn, kind, value)
    return ghz, result


def _rate(probes: dict[str, Probe], *names: str) -> float | None:
    rates = [probes[f"tput:{n}"].value for n in names if f"tput:{n}" in probes]
    return max(rates) if rates else None


def _latency(probes: dict[str, Probe], isa: str, cls: str) -> float | None:
    """Cycles of one instruction of a chain class for a kernel family."""
    if cls == "scalar":
        return 1.0
    if isa == "avx512":
        name = {"rot": "vprold.z", "add": "vpaddd.z", "logic": "vpternlogd.z"}[cls]
        probe = probes.get(f"lat:{name}")
        return None if probe is None else probe.value
    if isa == "avx2":
        probe = probes.get("lat:vpaddd.y")
        if probe is None:
            return None
        # A rotate is a shift then an OR; a boolean function two logic steps.
        return probe.value * (2 if cls in ("rot", "logic") else 1)
    probe = probes.get(f"lat:{cls}")
    return None if probe is None else probe.value


def _isa(kernel: str) -> str:
    isa = kernel.split("-", 1)[1]
    return "avx512" if isa.startswith("avx512") else isa


def bound_of(model: KernelModel, probes: dict[str, Probe]) -> tuple[float, str] | None:
    """(cycles per code, what limits it) for a kernel model, or None when a probe is missing."""
    isa = _isa(model.kernel)
    candidates: list[tuple[float, str]] = []
    if isa in ("avx512", "avx2"):
        wide = isa == "avx512"
        alu = _rate(probes, *(("vpaddd.z", "vpxord.z", "vpternlogd.z") if wide
                              else ("vpaddd.y", "vpxor.y")))
        shift = _rate(probes, "vprold.z" if wide else "vpslld.y")
        if alu is None or shift is None:
            return None
        candidates.append((model.per_code.get("alu", 0.0) / alu, "vector ALU pipes"))
        candidates.append((model.per_code.get("shift", 0.0) / shift, "shift/rotate pipes"))
    else:
        for insn, count in model.per_code.items():
            rate = _rate(probes, insn)
            if rate is None:
                return None
            candidates.append((count / rate, f"{insn} throughput"))
    chain = 0.0
    for cls, count in model.chain:
        lat = _latency(probes, isa, cls)
        if lat is None:
            return None
        chain += lat * count
    candidates.append((chain / model.in_flight, f"latency, {model.in_flight} codes in flight"))
    return max(candidates)


def _hotp_job(kernel: str, units: int) -> Callable[[], object]:
    digest = kernel.split("-", 1)[0]
    key = bytes(range(1, {"sha1": 21, "sha256": 33, "sha512": 65}[digest]))
    counters = array("Q", range(units))
    out = array("I", bytes(4 * units))
    return lambda: bulk.hotp(key, counters, digest=digest, threads=1, out=out)


def _verify_job(kernel: str, users: int) -> Callable[[], object]:
    digest = kernel.split("-", 1)[0]
    keys = [i.to_bytes(4, "big") * 5 for i in range(users)]
    t = 1_700_000_000
    table = bulk.KeyTable(keys, digest=digest)
    codes = bulk.totp(table, t)
    return lambda: bulk.verify_totp(table, codes, t, window=1, threads=1)


def measure_kernels(
    probes: dict[str, Probe],
    ghz: float,
    *,
    kernels: Sequence[str] | None = None,
    units: int = 65_536,
    repeat: int = 7,
) -> list[BoundRow]:
    """Every kernel's cost per code against its bound (HOTP, and TOTP verify at one step)."""
    lanes = {k.name: k.lanes for k in _native.all_kernels()}
    names = sorted(bulk.implementations() if kernels is None else kernels)
    rows = []
    for kernel in names:
        jobs: list[tuple[str, bool, int, Callable[[str, int], Callable[[], object]]]] = [
            ("HOTP, one key", False, 1, _hotp_job)]
        if kernel.startswith("sha1-"):
            jobs.append(("TOTP verify +-1, KeyTable (3 codes/user)", True, 3, _verify_job))
        for work, shared, codes_per_unit, make in jobs:
            model = model_for(kernel, lanes[kernel], shared=shared)
            with _native.forced_kernels(kernel):
                per_run = units if not shared else units // 4
                fn = make(kernel, per_run)
                clock = max(ghz, _clock_ghz(3))
                ns = _best_ns(fn, repeat) / (per_run * codes_per_unit)
            cycles = ns * clock
            found = None if model is None else bound_of(model, probes)
            bound, limit = found if found is not None else (float("nan"), "no model")
            rows.append(BoundRow(kernel, work, ns, cycles, bound, limit, bound / cycles))
    return rows


def format_bound(ghz: float, probes: dict[str, Probe], rows: Sequence[BoundRow]) -> str:
    """The probes, then one line per kernel and job."""
    lines = [f"clock (dependent adds): {ghz:.2f} GHz", "instruction classes:"]
    for p in probes.values():
        unit = "per cycle" if p.kind == "tput" else "cycles latency"
        lines.append(f"  {p.name:<16} {p.value:6.2f} {unit}")
    lines.append("")
    width = max((len(r.work) for r in rows), default=10)
    lines.append(f"  {'kernel':<16} {'work':<{width}} {'ns/code':>8} {'cyc/code':>9} "
                 f"{'bound':>7} {'fraction':>8}  limited by")
    for r in rows:
        lines.append(f"  {r.kernel:<16} {r.work:<{width}} {r.ns_per_code:8.2f} "
                     f"{r.cycles_per_code:9.1f} {r.bound_cycles:7.1f} {r.fraction:8.2f}  "
                     f"{r.limit}")
    return "\n".join(lines)


def run(*, quick: bool = False) -> tuple[float, dict[str, Probe], list[BoundRow]]:
    """Probes and every kernel this CPU runs against its bound."""
    repeat = 3 if quick else 7
    ghz, probes = measure_probes(repeat)
    rows = measure_kernels(probes, ghz, units=16_384 if quick else 65_536, repeat=repeat)
    return ghz, probes, rows
