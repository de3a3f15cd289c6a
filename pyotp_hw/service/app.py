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

import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from ..errors import MissingExtra
from .config import ServiceConfig
from .fastpath import send_json
from .fastpath import verify as fast_verify
from .state import Service

if TYPE_CHECKING:
    from ..verifier import KeyProvider

__all__ = ["ServiceApp", "create_app", "app_from_environment", "route_of"]

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


def create_app(config: ServiceConfig, key: KeyProvider | None = None) -> ServiceApp:
    """The service's ASGI application for ``config`` (the store is opened at startup, with
    ``key`` when the data key is already unlocked)."""
    try:
        from starlette.applications import Starlette
    except ImportError:
        raise MissingExtra("the verification service", "service", "starlette") from None

    from .routes import exception_handlers, routes

    service = Service(config, key)

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
