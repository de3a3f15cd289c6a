"""Hooks for C test harnesses and the CPU bound: C addresses, the core hashes, CPU probes."""

from __future__ import annotations

from .._core import ffi, lib
from ..errors import InvalidArgument
from ._codes import CData, check_status

__all__ = ["entry_address", "hash_bytes", "pointer_address", "probes", "run_probe"]


def entry_address(name: str) -> int:
    """The address of one of the core's C functions, for a C test harness that calls it."""
    if not name.startswith("otp_") or not hasattr(lib, name):
        raise InvalidArgument(f"the core has no C function {name!r}")
    return int(ffi.cast("uintptr_t", ffi.addressof(lib, name)))


def pointer_address(ptr: CData) -> int:
    """The address a C pointer (a kernel, a table) holds, for a C test harness."""
    return int(ffi.cast("uintptr_t", ptr))


def hash_bytes(digest: int, data: bytes) -> bytes:
    """Hash ``data`` with the core's own compression functions (for tests of the C hashes)."""
    out = ffi.new("uint8_t[64]")
    check_status(lib.otp_hash(digest, data, len(data), out, 64))
    size = {1: 20, 2: 32, 3: 64}[digest]
    return bytes(ffi.buffer(out, size))


def probes() -> list[tuple[int, str]]:
    """The instruction probes this CPU runs: (index, "kind:instruction") pairs (csrc/probe.c)."""
    return [
        (i, ffi.string(lib.otp_probe_name(i)).decode("ascii"))
        for i in range(lib.otp_probe_count())
        if lib.otp_probe_supported(i)
    ]


def run_probe(index: int, rounds: int) -> int:
    """Run probe ``index`` for ``rounds`` loop iterations; the instructions it executed."""
    return int(lib.otp_probe_run(index, rounds))
