"""``pyotp-hw vault`` with a FIDO2 key and an OATH token through the real pcscd."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyotp
import pytest

pytestmark = pytest.mark.pcsc
SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
URI = f"otpauth://totp/Example:bob?secret={SECRET}"


def test_fido2_and_token_unlockers_from_the_command_line(
        rig: Any, vtoken: Callable[..., Any], cli: Callable[..., Any], tmp_path: Path) -> None:
    vtoken()
    vtoken(slot=1)
    vault = str(tmp_path / "hw.vault")
    key = ["--fido2", "--reader", rig.reader(0)]
    made = cli("vault", "init", "--vault", vault, *key)
    assert made.returncode == 0, made.stderr
    assert "touch your security key" in made.stderr
    added = cli("vault", "add-unlocker", "token", "--vault", vault, *key,
                "--new-reader", rig.reader(1))
    assert added.returncode == 0, added.stderr
    imported = cli("vault", "import", "--vault", vault, "--token", "--reader", rig.reader(1),
                   URI)
    assert imported.returncode == 0, imported.stderr
    code = cli("vault", "code", "Example:bob", "--vault", vault, *key, "--time", "1234567890")
    assert code.stdout.strip() == pyotp.TOTP(SECRET).at(1_234_567_890), code.stderr
    slots = json.loads(cli("vault", "list-unlockers", "--vault", vault, "--json").stdout)
    assert sorted(s["kind"] for s in slots) == ["fido2", "oath"]
    other = cli("vault", "list", "--vault", vault, "--fido2", "--reader", rig.reader(1))
    assert other.returncode == 2 and "different authenticator" in other.stderr
    none = cli("vault", "list", "--vault", vault, "--fido2", "--reader", "no such reader")
    assert none.returncode != 0 and "Traceback" not in none.stderr


def _set_pin(rig: Any, pin: str) -> None:
    """Give the rig's virtual security key a PIN, through python-fido2's client."""
    from fido2.ctap2 import Ctap2
    from fido2.ctap2.pin import ClientPin

    from .test_fido_pcsc import fido_device

    with fido_device(rig) as dev:
        ClientPin(Ctap2(dev)).set_pin(pin)


def test_uv_required_takes_the_pin_from_the_environment(
        rig: Any, token: Any, cli: Callable[..., Any], tmp_path: Path) -> None:
    _set_pin(rig, "135790")
    vault = str(tmp_path / "uv.vault")
    key = ["--fido2", "--reader", rig.reader(0)]
    no_pin = cli("vault", "init", "--vault", vault, *key, "--uv", "required")
    assert no_pin.returncode == 2 and "PYOTP_HW_FIDO2_PIN" in no_pin.stderr, no_pin.stderr
    assert "Traceback" not in no_pin.stderr and not Path(vault).exists()
    pin = {"PYOTP_HW_FIDO2_PIN": "135790"}
    made = cli("vault", "init", "--vault", vault, *key, "--uv", "required", env=pin)
    assert made.returncode == 0, made.stderr
    wrong = cli("vault", "list", "--vault", vault, *key, env={"PYOTP_HW_FIDO2_PIN": "000000"})
    assert wrong.returncode == 2 and "wrong PIN" in wrong.stderr
    assert "000000" not in wrong.stderr
    assert cli("vault", "list", "--vault", vault, *key, env=pin).returncode == 0


def test_rekey_unlocker_keeps_the_slots_uv_unless_told(
        rig: Any, token: Any, cli: Callable[..., Any], tmp_path: Path) -> None:
    _set_pin(rig, "135790")
    vault = str(tmp_path / "rotate.vault")
    key = ["--fido2", "--reader", rig.reader(0)]
    pin = {"PYOTP_HW_FIDO2_PIN": "135790"}
    made = cli("vault", "init", "--vault", vault, *key, "--uv", "required", env=pin)
    assert made.returncode == 0, made.stderr

    def slot() -> dict[str, Any]:
        listed = json.loads(cli("vault", "list-unlockers", "--vault", vault, "--json").stdout)
        assert len(listed) == 1
        return dict(listed[0])

    first = slot()
    rotated = cli("vault", "rekey", "--vault", vault, *key, "--unlocker", first["id"], env=pin)
    assert rotated.returncode == 0, rotated.stderr
    assert "(UV required)" in rotated.stdout
    now = slot()
    assert now["id"] != first["id"]
    assert now["params"]["uv"] == "required" and now["params"]["cred_protect"] == 3
    no_pin = cli("vault", "list", "--vault", vault, *key)
    assert no_pin.returncode == 2 and "PYOTP_HW_FIDO2_PIN" in no_pin.stderr, no_pin.stderr
    misplaced = cli("vault", "rekey", "--vault", vault, *key, "--uv", "discouraged", env=pin)
    assert misplaced.returncode != 0 and "--unlocker" in misplaced.stderr
    # Only an explicit --uv changes it.
    told = cli("vault", "rekey", "--vault", vault, *key, "--unlocker", now["id"],
               "--uv", "discouraged", env=pin)
    assert told.returncode == 0, told.stderr
    assert slot()["params"]["uv"] == "discouraged" and slot()["params"]["cred_protect"] is None
    assert "135790" not in told.stdout + told.stderr + rotated.stdout + rotated.stderr


def test_a_verifier_started_on_a_fido2_vault_verifies(
        rig: Any, token: Any, cli: Callable[..., Any], tmp_path: Path) -> None:
    vault = str(tmp_path / "keys.vault")
    made = cli("vault", "init", "--vault", vault, "--fido2", "--reader", rig.reader(0))
    assert made.returncode == 0, made.stderr
    store = ["--db", f"sqlite:///{tmp_path}/v.db", "--vault", vault, "--vault-unlock", "fido2",
             "--reader", rig.reader(0)]
    assert cli("verifier", "init", *store).returncode == 0
    enrolled = cli("verifier", "enroll", "bob", SECRET, *store)
    assert enrolled.returncode == 0, enrolled.stderr
    t = 1_700_000_000
    code = pyotp.TOTP(SECRET).at(t)
    accepted = cli("verifier", "verify", "bob", code, "--time", str(t), *store)
    assert accepted.returncode == 0, accepted.stderr + accepted.stdout
    replayed = cli("verifier", "verify", "bob", code, "--time", str(t), *store)
    assert replayed.returncode == 1 and "replayed" in replayed.stdout
    assert cli("verifier", "rekey", *store).returncode == 0
    later = pyotp.TOTP(SECRET).at(t + 30)
    assert cli("verifier", "verify", "bob", later, "--time", str(t + 30), *store).returncode == 0


def test_a_service_started_on_a_fido2_vault_verifies(
        rig: Any, token: Any, cli: Callable[..., Any], tmp_path: Path) -> None:
    # `pyotp-hw serve --vault-unlock fido2`: the security key opens the vault once, at start-up,
    # for the one worker; the service then verifies what the verifier CLI enrolled.
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    from pyotp_hw.service import Client

    vault = str(tmp_path / "keys.vault")
    assert cli("vault", "init", "--vault", vault, "--fido2", "--reader",
               rig.reader(0)).returncode == 0
    store = ["--db", f"sqlite:///{tmp_path}/v.db", "--vault", vault, "--vault-unlock", "fido2",
             "--reader", rig.reader(0)]
    assert cli("verifier", "init", *store).returncode == 0
    assert cli("verifier", "enroll", "bob", SECRET, *store).returncode == 0
    made = cli("serve", "key", "create", "site", *store)
    assert made.returncode == 0, made.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "pyotp_hw", "serve", *store, "--listen",
                             f"127.0.0.1:{port}"], env=rig.env(), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        client = Client(f"http://127.0.0.1:{port}", made.stdout.strip(), timeout=5)
        end = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if client.healthz():
                    break
            except OSError:
                pass
            assert time.monotonic() < end, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        code = pyotp.TOTP(SECRET).now()
        assert client.verify("bob", code).ok
        assert not client.verify("bob", code).ok  # replayed
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
        log.close()
