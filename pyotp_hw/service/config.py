"""The service's settings: one frozen record, checked once, passed to worker processes as JSON.

Nothing secret is ever part of it: the data key is named (a key file's path, an environment
variable's name, a vault's path and what unlocks it), the SMTP password by the name of the
variable that holds it.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypedDict

from .._numbers import option, real_option
from ..errors import InvalidArgument

if TYPE_CHECKING:  # mypy's own stubs: nothing is imported at run time
    from typing_extensions import Unpack

__all__ = ["ServiceConfig", "SmtpConfig", "CONFIG_ENV", "VAULT_UNLOCKS",
           "VAULT_PASSPHRASE_ENV", "VaultUnlock", "Notice"]

#: The environment variable that hands the settings to worker processes.
CONFIG_ENV = "PYOTP_HW_SERVICE_CONFIG"

#: What may open a ``vault``: a passphrase (each worker reads it from the vault CLI's variable),
#: a FIDO2 key or an OATH token (a touch or PIN each opening: one worker, unlocked at start-up).
VaultUnlock = Literal["passphrase", "fido2", "token"]
VAULT_UNLOCKS: tuple[VaultUnlock, ...] = ("passphrase", "fido2", "token")

#: The optional notices a service may send (``--notify``), besides those it always sends.
Notice = Literal["locked", "replay"]

#: The vault passphrase's variable (the vault CLI's): how every worker opens a ``vault``.
VAULT_PASSPHRASE_ENV = "PYOTP_HW_VAULT_PASSPHRASE"  # noqa: S105 - a variable name


class _SmtpOptions(TypedDict, total=False):
    """The fields of :class:`SmtpConfig` that :meth:`SmtpConfig.parse` takes as keywords."""

    starttls: bool
    username: str | None
    password_env: str | None
    sender: str
    timeout: float
    cafile: str | None


@dataclass(frozen=True)
class SmtpConfig:
    """Where notices go: ``host:port``, STARTTLS, login (password from ``password_env``)."""

    host: str
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password_env: str | None = None
    sender: str = "pyotp-hw@localhost"
    timeout: float = 10.0
    cafile: str | None = None  # CA certificates to trust for STARTTLS (default: the system's)

    def __post_init__(self) -> None:
        if self.username is not None and not self.starttls:
            raise InvalidArgument("SMTP login needs STARTTLS: the password must not travel in "
                                  "the clear")
        if self.password_env is not None and self.username is None:
            raise InvalidArgument("an SMTP password needs a user name")

    @classmethod
    def parse(cls, where: str, **kwargs: Unpack[_SmtpOptions]) -> SmtpConfig:
        """A config from ``HOST:PORT`` (and the other fields as keywords)."""
        host, sep, port = where.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise InvalidArgument("the SMTP server must be HOST:PORT")
        return cls(host.strip("[]"), int(port), **kwargs)

    def password(self) -> str | None:
        """The login password, read from its variable when the connection is made."""
        if self.password_env is None:
            return None
        value = os.environ.get(self.password_env)
        if not value:
            raise InvalidArgument(f"${self.password_env} (the SMTP password) is not set")
        return value


@dataclass(frozen=True)
class ServiceConfig:
    """Everything one service process needs (see ``pyotp-hw serve --help`` for each field)."""

    db: str
    key_file: str | None = None
    key_env: str | None = None
    passphrase_env: str | None = None
    vault: str | None = None  # a vault file holding the verifier key (see VAULT_UNLOCKS)
    vault_unlock: VaultUnlock = "passphrase"
    vault_reader: str | None = None
    # Coalescing: a batch closes at max_batch codes or after linger seconds under load.
    max_batch: int = 256
    linger: float = 0.001
    max_queue: int = 4096
    batch_threads: int = 0  # 0: the store's default (see batch_thread_count)
    deadline: float = 5.0
    # HTTP.
    max_body: int = 64 * 1024
    max_batch_items: int = 1000
    client_rate: float = 0.0  # requests per second per API key; 0: no limit
    key_refresh: float = 1.0
    # Verifier policy.
    resync_window: int = 10
    lockout_after: int | None = None
    # Notices.
    smtp: SmtpConfig | None = None
    site_name: str = "your account"
    notify: tuple[Notice, ...] = ()
    notice_poll: float = 0.5
    retry_base: float = 5.0
    templates_dir: str | None = None

    @property
    def batch_thread_count(self) -> int:
        """Threads running batches: ``batch_threads``, or when 0 the store's default: one on
        SQLite, whose writers take turns on one lock (a second thread only added switching of
        the interpreter lock: 15% fewer answers per second at concurrency 256), two on
        PostgreSQL, whose rounds of different users commit side by side."""
        if self.batch_threads:
            return self.batch_threads
        return 1 if self.db.startswith("sqlite:") else 2

    def __post_init__(self) -> None:
        for name, low, high in (("max_batch", 1, 100_000), ("max_queue", 1, (1 << 63) - 1),
                                ("batch_threads", 0, 64), ("max_body", 64, 64 * 1024 * 1024),
                                ("max_batch_items", 1, 100_000), ("resync_window", 0, 1000)):
            option(getattr(self, name), f"service setting {name}", low, high)
        real_option(self.linger, "service setting linger", 0, 1)
        real_option(self.client_rate, "service setting client_rate", 0)
        for name, high in (("deadline", 600), ("key_refresh", 3600), ("notice_poll", 3600),
                           ("retry_base", 3600)):
            real_option(getattr(self, name), f"service setting {name}", 0, high, above=True)
        if sum(x is not None for x in (self.key_file, self.key_env, self.passphrase_env,
                                       self.vault)) > 1:
            raise InvalidArgument("give one data key: a key file, a key variable, a passphrase "
                                  "or a vault")
        if self.vault_unlock not in VAULT_UNLOCKS:
            raise InvalidArgument("service setting vault_unlock must be passphrase, fido2 or "
                                  "token")

    def to_json(self) -> str:
        """The settings as JSON (they hold no secret)."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServiceConfig:
        """Settings written by :meth:`to_json`."""
        data = json.loads(text)
        smtp = data.pop("smtp", None)
        data["notify"] = tuple(data.get("notify", ()))
        return cls(**data, smtp=None if smtp is None else SmtpConfig(**smtp))

    @classmethod
    def from_environment(cls) -> ServiceConfig:
        """Settings from ``$PYOTP_HW_SERVICE_CONFIG`` (how worker processes get them)."""
        text = os.environ.get(CONFIG_ENV)
        if not text:
            raise InvalidArgument(f"${CONFIG_ENV} is not set")
        return cls.from_json(text)
