"""Print a pip constraints file pinning every dependency to the lowest version pyproject allows.

Reads ``pyproject.toml`` (the build requirements, the dependencies and every extra), takes each
requirement's lower bound (``>=X`` or ``==X``) and pins ``name==X``, keeping its environment marker.
A name listed with several floors gets the highest (the one every extra that names it accepts).
A requirement without a lower bound is an error: every dependency must name the floor it needs.

Run:  python scripts/lowest_constraints.py [pyproject.toml] > constraints-lowest.txt
(``make lowest`` does this and installs the result into ``.venv-lowest``.)
"""

from __future__ import annotations

import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent


def requirements(pyproject: dict[str, object]) -> list[Requirement]:
    """Every requirement pyproject names except the project's own extras (``pyotp-hw[test]``)."""
    project = pyproject["project"]
    build = pyproject["build-system"]
    assert isinstance(project, dict) and isinstance(build, dict)
    texts = list(build.get("requires", [])) + list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        texts += extra
    own = canonicalize_name(project["name"])
    return [r for r in map(Requirement, texts) if canonicalize_name(r.name) != own]


def floor(req: Requirement) -> Version | None:
    """The lowest version the requirement admits, or None when it names no lower bound."""
    lows = [Version(s.version) for s in req.specifier if s.operator in (">=", "==", "~=")]
    return max(lows) if lows else None


def constraints(pyproject: dict[str, object]) -> list[str]:
    """``name==floor[; marker]`` lines by name; ValueError for a requirement with no floor."""
    pins: dict[tuple[str, str], Version] = {}
    unbounded = []
    for req in requirements(pyproject):
        low = floor(req)
        if low is None:
            unbounded.append(str(req))
            continue
        key = (canonicalize_name(req.name), str(req.marker) if req.marker else "")
        pins[key] = max(low, pins.get(key, low))
    if unbounded:
        raise ValueError("no lower bound in pyproject.toml for: " + ", ".join(unbounded))
    return [f"{name}=={version}" + (f"; {marker}" if marker else "")
            for (name, marker), version in sorted(pins.items())]


def main(argv: list[str]) -> int:
    """Print the constraints for the pyproject named in argv (default: this checkout's)."""
    path = Path(argv[0]) if argv else ROOT / "pyproject.toml"
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    try:
        lines = constraints(data)
    except ValueError as exc:
        print(f"lowest_constraints: {exc}", file=sys.stderr)
        return 2
    print(f"# The lowest versions {path.name} allows (scripts/lowest_constraints.py).")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
