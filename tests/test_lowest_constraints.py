"""scripts/lowest_constraints.py: the constraints file of the lowest versions pyproject allows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="Python 3.11's tomllib")
ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "lowest_constraints.py"

SAMPLE = """
[build-system]
requires = ["setuptools>=68", "cffi>=1.16"]

[project]
name = "demo-pkg"
dependencies = ["cffi>=1.15", "Typing_Extensions>=4.0,<5"]

[project.optional-dependencies]
a = ["cryptography>=41", "numpy>=1.26; python_version >= '3.12'", "numpy>=1.24"]
b = ["cryptography>=42.0.1", "psycopg[binary]>=3.1.4", "demo-pkg[a]"]
"""


def _run(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "pyproject.toml"
    path.write_text(text)
    return subprocess.run([sys.executable, str(SCRIPT), str(path)], capture_output=True,
                          text=True, timeout=60)


def test_pins_each_floor_the_highest_where_several(tmp_path: Path) -> None:
    proc = _run(tmp_path, SAMPLE)
    assert proc.returncode == 0, proc.stderr
    lines = [x for x in proc.stdout.splitlines() if not x.startswith("#")]
    assert lines == [
        "cffi==1.16",                       # build floor above the runtime one
        "cryptography==42.0.1",             # the extra that needs more wins
        "numpy==1.24",
        'numpy==1.26; python_version >= "3.12"',  # markers kept, as pip reads them
        "psycopg==3.1.4",                   # extras dropped: a constraint names the package
        "setuptools==68",
        "typing-extensions==4.0",           # normalised names
    ]


def test_a_requirement_without_a_floor_is_refused(tmp_path: Path) -> None:
    proc = _run(tmp_path, SAMPLE.replace('"cffi>=1.15"', '"cffi"'))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == "lowest_constraints: no lower bound in pyproject.toml for: cffi"


def test_this_projects_pyproject_has_a_floor_for_every_dependency(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    pinned = {x.split("==")[0] for x in proc.stdout.splitlines() if "==" in x}
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    named = set()
    for text in data["build-system"]["requires"] + data["project"]["dependencies"] + [
            r for extra in data["project"]["optional-dependencies"].values() for r in extra]:
        name = text.split(";")[0].split("[")[0]
        for op in (">=", "==", "<", ">", "~=", "!="):
            name = name.split(op)[0]
        named.add(name.strip().lower().replace("_", "-"))
    named.discard("pyotp-hw")
    assert pinned == named


@pytest.mark.parametrize("name", ["cryptography", "pyscard", "psycopg"])
def test_the_lowest_environment_got_those_versions(name: str) -> None:
    lowest = ROOT / ".venv-lowest"
    constraints = lowest / "constraints.txt"
    if not constraints.exists():
        pytest.skip("no .venv-lowest here (make lowest builds it)")
    if Path(sys.prefix).resolve() != lowest.resolve():
        pytest.skip("runs inside .venv-lowest (make lowest)")
    from importlib.metadata import version

    from packaging.version import Version

    pins = dict(x.split("==") for x in constraints.read_text().splitlines() if "==" in x)
    assert Version(version(name)) == Version(pins[name])
