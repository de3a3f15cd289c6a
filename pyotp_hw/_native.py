"""The only importer of the compiled ``pyotp_hw._core`` module.

Layer 1: typed wrappers over the C entry points, conversion and checking of buffers and lengths,
kernel selection at import, and translation of C status codes into Python exceptions. Everything
above this module speaks Python types; everything below it is C.
"""

from __future__ import annotations

import contextlib
import os
import sys
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ._core import ffi, lib
from ._time import floor_seconds
from .errors import InvalidArgument, InvalidSecret, InvalidType, NativeError

__all__ = [
    "CPU_FEATURES",
    "DIGEST_IDS",
    "MAX_WINDOW",
    "MIN_DIGITS",
    "MAX_DIGITS",
    "RAW_DIGITS",
    "Kernel",
    "Arg",
    "NativeKeyTable",
    "hotp_code",
    "hotp_key_code",
    "totp_text",
    "verify_totp_one",
    "verify_hotp_one",
    "all_kernels",
    "kernel_for",
    "forced_kernels",
    "digest_id",
    "digest_name",
    "u64_arg",
    "i64_arg",
    "u32_arg",
    "u32_rows_arg",
    "u32_out",
    "i64_out",
    "check_status",
    "time_to_int",
    "hash_bytes",
    "lib",
    "ffi",
]

DIGEST_IDS: dict[str, int] = {
    "sha1": int(lib.OTP_SHA1),
    "sha256": int(lib.OTP_SHA256),
    "sha512": int(lib.OTP_SHA512),
}
_DIGEST_NAMES = {v: k for k, v in DIGEST_IDS.items()}
MAX_WINDOW: int = lib.OTP_MAX_WINDOW
MIN_DIGITS: int = lib.OTP_MIN_DIGITS
MAX_DIGITS: int = lib.OTP_MAX_DIGITS
RAW_DIGITS: int = lib.OTP_RAW_DIGITS
"""``digits`` value that asks the C core for the 31-bit truncated value itself."""
_U64_MAX = (1 << 64) - 1
_LITTLE = sys.byteorder == "little"


def digest_id(digest: Any) -> int:
    """Return the C id of a digest given as a name ("sha1", "SHA-256") or a hashlib constructor."""
    if type(digest) is str:
        known = DIGEST_IDS.get(digest)
        if known is not None:
            return known
    name = digest
    if not isinstance(digest, str):
        name = getattr(digest, "name", None)
        if name is None and callable(digest):
            # A callable that is no hash constructor: it wants arguments, or what it returns has
            # no name. Anything else it raises is its own failure and propagates as it is.
            try:
                name = digest().name
            except (TypeError, AttributeError) as exc:
                raise InvalidType("digest must be 'sha1', 'sha256' or 'sha512'") from exc
    if not isinstance(name, str):
        raise InvalidType(
            f"digest must be a str or hashlib constructor, not {type(digest).__name__}"
        )
    key = name.lower().replace("-", "").replace("_", "")
    if key.startswith("hmac"):
        key = key[4:]
    if key not in DIGEST_IDS:
        raise InvalidArgument(f"digest must be sha1, sha256 or sha512, not {name!r}")
    return DIGEST_IDS[key]


def digest_name(ident: int) -> str:
    """Return the canonical name ("sha1", ...) of a C digest id."""
    return _DIGEST_NAMES[ident]


def check_status(
    status: int, err_index: Any = None, *, names: dict[int, str] | None = None
) -> None:
    """Raise the Python exception matching a C status code (no-op for success)."""
    if status == lib.OTP_OK:
        return
    message = ffi.string(lib.otp_strerror(status)).decode("ascii")
    where = ""
    if err_index is not None and err_index[0] != _U64_MAX:
        where = f" (item {int(err_index[0])})"
    if names and status in names:
        message = f"{names[status]}: {message}"
    if status == lib.OTP_E_NOMEM:
        raise MemoryError(message)
    if status in (lib.OTP_E_KERNEL, lib.OTP_E_NULL, lib.OTP_E_STRIDE):
        raise NativeError(message + where)
    raise InvalidArgument(message + where)


def _err_slot() -> Any:
    slot = ffi.new("size_t *")
    slot[0] = _U64_MAX
    return slot


# ---------------------------------------------------------------- kernels


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
    ptr: Any = None
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


def _select_kernels(request: str | None) -> dict[int, Kernel]:
    """Pick a kernel per digest: the best supported one, or those PYOTP_HW_KERNEL names.

    PYOTP_HW_KERNEL is a comma-separated list of full names ("sha1-avx2") or of instruction-set
    names applied to every digest that has them ("portable", "avx2").
    """
    kernels = all_kernels()
    chosen: dict[int, Kernel] = {}
    for ident in _DIGEST_NAMES:
        best = lib.otp_kernel_best(ident)
        name = ffi.string(lib.otp_kernel_name(best)).decode("ascii")
        chosen[ident] = next(k for k in kernels if k.name == name)
    if not request:
        return chosen
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
            chosen[DIGEST_IDS[k.digest]] = k
    return chosen


_KERNELS = _select_kernels(os.environ.get("PYOTP_HW_KERNEL"))


def kernel_for(digest: int) -> Kernel:
    """The kernel selected at import for a digest id."""
    return _KERNELS[digest]


@contextlib.contextmanager
def forced_kernels(request: str | None) -> Iterator[dict[int, Kernel]]:
    """Internal hook for tests and benchmarks: run a block with other kernels selected.

    ``request`` reads like ``PYOTP_HW_KERNEL`` ("sha1-avx2", "avx2", "portable"; None restores
    the best kernels). The selection is process-wide while the block runs, so use it from one
    thread at a time; calls already inside C keep the kernel they started with.
    """
    global _KERNELS
    chosen = _select_kernels(request)
    saved = _KERNELS
    _KERNELS = chosen
    try:
        yield chosen
    finally:
        _KERNELS = saved


# ---------------------------------------------------------------- key tables


class NativeKeyTable:
    """Owner of one C key table. Freed (and wiped) by :meth:`close` or by garbage collection."""

    __slots__ = ("__weakref__", "_ptr", "digest", "size")

    def __init__(self, digest: int, keys: Sequence[bytes]) -> None:
        n = len(keys)
        if n == 0:
            raise InvalidArgument("a key table needs at least one key")
        holder = ffi.new("otp_keytable **")
        check_status(lib.otp_keytable_new(digest, n, holder))
        self._ptr: Any = ffi.gc(holder[0], lib.otp_keytable_free)
        self.digest = digest
        self.size = n
        joined = bytearray().join(keys)
        try:
            # Offsets of the keys inside `joined`: lengths gathered at C speed, summed in C.
            offsets = array("Q", [0])
            offsets.extend(map(len, keys))
            offsets_ptr = ffi.from_buffer("uint64_t[]", offsets)
            check_status(lib.otp_prefix_sum(offsets_ptr, n + 1))
            err = _err_slot()
            # The selected kernel's key schedule builds every row in this one call.
            status = lib.otp_keytable_load(
                kernel_for(digest).ptr, self._ptr, 0, n, ffi.from_buffer(joined), len(joined),
                offsets_ptr, 0, err,
            )
            if status == lib.OTP_E_KEY:
                index = int(err[0]) if err[0] != _U64_MAX else 0
                raise InvalidSecret(f"secret {index}: secret is empty")
            check_status(status, err)
        except BaseException:
            self.close()
            raise
        finally:
            lib.otp_wipe(ffi.from_buffer(joined), len(joined))

    @classmethod
    def of_key(cls, kernel: Any, key: bytes) -> NativeKeyTable:
        """A one-row table of ``key`` scheduled by the C kernel pointer ``kernel``, in one call.

        ``key`` must be non-empty bytes (the caller's decoded secret).
        """
        self = cls.__new__(cls)
        holder = ffi.new("otp_keytable **")
        status = lib.otp_keytable_new_key(kernel, key, len(key), holder)
        if status == lib.OTP_E_KEY:
            raise InvalidSecret("secret is empty")
        check_status(status)
        self._ptr = ffi.gc(holder[0], lib.otp_keytable_free)
        self.digest = int(lib.otp_kernel_digest(kernel))
        self.size = 1
        return self

    @classmethod
    def gathered(cls, parts: Sequence[tuple[NativeKeyTable, Any, int]]) -> NativeKeyTable:
        """A new table of the rows ``parts`` name, in order: ``(source, uint32 rows ptr, count)``.

        Every source must have the same digest; the rows of one part are copied by one C call.
        """
        digest = parts[0][0].digest
        total = sum(count for _, _, count in parts)
        if any(source.digest != digest for source, _, _ in parts):
            raise InvalidArgument("the key tables to gather from have different digests")
        self = cls.__new__(cls)
        holder = ffi.new("otp_keytable **")
        check_status(lib.otp_keytable_new(digest, total, holder))
        self._ptr = ffi.gc(holder[0], lib.otp_keytable_free)
        self.digest = digest
        self.size = total
        first = 0
        for source, rows, count in parts:
            err = _err_slot()
            status = lib.otp_keytable_gather(self._ptr, first, source.ptr, rows, count, err)
            if status != lib.OTP_OK:
                self.close()
                check_status(status, err)
            first += count
        return self

    def view(self, first: int, count: int) -> Any:
        """A C view of rows [first, first + count) (freed when garbage; keep ``self`` alive)."""
        holder = ffi.new("otp_keytable **")
        check_status(lib.otp_keytable_view(self.ptr, first, count, holder))
        return ffi.gc(holder[0], lib.otp_keytable_free)

    @property
    def ptr(self) -> Any:
        """The C pointer; raises when the table is closed."""
        if self._ptr is None:
            raise InvalidArgument("the key table is closed")
        return self._ptr

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._ptr is None

    @property
    def locked(self) -> bool:
        """True when the OS locked the key material in memory (no swapping)."""
        return self._ptr is not None and bool(lib.otp_keytable_is_locked(self._ptr))

    def close(self) -> None:
        """Wipe and free the key material now (idempotent)."""
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            ffi.release(ptr)


def _closed_or(status: int, table: NativeKeyTable | None) -> None:
    if table is not None and table.closed:
        raise InvalidArgument("the key table is closed")
    check_status(status)


def hotp_code(kernel: Any, table: NativeKeyTable, counter: int, digits: int) -> int:
    """The code of row 0 of ``table`` at ``counter``: one C call (``digits`` 0 gives 31 bits).

    ``kernel`` is a :class:`Kernel`'s ``ptr`` of the table's digest.
    """
    value: int = lib.otp_hotp_one(kernel, table._ptr, 0, counter, digits)
    if value < 0:
        _closed_or(value, table)
    return value


def totp_text(kernel: Any, table: NativeKeyTable, t: int, t0: int, interval: int,
              digits: int) -> str:
    """The zero-padded TOTP code of row 0 of ``table`` at Unix time ``t``: one C call.

    Raises :class:`InvalidArgument` when ``t`` is before ``t0``.
    """
    value: int = lib.otp_totp_one(kernel, table._ptr, 0, t, t0, interval, digits)
    if value < 0:
        if value == lib.OTP_E_TIME:
            raise InvalidArgument(f"the time is before t0 ({t0})")
        _closed_or(value, table)
    return str(value).zfill(digits)


def hotp_key_code(kernel: Any, key: bytes, counter: int, digits: int) -> int:
    """The code of ``key`` at ``counter`` without a heap table (HMAC states on the C stack)."""
    value: int = lib.otp_hotp_key(kernel, key, len(key), counter, digits)
    if value < 0:
        if value == lib.OTP_E_KEY:
            raise InvalidSecret("secret is empty")
        check_status(value)
    return value


def verify_totp_one(kernel: Any, table: NativeKeyTable | None, key: bytes, code: int, t: int,
                    t0: int, interval: int, window: int, digits: int) -> int:
    """The lowest step within ``window`` steps of time ``t`` whose code is ``code``, or -1.

    One C call against row 0 of ``table``, or against ``key`` when ``table`` is None.
    """
    out = ffi.new("int64_t *")
    ptr = ffi.NULL if table is None else table.ptr
    status = lib.otp_verify_totp_one(kernel, ptr, key, len(key), code, t, t0, interval, window,
                                     digits, out)
    if status:
        _closed_or(status, table)
    step: int = out[0]
    return step


def verify_hotp_one(kernel: Any, table: NativeKeyTable | None, key: bytes, code: int,
                    counter: int, look_ahead: int, digits: int) -> int | None:
    """The lowest counter in ``[counter, counter + look_ahead]`` whose code is ``code``, or None.

    One C call against row 0 of ``table``, or against ``key`` when ``table`` is None.
    """
    out = ffi.new("uint64_t *")
    found = ffi.new("uint8_t *")
    ptr = ffi.NULL if table is None else table.ptr
    status = lib.otp_verify_hotp_one(kernel, ptr, key, len(key), code, counter, look_ahead,
                                     digits, out, found)
    if status:
        _closed_or(status, table)
    return int(out[0]) if found[0] else None


def hash_bytes(digest: int, data: bytes) -> bytes:
    """Hash ``data`` with the core's own compression functions (for tests of the C hashes)."""
    out = ffi.new("uint8_t[64]")
    check_status(lib.otp_hash(digest, data, len(data), out, 64))
    size = {1: 20, 2: 32, 3: 64}[digest]
    return bytes(ffi.buffer(out, size))


# ---------------------------------------------------------------- array arguments


@dataclass
class Arg:
    """A C view of an argument: pointer, element count (None for a broadcast scalar), owner."""

    ptr: Any
    length: int | None
    keep: Any

    @property
    def stride(self) -> int:
        """0 for a broadcast scalar, 1 for one value per item."""
        return 0 if self.length is None else 1

    def at(self, offset: int) -> Any:
        """The pointer advanced by ``offset`` items (unchanged for a broadcast scalar)."""
        return self.ptr if self.length is None else self.ptr + offset


def _format(view: memoryview) -> str:
    fmt = view.format
    if fmt[:1] in ("<", "=", "@") and (fmt[:1] != "<" or _LITTLE):
        fmt = fmt[1:]
    return fmt


def _as_view(value: Any) -> memoryview | None:
    if isinstance(value, (str, bytes, bytearray)):
        return None
    try:
        view = memoryview(value)
    except TypeError:
        return None
    if view.ndim != 1:
        raise InvalidArgument(f"expected a one-dimensional buffer, got {view.ndim} dimensions")
    return view


def _int_list(value: Any, name: str) -> list[int]:
    try:
        items = list(value)
    except TypeError:
        raise InvalidType(f"{name} must be an int or a sequence of ints") from None
    for item in items:
        if not isinstance(item, int) or isinstance(item, bool):
            if hasattr(item, "__index__") and not isinstance(item, bool):
                continue
            raise InvalidType(f"{name} must contain ints, found {type(item).__name__}")
    return [int(x) for x in items]


def _check_int(value: Any, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise InvalidType(f"{name} must be an int, not {type(value).__name__}")
    v = int(value)
    if not lo <= v <= hi:
        raise InvalidArgument(f"{name} must be between {lo} and {hi}, got {v}")
    return v


def u64_arg(value: Any, name: str) -> Arg:
    """Unsigned 64-bit integers (counters): an int, a sequence or a buffer (zero-copy: 8-byte)."""
    if isinstance(value, int) or (hasattr(value, "__index__") and not hasattr(value, "__len__")):
        v = _check_int(value, name, 0, _U64_MAX)
        return Arg(ffi.new("uint64_t[1]", [v]), None, None)
    view = _as_view(value)
    if view is not None and view.c_contiguous:
        fmt = _format(view)
        if fmt in ("Q", "L", "q", "l") and view.itemsize == 8:
            ptr = ffi.from_buffer("uint64_t[]", view)
            if fmt in ("q", "l"):
                bad = lib.otp_find_negative(ffi.cast("int64_t *", ptr), len(view))
                if bad != len(view):
                    raise InvalidArgument(f"{name}[{bad}] is negative")
            return Arg(ptr, len(view), view)
    items = _int_list(view if view is not None else value, name)
    try:
        arr = array("Q", items)
    except OverflowError:
        bad = next(i for i, v in enumerate(items) if not 0 <= v <= _U64_MAX)
        raise InvalidArgument(f"{name}[{bad}] must be between 0 and 2**64-1") from None
    return Arg(ffi.from_buffer("uint64_t[]", arr), len(arr), arr)


def time_to_int(value: Any, name: str = "for_time") -> int:
    """Seconds since the epoch (floored) from an int, a float or an aware datetime."""
    return floor_seconds(value, name)


def i64_arg(value: Any, name: str) -> Arg:
    """Signed 64-bit integers (times, steps): scalar or sequence; floats and datetimes floored."""
    if not isinstance(value, (str, bytes, bytearray)) and not hasattr(value, "__len__"):
        v = time_to_int(value, name)
        return Arg(ffi.new("int64_t[1]", [v]), None, None)
    view = _as_view(value)
    if view is not None and view.c_contiguous:
        fmt = _format(view)
        if fmt in ("q", "l") and view.itemsize == 8:
            return Arg(ffi.from_buffer("int64_t[]", view), len(view), view)
    source = view.tolist() if view is not None else value
    try:
        arr = array("q", source)
    except (TypeError, OverflowError):
        arr = array("q", (time_to_int(v, f"{name}[{i}]") for i, v in enumerate(source)))
    return Arg(ffi.from_buffer("int64_t[]", arr), len(arr), arr)


def u32_arg(value: Any, name: str) -> Arg:
    """Unsigned 32-bit integers (codes): an int, a sequence or a buffer (zero-copy for uint32)."""
    if isinstance(value, int) or (hasattr(value, "__index__") and not hasattr(value, "__len__")):
        v = _check_int(value, name, 0, 0xFFFFFFFF)
        return Arg(ffi.new("uint32_t[1]", [v]), None, None)
    view = _as_view(value)
    if (
        view is not None
        and view.c_contiguous
        and _format(view) in ("I", "L")
        and view.itemsize == 4
    ):
        return Arg(ffi.from_buffer("uint32_t[]", view), len(view), view)
    items = _int_list(view if view is not None else value, name)
    try:
        arr = array("I", items)
    except OverflowError:
        bad = next(i for i, v in enumerate(items) if not 0 <= v <= 0xFFFFFFFF)
        raise InvalidArgument(f"{name}[{bad}] is not a possible code") from None
    return Arg(ffi.from_buffer("uint32_t[]", arr), len(arr), arr)


def u32_rows_arg(value: Any, size: int) -> Arg:
    """Row indices into a key table of ``size`` rows (checked in C as well)."""
    arg = u32_arg(value, "rows")
    if arg.length is None:
        raise InvalidType("rows must be a sequence of row indices")
    return arg


def u32_out(out: Any, n: int) -> tuple[Any, Any]:
    """A writable uint32 buffer of at least ``n`` items: ``out`` itself, or a new array('I')."""
    if out is None:
        result = array("I", bytes(4 * n))
        return ffi.from_buffer("uint32_t[]", result, require_writable=True), result
    view = _as_view(out)
    if view is None or view.readonly or not view.c_contiguous:
        raise InvalidArgument("out must be a writable, contiguous buffer of uint32")
    if _format(view) not in ("I", "L") or view.itemsize != 4:
        raise InvalidArgument(f"out must hold uint32 items, not format {view.format!r}")
    if len(view) < n:
        raise InvalidArgument(f"out holds {len(view)} items but {n} are needed")
    return ffi.from_buffer("uint32_t[]", view, require_writable=True), out


def i64_out(n: int) -> tuple[Any, array[int]]:
    """A new zeroed array('q') of ``n`` items and its C pointer."""
    result = array("q", bytes(8 * n))
    return ffi.from_buffer("int64_t[]", result, require_writable=True), result
