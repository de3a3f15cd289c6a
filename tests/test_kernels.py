"""Every hash kernel this CPU runs, forced in turn, against Python's hmac and the RFC vectors.

Kernels are forced in process with the internal hook ``_native.forced_kernels`` (the same
selection that ``PYOTP_HW_KERNEL`` makes at import; one subprocess test checks that route too).
The oracle is ``tests/oracle.py``: RFC 4226 written on the standard library's ``hmac``.

The AVX-512 kernels cannot run on a CPU without AVX-512. Their source is the multi-buffer
template the AVX2 kernels use, at twice the lanes; ``test_wide_kernels_on_avx2`` builds those very
files for AVX2 (16 lanes in register pairs) and runs the same differential checks on them.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyotp_hw import TOTP, _native, bulk

from . import oracle
from .kernel_params import kernel_params, skip_reason

ROOT = Path(__file__).resolve().parent.parent
KERNELS = [k for k in _native.all_kernels() if k.supported]
KERNEL_NAMES = [k.name for k in KERNELS]
# Every compiled kernel: the fixture runs each supported one and skips the rest, saying why.
DIGEST_OF = {k.name: k.digest for k in _native.all_kernels()}
MAX_EXAMPLES = min(500 if os.environ.get("HYPOTHESIS_PROFILE") == "slow" else 50,
                   settings().max_examples)
U64 = (1 << 64) - 1

keys_st = st.binary(min_size=1, max_size=300)
counter_st = st.one_of(
    st.integers(0, U64),
    st.integers((1 << 32) - 40, (1 << 32) + 40),
    st.sampled_from([0, 1, (1 << 32) - 1, 1 << 32, (1 << 63) - 1, 1 << 63, U64 - 1, U64]),
)
# Batch sizes around and between the lane counts (1, 2, 4, 8, 16) and the scalar tail cut-offs.
size_st = st.integers(1, 41)
digits_st = st.integers(6, 10)
prop = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    # The kernel fixture selects one kernel for every example of a test, as intended.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
)


def code_of(key: bytes, counter: int, digits: int, digest: str) -> int:
    return oracle.truncated(key, counter, digest) % 10**digits


def expected_step(key: bytes, code: int, step: int, past: int, future: int, last: int,
                  digits: int, digest: str) -> int:
    """The lowest step in the window, above ``last``, whose code is ``code``; else -1."""
    for s in range(step - past, step + future + 1):
        if 0 <= s < 1 << 63 and s > last and code_of(key, s, digits, digest) == code:
            return s
    return -1


@pytest.fixture(params=kernel_params())
def kernel(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each kernel, selected for the duration of one test (skipped where the CPU lacks it)."""
    with _native.forced_kernels(request.param):
        assert bulk.kernel_name(DIGEST_OF[request.param]) == request.param
        yield request.param


def test_every_compiled_kernel_is_listed_when_supported() -> None:
    listed = bulk.implementations()
    assert sorted(listed) == sorted(KERNEL_NAMES)
    compiled = {k.name for k in _native.all_kernels()}
    assert {"sha1-portable", "sha256-portable", "sha512-portable"} <= compiled
    if platform.machine().lower() in ("x86_64", "amd64"):
        assert {"sha1-avx2", "sha1-avx512", "sha1-avx512x2", "sha1-shani", "sha256-avx2",
                "sha256-avx512", "sha256-shani", "sha512-avx2", "sha512-avx512"} <= compiled


# What each instruction set needs, in /proc/cpuinfo's words (the Linux kernel's own CPUID reading,
# which also drops AVX flags the OS does not enable), and the names the skip reasons use.
CPUINFO_NEEDS = {
    "portable": {},
    "avx2": {"AVX2": ["avx2"]},
    "shani": {"SHA-NI": ["sha_ni"], "SSE4.1": ["sse4_1"]},
    "avx512": {"AVX-512 F/DQ/BW/VL": ["avx512f", "avx512dq", "avx512bw", "avx512vl"]},
    "avx512x2": {"AVX-512 F/DQ/BW/VL": ["avx512f", "avx512dq", "avx512bw", "avx512vl"]},
}


@pytest.mark.skipif(not Path("/proc/cpuinfo").exists(), reason="needs Linux's /proc/cpuinfo")
def test_missing_cpu_features_agree_with_cpuinfo() -> None:
    text = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    flags = set(next(line for line in text.splitlines() if line.startswith("flags")).split())
    for k in _native.all_kernels():
        needs = CPUINFO_NEEDS[k.name.split("-", 1)[1]]
        lacking = {name for name, words in needs.items() if not set(words) <= flags}
        assert set(k.missing) == lacking, (k.name, k.missing, lacking)
        assert k.supported == (not lacking), k.name


def test_an_unsupported_kernel_is_skipped_naming_kernel_and_feature() -> None:
    absent = _native.Kernel("sha1-avx512", "sha1", 16, False, missing=("AVX-512 F/DQ/BW/VL",))
    present = _native.Kernel("sha1-avx2", "sha1", 8, True)
    skipped, run = kernel_params([absent, present])
    assert skipped.id == "sha1-avx512" and run.id == "sha1-avx2" and not run.marks
    (mark,) = skipped.marks
    assert mark.name == "skip"
    assert mark.kwargs["reason"] == skip_reason(absent) == (
        "kernel sha1-avx512 not run: this CPU lacks AVX-512 F/DQ/BW/VL")


def test_make_kernels_plan_runs_what_the_cpu_has_and_says_what_it_skips() -> None:
    spec = importlib.util.spec_from_file_location("kernel_matrix",
                                                  ROOT / "scripts" / "kernel_matrix.py")
    assert spec is not None and spec.loader is not None
    matrix = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(matrix)
    lacks = ("AVX-512 F/DQ/BW/VL",)
    kernels = [_native.Kernel("sha1-portable", "sha1", 1, True),
               _native.Kernel("sha1-avx512", "sha1", 16, False, missing=lacks),
               _native.Kernel("sha256-avx512", "sha256", 16, False, missing=lacks),
               _native.Kernel("sha1-shani", "sha1", 4, True)]
    run, skipped = matrix.plan(kernels)
    assert run == ["portable", "shani"]
    assert skipped == ["make kernels: skipping PYOTP_HW_KERNEL=avx512 (sha1-avx512, "
                       "sha256-avx512): this CPU lacks AVX-512 F/DQ/BW/VL"]
    # On this CPU: every instruction set whose kernels all run, each named once.
    here, _ = matrix.plan(_native.all_kernels())
    assert set(here) == {k.name.split("-", 1)[1] for k in KERNELS} - {
        k.name.split("-", 1)[1] for k in _native.all_kernels() if not k.supported}


def test_implementations_order_digest_then_selected_then_preference() -> None:
    # The preference the dispatcher documents: AVX-512 (one or two lane groups, by CPU), then
    # SHA-NI, then AVX2, portable last.
    rank = {"avx512": 0, "avx512x2": 0, "shani": 1, "avx2": 2, "portable": 3}
    for forced in (None, "portable"):
        with _native.forced_kernels(forced):
            names = bulk.implementations()
            digests = [n.split("-", 1)[0] for n in names]
            assert digests == sorted(digests, key=["sha1", "sha256", "sha512"].index)
            for digest in ("sha1", "sha256", "sha512"):
                mine = [n for n in names if n.startswith(digest + "-")]
                assert mine[0] == bulk.kernel_name(digest)
                rest = [n.split("-", 1)[1] for n in mine[1:]]
                assert rest == sorted(rest, key=rank.__getitem__), mine

def test_lone_codes_take_sha_ni_where_the_cpu_has_it() -> None:
    # Scalar objects and small one-key rounds run on SHA-NI when this CPU has it (one stream per
    # code), else on the batch kernel; a forced kernel serves both.
    supported = {k.name for k in _native.all_kernels() if k.supported}
    for digest in ("sha1", "sha256", "sha512"):
        ident = _native.digest_id(digest)
        lone = _native.lone_kernel_for(ident).name
        shani = f"{digest}-shani"
        assert lone == (shani if shani in supported else _native.kernel_for(ident).name)
    with _native.forced_kernels("portable"):
        for ident in (1, 2, 3):
            assert _native.lone_kernel_for(ident).name.endswith("-portable")
    if "sha1-shani" in supported:
        totp = TOTP(b"12345678901234567890")
        assert totp._kernel == _native.lone_kernel_for(1).ptr
        # RFC 6238's SHA-1 vector at T = 59 s, computed on the lone-code kernel.
        assert totp.at(59) == "287082"



def test_rfc_vectors(kernel: str, vectors: dict[str, Any]) -> None:
    digest = DIGEST_OF[kernel]
    if digest == "sha1":
        hotp = vectors["rfc4226_hotp_sha1_6digits"]
        key = hotp["secret_ascii"].encode()
        want = [int(c) for c in hotp["codes_by_counter"]]
        assert list(bulk.hotp(key, range(len(want)))) == want
        # The same counters as one batch of ten keys (one lane each) and at a shared counter.
        assert list(bulk.hotp([key] * 10, range(10))) == want
        assert list(bulk.hotp([key] * 10, 3)) == [want[3]] * 10
    cases = [v for v in vectors["rfc6238_totp_8digits"] if v["algorithm"] == digest]
    assert cases, f"no RFC 6238 vector for {digest}"
    for v in cases:
        key = v["secret_ascii"].encode()
        assert list(bulk.totp([key] * 19, v["unix_time"], digits=8, digest=digest)) == [
            int(v["code"])] * 19
        got = bulk.verify_totp([key] * 19, int(v["code"]), v["unix_time"], digits=8,
                               digest=digest)
        assert list(got) == [v["unix_time"] // 30] * 19


@prop
@given(data=st.data())
def test_hotp_one_key_per_item(kernel: str, data: st.DataObject) -> None:
    digest = DIGEST_OF[kernel]
    with _native.forced_kernels(kernel):
        n = data.draw(size_st)
        keys = data.draw(st.lists(keys_st, min_size=n, max_size=n))
        counters = data.draw(st.lists(counter_st, min_size=n, max_size=n))
        digits = data.draw(digits_st)
        got = bulk.hotp(keys, array("Q", counters), digits=digits, digest=digest, threads=1)
        want = [code_of(k, c, digits, digest) for k, c in zip(keys, counters, strict=True)]
        assert list(got) == want


@prop
@given(data=st.data())
def test_hotp_rows_and_broadcasts(kernel: str, data: st.DataObject) -> None:
    digest = DIGEST_OF[kernel]
    with _native.forced_kernels(kernel):
        keys = data.draw(st.lists(keys_st, min_size=1, max_size=20))
        n = data.draw(size_st)
        rows = data.draw(st.one_of(
            st.lists(st.integers(0, len(keys) - 1), min_size=n, max_size=n),  # scattered
            st.just([0] * n),  # one row for every item
            st.just([i % len(keys) for i in range(n)]),  # runs of consecutive rows
        ))
        digits = data.draw(digits_st)
        shared = data.draw(st.booleans())
        counters: Any = data.draw(counter_st) if shared else data.draw(
            st.lists(counter_st, min_size=n, max_size=n))
        per_item = [counters] * n if shared else counters
        with bulk.KeyTable(keys, digest=digest) as table:
            got = bulk.hotp(table, counters, rows=rows, digits=digits, threads=1)
        assert list(got) == [
            code_of(keys[r], c, digits, digest) for r, c in zip(rows, per_item, strict=True)]


@prop
@given(data=st.data())
def test_totp_shared_and_per_item_times(kernel: str, data: st.DataObject) -> None:
    digest = DIGEST_OF[kernel]
    with _native.forced_kernels(kernel):
        n = data.draw(size_st)
        keys = data.draw(st.lists(keys_st, min_size=n, max_size=n))
        t = data.draw(st.integers(0, 253402300799))  # up to the end of year 9999
        times: Any = data.draw(st.one_of(
            st.just(t),
            st.just([t] * n),
            st.lists(st.integers(0, 253402300799), min_size=n, max_size=n),
        ))
        per_item = [times] * n if isinstance(times, int) else times
        digits = data.draw(digits_st)
        got = bulk.totp(keys, times, digits=digits, digest=digest, threads=1)
        assert list(got) == [
            code_of(k, ti // 30, digits, digest) for k, ti in zip(keys, per_item, strict=True)]


@prop
@given(data=st.data())
def test_verify_totp_against_the_oracle(kernel: str, data: st.DataObject) -> None:
    digest = DIGEST_OF[kernel]
    with _native.forced_kernels(kernel):
        n = data.draw(size_st)
        keys = data.draw(st.lists(keys_st, min_size=n, max_size=n))
        past, future = data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))
        step = data.draw(st.one_of(st.integers(0, 5), st.integers(0, (1 << 35))))
        form = data.draw(st.sampled_from(["scalar", "equal", "mixed"]))
        steps = [step] * n if form != "mixed" else data.draw(
            st.lists(st.integers(max(0, step - 2), step + 2), min_size=n, max_size=n))
        times: Any = step * 30 + 7 if form == "scalar" else [s * 30 + 7 for s in steps]
        digits = data.draw(digits_st)
        offsets = data.draw(st.lists(st.integers(-past - 1, future + 1), min_size=n, max_size=n))
        codes = [code_of(k, max(0, s + o), digits, digest)
                 for k, s, o in zip(keys, steps, offsets, strict=True)]
        lasts = data.draw(st.one_of(st.none(), st.lists(
            st.integers(-1, step + 3), min_size=n, max_size=n)))
        table = data.draw(st.booleans())
        source: Any = bulk.KeyTable(keys, digest=digest) if table else keys
        got = bulk.verify_totp(source, codes, times, window=(past, future), digits=digits,
                               digest=digest, last_steps=lasts, threads=1)
        if table:
            source.close()
        lasts = lasts or [-1] * n
        assert list(got) == [
            expected_step(k, c, s, past, future, last, digits, digest)
            for k, c, s, last in zip(keys, codes, steps, lasts, strict=True)
        ]


@pytest.mark.parametrize("form", ["scalar-time", "equal-times", "mixed-times"])
def test_verify_totp_matches_at_every_window_position(kernel: str, form: str) -> None:
    digest = DIGEST_OF[kernel]
    past = future = 3
    n = 7 * 5 + 3  # every position five times over, and a tail that fills no register
    keys = [bytes([i + 1]) * (10 + 7 * i % 90) for i in range(n)]
    step = 55_555_555
    steps = [step + (i % 3 if form == "mixed-times" else 0) for i in range(n)]
    times: Any = step * 30 if form == "scalar-time" else [s * 30 for s in steps]
    positions = [i % 7 - past for i in range(n)]
    codes = [code_of(k, s + p, 6, digest) for k, s, p in zip(keys, steps, positions, strict=True)]
    got = bulk.verify_totp(keys, codes, times, window=(past, future), digest=digest, threads=1)
    assert list(got) == [
        expected_step(k, c, s, past, future, -1, 6, digest)
        for k, c, s in zip(keys, codes, steps, strict=True)
    ]
    # A code off by one matches nowhere (bar a collision the oracle would show).
    wrong = [(c + 1) % 10**6 for c in codes]
    got = bulk.verify_totp(keys, wrong, times, window=(past, future), digest=digest, threads=1)
    assert list(got) == [
        expected_step(k, c, s, past, future, -1, 6, digest)
        for k, c, s in zip(keys, wrong, steps, strict=True)
    ]


@prop
@given(data=st.data())
def test_verify_hotp_look_ahead(kernel: str, data: st.DataObject) -> None:
    digest = DIGEST_OF[kernel]
    with _native.forced_kernels(kernel):
        n = data.draw(size_st)
        keys = data.draw(st.lists(keys_st, min_size=n, max_size=n))
        ahead = data.draw(st.integers(0, 4))
        base = data.draw(st.one_of(st.integers(0, (1 << 62)), st.integers(
            (1 << 32) - 6, (1 << 32) + 2)))
        offsets = data.draw(st.lists(st.integers(0, ahead + 1), min_size=n, max_size=n))
        codes = [code_of(k, base + o, 6, digest) for k, o in zip(keys, offsets, strict=True)]
        got = bulk.verify_hotp(keys, codes, base, look_ahead=ahead, digest=digest, threads=1)
        want = []
        for k, c in zip(keys, codes, strict=True):
            hits = [base + d for d in range(ahead + 1) if code_of(k, base + d, 6, digest) == c]
            want.append(hits[0] if hits else -1)
        assert list(got) == want


def test_long_keys_and_the_top_of_the_counter_range(kernel: str) -> None:
    digest = DIGEST_OF[kernel]
    block = 128 if digest == "sha512" else 64
    keys = [bytes(range(256))[:length] for length in (1, block - 1, block, block + 1, 300)] * 4
    counters = [U64, U64 - 1, (1 << 32) - 1, 1 << 32, 0] * 4
    got = bulk.hotp(keys, counters, digits=10, digest=digest, threads=1)
    assert list(got) == [code_of(k, c, 10, digest) for k, c in zip(keys, counters, strict=True)]


def test_environment_variable_selects_the_kernel() -> None:
    # One subprocess per instruction set: PYOTP_HW_KERNEL applies the name to every digest.
    isas = sorted({name.split("-", 1)[1] for name in KERNEL_NAMES})
    script = (
        "import sys; from pyotp_hw import bulk; "
        "print(bulk.kernel_name('sha1'), bulk.kernel_name('sha256'), bulk.kernel_name('sha512'),"
        " bulk.hotp(b'12345678901234567890', 1)[0])"
    )
    for isa in isas:
        env = dict(os.environ, PYOTP_HW_KERNEL=isa)
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, check=True).stdout.split()
        assert int(out[3]) == 287082
        for digest, name in zip(("sha1", "sha256", "sha512"), out[:3], strict=True):
            if f"{digest}-{isa}" in KERNEL_NAMES:
                assert name == f"{digest}-{isa}"


def test_unknown_or_unsupported_kernel_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown kernel"):
        with _native.forced_kernels("sha1-nonesuch"):
            pass
    unsupported = [k.name for k in _native.all_kernels() if not k.supported]
    for name in unsupported:
        with pytest.raises(ValueError, match="cannot run"):
            with _native.forced_kernels(name):
                pass


# ---------------------------------------------------------------- the AVX-512 source on AVX2

WIDE_SOURCES = ["drivers.c", "dispatch.c", "keytable.c", "onekey.c", "scalar.c", "probe.c",
                "sha1_portable.c", "sha256_portable.c", "sha512_portable.c", "sha1_avx512.c",
                "sha1_avx512x2.c", "sha256_avx512.c", "sha512_avx512.c"]


def _build_wide(tmp: Path) -> Any:
    """Compiles the core with OTP_WIDE_ON_AVX2 into ``tmp`` and imports it.

    The sources compile in parallel (the wide templates take a while each), then link into an
    extension module that exposes the same C API through cffi.
    """
    import sysconfig

    from cffi import FFI

    sys.path.insert(0, str(ROOT / "csrc"))
    try:
        import build_core  # the project's cffi build script: the same cdef
    finally:
        sys.path.pop(0)
    ffi = FFI()
    ffi.cdef(build_core._cdef_text())
    ffi.set_source("_otp_wide", '#include "otp_core.h"\n')
    glue = tmp / "_otp_wide.c"
    ffi.emit_c_code(str(glue))
    cc = os.environ.get("CC", "gcc")
    flags = ["-std=c11", "-O1", "-fPIC", "-DOTP_WIDE_ON_AVX2", "-Wall", "-Werror",
             f"-I{ROOT / 'csrc'}", f"-I{sysconfig.get_paths()['include']}"]
    jobs = [(str(glue), str(tmp / "glue.o"))] + [
        (str(ROOT / "csrc" / s), str(tmp / (s + ".o"))) for s in WIDE_SOURCES]
    procs = [subprocess.Popen([cc, *flags, "-c", src, "-o", obj], stderr=subprocess.PIPE)
             for src, obj in jobs]
    for proc in procs:
        _, err = proc.communicate()
        assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    built = tmp / ("_otp_wide" + importlib.machinery.EXTENSION_SUFFIXES[0])
    subprocess.run([cc, "-shared", "-o", str(built), *[obj for _, obj in jobs]], check=True)
    spec = importlib.util.spec_from_file_location("_otp_wide", built)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64")
                    or shutil.which(os.environ.get("CC", "gcc")) is None,
                    reason="needs an x86-64 machine with a C compiler")
def test_wide_kernels_on_avx2(tmp_path: Path) -> None:
    if "sha1-avx2" not in KERNEL_NAMES:
        pytest.skip("this CPU has no AVX2 to run the 16-lane code on")
    mod = _build_wide(tmp_path)
    ffi, lib = mod.ffi, mod.lib
    kernels = {ffi.string(lib.otp_kernel_name(lib.otp_kernel_at(i))).decode():
               lib.otp_kernel_at(i) for i in range(lib.otp_kernel_count())}
    import random

    rng = random.Random(4226)
    for name, ident in (("sha1-avx512", 1), ("sha1-avx512x2", 1), ("sha256-avx512", 2),
                        ("sha512-avx512", 3)):
        digest = name.split("-")[0]
        k = kernels[name]
        assert lib.otp_kernel_supported(k) == 1
        assert lib.otp_kernel_lanes(k) == {"sha512": 8, "sha1-avx512x2": 32}.get(
            digest if digest == "sha512" else name, 16)
        keys = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
                for _ in range(80)]
        holder = ffi.new("otp_keytable **")
        assert lib.otp_keytable_new(ident, len(keys), holder) == 0
        table = ffi.gc(holder[0], lib.otp_keytable_free)
        joined = b"".join(keys)
        offsets = array("Q", [0])
        for key in keys:
            offsets.append(offsets[-1] + len(key))
        assert lib.otp_keytable_load(k, table, 0, len(keys), joined, len(joined),
                                     ffi.from_buffer("uint64_t[]", offsets), 0, ffi.NULL) == 0
        for n in (1, 3, 4, 5, 8, 15, 16, 17, 31, 32, 33, 45, 64, 77):
            for shape in ("consecutive", "scattered", "same"):
                rows = {"consecutive": list(range(n)),
                        "scattered": [rng.randrange(len(keys)) for _ in range(n)],
                        "same": [rng.randrange(len(keys))] * n}[shape]
                counters = [rng.choice([rng.getrandbits(64), (1 << 32) + rng.randrange(-3, 3),
                                        U64]) for _ in range(n)]
                out = array("I", [0]) * n
                r = array("I", rows)
                c = array("Q", counters)
                assert lib.otp_hotp(k, table, ffi.from_buffer("uint32_t[]", r), 1,
                                    ffi.from_buffer("uint64_t[]", c), 1, n, 10,
                                    ffi.from_buffer("uint32_t[]", out), ffi.NULL) == 0
                want = [code_of(keys[i], ctr, 10, digest)
                        for i, ctr in zip(rows, counters, strict=True)]
                assert list(out) == want, (digest, n, shape)
                # Shared counter: generation and verification with a +-1 window.
                shared = array("Q", [rng.getrandbits(40)])
                assert lib.otp_hotp(k, table, ffi.from_buffer("uint32_t[]", r), 1,
                                    ffi.from_buffer("uint64_t[]", shared), 0, n, 7,
                                    ffi.from_buffer("uint32_t[]", out), ffi.NULL) == 0
                assert list(out) == [code_of(keys[i], shared[0], 7, digest) for i in rows]
                step = shared[0]
                offs = [rng.randrange(-2, 3) for _ in range(n)]
                codes = array("I", [code_of(keys[i], step + o, 6, digest)
                                    for i, o in zip(rows, offs, strict=True)])
                times = array("q", [step * 30])
                result = array("q", [0]) * n
                assert lib.otp_verify_totp(
                    k, table, ffi.from_buffer("uint32_t[]", r), 1,
                    ffi.from_buffer("uint32_t[]", codes), 1, ffi.from_buffer("int64_t[]", times),
                    0, n, 0, 30, 1, 1, 6, ffi.NULL, 0,
                    ffi.from_buffer("int64_t[]", result), ffi.NULL) == 0
                assert list(result) == [
                    expected_step(keys[i], c, step, 1, 1, -1, 6, digest)
                    for i, c in zip(rows, codes, strict=True)], (digest, n, shape)

