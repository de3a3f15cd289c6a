"""Running the service: uvicorn on ``HOST:PORT``, one process or ``workers`` of them.

With several workers uvicorn's supervisor starts each as a fresh process that builds its own
application from ``$PYOTP_HW_SERVICE_CONFIG`` (settings without secrets); they share the listening
socket and the store, whose commits keep every code single-use across them.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..errors import InvalidArgument, MissingExtra
from .config import CONFIG_ENV, ServiceConfig

if TYPE_CHECKING:
    from ..verifier import KeyProvider

__all__ = ["parse_listen", "serve", "preflight", "check_workers"]


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (an IPv6 host in brackets) as (host, port)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidArgument("the listen address must be HOST:PORT, for example 127.0.0.1:8400")
    return host.strip("[]"), int(port)


def check_workers(config: ServiceConfig, workers: int) -> None:
    """Refuse a worker count the settings cannot serve: a vault opened by a FIDO2 key or a
    token (a touch or PIN at each opening) is unlocked once, in the one worker."""
    if not 1 <= workers <= 256:
        raise InvalidArgument("workers must be from 1 to 256")
    if config.vault and config.vault_unlock != "passphrase" and workers > 1:
        raise InvalidArgument(
            f"{workers} workers: a vault opened by {config.vault_unlock} needs a touch or PIN at "
            f"each opening, so it is unlocked once for one worker; serve with one worker, or add "
            f"a passphrase slot to the vault and set vault_unlock to passphrase")


def preflight(config: ServiceConfig, key: KeyProvider | None = None) -> int:
    """Open the store once with the data key (``key`` when already unlocked, else the one the
    settings name), so a wrong key, vault or URL fails before serving, and prepare the
    service's tables; returns the number of live API keys."""
    from .state import Service

    v = Service(config, key)._open()
    try:
        store = v.store
        from ..verifier.stores.service import ServiceTables

        assert isinstance(store, ServiceTables)
        return sum(1 for k in store.api_keys() if k.revoked_at is None)
    finally:
        v.close()


def serve(config: ServiceConfig, listen: str, workers: int = 1,
          key: KeyProvider | None = None) -> None:
    """Serve until interrupted (SIGINT or SIGTERM: running requests finish first).

    ``key``: the data key already unlocked (one worker only; several workers each open the
    key the settings name)."""
    host, port = parse_listen(listen)
    check_workers(config, workers)
    try:
        import uvicorn

        from .protocol import PROTOCOL
    except ImportError:
        raise MissingExtra("the verification service", "service", "uvicorn") from None
    common = {"host": host, "port": port, "access_log": False, "log_level": "warning",
              "lifespan": "on", "timeout_graceful_shutdown": 10, "server_header": False,
              "proxy_headers": False, "http": PROTOCOL, "ws": "none"}
    if workers == 1:
        from .app import create_app

        uvicorn.run(create_app(config, key, tune_gc=True), **common)  # type: ignore[arg-type]
        return
    os.environ[CONFIG_ENV] = config.to_json()
    uvicorn.run("pyotp_hw.service.app:app_from_environment", factory=True, workers=workers,
                **common)  # type: ignore[arg-type]
