"""cffi build script for ``pyotp_hw._core`` (API mode, out of line).

Used by setup.py (``cffi_modules``) and by scripts/sanitize.py. Not installed with the package.
Environment:
  PYOTP_HW_STRICT=1     warnings are errors (CI and `make test` set it)
  PYOTP_HW_SANITIZE=1   build with AddressSanitizer and UndefinedBehaviorSanitizer
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

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
