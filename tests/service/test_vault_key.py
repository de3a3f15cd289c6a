"""``pyotp-hw serve --vault FILE``: the service's data key held in a vault (made here by the
library with a cheap passphrase slot), as ``pyotp-hw verifier ... --vault`` holds it.

With ``--vault-unlock passphrase`` every worker opens the vault from ``$PYOTP_HW_VAULT_PASSPHRASE``;
a FIDO2 key or a token (a touch or PIN each opening) allows one worker only, which is refused
here before any device is looked for.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pyotp_hw.cli.vault_cmds import PASSPHRASE_ENV
from pyotp_hw.service.config import VAULT_PASSPHRASE_ENV, ServiceConfig
from pyotp_hw.vault import Passphrase, Vault
from tests import oracle

from .conftest import Served, Store, cli
from .test_api import code, enroll

pytestmark = pytest.mark.timeout(240)

PHRASE = "correct horse battery staple"


class VaultStore(Store):
    """A SQLite store whose data key is a vault's verifier key (``verifier init --vault``)."""

    def __init__(self, tmp_path: Path) -> None:
        self.vault = tmp_path / "keys.vault"
        with Vault.create(self.vault, Passphrase(PHRASE, n=2**10)):
            pass
        self.url = f"sqlite:///{tmp_path}/verifier.db"
        self.key_file = tmp_path / "unused.key"  # only names the directory of serve's log
        self.env = {**os.environ, VAULT_PASSPHRASE_ENV: PHRASE}
        self.key_args = ("--vault", str(self.vault), "--vault-unlock", "passphrase")
        out = cli("verifier", "init", "--db", self.url, *self.key_args, env=self.env)
        assert out.returncode == 0, out.stderr

    def new_key(self, name: str = "site") -> str:
        # The key commands take the vault too, and check it opens the store first.
        out = cli("serve", "key", "create", name, "--db", self.url, *self.key_args,
                  env=self.env)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()


@pytest.fixture
def vault_store(tmp_path: Path) -> VaultStore:
    return VaultStore(tmp_path)


def test_the_variable_is_the_vault_clis() -> None:
    assert VAULT_PASSPHRASE_ENV == PASSPHRASE_ENV


@pytest.mark.parametrize("workers", [1, 2])
def test_a_passphrase_vault_serves_and_verifies(vault_store: VaultStore, workers: int,
                                                serve: Callable[..., Served]) -> None:
    key = vault_store.new_key()
    s = serve(vault_store, workers=workers, key_args=vault_store.key_args, env=vault_store.env)
    c = s.client(key)
    secret = enroll(c, "alice")
    assert c.verify("alice", code(secret, 1)).ok
    assert c.verify("alice", code(secret, 1)).reason == "replayed code"
    # The CLI opens the same store with the same vault: the credential the service enrolled.
    later = time.time() + 60
    out = cli("verifier", "verify", "alice", oracle.totp(secret, int(later)), "--time",
              str(later), "--db", vault_store.url, *vault_store.key_args, env=vault_store.env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert PHRASE not in s.output()
    listed = cli("serve", "key", "list", "--db", vault_store.url, *vault_store.key_args,
                 env=vault_store.env)
    assert listed.returncode == 0 and "site" in listed.stdout


@pytest.mark.parametrize("kind", ["fido2", "token"])
def test_a_touch_vault_with_several_workers_is_refused(vault_store: VaultStore,
                                                       kind: str) -> None:
    out = cli("serve", "--db", vault_store.url, "--vault", str(vault_store.vault),
              "--vault-unlock", kind, "--workers", "2", "--listen", "127.0.0.1:1",
              env=vault_store.env)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr
    assert f"a vault opened by {kind} needs a touch or PIN" in lines[0]
    assert "--workers 1" in lines[0] and "passphrase slot" in lines[0]
    assert "serving" not in out.stderr


def test_a_missing_passphrase_variable_is_refused_before_serving(
        vault_store: VaultStore) -> None:
    env = {k: v for k, v in vault_store.env.items() if k != VAULT_PASSPHRASE_ENV}
    for workers in ("1", "2"):
        out = cli("serve", "--db", vault_store.url, *vault_store.key_args,
                  "--workers", workers, "--listen", "127.0.0.1:1", env=env)
        assert out.returncode == 2, out.stderr
        line, = out.stderr.strip().splitlines()
        assert f"set ${VAULT_PASSPHRASE_ENV}" in line and "serving" not in out.stderr


def test_a_wrong_passphrase_or_vault_fails_before_serving(vault_store: VaultStore,
                                                          tmp_path: Path) -> None:
    wrong = cli("serve", "--db", vault_store.url, *vault_store.key_args, "--listen",
                "127.0.0.1:1", env={**vault_store.env, VAULT_PASSPHRASE_ENV: "not it"})
    assert wrong.returncode != 0 and "Traceback" not in wrong.stderr
    assert "serving" not in wrong.stderr and "not it" not in wrong.stderr
    other = tmp_path / "other.vault"
    with Vault.create(other, Passphrase(PHRASE, n=2**10)):
        pass
    for workers in ("1", "2"):
        out = cli("serve", "--db", vault_store.url, "--vault", str(other), "--workers", workers,
                  "--listen", "127.0.0.1:1", env=vault_store.env)
        assert out.returncode != 0 and "Traceback" not in out.stderr, out.stderr
        assert len(out.stderr.strip().splitlines()) == 1 and "serving" not in out.stderr
        assert PHRASE not in out.stderr


def test_the_settings_name_the_vault_and_hold_no_secret(vault_store: VaultStore) -> None:
    config = ServiceConfig(db=vault_store.url, vault=str(vault_store.vault),
                           vault_unlock="fido2", vault_reader="Yubico")
    assert ServiceConfig.from_json(config.to_json()) == config
    assert PHRASE not in config.to_json()
    with pytest.raises(ValueError, match="one data key"):
        ServiceConfig(db=vault_store.url, vault="v", key_env="K")
    with pytest.raises(ValueError, match="vault_unlock"):
        ServiceConfig(db=vault_store.url, vault="v", vault_unlock="usb")
