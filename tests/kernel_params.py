"""Every compiled kernel as a pytest parameter: run where this CPU has its instructions, skipped
with the kernel's name and the missing CPU features where it has not (shown by ``pytest -rs``)."""

from __future__ import annotations

from typing import Any

import pytest

from pyotp_hw import _native


def skip_reason(kernel: _native.Kernel) -> str:
    """Why a kernel cannot run here, naming it and what the CPU lacks."""
    return f"kernel {kernel.name} not run: this CPU lacks {' and '.join(kernel.missing)}"


def kernel_params(kernels: list[_native.Kernel] | None = None) -> list[Any]:
    """One ``pytest.param`` per kernel (id: its name), marked skip where it cannot run."""
    result = []
    for k in _native.all_kernels() if kernels is None else kernels:
        marks = () if k.supported else (pytest.mark.skip(reason=skip_reason(k)),)
        result.append(pytest.param(k.name, id=k.name, marks=marks))
    return result
