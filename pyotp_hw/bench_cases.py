"""The benchmark's cases: every implementation and workload ``pyotp-hw bench`` compares.

A *case* is one implementation doing one job: HOTP generation, or TOTP verification with a
+-1 step window, for each digest. Cases sharing a *group* do the same amount of the same work
(``units`` codes or users per run), so a group reads as a comparison table: pyotp, the standard
library's ``hmac``, ``cryptography``'s HMAC (OpenSSL) and pyotp-hw on every kernel this CPU runs.
pyotp-hw rows run with the internal hook ``_native.forced_kernels``, one kernel at a time, on one
thread (a separate group measures two threads against one).
"""

from __future__ import annotations

import hashlib
import hmac
from array import array
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from types import ModuleType

from . import _native, bulk
from ._types import Digest
from .errors import InvalidArgument, MissingExtra
from .otp import TOTP

__all__ = ["Case", "cases", "DIGESTS"]

DIGESTS = ("sha1", "sha256", "sha512")
_HASHLIB = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
# A fixed time (2023-11-14), so that every run verifies the same codes.
_T = 1_700_000_000
_STEP = _T // 30


@dataclass(frozen=True)
class Case:
    """One implementation doing one group's job; ``prepare()`` returns the timed callable."""

    group: str
    name: str
    unit: str
    units: int
    prepare: Callable[[], Callable[[], object]]
    kernel: str | None = None
    threads: int = 1
    baseline_group: str | None = None

    @property
    def family(self) -> str:
        """pyotp, hmac, cryptography or pyotp-hw (for colours and sorting)."""
        return self.name.split(" ", 1)[0]

    def selected(self) -> AbstractContextManager[object]:
        """A context in which this case's kernel is the selected one (or nothing to do)."""
        return _native.forced_kernels(self.kernel) if self.kernel else nullcontext()


# ---------------------------------------------------------------- optional comparators


def _pyotp() -> ModuleType:
    try:
        import pyotp
    except ImportError as exc:
        raise MissingExtra("the benchmark (its baseline is pyotp)", "bench", "pyotp") from exc
    return pyotp


def _cryptography() -> tuple[ModuleType, ModuleType] | None:
    try:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives import hmac as chmac
    except ImportError:
        return None
    return hashes, chmac


# ---------------------------------------------------------------- workloads


def _keys(n: int, digest: str) -> list[bytes]:
    # Deterministic per-user keys of the digest's natural length (RFC 6238's seeds).
    size = {"sha1": 20, "sha256": 32, "sha512": 64}[digest]
    return [hashlib.sha512(b"user %d" % i).digest()[:size] for i in range(n)]


def _truncate(mac: bytes) -> int:
    o = mac[-1] & 15
    return (int.from_bytes(mac[o : o + 4], "big") & 0x7FFFFFFF) % 1_000_000


def _user_codes(keys: Sequence[bytes], digest: str) -> list[int]:
    # The code each user types: at the step before, at or after now, in turn. Computed with
    # the standard library, not with the code under measurement.
    return [
        _truncate(hmac.digest(k, (_STEP + (i % 3) - 1).to_bytes(8, "big"), digest))
        for i, k in enumerate(keys)
    ]


def _b32(key: bytes) -> str:
    import base64

    return base64.b32encode(key).decode("ascii").rstrip("=")


def _hotp_cases(digest: str, units: int, kernels: Sequence[str]) -> list[Case]:
    group = f"{digest} HOTP generation"
    key = _keys(1, digest)[0]
    cases = []

    def pyotp_at() -> Callable[[], object]:
        h = _pyotp().HOTP(_b32(key), digest=_HASHLIB[digest])

        def go() -> None:
            at = h.at
            for i in range(units):
                at(i)

        return go

    def stdlib() -> Callable[[], object]:
        def go() -> None:
            mac = hmac.digest
            for i in range(units):
                _truncate(mac(key, i.to_bytes(8, "big"), digest))

        return go

    cases.append(Case(group, "pyotp HOTP.at", "code", units, pyotp_at))
    cases.append(Case(group, "hmac (stdlib) digest+truncate", "code", units, stdlib))
    crypto = _cryptography()
    if crypto is not None:
        hashes, chmac = crypto

        def openssl() -> Callable[[], object]:
            base = chmac.HMAC(key, getattr(hashes, digest.upper())())

            def go() -> None:
                for i in range(units):
                    h = base.copy()
                    h.update(i.to_bytes(8, "big"))
                    _truncate(h.finalize())

            return go

        cases.append(Case(group, "cryptography HMAC (OpenSSL)", "code", units, openssl))

    def native() -> Callable[[], object]:
        counters = array("Q", range(units))
        out = array("I", bytes(4 * units))
        return lambda: bulk.hotp(key, counters, digest=digest, threads=1, out=out)

    for name in kernels:
        cases.append(Case(group, f"pyotp-hw {name}", "code", units, native, kernel=name))
    return cases


def _openssl_verify_cases(digest: str, keys: list[bytes], texts: list[str],
                          steps: tuple[int, ...], new_key: str, stored: str) -> list[Case]:
    """The cryptography (OpenSSL) rows of the verification groups; none without the module."""
    crypto = _cryptography()
    if crypto is None:
        return []
    hashes, chmac = crypto
    users = len(keys)

    def openssl(keep: bool) -> Callable[[], Callable[[], object]]:
        def prepare() -> Callable[[], object]:
            algo = getattr(hashes, digest.upper())
            kept = [chmac.HMAC(k, algo()) for k in keys] if keep else []

            def go() -> None:
                for i, c in enumerate(texts):
                    base = kept[i] if keep else chmac.HMAC(keys[i], algo())
                    for s in steps:
                        h = base.copy()
                        h.update(s.to_bytes(8, "big"))
                        hmac.compare_digest(f"{_truncate(h.finalize()):06d}", c)

            return go

        return prepare

    return [Case(new_key, "cryptography HMAC (OpenSSL)", "user", users, openssl(False)),
            Case(stored, "cryptography HMAC contexts kept", "user", users, openssl(True),
                 baseline_group=new_key)]


def _verify_cases(digest: str, users: int, kernels: Sequence[str]) -> list[Case]:
    keys = _keys(users, digest)
    codes = _user_codes(keys, digest)
    texts = [f"{c:06d}" for c in codes]
    steps = (_STEP - 1, _STEP, _STEP + 1)
    new_key = f"{digest} TOTP verify +-1, new key per user"
    stored = f"{digest} TOTP verify +-1, keys prepared"
    cases = []

    def pyotp_new() -> Callable[[], object]:
        pyotp, fn = _pyotp(), _HASHLIB[digest]
        secrets = [_b32(k) for k in keys]

        def go() -> None:
            for s, c in zip(secrets, texts, strict=True):
                pyotp.TOTP(s, digest=fn).verify(c, for_time=_T, valid_window=1)

        return go

    def pyotp_stored() -> Callable[[], object]:
        pyotp, fn = _pyotp(), _HASHLIB[digest]
        objs = [pyotp.TOTP(_b32(k), digest=fn) for k in keys]

        def go() -> None:
            for o, c in zip(objs, texts, strict=True):
                o.verify(c, for_time=_T, valid_window=1)

        return go

    def stdlib_new() -> Callable[[], object]:
        def go() -> None:
            for k, c in zip(keys, texts, strict=True):
                for s in steps:
                    mac = hmac.digest(k, s.to_bytes(8, "big"), digest)
                    hmac.compare_digest(f"{_truncate(mac):06d}", c)

        return go

    def stdlib_stored() -> Callable[[], object]:
        bases = [hmac.new(k, digestmod=digest) for k in keys]

        def go() -> None:
            for b, c in zip(bases, texts, strict=True):
                for s in steps:
                    h = b.copy()
                    h.update(s.to_bytes(8, "big"))
                    hmac.compare_digest(f"{_truncate(h.digest()):06d}", c)

        return go

    # Every ratio in both groups is to pyotp as a server uses it per request: TOTP(secret).verify.
    cases.append(Case(new_key, "pyotp TOTP(secret).verify", "user", users, pyotp_new))
    cases.append(Case(new_key, "hmac (stdlib) 3 codes", "user", users, stdlib_new))
    cases.append(Case(stored, "pyotp TOTP.verify, objects kept", "user", users, pyotp_stored,
                      baseline_group=new_key))
    cases.append(Case(stored, "hmac (stdlib) keyed objects kept", "user", users, stdlib_stored,
                      baseline_group=new_key))
    cases += _openssl_verify_cases(digest, keys, texts, steps, new_key, stored)

    def native_list() -> Callable[[], object]:
        wanted = array("I", codes)
        # Keys as a server holds them: a Python list of bytes, one per user.
        return lambda: bulk.verify_totp(keys, wanted, _T, window=1, digest=digest, threads=1)

    def native_table() -> Callable[[], object]:
        wanted = array("I", codes)
        table = bulk.KeyTable(keys, digest=digest)
        return lambda: bulk.verify_totp(table, wanted, _T, window=1, threads=1)

    for name in kernels:
        cases.append(Case(new_key, f"pyotp-hw {name}, list of bytes", "user", users, native_list,
                          kernel=name))
    for name in kernels:
        cases.append(Case(stored, f"pyotp-hw {name}, KeyTable", "user", users, native_table,
                          kernel=name, baseline_group=new_key))
    return cases


def _scalar_cases(calls: int, kernels: Sequence[str]) -> list[Case]:
    group = "sha1 TOTP.now(), one code per call"
    key = _keys(1, "sha1")[0]

    def pyotp_now() -> Callable[[], object]:
        t = _pyotp().TOTP(_b32(key))

        def go() -> None:
            now = t.now
            for _ in range(calls):
                now()

        return go

    def native_now() -> Callable[[], object]:
        t = TOTP(key)  # built under the case's kernel, which it keeps

        def go() -> None:
            now = t.now
            for _ in range(calls):
                now()

        return go

    cases = [Case(group, "pyotp TOTP.now", "code", calls, pyotp_now)]
    cases += [Case(group, f"pyotp-hw {k}", "code", calls, native_now, kernel=k) for k in kernels]
    return cases


def _thread_cases(units: int, kernel: str) -> list[Case]:
    group = "sha1 HOTP generation, one large batch"
    key = _keys(1, "sha1")[0]

    def native(threads: int) -> Callable[[], Callable[[], object]]:
        def prepare() -> Callable[[], object]:
            counters = array("Q", range(units))
            out = array("I", bytes(4 * units))
            return lambda: bulk.hotp(key, counters, threads=threads, out=out)

        return prepare

    cpus = bulk._cpus()
    return [
        Case(group, f"pyotp-hw {kernel}, {t} thread{'s' if t > 1 else ''}", "code", units,
             native(t), kernel=kernel, threads=t, baseline_group="sha1 HOTP generation")
        for t in sorted({1, 2, cpus}) if t <= max(cpus, 2)
    ]


def _dropin_cases(digests: Sequence[str], codes: int, users: int, calls: int) -> list[Case]:
    """pyotp_hw.pyotp (pyotp's API on the C core) doing each pyotp row's work, in its group."""
    from . import pyotp as dropin

    result = []
    for digest in digests:
        fn, key = _HASHLIB[digest], _keys(1, digest)[0]
        keys = _keys(users, digest)
        secrets = [_b32(k) for k in keys]
        texts = [f"{c:06d}" for c in _user_codes(keys, digest)]

        def at(key: bytes = key, fn: Digest = fn) -> Callable[[], object]:
            h = dropin.HOTP(_b32(key), digest=fn)

            def go() -> None:
                for i in range(codes):
                    h.at(i)

            return go

        def new(secrets: list[str] = secrets, texts: list[str] = texts,
                fn: Digest = fn) -> Callable[[], object]:
            def go() -> None:
                for s, c in zip(secrets, texts, strict=True):
                    dropin.TOTP(s, digest=fn).verify(c, for_time=_T, valid_window=1)

            return go

        def kept(secrets: list[str] = secrets, texts: list[str] = texts,
                 fn: Digest = fn) -> Callable[[], object]:
            objs = [dropin.TOTP(s, digest=fn) for s in secrets]

            def go() -> None:
                for o, c in zip(objs, texts, strict=True):
                    o.verify(c, for_time=_T, valid_window=1)

            return go

        new_key = f"{digest} TOTP verify +-1, new key per user"
        result += [
            Case(f"{digest} HOTP generation", "pyotp_hw.pyotp HOTP.at", "code", codes, at),
            Case(new_key, "pyotp_hw.pyotp TOTP(secret).verify", "user", users, new),
            Case(f"{digest} TOTP verify +-1, keys prepared", "pyotp_hw.pyotp TOTP.verify, "
                 "objects kept", "user", users, kept, baseline_group=new_key),
        ]
    if "sha1" in digests:
        def now() -> Callable[[], object]:
            t = dropin.TOTP(_b32(_keys(1, "sha1")[0]))

            def go() -> None:
                for _ in range(calls):
                    t.now()

            return go

        result.append(Case("sha1 TOTP.now(), one code per call", "pyotp_hw.pyotp TOTP.now",
                           "code", calls, now))
    return result


def cases(*, quick: bool = False, digests: Sequence[str] = DIGESTS,
          kernels: Sequence[str] | None = None) -> list[Case]:
    """Every case, in table order. ``kernels`` defaults to every kernel this CPU runs."""
    for d in digests:
        if d not in DIGESTS:
            raise InvalidArgument(f"digest must be one of {', '.join(DIGESTS)}, not {d!r}")
    _pyotp()  # the baseline: say which extra is missing before anything runs
    runnable = bulk.implementations() if kernels is None else list(kernels)
    gen_units, users, calls, big = (5_000, 500, 5_000, 200_000) if quick else (
        20_000, 2_000, 20_000, 1_000_000)
    result: list[Case] = []
    for d in digests:
        mine = sorted(k for k in runnable if k.startswith(d + "-"))
        result += _hotp_cases(d, gen_units, mine)
        result += _verify_cases(d, users, mine)
    if "sha1" in digests:
        sha1 = sorted(k for k in runnable if k.startswith("sha1-"))
        result += _scalar_cases(calls, sha1)
        best = _native.kernel_for(_native.digest_id("sha1")).name
        result += _thread_cases(big, best if best in sha1 else sha1[0])
    result += _dropin_cases(digests, gen_units, users, calls)
    # Rows of a group together, in the order the groups first appear.
    order = {g: i for i, g in enumerate(dict.fromkeys(c.group for c in result))}
    return sorted(result, key=lambda c: order[c.group])
