"""The whole site on one machine, for the demo, ``make site`` and the browser tests: a
verifier store, ``pyotp-hw serve`` (its notices going to an SMTP sink), ``pyotp-hw site serve``,
each a real process on a free loopback port, and the sink, a real SMTP server (aiosmtpd) that
keeps what it receives.

::

    with Stack(Path(tmp)) as stack:          # SQLite; Stack(..., db=url, workers=2) for PostgreSQL
        print(stack.site_url)                 # open it in a browser
        stack.mailbox.wait(1)                 # the notice emails, as received
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import OTPError

__all__ = ["Stack", "Mailbox", "StackError", "free_port", "wait_for"]


class StackError(OTPError, RuntimeError):
    """A part of the stack did not start (its log is named in the message)."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 just now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0, step: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; its last answer."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


class Mailbox:
    """An SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it receives;
    ``on_message`` is called with each (the demo prints them)."""

    def __init__(self, on_message: Callable[[EmailMessage], None] | None = None) -> None:
        self.port = free_port()
        self.on_message = on_message
        self._messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._controller: Any = None  # aiosmtpd's Controller (aiosmtpd ships no types)

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        """aiosmtpd's hook: keep the message."""
        msg: EmailMessage = message_from_bytes(envelope.content, policy=default)
        with self._lock:
            self._messages.append(msg)
        if self.on_message is not None:
            self.on_message(msg)
        return "250 OK"

    def start(self) -> None:
        """Listen."""
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        """Stop listening."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[EmailMessage]:
        """What arrived, oldest first."""
        with self._lock:
            return list(self._messages)

    def wait(self, count: int, timeout: float = 30.0) -> list[EmailMessage]:
        """The messages once at least ``count`` have arrived (StackError after ``timeout``)."""
        if not wait_for(lambda: len(self.messages()) >= count, timeout):
            raise StackError(f"{count} email(s) expected, {len(self.messages())} arrived")
        return self.messages()


def _cli(args: Sequence[str], env: dict[str, str] | None = None) -> str:
    out = subprocess.run([sys.executable, "-m", "pyotp_hw", *args], capture_output=True,  # noqa: S603
                         text=True, timeout=120, env=env, check=False)
    if out.returncode != 0:
        raise StackError(f"pyotp-hw {args[0]} {args[1]} failed: {out.stderr.strip()}")
    return out.stdout


class _Process:
    """One server process (its own process group) logging to a file."""

    def __init__(self, name: str, argv: Sequence[str], log: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,  # noqa: S603
                                         env=env, start_new_session=True)

    def wait_http(self, url: str, timeout: float = 60.0) -> None:
        def up() -> bool:
            if self.proc.poll() is not None:
                raise StackError(f"{self.name} exited: see {self.log}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - loopback
                    return int(r.status) == 200
            except OSError:
                return False

        if not wait_for(up, timeout, 0.1):
            raise StackError(f"{self.name} did not start: see {self.log}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


class Stack:
    """A store, the service, the site and an SMTP sink, under ``workdir``.

    ``db``: the verifier store's URL (default a SQLite file in ``workdir``); ``workers``: the
    service's worker processes; ``env``: the environment of the processes (add a PC/SC rig's);
    ``site_args``: more options for ``pyotp-hw site serve``.
    """

    def __init__(self, workdir: Path, *, db: str | None = None, workers: int = 1,
                 site_name: str = "Example Site", env: dict[str, str] | None = None,
                 on_message: Callable[[EmailMessage], None] | None = None,
                 site_args: Sequence[str] = ()) -> None:
        self.workdir = workdir
        self.db = db or f"sqlite:///{workdir / 'verifier.db'}"
        self.workers = workers
        self.site_name = site_name
        self.env = dict(os.environ if env is None else env)
        self.mailbox = Mailbox(on_message)
        self.service_url = f"http://127.0.0.1:{free_port()}"
        self.site_url = f"http://127.0.0.1:{free_port()}"
        self.api_key = ""
        self.site_args = list(site_args)
        self._procs: list[_Process] = []
        self._logs: list[tuple[str, Path]] = []

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        """Create the store and an API key, start the sink, the service and the site."""
        from . import NOTICE_TEMPLATES

        key_file = self.workdir / "data.key"
        _cli(["verifier", "init", "--db", self.db, "--key-file", str(key_file), "--create-key"],
             self.env)
        self.api_key = _cli(["serve", "key", "create", "site", "--db", self.db], self.env).strip()
        self.mailbox.start()
        try:
            service = _Process("the service", [
                sys.executable, "-m", "pyotp_hw", "serve", "--db", self.db,
                "--key-file", str(key_file), "--listen", self.service_url[len("http://"):],
                "--workers", str(self.workers), "--smtp", f"127.0.0.1:{self.mailbox.port}",
                "--mail-from", "security@example.com", "--site-name", self.site_name,
                "--notice-templates", NOTICE_TEMPLATES, "--retry-base", "0.5"],
                self.workdir / "service.log", self.env)
            self._procs.append(service)
            self._logs.append((service.name, service.log))
            service.wait_http(f"{self.service_url}/healthz")
            env = dict(self.env, PYOTP_HW_SITE_API_KEY=self.api_key)
            site = _Process("the site", [
                sys.executable, "-m", "pyotp_hw", "site", "serve", "--service", self.service_url,
                "--db", str(self.workdir / "site.db"), "--listen", self.site_url[len("http://"):],
                "--site-name", self.site_name, *self.site_args], self.workdir / "site.log", env)
            self._procs.append(site)
            self._logs.append((site.name, site.log))
            site.wait_http(f"{self.site_url}/signin")
        except BaseException:
            self.stop()
            raise

    def stop_service(self) -> None:
        """Stop the service alone (the site stays up: its pages say the service is away)."""
        for proc in self._procs:
            if proc.name == "the service":
                proc.stop()

    def stop(self) -> None:
        """Stop everything (safe to call twice)."""
        for proc in reversed(self._procs):
            proc.stop()
        self._procs.clear()
        self.mailbox.stop()

    def logs(self) -> str:
        """The service's and the site's logs (for a failing test's report)."""
        return "\n".join(f"--- {name}\n{log.read_text(errors='replace')}"
                         for name, log in self._logs)
