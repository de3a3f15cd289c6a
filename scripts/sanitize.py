"""Build the C core with AddressSanitizer + UndefinedBehaviorSanitizer and run the core tests on it.

The instrumented module goes to build-asan/pyotp_hw/ beside a copy of the package's Python files,
so the normal build is untouched. Python itself is not instrumented, so libasan is preloaded;
leak detection is off because the interpreter keeps memory until exit by design.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build-asan"
CORE_TESTS = [
    "tests/test_vectors.py",
    "tests/test_properties.py",
    "tests/test_bulk.py",
    "tests/test_scalar_api.py",
    "tests/test_scalar_bound.py",
    "tests/test_keys.py",
    "tests/test_kernels.py",
    "tests/test_threads.py",
    "tests/test_keytable_close.py",
    "tests/test_keytable_locking.py",
    "tests/test_keytable_lists.py",
    "tests/test_key_schedule_stack.py",
    "tests/test_bulk_numbers.py",
]


def runtime_library(name: str) -> str:
    """The path of a sanitizer runtime as the C compiler knows it."""
    path = subprocess.run(["gcc", f"-print-file-name={name}"], capture_output=True, text=True,
                          check=True).stdout.strip()
    if not os.path.isabs(path):
        raise SystemExit(f"sanitize: gcc does not know {name}; install gcc's sanitizer runtimes")
    return path


def build() -> None:
    """Compile the instrumented module into build-asan/."""
    if OUT.exists():
        shutil.rmtree(OUT)
    shutil.copytree(ROOT / "pyotp_hw", OUT / "pyotp_hw",
                    ignore=shutil.ignore_patterns("*.so", "*.c", "__pycache__"))
    env = dict(os.environ, PYOTP_HW_SANITIZE="1", PYOTP_HW_STRICT="1")
    # The same setup.py route as a normal install, with its outputs kept inside build-asan/.
    subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--force",
         "--build-lib", str(OUT / "lib"), "--build-temp", str(OUT / "tmp")],
        cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
    )
    built = list((OUT / "lib" / "pyotp_hw").glob("_core*.so"))
    if not built:
        raise SystemExit("sanitize: the instrumented module was not built")
    linked = subprocess.run(["ldd", str(built[0])], capture_output=True, text=True).stdout
    if "libasan" not in linked or "libubsan" not in linked:
        raise SystemExit("sanitize: the module is not linked against libasan and libubsan")
    shutil.copy2(built[0], OUT / "pyotp_hw" / built[0].name)


def run_tests(extra: list[str]) -> int:
    """Run the core tests against the instrumented module; return pytest's status."""
    env = dict(os.environ)
    env.update(
        LD_PRELOAD=" ".join([runtime_library("libasan.so"), runtime_library("libubsan.so")]),
        ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1",
        UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1",
        PYTHONPATH=str(OUT),
        HYPOTHESIS_PROFILE="sanitize",
        PYOTP_HW_EXPECT_CORE=str(OUT),  # tests/conftest.py stops if another core is imported
    )
    check = (
        "import pyotp_hw._core as c, sys; "
        f"sys.exit(0 if c.__file__.startswith({str(OUT)!r}) else 1)"
    )
    if subprocess.run([sys.executable, "-c", check], env=env, cwd=OUT).returncode != 0:
        raise SystemExit("sanitize: the tests would not load the instrumented module")
    # --import-mode=append: the default (prepend) puts the checkout first on sys.path, and the
    # tests then imported the uninstrumented pyotp_hw there instead of build-asan's.
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--benchmark-disable",
           "--import-mode=append", "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"),
           *[str(ROOT / t) for t in CORE_TESTS], *extra]
    # On JOBS processes, as make unit (each inherits the preloaded runtimes). The timing tests
    # (marked serial) skip themselves under a sanitizer, so none needs a CPU to itself here.
    if not any(arg.startswith("-n") for arg in extra):
        cmd += ["-n", os.environ.get("JOBS", "2")]
    return subprocess.run(cmd, env=env, cwd=OUT).returncode


def main() -> int:
    """Build, then test."""
    if importlib.util.find_spec("cffi") is None:
        raise SystemExit("sanitize: cffi is missing; run it with the project's virtualenv")
    build()
    return run_tests(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
