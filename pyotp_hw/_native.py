"""The only importer of the compiled ``pyotp_hw._core`` module.

Layer 1: typed wrappers over the C entry points, conversion and checking of buffers and lengths,
kernel selection at import, and translation of C status codes into Python exceptions. Everything
above this module speaks Python types; everything below it is C.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import warnings
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from . import _numbers
from ._core import ffi, lib
from ._time import floor_seconds
from .errors import InvalidArgument, InvalidSecret, InvalidType, MemoryLockWarning, NativeError

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
    "hotp_code",
    "hotp_key_code",
    "totp_now_call",
    "hotp_at_call",
    "totp_verify_call",
    "hotp_verify_call",
    "verify_totp_one",
    "verify_hotp_one",
    "verify_totp_key",
    "verify_hotp_key",
    "all_kernels",
    "kernel_for",
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
    if status in (lib.OTP_E_KERNEL, lib.OTP_E_NULL, lib.OTP_E_STRIDE, lib.OTP_E_CLOCK):
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
    """Owner of one C key table. Freed (and wiped) by :meth:`close` or by garbage collection.

    C calls run without the GIL, so a table may be read by a kernel in one thread while another
    thread closes it. Every call that hands the table to C holds a *use* (:meth:`acquire` /
    :meth:`release`) for as long as C may read it; :meth:`close` refuses new uses at once and
    frees the memory only after the last use in flight was released.
    """

    __slots__ = ("__weakref__", "_closing", "_idle", "_ptr", "_uses", "digest", "size")

    def __init__(self, digest: int, keys: Sequence[bytes]) -> None:
        n = len(keys)
        if n == 0:
            raise InvalidArgument("a key table needs at least one key")
        holder = ffi.new("otp_keytable **")
        check_status(lib.otp_keytable_new(digest, n, holder))
        self._ptr: Any = ffi.gc(holder[0], lib.otp_keytable_free)
        self._uses = 0
        self._closing = False
        self._idle = threading.Condition(threading.Lock())
        self.digest = digest
        self.size = n
        self._warn_unlocked()
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
        self._uses = 0
        self._closing = False
        self._idle = threading.Condition(threading.Lock())
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
        self._uses = 0
        self._closing = False
        self._idle = threading.Condition(threading.Lock())
        self.digest = digest
        self.size = total
        self._warn_unlocked()
        first = 0
        for source, rows, count in parts:
            err = _err_slot()
            src = source.acquire()
            try:
                status = lib.otp_keytable_gather(self._ptr, first, src, rows, count, err)
            finally:
                source.release()
            if status != lib.OTP_OK:
                self.close()
                check_status(status, err)
            first += count
        return self

    def view(self, first: int, count: int) -> Any:
        """A C view of rows [first, first + count) (freed when garbage; keep ``self`` alive).

        The view points into this table's memory: use it only while holding a use.
        """
        holder = ffi.new("otp_keytable **")
        check_status(lib.otp_keytable_view(self.ptr, first, count, holder))
        return ffi.gc(holder[0], lib.otp_keytable_free)

    @property
    def ptr(self) -> Any:
        """The C pointer; raises when the table is closed.

        Code that passes it to a C call another thread could overlap with holds a use instead
        (:meth:`acquire`), so that :meth:`close` cannot free it meanwhile.
        """
        if self._ptr is None:
            raise InvalidArgument("the key table is closed")
        return self._ptr

    def acquire(self) -> Any:
        """Start a use of the table and return its C pointer; raises when it is closed.

        Pair every call with :meth:`release` (``try``/``finally``).
        """
        with self._idle:
            if self._ptr is None or self._closing:
                raise InvalidArgument("the key table is closed")
            self._uses += 1
            return self._ptr

    def release(self) -> None:
        """End a use started by :meth:`acquire`; the last one lets a waiting close go on."""
        with self._idle:
            self._uses -= 1
            if self._uses == 0:
                self._idle.notify_all()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (it may still wait for calls in flight)."""
        return self._ptr is None or self._closing

    @property
    def locked(self) -> bool:
        """True when every page of the key material is locked in RAM (no swapping).

        Each table owns its pages, so this stays true until this table is closed, whatever
        other tables do.
        """
        return self._ptr is not None and bool(lib.otp_keytable_is_locked(self._ptr))

    @property
    def lock_error(self) -> str | None:
        """Why locking the key material failed (the OS error), or None when it is locked."""
        if self._ptr is None:
            return None
        code = int(lib.otp_keytable_lock_errno(self._ptr))
        if code:
            return f"mlock failed: {os.strerror(code)} (errno {code})"
        return None if self.locked else "memory locking is not available on this OS"

    def memory_region(self) -> tuple[int, int]:
        """(address, size) of the key memory, for tests that ask the OS about its pages."""
        size = ffi.new("size_t *")
        mem = lib.otp_keytable_memory(self.ptr, size)
        return int(ffi.cast("uintptr_t", mem)), int(size[0])

    def _warn_unlocked(self) -> None:
        reason = self.lock_error
        if reason is not None:
            warnings.warn(
                f"key table memory is not locked in RAM and may be swapped: {reason}; raise "
                "RLIMIT_MEMLOCK (ulimit -l) or see KeyTable.lock_error",
                MemoryLockWarning, stacklevel=4,
            )

    def close(self) -> None:
        """Wipe and free the key material (idempotent).

        New uses are refused at once; the memory is wiped and freed once the calls in flight
        (other threads' batch calls) have finished with it, so this may wait for them.
        """
        with self._idle:
            # New uses are refused from here on; the ones in flight still read the pointer
            # (a split batch makes its row views from it), so it stays until they end.
            self._closing = True
            while self._uses:
                self._idle.wait()
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


def _scalar_spec(kernel: Any, digits: int, t0: int = 0, interval: int = 1) -> Any:
    """An ``otp_scalar`` of an object's fixed parameters (checked by the caller)."""
    return ffi.new("otp_scalar *", {"kernel": kernel, "t0": t0, "interval": interval,
                                    "digits": digits})


def _totp_failed(value: int, t0: int, table: NativeKeyTable | None) -> None:
    if value == lib.OTP_E_TIME:
        raise InvalidArgument(f"the time is before t0 ({t0})")
    _closed_or(value, table)


# The per-object calls below bind an object's kernel, parameters and table once, so that each
# call passes two or three arguments to C (cffi converts each one on every call) and reads no
# attribute but the table's pointer. That pointer is read at every call, as the other wrappers
# do, so a closed table (its pointer None, which cffi refuses with TypeError: the one argument
# that can be refused) is "the key table is closed", never a freed pointer; the objects' own
# tables are never closed while an object holds them, they are freed as garbage. Every one is
# immutable once made, so threads share it.

_CLOSED = "the key table is closed"


def totp_now_call(kernel: Any, table: NativeKeyTable, t0: int, interval: int,
                  digits: int) -> Callable[[], str]:
    """A function returning the zero-padded TOTP code of row 0 of ``table`` now: one C call.

    The C side reads the clock (the realtime clock, as ``time.time()``); a chosen time goes
    through the step and :func:`hotp_code` (``TOTP.at``). The function raises
    :class:`InvalidArgument` when the current time is before ``t0``.
    """
    spec = _scalar_spec(kernel, digits, t0, interval)
    now_c = lib.otp_totp_now

    def now() -> str:
        try:
            value: int = now_c(spec, table._ptr)
        except TypeError:
            raise InvalidArgument(_CLOSED) from None
        if value < 0:
            _totp_failed(value, t0, table)
        # str().zfill() measured faster than "%06d" % value and than C writing text for
        # ffi.string().decode() (bench/README.md, "TOTP.now() in one C call").
        return str(value).zfill(digits)

    return now


def hotp_at_call(kernel: Any, table: NativeKeyTable, digits: int) -> Callable[[int], str]:
    """A function returning the zero-padded HOTP code of row 0 of ``table`` at a counter.

    The counter must be an int in ``[0, 2**64)``, checked by the caller.
    """
    spec = _scalar_spec(kernel, digits)
    at_c = lib.otp_hotp_at

    def at(counter: int) -> str:
        try:
            value: int = at_c(spec, table._ptr, counter)
        except TypeError:
            raise InvalidArgument(_CLOSED) from None
        if value < 0:
            _closed_or(value, table)
        return str(value).zfill(digits)

    return at


def totp_verify_call(kernel: Any, t0: int, interval: int,
                     digits: int) -> Callable[[NativeKeyTable | None, bytes, int, int, int], int]:
    """A function ``(table, key, code, t, window)`` -> the lowest matching step, or -1.

    It checks ``code`` against the steps within ``window`` of time ``t`` (``t >= t0``) in one C
    call, against row 0 of ``table`` or, when ``table`` is None, against ``key``. The step comes
    back as the C call's value, so no output slot is allocated or shared between threads.
    """
    spec = _scalar_spec(kernel, digits, t0, interval)
    verify_c = lib.otp_verify_totp_step
    no_match = lib.OTP_NO_MATCH
    null = ffi.NULL

    def verify(table: NativeKeyTable | None, key: bytes, code: int, t: int, window: int) -> int:
        try:
            step: int = verify_c(spec, null if table is None else table._ptr, key, len(key),
                                 code, t, window)
        except TypeError:
            raise InvalidArgument(_CLOSED) from None
        if step < 0:
            if step == no_match:
                return -1
            _totp_failed(step, t0, table)
        return step

    return verify


def hotp_verify_call(kernel: Any, digits: int
                     ) -> Callable[[NativeKeyTable | None, bytes, int, int, int], int | None]:
    """A function ``(table, key, code, counter, look_ahead)`` -> the lowest matching counter.

    It checks ``code`` against ``[counter, counter + look_ahead]`` (never past 2**64-1) in one C
    call, against row 0 of ``table`` or, when ``table`` is None, against ``key``, and returns
    None when nothing matches. The C call returns the match's offset from ``counter``, so no
    output slot is allocated or shared between threads.
    """
    spec = _scalar_spec(kernel, digits)
    find_c = lib.otp_verify_hotp_offset
    no_match = lib.OTP_NO_MATCH
    null = ffi.NULL

    def find(table: NativeKeyTable | None, key: bytes, code: int, counter: int,
             look_ahead: int) -> int | None:
        try:
            offset: int = find_c(spec, null if table is None else table._ptr, key, len(key),
                                 code, counter, look_ahead)
        except TypeError:
            raise InvalidArgument(_CLOSED) from None
        if offset < 0:
            if offset == no_match:
                return None
            _closed_or(offset, table)
        return counter + offset

    return find


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


def verify_totp_key(kernel: Any, key: bytes | bytearray, code: int, t: int, t0: int,
                    interval: int, past: int, future: int, digits: int, last_step: int
                    ) -> tuple[int, int]:
    """One TOTP code against ``key`` (HMAC states on the C stack, wiped): the lowest step of the
    ``(past, future)`` window around time ``t`` above ``last_step`` (-1: none used) whose code it
    is, and the lowest step of the window whose code it is, used or not; -1 where none is.

    Both are computed whatever matches, so a match, a replay and a wrong code cost the same.
    """
    out = ffi.new("int64_t[2]")
    status = lib.otp_verify_totp_key(kernel, ffi.from_buffer(key), len(key), code, t, t0,
                                     interval, past, future, digits, last_step, out)
    if status:
        if status == lib.OTP_E_KEY:
            raise InvalidSecret("secret is empty")
        check_status(status)
    return int(out[0]), int(out[1])


def verify_hotp_key(kernel: Any, key: bytes | bytearray, code: int, counter: int,
                    replay_from: int, look_ahead: int, digits: int
                    ) -> tuple[int | None, int | None]:
    """One HOTP code against ``key``: the lowest matching counter in ``[counter, counter +
    look_ahead]`` and in ``[replay_from, replay_from + look_ahead]``, None where none matches.

    Both ranges are computed whatever matches.
    """
    out = ffi.new("uint64_t[2]")
    found = ffi.new("uint8_t[2]")
    status = lib.otp_verify_hotp_key(kernel, ffi.from_buffer(key), len(key), code, counter,
                                     replay_from, look_ahead, digits, out, found)
    if status:
        if status == lib.OTP_E_KEY:
            raise InvalidSecret("secret is empty")
        check_status(status)
    return (int(out[0]) if found[0] else None), (int(out[1]) if found[1] else None)


def entry_address(name: str) -> int:
    """The address of one of the core's C functions, for a C test harness that calls it."""
    if not name.startswith("otp_") or not hasattr(lib, name):
        raise InvalidArgument(f"the core has no C function {name!r}")
    return int(ffi.cast("uintptr_t", ffi.addressof(lib, name)))


def pointer_address(ptr: Any) -> int:
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


_C_TYPES = {"Q": "uint64_t[]", "q": "int64_t[]", "I": "uint32_t[]"}


def _arg(value: Any, name: str, kind: _numbers.Kind) -> Arg:
    """A number argument read by the one rule of :mod:`pyotp_hw._numbers`, as a C view."""
    got = _numbers.read(value, name, kind)
    ctype = _C_TYPES[kind.code]
    if got.value is not None:
        return Arg(ffi.new(ctype[:-2] + "[1]", [got.value]), None, None)
    if got.unchecked_signed:
        signed = ffi.from_buffer("int64_t[]", got.items)
        bad = lib.otp_find_negative(signed, got.length)
        if bad != got.length:
            raise InvalidArgument(f"{name}[{bad}] is negative; {kind.what} must be between "
                                  f"{kind.range_text}")
    return Arg(ffi.from_buffer(ctype, got.items), got.length, got.items)


def int_option(value: Any, name: str, lo: int, hi: int, what: str = "an int") -> int:
    """An int option of a call (digits, interval, window, threads), range-checked."""
    return _numbers.option(value, name, lo, hi, what)


def u64_arg(value: Any, name: str) -> Arg:
    """Counters (unsigned 64-bit): one, a sequence or a buffer (see :mod:`pyotp_hw._numbers`)."""
    return _arg(value, name, _numbers.COUNTER)


def time_to_int(value: Any, name: str = "for_time") -> int:
    """Seconds since the epoch (floored) from an int, a float or an aware datetime."""
    return floor_seconds(value, name)


def i64_arg(value: Any, name: str) -> Arg:
    """Times (signed 64-bit seconds; reals floored, aware datetimes): one or many."""
    return _arg(value, name, _numbers.TIME)


def step_arg(value: Any, name: str) -> Arg:
    """Time steps (signed 64-bit ints, no fractions): one or many."""
    return _arg(value, name, _numbers.STEP)


def u32_arg(value: Any, name: str) -> Arg:
    """Codes (unsigned 32-bit): one, a sequence or a buffer (zero-copy for uint32)."""
    return _arg(value, name, _numbers.CODE)


def u32_rows_arg(value: Any, size: int) -> Arg:
    """Row indices into a key table of ``size`` rows (checked in C as well)."""
    arg = _arg(value, "rows", _numbers.ROW)
    if arg.length is None:
        raise InvalidType("rows must be a sequence of row indices, not one number")
    return arg


def u32_out(out: Any, n: int) -> tuple[Any, Any]:
    """A writable uint32 buffer of at least ``n`` items: ``out`` itself, or a new array('I')."""
    if out is None:
        result = array("I", bytes(4 * n))
        return ffi.from_buffer("uint32_t[]", result, require_writable=True), result
    view = _numbers.buffer_view(out, "out")
    if view is None or view.readonly or not view.c_contiguous or view.ndim != 1:
        raise InvalidArgument("out must be a writable, contiguous 1-D buffer of uint32")
    fmt = view.format.lstrip("@=" + ("<" if _LITTLE else ">!"))
    if fmt not in ("I", "L") or view.itemsize != 4:
        raise InvalidArgument(f"out must hold uint32 items, not format {view.format!r}")
    if len(view) < n:
        raise InvalidArgument(f"out holds {len(view)} items but {n} are needed")
    return ffi.from_buffer("uint32_t[]", view, require_writable=True), out


def i64_out(n: int) -> tuple[Any, array[int]]:
    """A new zeroed array('q') of ``n`` items and its C pointer."""
    result = array("q", bytes(8 * n))
    return ffi.from_buffer("int64_t[]", result, require_writable=True), result


# ---------------------------------------------------------------- batch entry points
# One checked wrapper per C batch call: the layers above pass Arg views, a start and a count,
# and never see pointers, NULL or the error slot.


class ErrorSlot:
    """Where a C batch call writes the index of the item it refused."""

    __slots__ = ("_slot",)

    def __init__(self) -> None:
        self._slot = _err_slot()

    def check(self, status: int, base: int = 0) -> None:
        """Raise for a failed ``status``, naming the item counted from ``base``."""
        if status == lib.OTP_OK:
            return
        if self._slot[0] != _U64_MAX:
            self._slot[0] += base
        check_status(status, self._slot)


def _rows_at(rows: Arg | None, start: int) -> Any:
    return ffi.NULL if rows is None else rows.ptr + start


def hotp_batch(kernel: Any, keys: Any, rows: Arg | None, key_stride: int, counters: Arg,
               start: int, count: int, digits: int, out: Any, err: ErrorSlot) -> int:
    """``otp_hotp`` over items ``start .. start+count-1`` (``keys`` already at ``start``)."""
    return int(lib.otp_hotp(kernel, keys, _rows_at(rows, start), key_stride, counters.at(start),
                            counters.stride, count, digits, out + start, err._slot))


def totp_batch(kernel: Any, keys: Any, rows: Arg | None, key_stride: int, times: Arg,
               start: int, count: int, t0: int, interval: int, digits: int, out: Any,
               err: ErrorSlot) -> int:
    """``otp_totp`` over items ``start .. start+count-1``."""
    return int(lib.otp_totp(kernel, keys, _rows_at(rows, start), key_stride, times.at(start),
                            times.stride, count, t0, interval, digits, out + start, err._slot))


def verify_totp_batch(kernel: Any, keys: Any, rows: Arg | None, key_stride: int, codes: Arg,
                      times: Arg, last: Arg | None, start: int, count: int, t0: int,
                      interval: int, past: int, future: int, digits: int, out: Any,
                      err: ErrorSlot) -> int:
    """``otp_verify_totp`` over items ``start .. start+count-1`` (``last``: replay floor)."""
    return int(lib.otp_verify_totp(
        kernel, keys, _rows_at(rows, start), key_stride, codes.at(start), codes.stride,
        times.at(start), times.stride, count, t0, interval, past, future, digits,
        ffi.NULL if last is None else last.at(start), 0 if last is None else last.stride,
        out + start, err._slot))


def verify_hotp_batch(kernel: Any, keys: Any, rows: Arg | None, key_stride: int, codes: Arg,
                      counters: Arg, start: int, count: int, look_ahead: int, digits: int,
                      out: Any, err: ErrorSlot) -> int:
    """``otp_verify_hotp`` over items ``start .. start+count-1``, into an int64 ``out``.

    Not-found is written as 2**64-1, which reads as -1 in the int64 result.
    """
    out_u64 = ffi.cast("uint64_t *", out)
    return int(lib.otp_verify_hotp(
        kernel, keys, _rows_at(rows, start), key_stride, codes.at(start), codes.stride,
        counters.at(start), counters.stride, count, look_ahead, digits, 1, out_u64 + start,
        ffi.NULL, err._slot))
