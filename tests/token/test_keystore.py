"""The file of remembered access keys, and unlocking a session with a key, without a reader."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyotp_hw.token import (
    KeyStoreError,
    NotSupportedByToken,
    OathSession,
    RememberedKeys,
    WrongPassword,
    default_key_file,
)
from pyotp_hw.token.virtual import VirtualCard

from ..typed_errors import assert_clean_error, fuzz

KEY = bytes(range(16))


def test_keys_by_device_id(tmp_path: Path) -> None:
    keys = RememberedKeys(tmp_path / "cfg" / "pyotp-hw" / "keys.json")
    assert keys.get("dev") is None and keys.device_ids() == [] and keys.forget_all() == 0
    keys.put("dev", KEY)
    keys.put("other", KEY[::-1])
    assert keys.get("dev") == KEY and "other" in keys and keys.device_ids() == ["dev", "other"]
    assert stat.S_IMODE(os.stat(keys.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(keys.path.parent).st_mode) == 0o700
    assert RememberedKeys(keys.path).get("other") == KEY[::-1]  # another reader of the file
    assert keys.forget("dev") and not keys.forget("dev")
    assert keys.forget_all() == 1 and keys.device_ids() == []
    assert KEY.hex() not in repr(keys)


def test_the_default_file_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert default_key_file() == tmp_path / "pyotp-hw" / "token-keys.json"
    assert RememberedKeys().path == default_key_file()
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")  # not absolute: ignored, as XDG says
    assert default_key_file() == Path.home() / ".config" / "pyotp-hw" / "token-keys.json"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert default_key_file() == Path.home() / ".config" / "pyotp-hw" / "token-keys.json"


def test_bad_keys_and_ids_are_refused(tmp_path: Path) -> None:
    keys = RememberedKeys(tmp_path / "k.json")
    for device_id, key in (("", KEY), ("dev", KEY[:15]), ("dev", b"x" * 17)):
        with pytest.raises(KeyStoreError):
            keys.put(device_id, key)
    assert not keys.path.exists()


def test_unsafe_files_are_refused(tmp_path: Path) -> None:
    keys = RememberedKeys(tmp_path / "k.json")
    keys.put("dev", KEY)
    os.chmod(keys.path, 0o640)
    with pytest.raises(KeyStoreError, match="other users") as info:
        keys.get("dev")
    assert_clean_error(info.value, [KEY.hex()])
    os.chmod(keys.path, 0o600)
    link = RememberedKeys(tmp_path / "link.json")
    link.path.symlink_to(keys.path)
    with pytest.raises(KeyStoreError, match="symbolic link"):
        link.get("dev")
    with pytest.raises(KeyStoreError, match="symbolic link"):
        link.put("dev", KEY)
    assert os.path.islink(link.path)


@fuzz
@given(content=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_a_damaged_file_is_a_clean_error(tmp_path_factory: pytest.TempPathFactory,
                                         content: bytes) -> None:
    path = tmp_path_factory.mktemp("keys") / "k.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, content)
    os.close(fd)
    try:
        found = RememberedKeys(path).device_ids()
    except KeyStoreError as exc:
        text = content.decode("latin-1")
        fixed = (f"{path} is damaged or not a file of remembered keys: remove it",
                 f"{path} has a format version this pyotp-hw does not know")
        by_chance = any(text in words for words in fixed)  # "rememb" is in every message
        assert_clean_error(exc, [text] if len(content) >= 6 and not by_chance else [])
        assert "\n" not in str(exc)
    else:
        assert isinstance(found, list)


def test_a_session_unlocks_with_its_key(card: VirtualCard) -> None:
    with OathSession(card.connect()) as setup:
        setup.set_password("pw")
        key = setup.access_key("pw")
        assert setup.access_key("other") != key and len(key) == 16
    with OathSession(card.connect()) as tok:
        with pytest.raises(WrongPassword):
            tok.unlock_with_key(bytes(16))
        assert tok.info.locked
        tok.unlock_with_key(key)
        assert not tok.info.locked and tok.list() == []
    # A reset gives a new salt (and device id): the old key is refused.
    with OathSession(card.connect()) as tok:
        tok.unlock("pw")
        tok.reset()
        tok.set_password("pw")
    with OathSession(card.connect()) as tok, pytest.raises(WrongPassword):
        tok.unlock_with_key(key)


def test_a_pin_token_has_no_key(make_virtual: Callable[..., VirtualCard]) -> None:
    with OathSession(make_virtual(profile="nitrokey3").connect()) as tok:
        with pytest.raises(NotSupportedByToken, match="PIN"):
            tok.access_key("123456")
        with pytest.raises(NotSupportedByToken, match="PIN"):
            tok.unlock_with_key(KEY)
