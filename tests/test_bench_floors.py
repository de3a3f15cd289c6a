"""The issue's speed floors as benchmark figures: reported as met or not, never an error."""

from __future__ import annotations

from pyotp_hw import bench


def _row(group: str, name: str, ratio: float | None) -> bench.Result:
    return bench.Result(group=group, name=name, kernel=None, threads=1, unit="code", units=1,
                        ns_per_unit=1.0, per_second=1e9, ratio_to_pyotp=ratio)


def test_the_two_issue_floors_are_known() -> None:
    got = {(f.group, f.row): f.minimum for f in bench.FLOORS}
    assert got == {("sha1 HOTP generation", "pyotp-hw sha1-portable"): 40.0,
                   ("sha1 TOTP.now(), one code per call", "pyotp-hw sha1-portable"): 3.0}


def test_met_not_met_and_not_measured() -> None:
    rows = [_row("sha1 HOTP generation", "pyotp-hw sha1-portable", 38.5),
            _row("sha1 HOTP generation", "pyotp-hw sha1-avx512", 400.0),
            _row("sha1 TOTP.now(), one code per call", "pyotp-hw sha1-portable", 3.0)]
    hotp, now = bench.check_floors(rows)
    assert hotp.measured == 38.5 and hotp.met is False
    assert hotp.line() == ("issue floor: portable bulk HOTP-SHA1 >= 40x pyotp HOTP.at: "
                           "measured 38.5x, NOT met")
    assert now.measured == 3.0 and now.met is True and now.line().endswith("3.0x, met")
    missing = bench.check_floors(rows[:1])[1]
    assert missing.measured is None and missing.met is None
    assert missing.line().endswith("not measured in this run")
    assert missing.to_json()["met"] is None and hotp.to_json()["minimum"] == 40.0


def test_floors_go_into_the_json() -> None:
    data = bench.to_json([_row("sha1 HOTP generation", "pyotp-hw sha1-portable", 41.0)])
    assert [f["met"] for f in data["floors"]] == [True, None]
    assert data["floors"][0]["measured"] == 41.0
