"""Remembered token passwords (``--remember``, ``token password forget``) across processes.

Each command runs as its own process against the virtual token through pcscd, with a private
XDG_CONFIG_HOME. yubikit (ykman's library) is the oracle for what is remembered: the file holds
exactly the access key yubikit derives from the password, under the device id yubikit computes,
and that key validates with yubikit's own session.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from .helpers import SECRET_B32

pytestmark = pytest.mark.pcsc

Cli = Callable[..., Any]


@contextmanager
def yubikit_session(reader: str) -> Iterator[Any]:
    """yubikit's OATH session over the rig's reader (ykman's own client code)."""
    from ykman.pcsc import list_devices
    from yubikit.core.smartcard import SmartCardConnection
    from yubikit.oath import OathSession

    (device,) = list_devices(reader)
    with device.open_connection(SmartCardConnection) as connection:
        yield OathSession(connection)


def _remembered(config: Path) -> dict[str, str]:
    path = config / "pyotp-hw" / "token-keys.json"
    if not path.exists():
        return {}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    keys: dict[str, str] = json.loads(path.read_text())["keys"]
    return keys


def _ok(result: Any) -> Any:
    assert result.returncode == 0, result.stderr
    return result


def test_a_remembered_password_unlocks_later_processes(cli: Cli, rig: Any, token: Any,
                                                       ykman: Any, private_config: Path) -> None:
    _ok(cli("token", "add", "--no-code", "-i", "Ex", "alice", SECRET_B32))
    _ok(cli("token", "password", "set", "--new-password", "first pw"))
    locked = cli("token", "list")
    assert locked.returncode == 2 and "--remember" in locked.stderr
    assert _remembered(private_config) == {}

    first = _ok(cli("token", "list", "--password", "first pw", "--remember"))
    assert "password remembered" in first.stderr
    with yubikit_session(rig.reader(0)) as oath:
        key = oath.derive_key("first pw")
        assert _remembered(private_config) == {oath.device_id: key.hex()}
        oath.validate(bytes.fromhex(_remembered(private_config)[oath.device_id]))
        device_id = oath.device_id
    # A new process, no password: the remembered key unlocks; the key is never printed.
    later = _ok(cli("token", "list"))
    assert later.stdout.split() == ["Ex:alice", "TOTP", "SHA1", "30", "s"]
    info = _ok(cli("token", "info"))
    assert "remembered on this machine" in info.stdout and device_id in info.stdout
    code = _ok(cli("token", "code", "-s", "alice", "--time", "59"))
    for result in (first, later, info, code):
        assert key.hex() not in result.stdout + result.stderr
        assert key.hex().upper() not in result.stdout + result.stderr

    # Changed elsewhere (by ykman): the old key is refused, forgotten, and the token is locked.
    ykman("oath", "access", "change", "-p", "first pw", "-n", "second pw")
    stale = cli("token", "list")
    assert stale.returncode == 2 and "no longer unlocks it" in stale.stderr
    assert _remembered(private_config) == {}

    # password set --remember keeps the new one; ykman agrees it is the token's password.
    _ok(cli("token", "password", "set", "--password", "second pw", "--new-password", "third pw",
            "--remember"))
    with yubikit_session(rig.reader(0)) as oath:
        assert _remembered(private_config) == {device_id: oath.derive_key("third pw").hex()}
    _ok(cli("token", "list"))
    assert ykman("oath", "accounts", "list", "-p", "third pw").stdout.split() == ["Ex:alice"]

    # forget: this token's key; then the token is locked again.
    forgot = _ok(cli("token", "password", "forget"))
    assert f"password forgotten for the token {device_id}" in forgot.stdout
    assert _remembered(private_config) == {}
    assert cli("token", "list").returncode == 2
    again = _ok(cli("token", "password", "forget"))
    assert "no password is remembered" in again.stdout

    # A reset forgets the key of the device id it retires.
    _ok(cli("token", "list", "--password", "third pw", "--remember"))
    _ok(cli("token", "reset", "--yes"))
    assert _remembered(private_config) == {}


def test_forget_by_device_id_or_all_without_the_token(cli: Cli, rig: Any,
                                                      vtoken: Callable[..., Any],
                                                      private_config: Path) -> None:
    tokens = [vtoken(slot=0), vtoken(slot=1)]
    ids = []
    for slot in (0, 1):
        reader = rig.reader(slot)
        _ok(cli("token", "--reader", reader, "password", "set", "--new-password", f"pw {slot}"))
        _ok(cli("token", "--reader", reader, "list", "--password", f"pw {slot}", "-r"))
        ids.append(json.loads(_ok(cli("token", "--reader", reader, "info", "--json")).stdout)[
            "device_id"])
    assert sorted(_remembered(private_config)) == sorted(ids)
    # Several tokens, each unlocked by its own key once chosen.
    for slot, device_id in enumerate(ids):
        listed = _ok(cli("token", "--device", device_id, "list", "--json"))
        assert json.loads(listed.stdout) == []
        with yubikit_session(rig.reader(slot)) as oath:
            assert oath.device_id == device_id
    for token in tokens:
        token.stop()
    rig.wait_card(0, present=False, timeout=5)
    # By device id, with no token present; then all.
    _ok(cli("token", "password", "forget", "--device", ids[0]))
    assert list(_remembered(private_config)) == [ids[1]]
    everything = _ok(cli("token", "password", "forget", "--all"))
    assert "forgot 1 remembered password" in everything.stdout
    assert _remembered(private_config) == {}
    gone = cli("token", "password", "forget", "--device", ids[0])
    assert gone.returncode == 3  # not remembered, and no token to ask


def test_an_unsafe_key_file_is_refused(cli: Cli, token: Any, private_config: Path) -> None:
    _ok(cli("token", "password", "set", "--new-password", "pw"))
    _ok(cli("token", "list", "--password", "pw", "--remember"))
    path = private_config / "pyotp-hw" / "token-keys.json"
    secret_hex = next(iter(_remembered(private_config).values()))
    os.chmod(path, 0o644)
    refused = cli("token", "list")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "may be read by other users" in refused.stderr and "chmod 600" in refused.stderr
    assert secret_hex not in refused.stderr
    os.chmod(path, 0o600)
    path.write_text("{not json")
    damaged = cli("token", "list")
    assert damaged.returncode == 2 and "damaged" in damaged.stderr
    path.unlink()
    path.symlink_to(private_config / "elsewhere.json")
    linked = cli("token", "list")
    assert linked.returncode == 2 and "symbolic link" in linked.stderr


def test_a_pin_is_not_remembered(cli: Cli, vtoken: Callable[..., Any],
                                 private_config: Path) -> None:
    vtoken("--profile", "nitrokey3")
    _ok(cli("token", "password", "set", "--new-password", "123456"))
    refused = cli("token", "list", "--password", "123456", "--remember")
    assert refused.returncode == 2 and "PIN itself" in refused.stderr
    assert _remembered(private_config) == {}
    _ok(cli("token", "list", "--password", "123456"))
