"""What one worker process of the service holds: the verifier, the coalescer, the API keys,
the metrics and the notice mailer, started and stopped with the application."""

from __future__ import annotations

import asyncio
import logging
import os
import time

from ..errors import InvalidArgument
from ..otp import MAX_DIGITS, MIN_DIGITS
from ..verifier import (
    EnvKey,
    InvalidStoreURL,
    KeyFile,
    KeyProvider,
    PassphraseKey,
    Policy,
    Verifier,
)
from ..verifier.stores.service import ServiceTables
from .apikeys import KeyRing
from .batcher import Coalescer
from .config import VAULT_PASSPHRASE_ENV, ServiceConfig
from .mailer import Mailer
from .metrics import Metrics
from .notices import Templates
from .tasks import cancel

__all__ = ["Service", "provider_of", "CODE_LENGTHS"]

log = logging.getLogger("pyotp_hw.service")

CODE_LENGTHS = tuple(range(MIN_DIGITS, MAX_DIGITS + 1))


def provider_of(config: ServiceConfig) -> KeyProvider:
    """The data key the settings name.

    A vault is opened here only by its passphrase (from the vault CLI's variable): a FIDO2 key or
    a token needs a touch or PIN at each opening, so that key is unlocked once at start-up and
    handed to :class:`Service` (one worker) instead.
    """
    from ..verifier.keyprovider import DEFAULT_ENV_VAR

    if config.vault:
        from ..vault import Passphrase, VaultKey

        if config.vault_unlock != "passphrase":
            raise InvalidArgument(
                f"a vault opened by {config.vault_unlock} needs a touch or PIN at each opening, "
                f"so each worker cannot open it: serve with one worker (unlocked once at "
                f"start-up), or add a passphrase slot and set vault_unlock to passphrase")
        phrase = os.environ.get(VAULT_PASSPHRASE_ENV)
        if not phrase:
            raise InvalidArgument(f"${VAULT_PASSPHRASE_ENV} (the vault passphrase) is not set: "
                                  f"each worker opens the vault with it")
        return VaultKey.open(config.vault, Passphrase(phrase))
    if config.key_file:
        return KeyFile(config.key_file)
    if config.key_env:
        return EnvKey(config.key_env)
    if config.passphrase_env:
        phrase = os.environ.get(config.passphrase_env)
        if not phrase:
            raise InvalidArgument(f"${config.passphrase_env} (the passphrase) is not set")
        return PassphraseKey(phrase)
    return EnvKey(DEFAULT_ENV_VAR)


class Service:
    """What one worker process holds: the verifier, the coalescer, keys, metrics, mailer."""

    def __init__(self, config: ServiceConfig, key: KeyProvider | None = None) -> None:
        """``key``: the data key already unlocked (a vault opened at start-up), else the one
        the settings name is opened by :func:`provider_of`."""
        self.config = config
        self._key = key
        self.metrics = Metrics()
        self.verifier: Verifier | None = None
        self.coalescer: Coalescer | None = None
        self.keys: KeyRing | None = None
        self.mailer: Mailer | None = None
        self._refresher: asyncio.Task[None] | None = None
        self._buckets: dict[str, tuple[float, float]] = {}

    @property
    def store(self) -> ServiceTables:
        """The verifier's store, as the service's tables."""
        assert self.verifier is not None
        store = self.verifier.store
        assert isinstance(store, ServiceTables)
        return store

    def _open(self) -> Verifier:
        c = self.config
        # No lockout_after setting: the policy's own default, as if the keyword were left out.
        lockout = Policy.lockout_after if c.lockout_after is None else c.lockout_after
        key = self._key if self._key is not None else provider_of(c)
        v = Verifier.open(c.db, key=key, create=False, digits=CODE_LENGTHS,
                          resync_window=c.resync_window, lockout_after=lockout)
        if not isinstance(v.store, ServiceTables):
            v.close()
            raise InvalidStoreURL("the service needs a SQLite or PostgreSQL store, not memory:")
        v.store.prepare_service(c.notify)
        return v

    async def start(self) -> None:
        """Open the store and start the background tasks (on the running loop)."""
        c = self.config
        self.verifier = await asyncio.to_thread(self._open)
        store = self.store
        self.keys = await asyncio.to_thread(KeyRing, store.api_keys)
        self.coalescer = Coalescer(self.verifier.verify_many, max_batch=c.max_batch,
                                   linger=c.linger, max_queue=c.max_queue,
                                   threads=c.batch_thread_count, metrics=self.metrics)
        coalescer = self.coalescer
        self.metrics.queue_depth = lambda: coalescer.depth
        self.coalescer.start()
        self._refresher = asyncio.get_running_loop().create_task(self._refresh_keys())
        if c.smtp is not None:
            self.mailer = Mailer(store, c.smtp, Templates(c.site_name, c.templates_dir),
                                 poll=c.notice_poll, retry_base=c.retry_base,
                                 metrics=self.metrics)
            self.mailer.start()

    async def _refresh_keys(self) -> None:
        assert self.keys is not None
        while True:
            await asyncio.sleep(self.config.key_refresh)
            try:
                await asyncio.to_thread(self.keys.reload)
            except Exception as exc:
                log.warning("could not reload the API keys (keeping the last ones): %s", exc)

    async def stop(self) -> None:
        """Stop the tasks and close the store."""
        await cancel(self._refresher)
        if self.mailer is not None:
            await self.mailer.close()
        if self.coalescer is not None:
            await self.coalescer.close()
        if self.verifier is not None:
            self.verifier.close()

    def allow(self, client: str) -> float:
        """0 when ``client`` may make a request now, else the seconds until it may."""
        rate = self.config.client_rate
        if rate <= 0:
            return 0.0
        now = time.monotonic()
        tokens, last = self._buckets.get(client, (rate, now))
        tokens = min(rate, tokens + (now - last) * rate)
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / rate
        self._buckets[client] = (tokens - 1.0, now)
        return 0.0
