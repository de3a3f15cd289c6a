"""Stopping the service's background tasks."""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["cancel"]


async def cancel(task: asyncio.Task[None] | None) -> None:
    """Cancel ``task`` (if any) and wait until it has stopped."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
