"""Batch API: one C call per batch, with the GIL released inside.

Keys are a :class:`KeyTable` (precomputed HMAC states, reused across calls) or any sequence of
secrets (bytes or base32 text; a temporary table is built and wiped for the call). Counters,
times, codes, steps and rows follow one rule, in every call (see :mod:`pyotp_hw._numbers`): a
number (broadcast to every item), a sequence, or a 1-D buffer such as ``array.array`` or a numpy
array, read by its item format (read without copying when the item type matches). ``bytes`` are
refused as numbers: their meaning (raw words or one number per byte) must be said.
Codes come back as ``array('I')`` or are written into ``out``.
"""

from __future__ import annotations

import os
import threading
from array import array
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar, overload

from . import _native as nat
from ._types import Buffer, Digest, Integers, Times, TimeValue
from .errors import InvalidArgument, InvalidSecret, InvalidType
from .keys import decode_secret

__all__ = [
    "KeyTable",
    "hotp",
    "totp",
    "verify_totp",
    "verify_hotp",
    "verify_totp_key",
    "verify_hotp_key",
    "implementations",
    "kernel_name",
]

Secret = str | bytes | bytearray | memoryview
"""One secret: base32 text or the raw key bytes."""
_Out = TypeVar("_Out", bound=Buffer)
# Below this many items per thread, splitting a batch costs more than it saves.
_MIN_ITEMS_PER_THREAD = 8192


class KeyTable:
    """Precomputed HMAC states for many secrets, laid out for the C kernels.

    Building the table is one C call. The key material lives in C memory, locked against
    swapping where the OS allows, and is wiped by :meth:`close` (also on leaving a ``with``
    block, and on garbage collection).
    """

    __slots__ = ("__weakref__", "_native")

    def __init__(self, secrets: Iterable[Secret], *, digest: Digest = "sha1") -> None:
        if isinstance(secrets, (str, bytes, bytearray, memoryview)):
            raise InvalidType("KeyTable takes a sequence of secrets; wrap a single one in a list")
        self._native = _native_table(nat.digest_id(digest), secrets)

    @classmethod
    def _wrap(cls, native: nat.NativeKeyTable) -> KeyTable:
        table = cls.__new__(cls)
        table._native = native
        return table

    def select(self, rows: Integers) -> KeyTable:
        """A new table holding the given rows of this one (for example one batch's users)."""
        arg = nat.u32_rows_arg(rows, len(self))
        count = arg.length or 0
        if count == 0:
            raise InvalidArgument("select needs at least one row")
        return KeyTable._wrap(nat.NativeKeyTable.gathered([(self._native, arg.ptr, count)]))

    @classmethod
    def gather(cls, parts: Sequence[tuple[KeyTable, Integers]]) -> KeyTable:
        """A new table of the given rows of several tables, in order (one copy per part).

        ``parts`` is a sequence of ``(table, rows)``; every table must have the same digest. A
        batch whose users' keys sit in several cached tables becomes one table, so the batch is
        verified by one C call. No key is decoded again: the HMAC states are copied.
        """
        natives = []
        keep = []
        if not isinstance(parts, Sequence) or isinstance(parts, (str, bytes)):
            raise InvalidType("gather takes a sequence of (KeyTable, rows) pairs")
        for part in parts:
            if not (isinstance(part, (tuple, list)) and len(part) == 2
                    and isinstance(part[0], KeyTable)):
                raise InvalidType("gather takes (KeyTable, rows) pairs")
            table, rows = part
            arg = nat.u32_rows_arg(rows, len(table))
            if arg.length:
                natives.append((table._native, arg.ptr, arg.length))
                keep.append(arg)
        if not natives:
            raise InvalidArgument("gather needs at least one row")
        return KeyTable._wrap(nat.NativeKeyTable.gathered(natives))

    @property
    def digest(self) -> str:
        """The HMAC digest of every key in the table."""
        return nat.digest_name(self._native.digest)

    @property
    def closed(self) -> bool:
        """True once the table was closed and its keys wiped."""
        return self._native.closed

    @property
    def locked(self) -> bool:
        """True when every page of the key material is locked in RAM, until :meth:`close`.

        Each table has pages of its own, so closing another table never unlocks this one's.
        When the OS refuses (``RLIMIT_MEMLOCK``), building the table issues a
        :class:`~pyotp_hw.errors.MemoryLockWarning` and :attr:`lock_error` says why.
        """
        return self._native.locked

    @property
    def lock_error(self) -> str | None:
        """Why the key material is not locked in RAM (the OS error), or None when it is."""
        return self._native.lock_error

    def close(self) -> None:
        """Wipe the key material and free it; the table cannot be used afterwards."""
        self._native.close()

    def __len__(self) -> int:
        return self._native.size

    def __enter__(self) -> KeyTable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{len(self)} keys"
        return f"<KeyTable {self.digest} {state}>"


Keys = KeyTable | Secret | Iterable[Secret]
"""The keys of a batch call: a :class:`KeyTable`, one secret, or a sequence of secrets."""


def _decode_indexed(secret: Secret, index: int) -> bytes:
    try:
        return decode_secret(secret)
    except InvalidArgument as exc:
        raise type(exc)(f"secret {index}: {exc}") from None
    except InvalidType as exc:
        raise InvalidType(f"secret {index}: {exc}") from None


def _secret_list(secrets: Iterable[Secret]) -> list[Secret]:
    if isinstance(secrets, list):
        return secrets
    if isinstance(secrets, (Sequence, set, frozenset)) or hasattr(secrets, "__next__"):
        return list(secrets)
    raise InvalidType("keys must be a KeyTable, a secret or a sequence of secrets, "
                      f"not {type(secrets).__name__}")


def _native_table(ident: int, secrets: Iterable[Secret]) -> nat.NativeKeyTable:
    """A native table of every secret's raw key bytes.

    A list of ``bytes`` or ``bytearray`` (how a server holds its keys) goes to C as it is,
    without a Python call per key (the C key schedule refuses empty ones, naming the index); no
    copy is kept, so a caller can wipe its bytearrays afterwards. When some item is anything
    else, every secret is decoded one at a time.
    """
    items = _secret_list(secrets)
    try:
        return nat.NativeKeyTable(ident, items)  # type: ignore[arg-type]  # NotRawKeys if not
    except nat.NotRawKeys:
        pass
    return nat.NativeKeyTable(ident, [_decode_indexed(s, i) for i, s in enumerate(items)])


def implementations() -> list[str]:
    """Names of the kernels this CPU can run: sha1's, then sha256's, then sha512's.

    Within a digest the selected kernel comes first (the best this CPU runs, or the one
    ``PYOTP_HW_KERNEL`` names), then the others from the most to the least preferred, the
    portable one last: on AMD Zen 5, ``sha1-avx512, sha1-shani, sha1-avx2, sha1-portable, ...``.
    """
    kernels = [k for k in nat.all_kernels() if k.supported]
    names = []
    for digest, ident in nat.DIGEST_IDS.items():
        selected = nat.kernel_for(ident).name
        mine = sorted((k for k in kernels if k.digest == digest),
                      key=lambda k: (k.name != selected, -k.priority))
        names += [k.name for k in mine]
    return names


def kernel_name(digest: Digest = "sha1") -> str:
    """The kernel that batches of this digest run on (after PYOTP_HW_KERNEL)."""
    return nat.kernel_for(nat.digest_id(digest)).name


# ---------------------------------------------------------------- plumbing


class _Keys:
    """Keys resolved to a native table, held in use for the call; temporary ones wiped on exit.

    Holding the use keeps another thread's :meth:`KeyTable.close` from freeing the table while
    the kernels (which run without the GIL) read it; that close waits until this call exits.
    """

    def __init__(self, keys: Keys, digest: Digest | None) -> None:
        self.temporary = False
        if isinstance(keys, KeyTable):
            self.native = keys._native
            if digest is not None and nat.digest_id(digest) != self.native.digest:
                raise InvalidArgument(
                    f"digest {digest!r} differs from the key table's {keys.digest!r}"
                )
        else:
            ident = nat.digest_id("sha1" if digest is None else digest)
            if isinstance(keys, (str, bytes, bytearray, memoryview)):
                self.native = nat.NativeKeyTable(ident, [decode_secret(keys)])
            else:
                # A plain bool, so that mypy keeps the declared Iterable[Secret] afterwards.
                iterable = isinstance(keys, Sequence) or hasattr(keys, "__iter__")
                if not iterable:
                    raise InvalidType("keys must be a KeyTable, a secret or a sequence of secrets")
                self.native = _native_table(ident, keys)
            self.temporary = True
        self.kernel = nat.kernel_for(self.native.digest).ptr
        self.ptr = self.native.acquire()

    def part(self, start: int, count: int, per_item: bool) -> object:
        """The table for items [start, start + count) of a batch split across threads.

        When item i uses row i (``per_item``: no ``rows``, one key per item), a part that starts
        at ``start`` needs the table from row ``start`` on: a view of it. Otherwise the rows are
        explicit or broadcast and every part uses the whole table.
        """
        if not per_item or start == 0:
            return self.ptr
        return self.native.view(start, count)

    def __enter__(self) -> _Keys:
        return self

    def __exit__(self, *exc: object) -> None:
        self.native.release()
        if self.temporary:
            self.native.close()


def _batch_shape(keys: _Keys, rows: nat.Arg | None, *args: nat.Arg) -> tuple[int, int]:
    """Batch length and key stride, checking that per-item arguments agree in length."""
    lengths: dict[str, int] = {}
    for label, arg in zip(("first", "second", "third", "fourth"), args, strict=False):
        if arg.length is not None:
            lengths[label] = arg.length
    if rows is not None:
        lengths["rows"] = rows.length or 0
    elif keys.native.size > 1:
        lengths["keys"] = keys.native.size
    distinct = set(lengths.values())
    if len(distinct) > 1:
        detail = ", ".join(f"{k}={v}" for k, v in lengths.items())
        raise InvalidArgument(f"batch arguments differ in length ({detail})")
    n = distinct.pop() if distinct else 1
    key_stride = 0 if rows is None and keys.native.size == 1 else 1
    return n, key_stride


_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max(2, _cpus()), thread_name_prefix="pyotp-hw")
        return _pool


def _thread_count(threads: int | None, n: int) -> int:
    if threads is None:
        return max(1, min(_cpus(), n // _MIN_ITEMS_PER_THREAD))
    threads = nat.int_option(threads, "threads", 1, 1 << 63, "a positive int or None")
    return max(1, min(threads, n))


def _run(call: Callable[[int, int, nat.ErrorSlot], int], n: int, threads: int | None) -> None:
    """Run ``call(start, count, err)`` over the batch, split across threads.

    Each part is one C call, which releases the GIL, so the parts run on separate cores. The
    calling thread computes the first part itself while the pool computes the others.
    """
    parts = _thread_count(threads, n)
    if parts == 1:
        err = nat.ErrorSlot()
        err.check(call(0, n, err))
        return
    bounds = [n * i // parts for i in range(parts + 1)]
    errs = [nat.ErrorSlot() for _ in range(parts)]
    futures = [
        _executor().submit(call, bounds[i], bounds[i + 1] - bounds[i], errs[i])
        for i in range(1, parts)
    ]
    first = call(0, bounds[1], errs[0])
    statuses = [first] + [f.result() for f in futures]
    for i, status in enumerate(statuses):
        errs[i].check(status, bounds[i])


def _digits(digits: object) -> int:
    return nat.int_option(digits, "digits", nat.MIN_DIGITS, nat.MAX_DIGITS)


def _interval(interval: object) -> int:
    return nat.int_option(interval, "interval", 1, (1 << 63) - 1, "an int number of seconds")


def _t0(t0: object) -> int:
    return nat.time_to_int(t0, "t0")


def _window(window: object) -> tuple[int, int]:
    if isinstance(window, int) and not isinstance(window, bool):
        past = future = window
    elif isinstance(window, (tuple, list)) and len(window) == 2:
        past, future = window
    else:
        raise InvalidType("window must be an int or a (past, future) pair")
    return (nat.int_option(past, "window past", 0, nat.MAX_WINDOW),
            nat.int_option(future, "window future", 0, nat.MAX_WINDOW))


def _rows(rows: Integers | None, keys: _Keys) -> nat.Arg | None:
    return None if rows is None else nat.u32_rows_arg(rows, keys.native.size)


# ---------------------------------------------------------------- public batch calls


@overload
def hotp(
    keys: Keys, counters: Integers, *, digits: int = ..., digest: Digest | None = ...,
    threads: int | None = ..., out: None = ..., rows: Integers | None = ...,
) -> array[int]: ...
@overload
def hotp(
    keys: Keys, counters: Integers, *, digits: int = ..., digest: Digest | None = ...,
    threads: int | None = ..., out: _Out, rows: Integers | None = ...,
) -> _Out: ...
def hotp(
    keys: Keys,
    counters: Integers,
    *,
    digits: int = 6,
    digest: Digest | None = None,
    threads: int | None = None,
    out: Buffer | None = None,
    rows: Integers | None = None,
) -> array[int] | Buffer:
    """HOTP codes (RFC 4226) as integers: one key with many counters, or one counter per key.

    ``rows`` (optional) maps each item to a row of a :class:`KeyTable`.
    Returns ``array('I')``, or ``out`` after writing into it.
    """
    digits = _digits(digits)
    with _Keys(keys, digest) as k:
        row_arg = _rows(rows, k)
        ctr = nat.u64_arg(counters, "counters")
        n, key_stride = _batch_shape(k, row_arg, ctr)
        result: array[int] | Buffer  # out itself, or a new array('I')
        out_ptr, result = nat.u32_out(out, n)

        def call(start: int, count: int, err: nat.ErrorSlot) -> int:
            keys_at = k.part(start, count, row_arg is None and key_stride == 1)
            return nat.hotp_batch(k.kernel, keys_at, row_arg, key_stride, ctr, start, count,
                                  digits, out_ptr, err)

        _run(call, n, threads)
        return result


@overload
def totp(
    keys: Keys, for_time: Times, *, interval: int = ..., t0: TimeValue = ..., digits: int = ...,
    digest: Digest | None = ..., threads: int | None = ..., out: None = ...,
    rows: Integers | None = ...,
) -> array[int]: ...
@overload
def totp(
    keys: Keys, for_time: Times, *, interval: int = ..., t0: TimeValue = ..., digits: int = ...,
    digest: Digest | None = ..., threads: int | None = ..., out: _Out,
    rows: Integers | None = ...,
) -> _Out: ...
def totp(
    keys: Keys,
    for_time: Times,
    *,
    interval: int = 30,
    t0: TimeValue = 0,
    digits: int = 6,
    digest: Digest | None = None,
    threads: int | None = None,
    out: Buffer | None = None,
    rows: Integers | None = None,
) -> array[int] | Buffer:
    """TOTP codes (RFC 6238) as integers, for one time or one time per key.

    Times are seconds since the epoch (ints, floats or aware datetimes).
    """
    digits = _digits(digits)
    interval = _interval(interval)
    t0v = _t0(t0)
    with _Keys(keys, digest) as k:
        row_arg = _rows(rows, k)
        times = nat.i64_arg(for_time, "for_time")
        n, key_stride = _batch_shape(k, row_arg, times)
        result: array[int] | Buffer  # out itself, or a new array('I')
        out_ptr, result = nat.u32_out(out, n)

        def call(start: int, count: int, err: nat.ErrorSlot) -> int:
            keys_at = k.part(start, count, row_arg is None and key_stride == 1)
            return nat.totp_batch(k.kernel, keys_at, row_arg, key_stride, times, start, count,
                                  t0v, interval, digits, out_ptr, err)

        _run(call, n, threads)
        return result


def verify_totp(
    keys: Keys,
    codes: Integers,
    for_time: Times,
    *,
    interval: int = 30,
    t0: TimeValue = 0,
    window: int | tuple[int, int] = 1,
    digits: int = 6,
    digest: Digest | None = None,
    last_steps: Integers | None = None,
    threads: int | None = None,
    rows: Integers | None = None,
) -> array[int]:
    """Verify TOTP codes; return the matched time step per item, or -1.

    ``window`` is symmetric or a ``(past, future)`` pair of steps. With ``last_steps``, any step
    at or below the stored one is refused (replay protection); use -1 for "none yet". The C core
    compares in constant time and computes every code of the window whether or not one matches.
    """
    digits = _digits(digits)
    interval = _interval(interval)
    t0v = _t0(t0)
    past, future = _window(window)
    with _Keys(keys, digest) as k:
        row_arg = _rows(rows, k)
        code_arg = nat.u32_arg(codes, "codes")
        times = nat.i64_arg(for_time, "for_time")
        last = nat.step_arg(last_steps, "last_steps") if last_steps is not None else None
        shape_args = [code_arg, times] + ([last] if last is not None else [])
        n, key_stride = _batch_shape(k, row_arg, *shape_args)
        out_ptr, result = nat.i64_out(n)

        def call(start: int, count: int, err: nat.ErrorSlot) -> int:
            keys_at = k.part(start, count, row_arg is None and key_stride == 1)
            return nat.verify_totp_batch(k.kernel, keys_at, row_arg, key_stride, code_arg, times,
                                         last, start, count, t0v, interval, past, future,
                                         digits, out_ptr, err)

        _run(call, n, threads)
        return result


def verify_hotp(
    keys: Keys,
    codes: Integers,
    counters: Integers,
    *,
    look_ahead: int = 0,
    digits: int = 6,
    digest: Digest | None = None,
    threads: int | None = None,
    rows: Integers | None = None,
) -> array[int]:
    """Verify HOTP codes; return the matched counter per item (lowest in the look-ahead), or -1.

    Results are int64, so ``counter + look_ahead`` must stay below 2**63 here; the scalar
    :meth:`pyotp_hw.HOTP.verify` covers the whole 64-bit range.
    """
    digits = _digits(digits)
    look_ahead = nat.int_option(look_ahead, "look_ahead", 0, nat.MAX_WINDOW)
    with _Keys(keys, digest) as k:
        row_arg = _rows(rows, k)
        code_arg = nat.u32_arg(codes, "codes")
        ctr = nat.u64_arg(counters, "counters")
        n, key_stride = _batch_shape(k, row_arg, code_arg, ctr)
        out_ptr, result = nat.i64_out(n)
        def call(start: int, count: int, err: nat.ErrorSlot) -> int:
            keys_at = k.part(start, count, row_arg is None and key_stride == 1)
            return nat.verify_hotp_batch(k.kernel, keys_at, row_arg, key_stride, code_arg, ctr,
                                         start, count, look_ahead, digits, out_ptr, err)

        _run(call, n, threads)
        return result


def _one_key(key: object) -> bytes | bytearray:
    if not isinstance(key, (bytes, bytearray)):
        raise InvalidType(f"key must be bytes or a bytearray, not {type(key).__name__}")
    if not key:
        raise InvalidSecret("secret is empty")
    return key


def verify_totp_key(key: bytes | bytearray, code: int, for_time: int, *, interval: int = 30,
                    t0: int = 0, window: int | tuple[int, int] = 1, digits: int = 6,
                    digest: Digest = "sha1", last_step: int = -1) -> tuple[int, int]:
    """Verify one TOTP code against one raw key, without a :class:`KeyTable`.

    For a lone code (a request of one sign-in) a key table's allocation costs more than the
    check. Returns ``(step, seen)``: the matched step above ``last_step`` (-1 for "none used
    yet") or -1, and the lowest step of the window whose code it is, used or not, or -1 (so
    ``step == -1 and seen >= 0`` is a replay). The C core computes both windows whatever
    matches and compares in constant time; the key's HMAC states live on its stack and are
    wiped before it returns.
    """
    past, future = _window(window)
    kernel = _kernel_for_codes(digest, past + future + 1)
    return nat.verify_totp_key(
        kernel, _one_key(key), nat.int_option(code, "code", 0, 0xFFFF_FFFF),
        nat.time_to_int(for_time, "for_time"), _t0(t0), _interval(interval), past, future,
        _digits(digits), nat.int_option(last_step, "last_step", -1, (1 << 63) - 1))


def verify_hotp_key(key: bytes | bytearray, code: int, counter: int, *, look_ahead: int = 0,
                    digits: int = 6, digest: Digest = "sha1", replay_from: int = 0
                    ) -> tuple[int | None, int | None]:
    """Verify one HOTP code against one raw key, without a :class:`KeyTable`.

    Returns the lowest matching counter in ``[counter, counter + look_ahead]`` and the lowest
    in ``[replay_from, replay_from + look_ahead]`` (None where none matches); both ranges are
    computed whatever matches, as by :func:`verify_totp_key`.
    """
    u64 = (1 << 64) - 1
    ahead = nat.int_option(look_ahead, "look_ahead", 0, nat.MAX_WINDOW)
    return nat.verify_hotp_key(
        _kernel_for_codes(digest, ahead + 1), _one_key(key),
        nat.int_option(code, "code", 0, 0xFFFF_FFFF), nat.int_option(counter, "counter", 0, u64),
        nat.int_option(replay_from, "replay_from", 0, u64), ahead, _digits(digits))


#: Up to this many codes per window, a one-key verification runs on the lone-code kernel.
_LONE_CODES = 4


def _kernel_for_codes(digest: object, codes: int) -> nat.CData:
    ident = nat.digest_id(digest)
    kernel = nat.lone_kernel_for(ident) if codes <= _LONE_CODES else nat.kernel_for(ident)
    return kernel.ptr
