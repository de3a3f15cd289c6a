"""The vault file with passphrase slots: round trips, tampering, truncation, versions, crashes.

Codes are checked against pyotp (an independent implementation); sealing against cryptography's
AESGCM; crashes by SIGKILL of a child process at every file operation of a change.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pyotp
import pytest

from pyotp_hw.vault import (
    LastUnlocker,
    NoSuchSeed,
    Passphrase,
    UnlockFailed,
    Vault,
    VaultCorrupted,
    VaultError,
    VaultFileError,
    VaultVersionError,
    list_slots,
)

from .crash_child import NEW_URI, PASSPHRASE, SECOND

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
URI = f"otpauth://totp/Example:alice?secret={SECRET}&issuer=Example"
HOTP_URI = "otpauth://hotp/Example:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=5"
FAST = 2**10  # scrypt cost for tests; production slots use 2**16


def _pw(text: str = PASSPHRASE) -> Passphrase:
    return Passphrase(text, n=FAST)


def _vault(tmp_path: Path) -> Path:
    path = tmp_path / "seeds.vault"
    with Vault.create(path, _pw()) as vault:
        vault.import_uris([URI, HOTP_URI])
    return path


def test_round_trip_codes_match_pyotp(tmp_path: Path) -> None:
    path = _vault(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with Vault.open(path, _pw()) as vault:
        assert vault.names() == ["Example:alice", "Example:bob"]
        assert vault.code("Example:alice", for_time=1_700_000_000) == pyotp.TOTP(SECRET).at(
            1_700_000_000)
        hotp = pyotp.HOTP("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        assert vault.code("Example:bob") == hotp.at(5)
        assert vault.code("Example:bob") == hotp.at(6)
        with pytest.raises(NoSuchSeed, match="no seed named 'nobody'"):
            vault.code("nobody")
    with Vault.open(path, _pw()) as vault:  # the counter was saved
        assert vault.code("Example:bob") == hotp.at(7)


def test_no_clear_seed_in_the_file(tmp_path: Path) -> None:
    path = _vault(tmp_path)
    raw = path.read_bytes()
    for secret in (SECRET, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"):
        assert secret.encode() not in raw
        assert base64.b32decode(secret) not in raw
        assert base64.b64encode(base64.b32decode(secret)) not in raw
    assert b"alice" not in raw  # names are sealed too


def test_wrong_passphrase_is_refused_with_a_reason(tmp_path: Path) -> None:
    path = _vault(tmp_path)
    with pytest.raises(UnlockFailed, match="wrong passphrase") as info:
        Vault.open(path, _pw("not it"))
    assert "not it" not in repr(info.value)


def test_three_slots_open_with_any_and_the_last_cannot_go(tmp_path: Path) -> None:
    path = _vault(tmp_path)
    with Vault.open(path, _pw()) as vault:
        vault.add_unlocker(_pw("two"))
        third = vault.add_unlocker(_pw("three"))
    assert [s.kind for s in list_slots(path)] == ["passphrase"] * 3
    for phrase in (PASSPHRASE, "two", "three"):
        with Vault.open(path, _pw(phrase)) as vault:
            assert vault.names() == ["Example:alice", "Example:bob"]
    with Vault.open(path, _pw("two")) as vault:
        vault.remove_unlocker(third.id)
        vault.remove_unlocker(vault.opened_by)
        with pytest.raises(LastUnlocker, match="last unlocker"):
            vault.remove_unlocker(vault.slots[0].id)
    with pytest.raises(UnlockFailed):
        Vault.open(path, _pw("two"))
    with Vault.open(path, _pw()) as vault:
        assert len(vault.slots) == 1


def test_rekey_changes_every_wrap_and_the_payload(tmp_path: Path) -> None:
    path = _vault(tmp_path)
    before = json.loads(path.read_bytes())
    with Vault.open(path, _pw()) as vault:
        vault.rekey()
    after = json.loads(path.read_bytes())
    assert after["payload"] != before["payload"]
    assert after["slots"][0]["wrapped"] != before["slots"][0]["wrapped"]
    assert after["slots"][0]["sealed_private"] == before["slots"][0]["sealed_private"]
    with Vault.open(path, _pw()) as vault:
        assert vault.uri("Example:alice") == URI


def test_every_changed_byte_and_every_cut_is_detected(tmp_path: Path) -> None:
    path = _vault(tmp_path)
    original = path.read_bytes()
    changed = tmp_path / "changed.vault"
    for i in range(len(original)):
        for flip in (0x01, 0x20):
            data = bytearray(original)
            data[i] ^= flip
            changed.write_bytes(bytes(data))
            with pytest.raises(VaultError):
                Vault.open(changed, _pw())
    for cut in range(0, len(original), 7):
        changed.write_bytes(original[:cut])
        with pytest.raises(VaultCorrupted):
            Vault.open(changed, _pw())
    changed.write_bytes(original.replace(b'"generation":', b' "generation":'))
    with pytest.raises(VaultCorrupted, match="not in the form"):
        Vault.open(changed, _pw())
    changed.write_bytes(re.sub(rb'"generation":\d+', b'"generation":NaN', original))
    with pytest.raises(VaultCorrupted, match="not in the form"):
        Vault.open(changed, _pw())


def test_another_version_is_named(tmp_path: Path) -> None:
    path = _vault(tmp_path)
    path.write_bytes(path.read_bytes().replace(b'"version":1', b'"version":2'))
    with pytest.raises(VaultVersionError, match="format version 2"):
        Vault.open(path, _pw())
    with pytest.raises(VaultFileError, match="no vault file"):
        Vault.open(tmp_path / "none.vault", _pw())
    with pytest.raises(VaultFileError, match="exists"):
        Vault.create(path, _pw())


def _state(path: Path) -> tuple[list[str], list[str]]:
    """Names and slot ids, opened with the first passphrase."""
    with Vault.open(path, _pw()) as vault:
        return vault.names(), sorted(s.id for s in vault.slots)


@pytest.mark.parametrize("operation", ["import", "rekey", "add-unlocker", "remove-unlocker",
                                       "rotate-unlocker"])
def test_a_writer_killed_at_every_step_leaves_the_old_or_the_new_vault(
        tmp_path: Path, operation: str) -> None:
    path = _vault(tmp_path)
    if operation == "remove-unlocker":
        with Vault.open(path, _pw()) as vault:
            vault.add_unlocker(_pw(SECOND))
    pristine = path.read_bytes()
    old = _state(path)
    child = Path(__file__).with_name("crash_child.py")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    outcomes = set()
    for step in range(1, 200):
        path.write_bytes(pristine)
        proc = subprocess.run([sys.executable, str(child), str(path), operation, str(step)],
                              env=env, capture_output=True, timeout=60)
        assert proc.returncode in (0, -signal.SIGKILL), proc.stderr.decode()
        state = _state(path)  # opens: never neither
        if operation == "rotate-unlocker":
            changed = state[1] != old[1]
        elif operation == "import":
            changed = "Crash:new" in state[0]
            assert state[0] in (old[0], sorted([*old[0], "Crash:new"]))
        else:
            changed = path.read_bytes() != pristine
            assert state[0] == old[0]
        outcomes.add(changed)
        if operation == "add-unlocker" and changed:
            Vault.open(path, _pw(SECOND)).close()
        if proc.returncode == 0:
            assert changed, "the finished change is in the file"
            break
    else:  # pragma: no cover
        pytest.fail("the change never finished")
    assert outcomes == {False, True}, "the kills hit both before and after the rename"
    assert NEW_URI  # the child's URI (imported by the import case)


def test_two_writers_never_overwrite_each_other(tmp_path: Path) -> None:
    from pyotp_hw.vault import VaultChanged

    path = _vault(tmp_path)
    first, second = Vault.open(path, _pw()), Vault.open(path, _pw())
    first.import_uris([NEW_URI])
    with pytest.raises(VaultChanged, match="open it again"):
        second.remove_seed("Example:alice")
    assert second.names() == ["Example:alice", "Example:bob"]  # unchanged in memory too
    with Vault.open(path, _pw()) as again:
        assert again.names() == ["Crash:new", "Example:alice", "Example:bob"]
        again.remove_seed("Example:alice")
    first.close()
    second.close()


def test_a_changed_scrypt_cost_is_refused_before_any_work(tmp_path: Path) -> None:
    from pyotp_hw.vault.file import canonical

    path = _vault(tmp_path)
    data = json.loads(path.read_bytes())
    data["slots"][0]["params"].update(n=2**20, r=32)
    path.write_bytes(canonical(data) + b"\n")
    with pytest.raises(VaultCorrupted, match="more than 1024 MiB"):
        Vault.open(path, _pw())


def test_rotating_a_passphrase_slot_keeps_its_scrypt_cost_unless_told(tmp_path: Path) -> None:
    path = tmp_path / "cost.vault"
    with Vault.create(path, Passphrase("words", n=2**11)) as vault:
        kept = vault.rotate_unlocker(vault.opened_by, Passphrase("words"))
        assert kept.params["n"] == 2**11
        changed = vault.rotate_unlocker(kept.id, Passphrase("words", n=2**10))
        assert changed.params["n"] == 2**10
