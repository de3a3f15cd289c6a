"""Run pyotp's test.py with unittest, pyotp aliased to pyotp_hw.pyotp; print counts as JSON.

Usage: python tests/pyotp_suite/run_upstream.py DIR   (DIR holds test.py and nothing of pyotp)

unittest rather than pytest: one upstream test patches unicodedata.normalize for the whole
process and asserts it is never called, and pytest's own reporting calls it.
"""

from __future__ import annotations

import json
import sys
import unittest
from pathlib import Path
from typing import Any

import alias  # noqa: F401  (the sys.modules mapping; must run before test.py imports pyotp)

import pyotp_hw.pyotp


class CountingResult(unittest.TextTestResult):
    """A text result that also counts subtests, passed and failed, and keeps failure reports."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subtests_passed = 0
        self.subtests_failed = 0

    def addSubTest(self, test: Any, subtest: Any, err: Any) -> None:
        if err is None:
            self.subtests_passed += 1
        else:
            self.subtests_failed += 1
        super().addSubTest(test, subtest, err)


def main(directory: str) -> int:
    sys.path.insert(0, directory)
    module = __import__("test")
    assert Path(module.__file__).resolve().parent == Path(directory).resolve()
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=1, resultclass=CountingResult)
    result = runner.run(suite)
    assert isinstance(result, CountingResult)
    pyotp_modules = {name: getattr(mod, "__name__", None) for name, mod in sys.modules.items()
                     if name == "pyotp" or name.startswith("pyotp.")}
    report = {
        "tests_run": result.testsRun,
        "failures": [test.id() for test, _ in result.failures],
        "errors": [test.id() for test, _ in result.errors],
        "skipped": [test.id() for test, _ in result.skipped],
        "unexpected_successes": len(result.unexpectedSuccesses),
        "expected_failures": len(result.expectedFailures),
        "subtests_passed": result.subtests_passed,
        "subtests_failed": result.subtests_failed,
        "suite_pyotp_is_pyotp_hw": module.pyotp is pyotp_hw.pyotp,
        "pyotp_modules": pyotp_modules,
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
