"""The only importer of the compiled ``pyotp_hw._core`` module.

Layer 1: typed wrappers over the C entry points, conversion and checking of buffers and lengths,
kernel selection at import, and translation of C status codes into Python exceptions. Everything
above this package speaks Python types; everything below it is C. The layers above import from
here only; the modules inside hold one job each:

- ``_codes``: the core's constants, digest ids, C status codes as exceptions, :data:`CData`;
- ``_kernels``: the compiled kernels and the one each digest uses;
- ``_keytable``: :class:`NativeKeyTable`, the owner of one C key table;
- ``_scalar``: the calls for one code (the scalar objects' handles, one-key checks);
- ``_args``: number arguments and output buffers as C views;
- ``_batch``: the checked batch calls and their :class:`ErrorSlot`;
- ``_harness``: hooks for C test harnesses and the CPU bound.
"""

from __future__ import annotations

from .._core import ffi, lib
from ._args import (
    Arg,
    i64_arg,
    i64_out,
    int_option,
    step_arg,
    time_to_int,
    u32_arg,
    u32_out,
    u32_rows_arg,
    u64_arg,
)
from ._batch import (
    ErrorSlot,
    hotp_batch,
    totp_batch,
    verify_hotp_batch,
    verify_totp_batch,
)
from ._codes import (
    DIGEST_IDS,
    MAX_DIGITS,
    MAX_WINDOW,
    MIN_DIGITS,
    RAW_DIGITS,
    CData,
    check_status,
    digest_id,
    digest_name,
)
from ._harness import (
    entry_address,
    hash_bytes,
    pointer_address,
    probes,
    run_probe,
)
from ._kernels import (
    CPU_FEATURES,
    Kernel,
    all_kernels,
    forced_kernels,
    kernel_for,
    lone_kernel_for,
)
from ._keytable import NativeKeyTable, NotRawKeys
from ._scalar import (
    NO_MATCH,
    hotp_key_code,
    scalar_failed,
    scalar_hotp,
    scalar_key,
    scalar_now,
    scalar_totp,
    scalar_verify_hotp,
    scalar_verify_totp,
    verify_hotp_key,
    verify_hotp_one,
    verify_totp_key,
    verify_totp_one,
)

__all__ = [
    "CPU_FEATURES",
    "ErrorSlot",
    "hotp_batch",
    "totp_batch",
    "verify_hotp_batch",
    "verify_totp_batch",
    "DIGEST_IDS",
    "MAX_WINDOW",
    "MIN_DIGITS",
    "MAX_DIGITS",
    "RAW_DIGITS",
    "Kernel",
    "Arg",
    "NativeKeyTable",
    "NotRawKeys",
    "hotp_key_code",
    "NO_MATCH",
    "scalar_key",
    "scalar_failed",
    "scalar_now",
    "scalar_hotp",
    "scalar_totp",
    "scalar_verify_totp",
    "scalar_verify_hotp",
    "verify_totp_one",
    "verify_hotp_one",
    "verify_totp_key",
    "verify_hotp_key",
    "all_kernels",
    "kernel_for",
    "lone_kernel_for",
    "forced_kernels",
    "digest_id",
    "digest_name",
    "u64_arg",
    "i64_arg",
    "u32_arg",
    "int_option",
    "step_arg",
    "u32_rows_arg",
    "u32_out",
    "i64_out",
    "check_status",
    "time_to_int",
    "hash_bytes",
    "entry_address",
    "pointer_address",
    "probes",
    "run_probe",
    "lib",
    "ffi",
    "CData",
]
