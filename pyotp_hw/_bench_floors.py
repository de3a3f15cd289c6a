"""The core issue's speed floors, as benchmark figures: measured, reported, never a test failure.

Two figures the project set itself: with the portable kernel, bulk HOTP-SHA1 generates codes at
least 40 times as fast per code as pyotp's ``HOTP.at``, and ``TOTP.now()`` runs at least 3 times as
fast as pyotp's. How close a CPU comes depends on how fast it runs pyotp's Python relative to
portable C (on AMD Zen 5 pyotp gains most), so ``pyotp-hw bench`` and ``bench/ratios.py`` say
whether each floor is met on this machine; CI guards only against large regressions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["FLOORS", "Floor", "FloorCheck", "check_floors"]


@dataclass(frozen=True)
class Floor:
    """A speed floor: ``row`` of ``group`` runs at least ``minimum`` times as fast as pyotp."""

    title: str
    group: str
    row: str
    minimum: float
    baseline: str

    def verdict(self, measured: float | None) -> str:
        """One line: the floor, the measured ratio and whether it is met."""
        head = f"issue floor: {self.title} >= {self.minimum:g}x {self.baseline}"
        if measured is None:
            return f"{head}: not measured in this run"
        state = "met" if measured >= self.minimum else "NOT met"
        return f"{head}: measured {measured:.1f}x, {state}"


FLOORS = (
    Floor("portable bulk HOTP-SHA1", "sha1 HOTP generation", "pyotp-hw sha1-portable", 40.0,
          "pyotp HOTP.at"),
    Floor("portable TOTP.now()", "sha1 TOTP.now(), one code per call", "pyotp-hw sha1-portable",
          3.0, "pyotp TOTP.now"),
)


@dataclass(frozen=True)
class FloorCheck:
    """A floor and what this run measured for it (None when the run did not include its row)."""

    floor: Floor
    measured: float | None

    @property
    def met(self) -> bool | None:
        """True or False, or None when not measured."""
        return None if self.measured is None else self.measured >= self.floor.minimum

    def line(self) -> str:
        """The report line (see :meth:`Floor.verdict`)."""
        return self.floor.verdict(self.measured)

    def to_json(self) -> dict[str, object]:
        """JSON-ready fields: title, group, row, minimum, measured, met."""
        f = self.floor
        return {"title": f.title, "group": f.group, "row": f.row, "minimum": f.minimum,
                "baseline": f.baseline, "measured": self.measured, "met": self.met}


class _Row(Protocol):
    """What a floor reads of a benchmark row (a bench.Result, which imports this module)."""

    @property
    def group(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def ratio_to_pyotp(self) -> float | None: ...


def check_floors(results: Sequence[_Row]) -> list[FloorCheck]:
    """Each floor against the ratio to pyotp of its row among ``results`` (bench.Result rows)."""
    ratios = {(r.group, r.name): r.ratio_to_pyotp for r in results}
    return [FloorCheck(f, ratios.get((f.group, f.row))) for f in FLOORS]
