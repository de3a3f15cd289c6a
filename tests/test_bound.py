"""The bound model: its operation counts against the compiled kernels, and the probes' code.

The counts of pyotp_hw.bound_model come from the kernels' source; here they are compared with
the instructions the compiler actually emitted into the module (objdump), and the probe loops
are checked to hold the instruction they claim to time, unfolded.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from functools import lru_cache

import pytest

from pyotp_hw import _core, _native, bound
from pyotp_hw.bound_model import model_for, sha1_counts, sha2_counts

OBJDUMP = shutil.which("objdump")
needs_objdump = pytest.mark.skipif(OBJDUMP is None, reason="objdump (binutils) is not installed")


@lru_cache(maxsize=1)
def _disassembly() -> dict[str, list[str]]:
    text = subprocess.run([OBJDUMP or "objdump", "-d", "--no-show-raw-insn", _core.__file__],
                          capture_output=True, text=True, check=True, timeout=120).stdout
    functions: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        head = re.match(r"^[0-9a-f]+ <([^>]+)>:$", line)
        if head:
            current = functions.setdefault(head.group(1), [])
        elif current is not None and "\t" in line:
            parts = line.split("\t")
            if len(parts) > 1 and parts[1].strip():
                current.append(parts[1].split()[0])
    return functions


def _mnemonics(function: str) -> Counter[str]:
    return Counter(_disassembly()[function])


@needs_objdump
@pytest.mark.parametrize("function,model,wide", [
    ("otp_sha1_trunc_avx512", sha1_counts("avx512"), True),
    ("otp_sha1_trunc_avx2", sha1_counts("avx2"), False),
    ("otp_sha256_trunc_avx512", sha2_counts("avx512", 32), True),
    ("otp_sha512_trunc_avx512", sha2_counts("avx512", 64), True),
])
def test_model_counts_match_the_compiled_kernels(function: str, model: Counter[str],
                                                 wide: bool) -> None:
    if function not in _disassembly():
        pytest.skip(f"{function} is not compiled into this module")
    m = _mnemonics(function)
    # The trunc function holds the group twice: the loop and the padded tail.
    shifts = sum(v for k, v in m.items() if re.fullmatch(r"vp(ro[lr]|s[rl]l)[dq]?|vps[rl]l[dq]", k))
    alu = shifts + sum(v for k, v in m.items() if re.fullmatch(
        r"vp(add|xor|and|or|ternlog|andn)[dq]?", k))
    assert shifts / 2 == pytest.approx(model["shift"], rel=0.05)
    assert alu / 2 == pytest.approx(model["alu"], rel=0.10)


@needs_objdump
@pytest.mark.parametrize("probe,insn", [
    ("probe_clock", "add"), ("probe_z_rol", "vprold"), ("probe_z_tern", "vpternlogd"),
    ("probe_y_shli", "vpslld"), ("probe_x_s1r", "sha1rnds4"), ("probe_x_s2r", "sha256rnds2"),
])
def test_probe_loops_hold_their_instruction(probe: str, insn: str) -> None:
    funcs = _disassembly()
    if probe not in funcs:
        pytest.skip("probes are compiled for x86-64 only")
    assert Counter(funcs[probe])[insn] == 48  # 12 chains, 4 times per iteration, not folded


def test_probes_measure_plausible_rates() -> None:
    ghz, probes = bound.measure_probes(repeat=3)
    if not _native.probes():
        pytest.skip("no probes on this architecture")
    assert 0.3 < ghz < 10
    for p in probes.values():
        # Under load a probe only looks slower; nothing runs more than 8 vector ops a cycle.
        assert 0 < p.value < 8 if p.kind == "tput" else p.value > 0.3


def test_every_kernel_has_a_model_and_a_bound() -> None:
    fake = {f"tput:{n}": bound.Probe(n, "tput", 2.0) for n in (
        "vpaddd.z", "vprold.z", "vpaddd.y", "vpslld.y", "sha1rnds4", "sha1nexte", "sha1msg1",
        "sha1msg2", "sha256rnds2", "sha256msg1", "sha256msg2")}
    fake.update({f"lat:{n}": bound.Probe(n, "lat", 1.0) for n in (
        "vpaddd.z", "vprold.z", "vpternlogd.z", "vpaddd.y", "sha1rnds4", "sha256rnds2")})
    for k in _native.all_kernels():
        model = model_for(k.name, k.lanes)
        assert model is not None, k.name
        found = bound.bound_of(model, fake)
        assert found is not None and found[0] > 0, k.name


def test_interleaved_groups_halve_the_latency_bound() -> None:
    one, two = model_for("sha1-avx512", 16), model_for("sha1-avx512x2", 32)
    assert one is not None and two is not None
    assert one.per_code == two.per_code and two.in_flight == 2 * one.in_flight


def _cpuinfo() -> dict[str, str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return {}
    first = text.split("\n\n", 1)[0]
    pairs = (line.partition(":") for line in first.splitlines())
    return {k.strip(): v.strip() for k, _, v in pairs}


def test_sha1_dispatch_picks_the_interleave_for_the_cpu() -> None:
    names = {k.name for k in _native.all_kernels() if k.supported}
    if "sha1-avx512" not in names:
        pytest.skip("no AVX-512 on this CPU")
    info = _cpuinfo()
    if not info:
        pytest.skip("no /proc/cpuinfo")
    # AMD with AVX-512 (Zen 4, family 25, and Zen 5, family 26) runs the two-group kernel faster.
    amd = info.get("vendor_id") == "AuthenticAMD" and int(info.get("cpu family", 0)) >= 25
    best = _native.ffi.string(_native.lib.otp_kernel_name(_native.lib.otp_kernel_best(1)))
    assert best.decode() == ("sha1-avx512x2" if amd else "sha1-avx512")
