"""A served process settles its heap once the store is open: the start-up objects frozen out of
the collector's sight and a higher first threshold. An app built for embedding leaves the
process's collector as it found it."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyotp_hw.service import ServiceConfig
from pyotp_hw.service.app import create_app

from .conftest import Store


@pytest.fixture
def collector() -> Iterator[None]:
    """This test process's collector, put back as it was afterwards."""
    thresholds = gc.get_threshold()
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def _started(config: ServiceConfig, tune_gc: bool) -> tuple[tuple[int, int, int], int]:
    """The collector's thresholds and frozen count while the app is started (lifespan)."""

    async def run() -> tuple[tuple[int, int, int], int]:
        app = create_app(config, tune_gc=tune_gc)
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        await inbox.put({"type": "lifespan.startup"})
        task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"},
                                        "state": {}}, inbox.get, sent.put))
        started = await asyncio.wait_for(sent.get(), 30)
        assert started["type"] == "lifespan.startup.complete", started
        seen = gc.get_threshold(), gc.get_freeze_count()
        await inbox.put({"type": "lifespan.shutdown"})
        stopped = await asyncio.wait_for(sent.get(), 30)
        assert stopped["type"] == "lifespan.shutdown.complete", stopped
        await task
        return seen

    return asyncio.run(run())


def test_a_served_app_freezes_its_heap_and_raises_the_threshold(tmp_path: Path,
                                                                 collector: None) -> None:
    store = Store(f"sqlite:///{tmp_path}/v.db", tmp_path / "data.key")
    before = gc.get_threshold()
    thresholds, frozen = _started(ServiceConfig(db=store.url, key_file=str(store.key_file)),
                                  tune_gc=True)
    assert frozen > 1000  # the interpreter, the libraries and the open store at the least
    assert thresholds[0] >= 10 * before[0] and thresholds[1:] == before[1:]


def test_an_embedded_app_leaves_the_collector_alone(tmp_path: Path, collector: None) -> None:
    store = Store(f"sqlite:///{tmp_path}/v.db", tmp_path / "data.key")
    before = gc.get_threshold()
    assert _started(ServiceConfig(db=store.url, key_file=str(store.key_file)),
                    tune_gc=False) == (before, 0)
