"""scripts/system-deps.sh installs what is missing and never touches a running service.

apt-get, dpkg-query and every service tool are stand-ins on PATH that record how they were
called; the apt-get stand-in also records what the policy-rc.d in force answers for a restart,
as a package's maintainer script would ask it through invoke-rc.d.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "system-deps.sh"
SERVICE_TOOLS = ["pkill", "killall", "pg_ctlcluster", "pg_ctl", "systemctl", "service",
                 "invoke-rc.d"]


def _tool(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def _run(tmp_path: Path, installed: set[str], policy_exists: bool = False
         ) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    calls.write_text("")
    policy = tmp_path / "policy-rc.d"
    if policy_exists:
        policy.write_text("#!/bin/sh\nexit 0\n")
        policy.chmod(0o755)
    listed = " ".join(sorted(installed))
    _tool(bin_dir, "dpkg-query", f'for p in {listed}; do [ "$3" = "$p" ] && '
          'printf "install ok installed" && exit 0; done; exit 1\n')
    _tool(bin_dir, "apt-get", f'echo "apt-get $*" >> {calls}\n'
          f'if [ "$1" = install ]; then "{policy}" pcscd restart; '
          f'echo "policy pcscd restart: $?" >> {calls}; '
          f'echo "NEEDRESTART_MODE=$NEEDRESTART_MODE" >> {calls}; fi\n')
    for name in SERVICE_TOOLS:
        _tool(bin_dir, name, f'echo "{name} $*" >> {calls}\n')
    _tool(bin_dir, "id", "echo 0\n")  # as root: no sudo
    env = dict(os.environ, PATH=f"{bin_dir}:/usr/bin:/bin", PYOTP_HW_POLICY_RC_D=str(policy))
    proc = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True,
                          timeout=60)
    return proc, calls, policy


def test_installs_missing_packages_with_services_held(tmp_path: Path) -> None:
    proc, calls, policy = _run(tmp_path, installed={"gcc", "make", "swig"})
    assert proc.returncode == 0, proc.stderr
    log = calls.read_text().splitlines()
    install = next(line for line in log if line.startswith("apt-get install"))
    assert "postgresql" in install and "pcscd" in install and " gcc" not in install
    # While apt-get ran, a maintainer script asking to restart pcscd was refused (101) ...
    assert "policy pcscd restart: 101" in log and "NEEDRESTART_MODE=l" in log
    # ... no service tool ran, and the temporary policy is gone afterwards.
    assert not [line for line in log if line.split()[0] in SERVICE_TOOLS], log
    assert not policy.exists()


def test_an_existing_policy_is_left_alone(tmp_path: Path) -> None:
    proc, calls, policy = _run(tmp_path, installed=set(), policy_exists=True)
    assert proc.returncode == 0, proc.stderr
    assert "policy pcscd restart: 0" in calls.read_text()
    assert policy.read_text() == "#!/bin/sh\nexit 0\n"


def test_nothing_missing_runs_nothing(tmp_path: Path) -> None:
    listed = re.search(r"^pkgs=\(([^)]*)\)", SCRIPT.read_text(encoding="utf-8"), re.M)
    assert listed is not None, "scripts/system-deps.sh has no pkgs=(...) line"
    everything = set(listed.group(1).split())
    proc, calls, policy = _run(tmp_path, installed=everything)
    assert proc.returncode == 0 and calls.read_text() == "" and not policy.exists()
