"""The compiled hash kernels: what the core holds, and which one each digest uses.

The selection is made at import (``PYOTP_HW_KERNEL`` may force lower ones) and can be swapped
for a block with :func:`forced_kernels`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

from .._core import ffi, lib
from ..errors import InvalidArgument
from ._codes import _DIGEST_NAMES, DIGEST_IDS, CData, digest_name

__all__ = ["CPU_FEATURES", "Kernel", "all_kernels", "forced_kernels", "kernel_for"]

# The CPU features a kernel may need, as people name them (the C core's OTP_CPU_* bits).
CPU_FEATURES: dict[int, str] = {
    int(lib.OTP_CPU_SSE41): "SSE4.1",
    int(lib.OTP_CPU_SHANI): "SHA-NI",
    int(lib.OTP_CPU_AVX2): "AVX2",
    int(lib.OTP_CPU_AVX512): "AVX-512 F/DQ/BW/VL",
}


@dataclass(frozen=True)
class Kernel:
    """A compiled hash kernel: its name, digest, SIMD lanes and whether this CPU runs it.

    ``missing`` names the CPU features it needs that this CPU (or its OS) lacks, empty exactly
    when ``supported``; ``priority`` ranks it among its digest's kernels (higher is preferred).
    """

    name: str
    digest: str
    lanes: int
    supported: bool
    ptr: CData = None
    missing: tuple[str, ...] = ()
    priority: int = 0


def all_kernels() -> list[Kernel]:
    """Every kernel compiled into the core, supported or not."""
    result = []
    for i in range(lib.otp_kernel_count()):
        k = lib.otp_kernel_at(i)
        lacking = int(lib.otp_kernel_missing(k))
        result.append(
            Kernel(
                name=ffi.string(lib.otp_kernel_name(k)).decode("ascii"),
                digest=digest_name(lib.otp_kernel_digest(k)),
                lanes=int(lib.otp_kernel_lanes(k)),
                supported=bool(lib.otp_kernel_supported(k)),
                ptr=k,
                missing=tuple(n for bit, n in CPU_FEATURES.items() if lacking & bit),
                priority=int(lib.otp_kernel_priority(k)),
            )
        )
    return result


def _select_kernels(request: str | None) -> tuple[dict[int, Kernel], dict[int, Kernel]]:
    """Pick kernels per digest: (for batches, for lone codes), the best supported ones, or those
    PYOTP_HW_KERNEL names (then for both).

    PYOTP_HW_KERNEL is a comma-separated list of full names ("sha1-avx2") or of instruction-set
    names applied to every digest that has them ("portable", "avx2").
    """
    kernels = all_kernels()
    by_name = {k.name: k for k in kernels}

    def named(ptr: CData) -> Kernel:
        return by_name[ffi.string(lib.otp_kernel_name(ptr)).decode("ascii")]

    chosen = {ident: named(lib.otp_kernel_best(ident)) for ident in _DIGEST_NAMES}
    lone = {ident: named(lib.otp_kernel_best_lone(ident)) for ident in _DIGEST_NAMES}
    if not request:
        return chosen, lone
    for word in (w.strip() for w in request.split(",")):
        if not word:
            continue
        matches = [k for k in kernels if k.name == word or k.name.split("-", 1)[1] == word]
        if not matches:
            names = ", ".join(k.name for k in kernels)
            raise InvalidArgument(f"PYOTP_HW_KERNEL names unknown kernel {word!r}; known: {names}")
        for k in matches:
            if not k.supported:
                raise InvalidArgument(f"PYOTP_HW_KERNEL: this CPU cannot run kernel {k.name!r}")
            chosen[DIGEST_IDS[k.digest]] = lone[DIGEST_IDS[k.digest]] = k
    return chosen, lone


_KERNELS, _LONE_KERNELS = _select_kernels(os.environ.get("PYOTP_HW_KERNEL"))


def kernel_for(digest: int) -> Kernel:
    """The kernel selected at import for a digest id."""
    return _KERNELS[digest]


def lone_kernel_for(digest: int) -> Kernel:
    """The kernel for a lone code or a few (scalar objects, small verification rounds).

    The SHA-NI kernel where the CPU has one (it computes a lone code as one stream, while a
    multi-buffer kernel pays for all its lanes), else the batch kernel; a kernel that
    PYOTP_HW_KERNEL or :func:`forced_kernels` names serves both.
    """
    return _LONE_KERNELS[digest]


@contextlib.contextmanager
def forced_kernels(request: str | None) -> Iterator[dict[int, Kernel]]:
    """Internal hook for tests and benchmarks: run a block with other kernels selected.

    ``request`` reads like ``PYOTP_HW_KERNEL`` ("sha1-avx2", "avx2", "portable"; None restores
    the best kernels). The selection is process-wide while the block runs, so use it from one
    thread at a time; calls already inside C keep the kernel they started with.
    """
    global _KERNELS, _LONE_KERNELS
    chosen, lone = _select_kernels(request)
    saved = _KERNELS, _LONE_KERNELS
    _KERNELS, _LONE_KERNELS = chosen, lone
    try:
        yield chosen
    finally:
        _KERNELS, _LONE_KERNELS = saved
