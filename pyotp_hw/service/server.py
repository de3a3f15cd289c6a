"""Running the service: uvicorn on ``HOST:PORT``, one process or ``workers`` of them.

With several workers uvicorn's supervisor starts each as a fresh process that builds its own
application from ``$PYOTP_HW_SERVICE_CONFIG`` (settings without secrets); they share the listening
socket and the store, whose commits keep every code single-use across them.
"""

from __future__ import annotations

import os

from ..errors import InvalidArgument, MissingExtra
from .config import CONFIG_ENV, ServiceConfig

__all__ = ["parse_listen", "serve", "preflight"]


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (an IPv6 host in brackets) as (host, port)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidArgument("--listen must be HOST:PORT, for example 127.0.0.1:8400")
    return host.strip("[]"), int(port)


def preflight(config: ServiceConfig) -> int:
    """Open the store once with the data key (so a wrong key or URL fails before serving) and
    prepare the service's tables; returns the number of live API keys."""
    from .state import Service

    v = Service(config)._open()
    try:
        store = v.store
        from ..verifier.stores.service import ServiceTables

        assert isinstance(store, ServiceTables)
        return sum(1 for k in store.api_keys() if k.revoked_at is None)
    finally:
        v.close()


def serve(config: ServiceConfig, listen: str, workers: int = 1) -> None:
    """Serve until interrupted (SIGINT or SIGTERM: running requests finish first)."""
    host, port = parse_listen(listen)
    if not 1 <= workers <= 256:
        raise InvalidArgument("--workers must be from 1 to 256")
    try:
        import uvicorn
    except ImportError:
        raise MissingExtra("the verification service", "service", "uvicorn") from None
    common = {"host": host, "port": port, "access_log": False, "log_level": "warning",
              "lifespan": "on", "timeout_graceful_shutdown": 10, "server_header": False,
              "proxy_headers": False}
    if workers == 1:
        from .app import create_app

        uvicorn.run(create_app(config), **common)  # type: ignore[arg-type]
        return
    os.environ[CONFIG_ENV] = config.to_json()
    uvicorn.run("pyotp_hw.service.app:app_from_environment", factory=True, workers=workers,
                **common)  # type: ignore[arg-type]
