"""cffi build script for ``pyotp_hw._core`` (API mode, out of line).

Used by setup.py (``cffi_modules``) and by scripts/sanitize.py. Not installed with the package.
Environment:
  PYOTP_HW_STRICT=1     warnings are errors (CI and `make test` set it)
  PYOTP_HW_SANITIZE=1   build with AddressSanitizer and UndefinedBehaviorSanitizer
  PYOTP_HW_BUILD_JOBS=N compile N sources at a time (default: the CPUs this process may use)
"""

from __future__ import annotations

import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cffi import FFI

HERE = Path(__file__).resolve().parent
HEADER = HERE / "otp_core.h"

# Every source is compiled with the common flags. Each SIMD kernel file selects its own
# instruction set for the functions it defines (target pragmas, see mb_target.h), and compiles to
# nothing where the instruction set does not exist (aarch64 and others).
SOURCES = [
    "drivers.c",
    "dispatch.c",
    "keytable.c",
    "onekey.c",
    "scalar.c",
    "probe.c",
    "sha1_portable.c",
    "sha256_portable.c",
    "sha512_portable.c",
    "sha1_shani.c",
    "sha1_avx2.c",
    "sha1_avx512.c",
    "sha1_avx512x2.c",
    "sha256_shani.c",
    "sha256_avx2.c",
    "sha256_avx512.c",
    "sha512_avx2.c",
    "sha512_avx512.c",
]
# Headers the sources include: a change to one rebuilds the module.
DEPENDS = sorted(str(Path("csrc") / p.name) for p in HERE.glob("*.h"))


def _cdef_text() -> str:
    text = HEADER.read_text(encoding="utf-8")
    match = re.search(r"/\* CDEF-BEGIN \*/(.*)/\* CDEF-END \*/", text, re.S)
    if match is None:
        raise RuntimeError("otp_core.h lacks its CDEF markers")
    # cffi's cdef knows integer #defines only in the plain "#define NAME VALUE" form.
    return match.group(1)


def compile_flags() -> list[str]:
    """Flags for every C file of the core."""
    flags = ["-std=c11", "-O3", "-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes"]
    if os.environ.get("PYOTP_HW_STRICT") == "1":
        flags.append("-Werror")
    if os.environ.get("PYOTP_HW_SANITIZE") == "1":
        flags += ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
                  "-fno-sanitize-recover=all"]
    return flags


def link_flags() -> list[str]:
    """Flags for linking the extension module."""
    if os.environ.get("PYOTP_HW_SANITIZE") == "1":
        return ["-fsanitize=address,undefined"]
    return []


def _compile_sources_in_parallel() -> None:
    """Let the build compile the module's sources side by side.

    setuptools compiles an extension's sources one after another; the kernels (one file per
    instruction set, the sanitizer build especially) then take minutes of one CPU while the
    others idle. This wraps the compiler's ``compile`` with the same steps as setuptools' own
    (set up, then ``_compile`` per object), run on a thread pool: each ``_compile`` spawns one
    compiler process. Where those private steps are missing, the build stays serial.
    """
    try:
        from distutils.ccompiler import CCompiler
    except ImportError:  # pragma: no cover - setuptools always provides distutils
        return
    serial = CCompiler.compile
    if getattr(serial, "_pyotp_hw_parallel", False):
        return
    if not all(hasattr(CCompiler, name) for name in ("_setup_compile", "_get_cc_args",
                                                      "_compile")):
        return  # pragma: no cover - an unknown setuptools: keep its own loop
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    jobs = int(os.environ.get("PYOTP_HW_BUILD_JOBS", "0")) or (
        len(usable) if usable else os.cpu_count() or 1)

    def compile_all(self: Any, sources: Any, output_dir: Any = None, macros: Any = None,
                    include_dirs: Any = None, debug: Any = False, extra_preargs: Any = None,
                    extra_postargs: Any = None, depends: Any = None) -> Any:
        if jobs <= 1 or len(sources) <= 1:
            return serial(self, sources, output_dir, macros, include_dirs, debug,
                          extra_preargs, extra_postargs, depends)
        macros, objects, extra_postargs, pp_opts, build = self._setup_compile(
            output_dir, macros, include_dirs, sources, depends, extra_postargs)
        cc_args = self._get_cc_args(pp_opts, debug, extra_preargs)
        todo = [(obj, *build[obj]) for obj in objects if obj in build]
        with ThreadPoolExecutor(jobs) as pool:
            # list(): the first compile error is raised here, as the serial loop would.
            list(pool.map(lambda job: self._compile(job[0], job[1], job[2], cc_args,
                                                    extra_postargs, pp_opts), todo))
        return objects

    compile_all._pyotp_hw_parallel = True  # type: ignore[attr-defined]
    CCompiler.compile = compile_all  # type: ignore[method-assign]


_compile_sources_in_parallel()

ffibuilder = FFI()
ffibuilder.cdef(_cdef_text())
ffibuilder.set_source(
    "pyotp_hw._core",
    '#include "otp_core.h"\n',
    sources=[str(Path("csrc") / s) if not Path(s).is_absolute() else s for s in SOURCES],
    include_dirs=["csrc"],
    depends=DEPENDS,
    extra_compile_args=compile_flags() if sys.platform != "win32" else [],
    extra_link_args=link_flags() if sys.platform != "win32" else [],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
