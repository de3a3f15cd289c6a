"""``pyotp-hw site``: its errors are one clear line each (nothing opened or written first), and
``site notice-templates`` names the folder of the seed-worded notices."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SEED = ("You have recently changed the 2 Step Verification settings for your account. The "
        "method of obtaining a security code is to use an authentication app. At any point of "
        "time, you may view or change this setup from your security settings page.")


def run(*args: str, key: str | None = "k") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYOTP_HW_SITE_API_KEY"}
    if key is not None:
        env["PYOTP_HW_SITE_API_KEY"] = key
    return subprocess.run([sys.executable, "-m", "pyotp_hw", "site", *args], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(("args", "key", "message"), [
    ([], "k", "service API key"),
    (["--service", "ftp://x"], "k", "http://HOST:PORT"),
    (["--listen", "nope"], "k", "--listen must be HOST:PORT"),
    (["--reauth-seconds", "1"], "k", "reauth_seconds"),
])
def test_serve_refuses_bad_settings(tmp_path: Path, args: list[str], key: str,
                                    message: str) -> None:
    db = tmp_path / "site.db"
    base = ["serve", "--service", "http://127.0.0.1:1", "--db", str(db)]
    out = run(*base, *args, key=None if not args else key)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert not db.exists()


def test_notice_templates_hold_the_seed_wording() -> None:
    out = run("notice-templates")
    assert out.returncode == 0
    folder = Path(out.stdout.strip())
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(f"{k}.{part}" for k in ("enabled", "replaced", "disabled")
                           for part in ("subject", "txt", "html"))
    for kind in ("enabled", "replaced"):
        assert SEED.split(" The method")[0] in (folder / f"{kind}.txt").read_text()
        assert "authentication app" in (folder / f"{kind}.txt").read_text()
    assert " ".join((folder / "enabled.txt").read_text().split()).count(SEED) == 1
