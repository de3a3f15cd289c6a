"""The ASGI application: one :class:`Service` per worker process, behind a thin outer layer.

The outer layer (:class:`ServiceApp`) runs before any routing: it answers 401 to a request
without a live API key (nothing else is looked at, not even the path's validity), applies the
per-client rate limit (429) and counts every answer for ``/metrics``. Only ``GET /healthz`` is
open. The routes themselves are a Starlette application (:mod:`.routes`).

Starlette on uvicorn: both are small, maintained, typed and widely used; Starlette adds routing
and request parsing on top of the bare ASGI interface without the validation and dependency
layers of larger frameworks (which cost per request and which strict hand-written checks make
unneeded), and uvicorn with httptools and uvloop is among the fastest Python HTTP servers, with
a ``--workers`` supervisor of its own. Granian (Rust, hyper) was measured as the alternative on
2 vCPUs: its floor is lower (44 against 62 us of CPU per request for an app that answers without
work), but this service on it cost more (185 against 143 us at concurrency 256, and twice the p50
at concurrency 1), so uvicorn stays.

A served process (``pyotp-hw serve``, ``tune_gc``) freezes its start-up heap and raises the
collector's first threshold: under load most per-request objects die by reference count, but the
default threshold (700) still ran a collection every few dozen requests, each traversing every
request in flight, and full ones the whole key cache: 15-18 us of CPU per request, 1 us after.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from ..errors import MissingExtra
from .config import ServiceConfig
from .fastpath import admit
from .fastpath import verify as fast_verify
from .state import Service

if TYPE_CHECKING:
    from ..verifier import KeyProvider

__all__ = ["GC_THRESHOLD", "ServiceApp", "create_app", "app_from_environment", "route_of",
           "settle_heap"]

log = logging.getLogger("pyotp_hw.service")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

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
        if scope["path"] == "/v1/verify" and scope["method"] == "POST":
            await fast_verify(self.service, scope, receive, send, started)
            return
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
        if scope["path"] != "/healthz":
            auth = None
            for name, value in scope["headers"]:
                if name == b"authorization":
                    auth = value
                    break
            client = await admit(self.service, auth, send)
            if isinstance(client, int):
                return
            scope.setdefault("state", {})["client"] = client
        await self._inner(scope, receive, send)


#: The collector's first threshold in a served process (Python's default is 700).
GC_THRESHOLD = 10_000


def settle_heap() -> None:
    """Move every object alive now out of the collector's sight and raise its first threshold,
    keeping the others: for a server whose start-up heap lives as long as the process."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


def create_app(config: ServiceConfig, key: KeyProvider | None = None, *,
               tune_gc: bool = False) -> ServiceApp:
    """The service's ASGI application for ``config`` (the store is opened at startup, with
    ``key`` when the data key is already unlocked). ``tune_gc``: at startup, once the store is
    open, :func:`settle_heap` (for a process that only serves; it changes the whole process's
    garbage collector)."""
    try:
        from starlette.applications import Starlette
    except ImportError:
        raise MissingExtra("the verification service", "service", "starlette") from None

    from .routes import exception_handlers, routes

    service = Service(config, key)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.start()
        if tune_gc:
            settle_heap()
        try:
            yield
        finally:
            await service.stop()

    inner = Starlette(routes=routes(service), exception_handlers=exception_handlers(),
                      lifespan=lifespan)
    return ServiceApp(service, inner)


def app_from_environment() -> ServiceApp:
    """:func:`create_app` with the settings of ``$PYOTP_HW_SERVICE_CONFIG``, tuned for a served
    process (how ``pyotp-hw serve --workers N`` starts each worker)."""
    return create_app(ServiceConfig.from_environment(), tune_gc=True)
