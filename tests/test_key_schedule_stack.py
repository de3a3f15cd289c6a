"""The key schedules leave no key material on the stack (issue 10, section 3.13).

A small C harness (tests/csrc/stack_probe.c, compiled here with the system C compiler) paints
64 KiB of stack, calls the core's ``otp_keytable_load`` with one kernel's key schedule on that
region, and copies the region out with no call in between. The test then looks in it for every
32-bit word (in either byte order) of what must not survive: the raw key blocks, key ^ ipad and
key ^ opad (what the SIMD schedules hold in vectors and may spill), and the midstates they
produce (which are as good as the key). The keys are random, so a word found by chance is a
one-in-a-million event per run.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from pyotp_hw import _native as nat

HERE = Path(__file__).resolve().parent
LANES = 16  # fills the widest kernel (AVX-512) at least once, with a tail for the others
KEYS = 19


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        pytest.skip("needs a C compiler to build the stack probe")
    out = tmp_path_factory.mktemp("probe") / "stack_probe.so"
    subprocess.run([cc, "-std=c11", "-O1", "-shared", "-fPIC", "-fno-omit-frame-pointer",
                    str(HERE / "csrc" / "stack_probe.c"), "-o", str(out)], check=True)
    lib = ctypes.CDLL(str(out))
    lib.probe_load.restype = ctypes.c_int
    lib.probe_load.argtypes = [ctypes.c_void_p] * 3 + [ctypes.c_size_t, ctypes.c_char_p,
                                                       ctypes.c_size_t, ctypes.c_char_p]
    lib.probe_depth.restype = ctypes.c_size_t
    return lib


def _words(data: bytes) -> set[int]:
    """Every aligned 32-bit word of data in both byte orders, minus the dull ones."""
    found = set()
    for (w,) in struct.iter_unpack("<I", data[: len(data) // 4 * 4]):
        found.add(w)
        found.add(int.from_bytes(w.to_bytes(4, "little"), "big"))
    # Zero padding and the bare pads come from the zero bytes after a short key: not secret.
    return found - {0, 0x36363636, 0x5C5C5C5C, 0xA5A5A5A5}


def _leaks(dump: bytes, needles: set[int]) -> list[int]:
    return [off for off, (w,) in enumerate(struct.iter_unpack("<I", dump)) if w in needles]


kernels = [k for k in nat.all_kernels() if k.supported]


def _run(probe: ctypes.CDLL, load: int, kernel: nat.Kernel) -> tuple[bytes, set[int]]:
    """The probe region after ``load`` built a table of random keys, and the words to find."""
    digest = nat.DIGEST_IDS[kernel.digest]
    key_len = 128 if kernel.digest == "sha512" else 64  # whole blocks: every pad word is secret
    keys = [(hashlib.sha512(b"stack probe %d %s" % (i, kernel.name.encode())).digest() * 2)
            [:key_len] for i in range(KEYS)]
    table = nat.NativeKeyTable(digest, keys)
    try:
        dump = ctypes.create_string_buffer(probe.probe_depth())
        ptr = table.acquire()
        try:
            status = probe.probe_load(load, nat.pointer_address(kernel.ptr),
                                      nat.pointer_address(ptr), KEYS, b"".join(keys), key_len,
                                      dump)
        finally:
            table.release()
        assert status == 0
        address, size = table.memory_region()
        midstates = ctypes.string_at(address, size)
    finally:
        table.close()
    raw = bytes(dump.raw)
    assert raw.count(b"\xa5" * 64) > 0, "the probe region was not painted"
    pads = b"".join(bytes(b ^ p for b in k) for k in keys for p in (0x36, 0x5C))
    return raw, _words(b"".join(keys)) | _words(pads) | _words(midstates)


def test_the_probe_finds_what_a_careless_function_leaves(probe: ctypes.CDLL) -> None:
    careless = ctypes.cast(probe.probe_careless_load, ctypes.c_void_p).value
    assert careless is not None
    raw, needles = _run(probe, careless, kernels[0])
    assert len(_leaks(raw, needles)) >= 64  # at least a whole key block's words


@pytest.mark.parametrize("kernel", kernels, ids=[k.name for k in kernels])
def test_key_schedule_leaves_no_key_material_on_the_stack(probe: ctypes.CDLL,
                                                          kernel: nat.Kernel) -> None:
    raw, needles = _run(probe, nat.entry_address("otp_keytable_load"), kernel)
    found = _leaks(raw, needles)
    assert not found, (f"{kernel.name}: {len(found)} words of key material left on the stack "
                       f"(first at offset {4 * found[0]} of the probe region)")
