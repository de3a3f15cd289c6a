"""A private PC/SC stack with the virtual token: pcscd + vpcd + ``pyotp-hw token virtual``.

For tests and demos on a machine without a hardware token::

    from pyotp_hw.token.rig import PcscRig
    with PcscRig() as rig:                     # starts pcscd with a private configuration
        rig.start_token()                      # the virtual token, served to the first reader
        with open_token(rig.reader()) as tok:  # any PC/SC client works now (ykman too, with
            ...                                # rig.env() in its environment)

pcscd's client socket is normally system-wide (``/run/pcscd/pcscd.comm``). Where the machine
allows it (``unshare``: as root, or as a user where unprivileged user namespaces are enabled),
the rig runs pcscd in a private mount namespace with its own ``/run/pcscd`` and points clients at
it through ``PCSCLITE_CSOCK_NAME``, so it neither sees nor disturbs another pcscd. Otherwise it
uses the system socket and refuses to start next to a live pcscd (a stale socket of a dead one
is cleaned up). The reader ports are chosen free at random.

vpcd, the reader driver inside pcscd, is the listening side and binds its ports on every
interface (vsmartcard's ``opensock`` uses ``INADDR_ANY``; its configuration names only the port,
and its "reverse" mode, which would let the card listen instead, aborts this pcscd), so any host
on the network could connect to a reader as its card. The rig therefore gives pcscd a private
network namespace as well (holding only a loopback interface) and starts the virtual token inside
that namespace (``nsenter``): the ports exist nowhere else. Client programs are not affected,
since they reach pcscd through its Unix socket, a file. Without namespaces the rig warns
(:class:`RigWarning`) that the readers' ports are open to the network.

libpcsclite reads ``PCSCLITE_CSOCK_NAME`` once per process: :meth:`PcscRig.start` sets it in
``os.environ`` and must run before the process first uses PC/SC; one rig per process.
Children get SIGTERM if the process that started them dies, and a rig starting later stops what
an earlier, dead owner left behind (only processes whose command line names that rig's files).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

from .errors import NoTokenFound, PcscUnavailable, RigError

__all__ = ["PcscRig", "RigWarning", "VirtualTokenProcess", "find_vpcd_driver", "SYSTEM_SOCKET"]

SYSTEM_SOCKET = Path("/run/pcscd/pcscd.comm")
_SYSTEM_PID = Path("/run/pcscd/pcscd.pid")
_DRIVER_CANDIDATES = (
    "/usr/lib/pcsc/drivers/serial/libifdvpcd.so",
    "/usr/lib64/pcsc/drivers/serial/libifdvpcd.so",
    "/usr/local/lib/pcsc/drivers/serial/libifdvpcd.so",
)
_REGISTRY = Path(tempfile.gettempdir()) / "pyotp-hw-rig"
_PR_SET_PDEATHSIG = 1
# Inside the new mount namespace: give pcscd our directory as /run/pcscd. A user who cannot
# create /run/pcscd gets a private tmpfs on /run first (visible in the namespace only).
_ISOLATE_SCRIPT = (
    'if [ ! -d /run/pcscd ] && ! mkdir -p /run/pcscd 2>/dev/null; then '
    "mount -t tmpfs none /run && mkdir /run/pcscd || exit 1; fi; "
    'if [ -n "$3" ]; then "$3" -c "$4" || exit 1; fi; '
    'mount --bind "$0" /run/pcscd && exec "$1" -f -c "$2"'
)
# A new network namespace has its loopback interface down: bring it up (SIOCSIFFLAGS with
# IFF_UP | IFF_LOOPBACK | IFF_RUNNING) without needing iproute2.
_LOOPBACK_UP = (
    "import fcntl, socket, struct; s = socket.socket(); "
    "fcntl.ioctl(s, 0x8914, struct.pack('16sH22x', b'lo', 0x49))"
)


class RigWarning(UserWarning):
    """The rig runs, but with less isolation than it wants (said in the message)."""


def find_vpcd_driver() -> str | None:
    """Return the path of vpcd's pcscd driver (Debian's ``vsmartcard-vpcd``), or None."""
    for candidate in _DRIVER_CANDIDATES:
        if os.path.exists(candidate):
            return candidate
    return None


def _pcscd_binary() -> str | None:
    return shutil.which("pcscd") or next(
        (p for p in ("/usr/sbin/pcscd", "/sbin/pcscd") if os.path.exists(p)), None
    )


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is not alive for our purposes.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[-1].split()[0] == "Z":
            return False
    return True


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
            "utf-8", "replace"
        )
    except OSError:
        return ""


def _stop_process(proc: subprocess.Popen[bytes], timeout: float) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait(5)


def _stop_pid(pid: int, timeout: float) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _port_pair_free(port: int) -> bool:
    for p in (port, port + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("0.0.0.0", p))  # noqa: S104 - vpcd listens on all interfaces
            except OSError:
                return False
    return True


def _free_port_pair() -> int:
    for _ in range(100):
        port = 20000 + 2 * secrets.randbelow(15000)
        if _port_pair_free(port):
            return port
    raise RigError("no two consecutive free TCP ports found for the vpcd readers")


def reap_stale_rigs() -> None:
    """Stop what rigs of dead owner processes left running, and remove their files."""
    if not _REGISTRY.is_dir():
        return
    for entry in _REGISTRY.iterdir():
        record = entry / "rig.json"
        try:
            info = json.loads(record.read_text())
        except (OSError, ValueError):
            continue
        owner = info.get("owner")
        if not isinstance(owner, int) or _alive(owner):
            continue
        for pid in info.get("pids", []):
            if isinstance(pid, int) and _alive(pid) and str(entry) in _cmdline(pid):
                _stop_pid(pid, 3.0)
        shutil.rmtree(entry, ignore_errors=True)


class VirtualTokenProcess:
    """A running ``pyotp-hw token virtual`` process served to one of the rig's readers."""

    def __init__(self, proc: subprocess.Popen[bytes], reader: str, port: int, log: Path) -> None:
        self.proc = proc
        self.reader = reader
        self.port = port
        self.log = log

    @property
    def pid(self) -> int:
        """The process id."""
        return self.proc.pid

    def output(self) -> str:
        """What the process wrote so far (stdout and stderr)."""
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def wait_output(self, text: str, timeout: float = 10.0) -> None:
        """Wait until the process has written ``text``."""
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.proc.poll() is not None:
                raise RigError(f"the virtual token exited before writing {text!r}: {self.output()}")
            if time.monotonic() > deadline:
                raise RigError(f"the virtual token did not write {text!r} in {timeout} s")
            time.sleep(0.02)

    def stop(self, timeout: float = 5.0) -> int | None:
        """Stop it with SIGTERM (SIGKILL after ``timeout``) and return its exit status."""
        _stop_process(self.proc, timeout)
        return self.proc.returncode

    def kill(self) -> None:
        """Kill it at once (SIGKILL), as a pulled token or a crash would."""
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        self.proc.wait(5)


class PcscRig:
    """pcscd with a private configuration: two vpcd readers named ``reader_name 00 00/01``.

    ``isolate`` None tries a private mount namespace and falls back to the system socket;
    True requires the namespace; False never uses it.
    """

    def __init__(
        self,
        *,
        reader_name: str = "pyotp-hw virtual",
        isolate: bool | None = None,
        python: str = sys.executable,
    ) -> None:
        self.reader_name = reader_name
        self.isolate = isolate
        self.python = python
        self.base: Path | None = None
        self.port = 0
        self.isolated = False
        #: True when pcscd (and so vpcd's ports) lives in a private network namespace.
        self.net_isolated = False
        self._want_net = False
        self.socket_path = SYSTEM_SOCKET
        self._pcscd: subprocess.Popen[bytes] | None = None
        self._tokens: list[VirtualTokenProcess] = []
        self._saved_env: str | None = None

    # --- context manager ----------------------------------------------------------------------

    def __enter__(self) -> PcscRig:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- names and environment ----------------------------------------------------------------

    def reader(self, slot: int = 0) -> str:
        """The PC/SC name of reader ``slot`` (0 or 1)."""
        return f"{self.reader_name} 00 {slot:02d}"

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """An environment for child processes (ykman, the CLI) that reaches this rig's pcscd."""
        out = dict(os.environ if base is None else base)
        if self.isolated:
            out["PCSCLITE_CSOCK_NAME"] = str(self.socket_path)
        return out

    # --- pcscd ---------------------------------------------------------------------------------

    def start(self, timeout: float = 15.0) -> None:
        """Start pcscd and wait until it lists the rig's readers."""
        if self._pcscd is not None:
            raise RigError("the rig is already started")
        pcscd = _pcscd_binary()
        driver = find_vpcd_driver()
        if pcscd is None or driver is None:
            missing = "pcscd" if pcscd is None else "vpcd (vsmartcard-vpcd)"
            raise RigError(f"{missing} is not installed (see scripts/system-deps.sh)")
        reap_stale_rigs()
        _REGISTRY.mkdir(mode=0o700, exist_ok=True)
        self.base = Path(tempfile.mkdtemp(prefix="rig-", dir=_REGISTRY))
        conf = self.base / "conf"
        run = self.base / "run"
        conf.mkdir()
        run.mkdir()
        self.port = _free_port_pair()
        (conf / "vpcd").write_text(
            f'FRIENDLYNAME "{self.reader_name}"\n'
            f"DEVICENAME   /dev/null:{self.port}\n"
            f"LIBPATH      {driver}\n"
            f"CHANNELID    {self.port}\n"
        )
        try:
            self._start_pcscd(pcscd, conf, run, timeout)
            if self.isolated:
                self._saved_env = os.environ.get("PCSCLITE_CSOCK_NAME")
                os.environ["PCSCLITE_CSOCK_NAME"] = str(self.socket_path)
            self._wait_readers(timeout)
        except BaseException:
            self.stop()
            raise

    def _isolation_prefix(self) -> list[str] | None:
        if (
            self.isolate is False
            or not sys.platform.startswith("linux")
            or shutil.which("unshare") is None
        ):
            return None
        prefix = ["unshare"]
        if os.geteuid() != 0:
            prefix += ["--user", "--map-root-user"]
        if self._want_net:
            prefix.append("--net")
        return [*prefix, "--mount", "--propagation", "private", "--"]

    def _start_pcscd(self, pcscd: str, conf: Path, run: Path, timeout: float) -> None:
        assert self.base is not None
        log = open(self.base / "pcscd.log", "ab")
        try:
            self._want_net = shutil.which("nsenter") is not None
            tried = False
            for _ in range(2):  # with a private network, then (if that fails) without
                prefix = self._isolation_prefix()
                if prefix is None:
                    break
                tried = True
                loopback = [self.python, _LOOPBACK_UP] if self._want_net else ["", ""]
                command = [*prefix, "sh", "-c", _ISOLATE_SCRIPT, str(run), pcscd, str(conf),
                           *loopback]
                if self._spawn(command, log, run / "pcscd.comm", timeout):
                    self.isolated = True
                    self.net_isolated = self._want_net
                    self.socket_path = run / "pcscd.comm"
                    self._warn_if_exposed()
                    return
                if not self._want_net:
                    break
                self._want_net = False
            if tried and self.isolate:
                raise RigError(f"pcscd did not start in a private namespace: {self._log()}")
            self._clear_system_socket()
            if not self._spawn([pcscd, "-f", "-c", str(conf)], log, SYSTEM_SOCKET, timeout):
                raise RigError(f"pcscd did not start: {self._log()}")
            self.isolated = False
            self.net_isolated = False
            self.socket_path = SYSTEM_SOCKET
            self._warn_if_exposed()
        finally:
            log.close()

    def _warn_if_exposed(self) -> None:
        if not self.net_isolated:
            warnings.warn(
                f"vpcd listens on TCP ports {self.port} and {self.port + 1} on every interface "
                "(no private network namespace here: needs unshare and nsenter, as root or with "
                "user namespaces): another host could connect to the rig's readers as a card",
                RigWarning,
                stacklevel=3,
            )

    def card_command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` prefixed so that it runs where the vpcd ports are (the rig's network)."""
        if not self.net_isolated or self._pcscd is None:
            return list(argv)
        prefix = ["nsenter", "--target", str(self._pcscd.pid)]
        if os.geteuid() != 0:
            prefix += ["--user", "--preserve-credentials"]
        return [*prefix, "--net", "--", *argv]

    def _spawn(self, command: Sequence[str], log: IO[bytes], sock: Path, timeout: float) -> bool:
        assert self.base is not None
        self._pcscd = subprocess.Popen(  # noqa: S603 - fixed argument list
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        self._record()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._pcscd.poll() is not None:
                self._pcscd = None
                return False
            if sock.exists():
                return True
            time.sleep(0.01)
        _stop_process(self._pcscd, 3.0)
        self._pcscd = None
        return False

    def _clear_system_socket(self) -> None:
        if not SYSTEM_SOCKET.exists() and not _SYSTEM_PID.exists():
            return
        try:
            pid = int(_SYSTEM_PID.read_text().strip())
        except (OSError, ValueError):
            pid = 0
        if pid and _alive(pid):
            raise RigError(
                f"a pcscd (pid {pid}) already runs on the system socket and this machine does "
                "not allow a private one (needs unshare with root or user namespaces): "
                "stop it first"
            )
        for stale in (SYSTEM_SOCKET, _SYSTEM_PID):
            with contextlib.suppress(OSError):
                stale.unlink()

    def _log(self) -> str:
        assert self.base is not None
        try:
            text = (self.base / "pcscd.log").read_text(errors="replace").strip()
        except OSError:
            return "(no log)"
        return text[-2000:] or "(empty log)"

    def _wait_readers(self, timeout: float) -> None:
        from . import pcsc

        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.reader(0) in pcsc.reader_names():
                    return
            except PcscUnavailable:
                pass
            if time.monotonic() > deadline:
                raise RigError(f"pcscd does not list the vpcd readers: {self._log()}")
            time.sleep(0.02)

    def _record(self) -> None:
        if self.base is None:
            return
        pids = [p.pid for p in (self._pcscd,) if p is not None] + [t.pid for t in self._tokens]
        with contextlib.suppress(OSError):
            (self.base / "rig.json").write_text(json.dumps({"owner": os.getpid(), "pids": pids}))

    # --- virtual tokens ------------------------------------------------------------------------

    def start_token(
        self,
        args: Sequence[str] = (),
        *,
        slot: int = 0,
        env: Mapping[str, str] | None = None,
        wait: bool = True,
        timeout: float = 15.0,
    ) -> VirtualTokenProcess:
        """Start ``python -m pyotp_hw token virtual ARGS`` on reader ``slot``; wait for the card."""
        if self._pcscd is None or self.base is None:
            raise RigError("start the rig before a virtual token")
        port = self.port + slot
        log = self.base / f"token-{slot}-{len(self._tokens)}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(  # noqa: S603 - fixed argument list
                self.card_command([self.python, "-m", "pyotp_hw", "token", "virtual",
                                   "--port", str(port), *args]),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                preexec_fn=_die_with_parent,
                cwd=str(self.base),
            )
        token = VirtualTokenProcess(proc, self.reader(slot), port, log)
        self._tokens.append(token)
        self._record()
        if wait:
            try:
                self.wait_card(slot, present=True, timeout=timeout, process=token)
            except BaseException:
                token.stop()
                raise
        return token

    def wait_card(
        self,
        slot: int = 0,
        *,
        present: bool = True,
        timeout: float = 15.0,
        process: VirtualTokenProcess | None = None,
    ) -> None:
        """Wait until reader ``slot`` shows a card (or, with ``present=False``, none)."""
        from . import pcsc

        deadline = time.monotonic() + timeout
        while pcsc.card_present(self.reader(slot)) != present:
            if process is not None and process.proc.poll() is not None:
                raise RigError(f"the virtual token exited: {process.output().strip()}")
            if time.monotonic() > deadline:
                state = "appear" if present else "go away"
                raise NoTokenFound(f"the card in {self.reader(slot)!r} did not {state}")
            time.sleep(0.01)

    def stop_tokens(self) -> None:
        """Stop every virtual token this rig started."""
        for token in self._tokens:
            token.stop()
        self._tokens.clear()
        self._record()

    def stop(self) -> None:
        """Stop the tokens and pcscd and remove the rig's files. Safe to call twice."""
        try:
            self.stop_tokens()
        finally:
            if self._pcscd is not None:
                _stop_process(self._pcscd, 5.0)
                self._pcscd = None
            if self.base is not None:
                shutil.rmtree(self.base, ignore_errors=True)
                self.base = None
            if self.isolated and os.environ.get("PCSCLITE_CSOCK_NAME") == str(self.socket_path):
                if self._saved_env is None:
                    os.environ.pop("PCSCLITE_CSOCK_NAME", None)
                else:
                    os.environ["PCSCLITE_CSOCK_NAME"] = self._saved_env
