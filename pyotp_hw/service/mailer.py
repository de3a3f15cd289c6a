"""The outbox worker: delivers the notices the store wrote, over SMTP, with retries.

Every ``poll`` seconds a worker claims the due notices (each leased to it for ``lease`` seconds,
so another worker process or machine skips them), sends each, and marks it sent; a notice that
fails goes back with a delay that doubles per attempt (``retry_base``, at most an hour). Nothing
is ever dropped: a notice waits in the store for as long as the mail server is away. Delivery is
at least once: a worker that dies between sending and marking leaves its notice to be sent again
after the lease (its ``Message-ID`` is the same each time, so a mail system can tell).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
import time

from ..verifier.stores.service import Notice, ServiceTables
from .config import SmtpConfig
from .metrics import Metrics
from .notices import Templates
from .tasks import cancel

__all__ = ["Mailer", "send"]

log = logging.getLogger("pyotp_hw.service")

_MAX_DELAY = 3600.0


def send(smtp: SmtpConfig, templates: Templates, notices: list[Notice]) -> list[str | None]:
    """Send ``notices`` over one SMTP session; per notice None (sent) or the error's words.

    A connection that cannot be made fails every notice of the call.
    """
    out: list[str | None] = []
    try:
        conn = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    except (OSError, smtplib.SMTPException) as exc:
        return [f"cannot connect: {type(exc).__name__}"] * len(notices)
    try:
        conn.ehlo()
        if smtp.starttls:
            conn.starttls(context=ssl.create_default_context(cafile=smtp.cafile))
            conn.ehlo()
        if smtp.username is not None:
            conn.login(smtp.username, smtp.password() or "")
        for notice in notices:
            try:
                conn.send_message(templates.message(notice, smtp.sender))
                out.append(None)
            except (OSError, smtplib.SMTPException) as exc:
                out.append(f"{type(exc).__name__}: {str(exc)[:200]}")
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        problem = f"{type(exc).__name__}"
        out += [problem] * (len(notices) - len(out))
    finally:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()
    return out


class Mailer:
    """One process's delivery loop over a store's outbox."""

    def __init__(self, store: ServiceTables, smtp: SmtpConfig, templates: Templates, *,
                 poll: float = 0.5, retry_base: float = 5.0, lease: float = 60.0,
                 metrics: Metrics | None = None) -> None:
        self._store = store
        self._smtp = smtp
        self._templates = templates
        self._poll = poll
        self._retry_base = retry_base
        self._lease = lease
        self._metrics = metrics
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start delivering on the running loop."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="mailer")

    async def close(self) -> None:
        """Stop delivering (claimed notices not yet sent come back after their lease)."""
        await cancel(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                sent = await asyncio.to_thread(self.deliver_once)
            except Exception:
                log.exception("notice delivery failed")
                sent = 0
            if not sent:
                await asyncio.sleep(self._poll)

    def deliver_once(self) -> int:
        """Claim the due notices and send them; returns how many were claimed."""
        notices = self._store.claim_notices(time.time(), self._lease)
        if not notices:
            return 0
        results = send(self._smtp, self._templates, notices)
        for notice, problem in zip(notices, results, strict=True):
            if problem is None:
                self._store.notice_sent(notice.id, time.time())
                if self._metrics is not None:
                    self._metrics.notice("sent")
                continue
            delay = min(_MAX_DELAY, self._retry_base * 2 ** min(notice.attempts - 1, 20))
            log.warning("notice %d (%s) not delivered, attempt %d: %s; retrying in %.1f s",
                        notice.id, notice.kind, notice.attempts, problem, delay)
            self._store.notice_failed(notice.id, time.time() + delay, problem)
            if self._metrics is not None:
                self._metrics.notice("failed")
        return len(notices)
