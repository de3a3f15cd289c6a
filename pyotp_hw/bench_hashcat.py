"""hashcat as a peer in ``pyotp-hw bench``: HMAC-SHA1 with a fixed key on this machine's CPU.

hashcat's mode 160 is HMAC-SHA1 with the key as the salt: the same work per hash as one HOTP-SHA1
code (two compressions from the key's midstates). Its benchmark mode (``-b``) runs its optimized
OpenCL kernel on every core through an OpenCL CPU runtime (PoCL), so it is compared with
pyotp-hw on as many threads, measured in the same run. Used only when ``hashcat`` and an OpenCL
device are installed (``apt-get install hashcat pocl-opencl-icd``); otherwise the row is left
out with the reason.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass

from .bench import Result
from .errors import InvalidArgument, OTPError

__all__ = ["HashcatSpeed", "HashcatFailed", "missing", "measure", "parse", "peer_result",
           "baseline_ns", "GROUP"]

# The group of pyotp-hw's multi-threaded rows, and the group whose pyotp row ratios refer to.
GROUP = "sha1 HOTP generation, one large batch"
_BASELINE = "sha1 HOTP generation"


class HashcatFailed(OTPError, RuntimeError):
    """hashcat could not be run or measured here; the message says why (the row is left out)."""


@dataclass(frozen=True)
class HashcatSpeed:
    """What hashcat's benchmark reported: hashes per second over all its devices."""

    hashes_per_second: float
    version: str
    devices: int
    cpu_share: float | None = None  # CPU seconds hashcat used over wall seconds x CPUs

    def describe(self) -> str:
        """One line: speed and how much of the machine hashcat got while it ran."""
        share = "" if self.cpu_share is None else f", {self.cpu_share:.0%} of the CPUs' time"
        return f"hashcat {self.version}: {self.hashes_per_second / 1e6:.1f} MH/s{share}"

    @property
    def ns_per_hash(self) -> float:
        """Nanoseconds per HMAC-SHA1 (all devices together)."""
        return 1e9 / self.hashes_per_second


def missing() -> str | None:
    """Why hashcat cannot run here, or None when it can."""
    exe = shutil.which("hashcat")
    if exe is None:
        return "hashcat is not installed (apt-get install hashcat pocl-opencl-icd)"
    try:
        info = subprocess.run([exe, "-I"], capture_output=True, text=True,  # noqa: S603
                              timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"hashcat -I failed: {exc}"
    if "Backend Device ID" not in info.stdout:
        return "hashcat finds no OpenCL device (install an OpenCL CPU runtime: pocl-opencl-icd)"
    return None


def parse(output: str) -> HashcatSpeed:
    """hashcat's ``--machine-readable`` benchmark lines: ``device:mode:...:ms:hashes/s``.

    Raises :class:`~pyotp_hw.errors.InvalidArgument` (a ``ValueError``) when none is mode 160.
    """
    total = 0.0
    devices = 0
    version = "unknown"
    for line in output.splitlines():
        if line.startswith("# version:"):
            version = line.split(":", 1)[1].strip()
            continue
        fields = line.strip().split(":")
        if len(fields) >= 6 and fields[1] == "160" and fields[0].isdigit():
            try:
                total += float(fields[-1])
            except ValueError:
                raise InvalidArgument("hashcat printed a mode-160 line without a speed") from None
            devices += 1
    if devices == 0:
        raise InvalidArgument("hashcat printed no mode-160 benchmark line")
    return HashcatSpeed(total, version, devices)


def measure(timeout: float = 600.0) -> HashcatSpeed:
    """Run ``hashcat -b -m 160`` (optimized kernel) once and return its speed.

    The first run on a machine compiles the OpenCL kernel (minutes on a busy machine; PoCL
    caches it afterwards). Raises :class:`HashcatFailed` (a ``RuntimeError``) with the reason
    when hashcat is missing or fails.
    """
    reason = missing()
    if reason is not None:
        raise HashcatFailed(reason)
    exe = shutil.which("hashcat") or "hashcat"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pyotp-hw-hashcat-") as session:
        try:
            done = subprocess.run(  # noqa: S603 (the hashcat found on PATH, fixed arguments)
                [exe, "-b", "-m", "160", "-O", "--machine-readable"],
                capture_output=True, text=True, timeout=timeout, check=False, cwd=session,
            )
        except subprocess.TimeoutExpired:
            raise HashcatFailed(f"hashcat's benchmark took longer than {timeout:.0f} s") from None
    if done.returncode != 0:
        raise HashcatFailed(f"hashcat exited with {done.returncode}: "
                           f"{(done.stderr or done.stdout).strip()[-300:]}")
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    try:
        speed = parse(done.stdout)
    except InvalidArgument as exc:
        raise HashcatFailed(str(exc)) from None
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    share = cpu / (wall * (cpus or 1)) if wall > 0 else None
    return HashcatSpeed(speed.hashes_per_second, speed.version, speed.devices, share)


def baseline_ns(results: Sequence[Result]) -> float | None:
    """pyotp's ns per HOTP-SHA1 code in a benchmark run (what the group's ratios refer to)."""
    return next((r.ns_per_unit for r in results
                 if r.group == _BASELINE and r.name.startswith("pyotp ")), None)


def peer_result(speed: HashcatSpeed, results: Sequence[Result]) -> Result:
    """hashcat's speed as a row of the multi-threaded HOTP-SHA1 group of a benchmark run."""
    base = baseline_ns(results)
    ns = speed.ns_per_hash
    return Result(
        group=GROUP, name=f"hashcat {speed.version} -m 160 -O (OpenCL, all cores)", kernel=None,
        threads=0, unit="code", units=0, ns_per_unit=ns, per_second=speed.hashes_per_second,
        ratio_to_pyotp=None if base is None else base / ns, baseline=_BASELINE,
    )
