"""The ASGI application: one :class:`Service` per worker process, behind a thin outer layer.

The outer layer (:class:`ServiceApp`) runs before any routing: it answers 401 to a request
without a live API key (nothing else is looked at, not even the path's validity), applies the
per-client rate limit (429) and counts every answer for ``/metrics``. Only ``GET /healthz`` is
open. The routes themselves are a Starlette application (:mod:`.routes`).

Starlette on uvicorn: both are small, maintained, typed and widely used; Starlette adds routing
and request parsing on top of the bare ASGI interface without the validation and dependency
layers of larger frameworks (which cost per request and which strict hand-written checks make
unneeded), and uvicorn with httptools and uvloop is among the fastest Python HTTP servers, with
a ``--workers`` supervisor of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from ..errors import MissingExtra
from ..verifier import EnvKey, KeyFile, KeyProvider, PassphraseKey, Verifier
from ..verifier.stores.service import ServiceTables
from .apikeys import KeyRing
from .batcher import Coalescer
from .config import ServiceConfig
from .fastpath import send_json
from .fastpath import verify as fast_verify
from .mailer import Mailer
from .metrics import Metrics
from .notices import Templates
from .tasks import cancel

__all__ = ["Service", "ServiceApp", "create_app", "app_from_environment"]

log = logging.getLogger("pyotp_hw.service")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CODE_LENGTHS = (6, 7, 8, 9, 10)

# Route templates for metric labels, so that no user id becomes a label value.
_ROUTES = [
    (re.compile(r"/v1/enrollments/[^/]+/qr\.(svg|png)"), "/v1/enrollments/{user}/qr"),
    (re.compile(r"/v1/enrollments/[^/]+/confirm"), "/v1/enrollments/{user}/confirm"),
    (re.compile(r"/v1/users/[^/]+/(disable|resync|unlock)"), "/v1/users/{user}/{action}"),
    (re.compile(r"/v1/users/[^/]+"), "/v1/users/{user}"),
]
_FIXED = {"/v1/verify", "/v1/verify/batch", "/v1/enrollments", "/v1/events", "/validate/check",
          "/healthz", "/metrics"}


def route_of(path: str) -> str:
    """The route template a path belongs to (``other`` for unknown paths)."""
    if path in _FIXED:
        return path
    for pattern, name in _ROUTES:
        if pattern.fullmatch(path):
            return name
    return "other"


def provider_of(config: ServiceConfig) -> KeyProvider:
    """The data key the settings name."""
    from ..verifier.keyprovider import DEFAULT_ENV_VAR

    if config.key_file:
        return KeyFile(config.key_file)
    if config.key_env:
        return EnvKey(config.key_env)
    if config.passphrase_env:
        phrase = os.environ.get(config.passphrase_env)
        if not phrase:
            raise ValueError(f"${config.passphrase_env} (the passphrase) is not set")
        return PassphraseKey(phrase)
    return EnvKey(DEFAULT_ENV_VAR)


class Service:
    """What one worker process holds: the verifier, the coalescer, keys, metrics, mailer."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
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
        policy: dict[str, Any] = {"digits": CODE_LENGTHS, "resync_window": c.resync_window}
        if c.lockout_after is not None:
            policy["lockout_after"] = c.lockout_after
        v = Verifier.open(c.db, key=provider_of(c), create=False, **policy)
        if not isinstance(v.store, ServiceTables):
            v.close()
            raise ValueError("the service needs a SQLite or PostgreSQL store, not memory:")
        v.store.prepare_service(c.notify)
        return v

    async def start(self) -> None:
        """Open the store and start the background tasks (on the running loop)."""
        c = self.config
        self.verifier = await asyncio.to_thread(self._open)
        store = self.store
        self.keys = await asyncio.to_thread(KeyRing, store.api_keys, c.key_refresh)
        self.coalescer = Coalescer(self.verifier.verify_many, max_batch=c.max_batch,
                                   linger=c.linger, max_queue=c.max_queue,
                                   threads=c.batch_threads, metrics=self.metrics)
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


class ServiceApp:
    """The outer ASGI layer: API keys, rate limit and metrics, then the routes."""

    def __init__(self, service: Service, inner: Callable[[Scope, Receive, Send], Awaitable[None]]
                 ) -> None:
        self.service = service
        self._inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection."""
        if scope["type"] != "http":
            await self._inner(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self._handle(scope, receive, counted)
        finally:
            self.service.metrics.request(scope["method"], route_of(scope["path"]), status[0],
                                         time.perf_counter() - started)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        svc = self.service
        if scope["path"] != "/healthz":
            auth = None
            for name, value in scope["headers"]:
                if name == b"authorization":
                    auth = value.decode("latin-1")
                    break
            client = None if svc.keys is None else svc.keys.check(auth)
            if client is None:
                await send_json(send, 401, {"error": "a valid API key is required"},
                                 [(b"www-authenticate", b"Bearer")])
                return
            wait = svc.allow(client)
            if wait:
                await send_json(send, 429, {"error": "rate limit exceeded"},
                                 [(b"retry-after", str(max(1, round(wait))).encode())])
                return
            scope.setdefault("state", {})["client"] = client
            if scope["path"] == "/v1/verify" and scope["method"] == "POST":
                await fast_verify(svc, scope, receive, send)
                return
        await self._inner(scope, receive, send)


def create_app(config: ServiceConfig) -> ServiceApp:
    """The service's ASGI application for ``config`` (the store is opened at startup)."""
    try:
        from starlette.applications import Starlette
    except ImportError:
        raise MissingExtra("the verification service", "service", "starlette") from None

    from .routes import exception_handlers, routes

    service = Service(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    inner = Starlette(routes=routes(service), exception_handlers=exception_handlers(),
                      lifespan=lifespan)
    return ServiceApp(service, inner)


def app_from_environment() -> ServiceApp:
    """:func:`create_app` with the settings of ``$PYOTP_HW_SERVICE_CONFIG`` (for workers)."""
    return create_app(ServiceConfig.from_environment())
