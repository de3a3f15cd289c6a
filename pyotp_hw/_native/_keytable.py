"""The owner of one C key table: building, gathering, viewing and closing it safely."""

from __future__ import annotations

import os
import threading
import warnings
from array import array
from collections.abc import Sequence
from operator import countOf

from .._core import ffi, lib
from ..errors import InvalidArgument, InvalidSecret, MemoryLockWarning
from ._codes import _U64_MAX, CData, _err_slot, check_status
from ._kernels import kernel_for

__all__ = ["NativeKeyTable", "NotRawKeys"]

# Keys per C call when building a table: 4096 keys' objects, Py_buffer records (80 bytes each,
# made by bytes.join) and offsets fit in L2, where one join of a million keys wrote 80 MB of them.
_CHUNK = 4096
_RAW_TYPES = frozenset({bytes, bytearray})


class NotRawKeys(Exception):  # a signal from this layer to bulk, which decodes; never shown
    """Some key given to :class:`NativeKeyTable` is not ``bytes`` or ``bytearray``."""


def _layout(part: Sequence[bytes | bytearray]) -> tuple[array[int] | None, int]:
    """Where the keys of ``part`` lie once joined: ``(None, size)`` when each is ``size`` bytes,
    else ``(offsets, 0)`` with ``len(part) + 1`` offsets. NotRawKeys when some key is not raw.

    Two passes over the objects at C speed (a third for keys of several lengths); ``countOf``
    compares by identity first, which an exact type and a small int pass at once (cheaper than
    building a set or an array).
    """
    m = len(part)
    if countOf(map(type, part), bytes) != m and not set(map(type, part)) <= _RAW_TYPES:
        raise NotRawKeys
    size = len(part[0])
    if countOf(map(len, part), size) == m:
        return None, size
    # Lengths gathered at C speed, summed in C.
    offsets = array("Q", [0])
    offsets.extend(map(len, part))
    check_status(lib.otp_prefix_sum(ffi.from_buffer("uint64_t[]", offsets), m + 1))
    return offsets, 0


class NativeKeyTable:
    """Owner of one C key table. Freed (and wiped) by :meth:`close` or by garbage collection.

    C calls run without the GIL, so a table may be read by a kernel in one thread while another
    thread closes it. Every call that hands the table to C holds a *use* (:meth:`acquire` /
    :meth:`release`) for as long as C may read it; :meth:`close` refuses new uses at once and
    frees the memory only after the last use in flight was released.
    """

    __slots__ = ("__weakref__", "_closing", "_idle", "_ptr", "_uses", "digest", "size")

    def __init__(self, digest: int, keys: Sequence[bytes | bytearray]) -> None:
        """A table of ``keys``, each a non-empty ``bytes`` or ``bytearray`` (raw key bytes).

        Raises :class:`NotRawKeys` when some item is neither (the caller decodes them and tries
        again); no copy of a key outlives the call, so a caller may wipe its bytearrays.
        """
        n = len(keys)
        if n == 0:
            raise InvalidArgument("a key table needs at least one key")
        holder = ffi.new("otp_keytable **")
        check_status(lib.otp_keytable_new(digest, n, holder))
        self._adopt(holder[0], digest, n)
        self._warn_unlocked()
        kernel = kernel_for(digest).ptr
        try:
            # A chunk's objects, join buffers and offsets stay in the caches between its passes.
            for first in range(0, n, _CHUNK):
                self._load(kernel, keys if n <= _CHUNK else keys[first:first + _CHUNK], first)
        except BaseException:
            self.close()
            raise

    def _load(self, kernel: CData, part: Sequence[bytes | bytearray], first: int) -> None:
        """Rows first.. from ``part``: three passes over its objects, then one C call."""
        offsets, size = _layout(part)
        joined = bytearray().join(part)
        try:
            if len(joined) != (size * len(part) if offsets is None else offsets[-1]):
                raise NotRawKeys  # a bytearray resized by another thread meanwhile
            err = _err_slot()
            # The selected kernel's key schedule builds every row of the part in this one call.
            status = lib.otp_keytable_load(
                kernel, self._ptr, first, len(part), ffi.from_buffer(joined), len(joined),
                ffi.NULL if offsets is None else ffi.from_buffer("uint64_t[]", offsets), size,
                err,
            )
            if status == lib.OTP_E_KEY:
                index = int(err[0]) if err[0] != _U64_MAX else 0
                raise InvalidSecret(f"secret {first + index}: secret is empty")
            check_status(status, err)
        finally:
            lib.otp_wipe(ffi.from_buffer(joined), len(joined))

    @classmethod
    def gathered(cls, parts: Sequence[tuple[NativeKeyTable, CData, int]]) -> NativeKeyTable:
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
        self._adopt(holder[0], digest, total)
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

    def _adopt(self, table: CData, digest: int, size: int) -> None:
        """Own the new C ``table`` (wiped and freed by :meth:`close` or as garbage), no use held."""
        self._ptr: CData = ffi.gc(table, lib.otp_keytable_free)
        self._uses = 0
        self._closing = False
        self._idle = threading.Condition(threading.Lock())
        self.digest = digest
        self.size = size

    def view(self, first: int, count: int) -> CData:
        """A C view of rows [first, first + count) (freed when garbage; keep ``self`` alive).

        The view points into this table's memory: use it only while holding a use.
        """
        holder = ffi.new("otp_keytable **")
        check_status(lib.otp_keytable_view(self.ptr, first, count, holder))
        return ffi.gc(holder[0], lib.otp_keytable_free)

    @property
    def ptr(self) -> CData:
        """The C pointer; raises when the table is closed.

        Code that passes it to a C call another thread could overlap with holds a use instead
        (:meth:`acquire`), so that :meth:`close` cannot free it meanwhile.
        """
        if self._ptr is None:
            raise InvalidArgument("the key table is closed")
        return self._ptr

    def acquire(self) -> CData:
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
