"""Coalescing: concurrent verify requests gathered into one :meth:`Verifier.verify_many` call.

A lone request never waits: with a worker thread free and nothing queued it is handed to the
worker at once, from the request's own coroutine. While batches are in flight, requests queue;
when a worker thread frees up, everything queued (up to ``max_batch``) leaves as one batch,
after lingering at most ``linger`` seconds for more if the batch is not full and another batch
is still running. So the batch size follows the load: one
under a trickle, hundreds in a storm, each batch one store transaction: state read, C call, commit.

- The queue is bounded: a request finding ``max_queue`` codes waiting is refused
  (:class:`Overloaded`; the HTTP layer answers 503 with ``Retry-After``).
- Each request has a deadline. One still queued at its deadline, or whose caller went away
  (cancelled), is dropped before dispatch and never evaluated; one already dispatched is
  evaluated (its caller gets :class:`DeadlineExceeded` and may have used its code). Requests
  arrive with non-decreasing deadlines when they share a timeout (the service's case), so one
  timer serves them all: it fires at the oldest waiting request's deadline, answers every
  request past its own, and is set again for the next; a request whose deadline is earlier
  than one before it gets a timer of its own. (A timer per request cost more CPU than the
  rest of the coalescing.)
- One bad item never fails its batch: if ``verify_many`` raises, the batch is verified again one
  item at a time, and only the item that raises gets the exception.
- The verification runs in worker threads, off the event loop (the C core releases the GIL):
  each takes batches from a queue and answers them on the loop with one
  ``call_soon_threadsafe``, without the futures of an executor in between.
- Two requests for one user never both succeed: inside one batch ``verify_many`` takes them one
  after another; across batches, threads, processes and machines the store's conditional commit
  lets one consume the step.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..verifier import Result
from .metrics import Metrics
from .tasks import cancel

__all__ = ["Coalescer", "Overloaded", "DeadlineExceeded"]

log = logging.getLogger("pyotp_hw.service")

VerifyMany = Callable[[Sequence[tuple[str, str]]], list[Result]]


class Overloaded(Exception):
    """The queue is full: the caller should retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("verification queue is full")
        self.retry_after = retry_after


class DeadlineExceeded(Exception):
    """The request's deadline passed before its answer came."""


@dataclass(eq=False, slots=True)
class _Item:
    user: str
    code: str = field(repr=False)
    deadline: float
    future: asyncio.Future[Result]
    # Whether the item has a deadline timer of its own (its deadline came out of order).
    timed: bool = False


Outcome = Result | BaseException


def _expire(future: asyncio.Future[Result]) -> None:
    if not future.done():
        future.set_exception(DeadlineExceeded())


class Coalescer:
    """Gathers :meth:`verify` calls of one event loop into ``verify_many`` batches."""

    def __init__(self, verify_many: VerifyMany, *, max_batch: int = 256, linger: float = 0.001,
                 max_queue: int = 4096, threads: int = 2, metrics: Metrics | None = None
                 ) -> None:
        self._verify_many = verify_many
        self.max_batch = max_batch
        self.linger = linger
        self.max_queue = max_queue
        self._threads = threads
        self._metrics = metrics
        self._queue: collections.deque[_Item] = collections.deque()
        self._wake = asyncio.Event()
        # Worker threads free to take a batch; read and written on the event loop only.
        self._free = threads
        # Batches for the worker threads: (items, pairs), or None to stop one.
        self._jobs: queue.SimpleQueue[tuple[list[_Item], list[tuple[str, str]]] | None] = (
            queue.SimpleQueue())
        self._workers: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        # The batches in worker threads, for the deadline sweep (on the event loop only).
        self._batches: dict[int, list[_Item]] = {}
        # The shared deadline timer, and the latest deadline it covers (items after it in
        # arrival order have later deadlines).
        self._sweep: asyncio.TimerHandle | None = None
        self._latest = 0.0

    @property
    def depth(self) -> int:
        """Codes waiting to be dispatched."""
        return len(self._queue)

    def start(self) -> None:
        """Start the worker threads and the dispatching task on the running loop."""
        if self._task is None:
            self._loop = asyncio.get_running_loop()
            self._task = self._loop.create_task(self._run(), name="coalescer")
            for n in range(self._threads):
                worker = threading.Thread(target=self._work, name=f"pyotp-hw-verify_{n}",
                                          daemon=True)
                worker.start()
                self._workers.append(worker)

    async def close(self) -> None:
        """Stop dispatching; queued requests are refused, running batches finish."""
        self._closed = True
        await cancel(self._task)
        self._task = None
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        while self._queue:
            item = self._queue.popleft()
            if not item.future.done():
                item.future.set_exception(Overloaded(1))
        for _ in self._workers:
            self._jobs.put(None)
        workers, self._workers = self._workers, []

        def join_all() -> None:
            for worker in workers:
                worker.join()

        await asyncio.get_running_loop().run_in_executor(None, join_all)

    async def verify(self, user: str, code: str, timeout: float) -> Result:
        """Verify one code in the next batch; raises :class:`Overloaded` or
        :class:`DeadlineExceeded`."""
        if self._closed or self._loop is None:
            raise Overloaded(1)
        if len(self._queue) >= self.max_queue:
            raise Overloaded(max(1, round(len(self._queue) / max(self.max_batch, 1) * 0.01)))
        loop = self._loop
        future: asyncio.Future[Result] = loop.create_future()
        deadline = time.monotonic() + timeout
        item = _Item(user, code, deadline, future)
        if self._free and not self._queue:
            # A lone request never waits: a worker is free, so it goes now, without a turn of
            # the dispatching task.
            self._dispatch([item])
        else:
            self._queue.append(item)
            self._wake.set()
        if deadline >= self._latest:
            self._latest = deadline
            if self._sweep is None:
                self._sweep = loop.call_later(timeout, self._expire_due)
            # A caller cancelled while waiting cancels the future too: dropped if still queued.
            return await future
        item.timed = True
        timer = loop.call_later(timeout, _expire, future)
        try:
            return await future
        finally:
            timer.cancel()

    def _expire_due(self) -> None:
        """The shared deadline timer: answer every waiting item past its deadline with
        :class:`DeadlineExceeded`, then set the timer for the next deadline."""
        self._sweep = None
        now = time.monotonic()
        nearest = float("inf")
        waiting = self._queue
        while waiting and (waiting[0].future.done() or waiting[0].deadline <= now):
            item = waiting.popleft()
            if not item.future.done():
                item.future.set_exception(DeadlineExceeded())
        for item in waiting:
            if not item.timed:
                nearest = item.deadline
                break
        for batch in self._batches.values():
            for item in batch:
                if item.timed or item.future.done():
                    continue
                if item.deadline > now:
                    nearest = min(nearest, item.deadline)
                    break
                item.future.set_exception(DeadlineExceeded())
        if nearest != float("inf") and self._loop is not None:
            self._sweep = self._loop.call_later(max(0.0, nearest - now), self._expire_due)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue and self._free:
                try:
                    busy = self._free < self._threads
                    if busy and self.linger > 0 and len(self._queue) < self.max_batch:
                        await asyncio.sleep(self.linger)
                    batch = self._take()
                    if batch:
                        self._dispatch(batch)
                except Exception:  # never let one failure stop the dispatching
                    log.exception("the coalescer could not dispatch a batch")

    def _take(self) -> list[_Item]:
        """Up to ``max_batch`` live items from the queue (expired ones answered, cancelled
        ones dropped)."""
        batch: list[_Item] = []
        now = time.monotonic()
        waiting = self._queue
        while waiting and len(batch) < self.max_batch:
            item = waiting.popleft()
            if item.future.done():
                continue
            if item.deadline <= now:
                item.future.set_exception(DeadlineExceeded())
                continue
            batch.append(item)
        return batch

    def _dispatch(self, batch: list[_Item]) -> None:
        """Hand a batch to a free worker thread (on the event loop; a worker must be free)."""
        self._free -= 1
        if self._metrics is not None:
            self._metrics.batch(len(batch))
        self._batches[id(batch)] = batch
        self._jobs.put((batch, [(i.user, i.code) for i in batch]))

    def _work(self) -> None:
        """A worker thread: evaluate batches, answer them on the event loop."""
        loop = self._loop
        assert loop is not None
        while True:
            job = self._jobs.get()
            if job is None:
                return
            batch, pairs = job
            try:
                outcomes = self._evaluate(pairs)
            except BaseException as exc:  # answer the batch whatever happens
                outcomes = [exc] * len(batch)
            try:
                loop.call_soon_threadsafe(self._finish, batch, outcomes)
            except RuntimeError:  # the loop is closed: nobody waits for these answers
                return

    def _finish(self, batch: list[_Item], outcomes: list[Outcome]) -> None:
        """A batch's answers, on the event loop."""
        self._free += 1
        del self._batches[id(batch)]
        if self._queue:
            self._wake.set()
        for item, outcome in zip(batch, outcomes, strict=True):
            if item.future.done():
                continue
            if isinstance(outcome, BaseException):
                item.future.set_exception(outcome)
            else:
                item.future.set_result(outcome)

    def _evaluate(self, pairs: list[tuple[str, str]]) -> list[Outcome]:
        """The batch's results; if the batch call raises, each item alone (in a worker)."""
        try:
            return list(self._verify_many(pairs))
        except Exception:
            log.warning("a batch of %d raised; verifying its items one by one", len(pairs))
        out: list[Outcome] = []
        for pair in pairs:
            try:
                out.append(self._verify_many([pair])[0])
            except Exception as exc:
                out.append(exc)
        return out
