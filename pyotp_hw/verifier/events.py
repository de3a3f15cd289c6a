"""Delivery of recorded events to the site's callbacks (see :meth:`Verifier.on_event`).

The events themselves (:class:`~pyotp_hw.verifier.records.Event`, whose ``kind`` is an
:class:`~pyotp_hw.verifier.records.EventKind`) are records the stores keep; this module only
hands them on, after the store committed them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from .records import Event

__all__ = ["EventCallback", "EventHub"]

log = logging.getLogger("pyotp_hw.verifier")

EventCallback = Callable[[Event], None]


class EventHub:
    """The registered callbacks; safe to use from many threads."""

    def __init__(self) -> None:
        self._callbacks: list[EventCallback] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: EventCallback) -> Callable[[], None]:
        """Call ``callback(event)`` for each delivered event; returns a function that stops it."""
        with self._lock:
            self._callbacks.append(callback)

        def cancel() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return cancel

    def deliver(self, events: Iterable[Event]) -> None:
        """Hand each event to every callback, in the calling thread.

        An exception in a callback is logged and does not reach the caller: verification
        answers do not depend on what a callback does.
        """
        with self._lock:
            callbacks = list(self._callbacks)
        for event in events:
            for cb in callbacks:
                try:
                    cb(event)
                except Exception:
                    log.exception("event callback failed for a %s event", event.kind.value)
