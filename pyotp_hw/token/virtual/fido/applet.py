"""The FIDO applet: CTAP2 over ISO 7816-4, as NFC authenticators and python-fido2's pcsc speak it.

SELECT of AID A0000006472F0001 answers ``FIDO_2_0`` (a CTAP2-only authenticator: no U2F). A CTAP2
message travels in NFCCTAP_MSG (CLA 80, INS 10), chained with CLA 90 when it is longer than one
short APDU (the card de-chains it); the answer (status byte + CBOR) comes back with 9000, in
``61xx`` pieces fetched with GET RESPONSE when it is long (the card does that too). When the
platform sets P1 bit 0x80 ("I poll NFCCTAP_GETRESPONSE") and the command is still running after
:attr:`FidoApplet.keepalive_after` seconds (waiting for a touch), the applet answers ``9100``
with a status byte (1 processing, 2 user presence needed); NFCCTAP_GETRESPONSE (CLA 80, INS 11)
then waits again, and with P1 = 11 cancels the command, which ends with KEEPALIVE_CANCEL.
"""

from __future__ import annotations

import threading

from ...apdu import SW, Command
from .authenticator import Authenticator
from .status import Status

__all__ = ["FidoApplet", "FIDO_AID", "SELECT_ANSWER"]

#: The FIDO applet's AID (FIDO Alliance RID A000000647, PIX 2F0001).
FIDO_AID = bytes.fromhex("A0000006472F0001")
#: What SELECT answers: "U2F_V2" would also promise CTAP1/U2F, which this applet does not speak.
SELECT_ANSWER = b"FIDO_2_0"
_CLA_PROPRIETARY = 0x80
_INS_MSG, _INS_GET_RESPONSE = 0x10, 0x11
_P1_POLLING = 0x80
_P1_CANCEL = 0x11
_SW_KEEPALIVE = 0x9100
_KEEPALIVE_PROCESSING, _KEEPALIVE_UP_NEEDED = 0x01, 0x02


class _Job:
    """One CTAP2 message being answered on a worker thread."""

    def __init__(self, authenticator: Authenticator, message: bytes) -> None:
        self.cancel = threading.Event()
        self.done = threading.Event()
        # Stays so only if the authenticator has a bug (the thread then reports the exception).
        self.answer = bytes([Status.OTHER])
        self._thread = threading.Thread(
            target=self._run, args=(authenticator, message), name="fido-ctap2", daemon=True
        )
        self._thread.start()

    def _run(self, authenticator: Authenticator, message: bytes) -> None:
        try:
            self.answer = authenticator.handle(message, self.cancel)
        finally:
            self.done.set()

    def stop(self) -> None:
        """Cancel the command and wait for the worker to finish."""
        self.cancel.set()
        self._thread.join()


class FidoApplet:
    """The FIDO applet of the virtual card, answering with ``authenticator``."""

    aid = FIDO_AID
    #: GET RESPONSE (C0) fetches the rest of a long answer; there is no other instruction for it.
    send_remaining_ins = 0xC0

    def __init__(self, authenticator: Authenticator | None = None, *,
                 keepalive_after: float = 0.1) -> None:
        self.authenticator = authenticator if authenticator is not None else Authenticator()
        self.keepalive_after = keepalive_after
        self._job: _Job | None = None

    # --- applet interface ---------------------------------------------------------------------

    def select(self) -> tuple[bytes, int]:
        """Answer SELECT: the protocol version this applet speaks."""
        self._drop_job()
        return SELECT_ANSWER, SW.OK

    def deselect(self) -> None:
        """Another applet was selected or the card lost power: cancel a running command."""
        self._drop_job()

    def power_up(self) -> None:
        """The card was powered on (the CTAP2 power cycle: new PIN keys, no token)."""
        self._drop_job()
        self.authenticator.power_up()

    def process(self, command: Command) -> tuple[bytes, int]:
        """Answer NFCCTAP_MSG and NFCCTAP_GETRESPONSE."""
        if command.cla != _CLA_PROPRIETARY:
            # CTAP1/U2F messages (CLA 00) and anything else: not spoken here.
            return b"", SW.INS_NOT_SUPPORTED if command.cla == 0 else SW.CLA_NOT_SUPPORTED
        if command.ins == _INS_MSG:
            return self._message(command)
        if command.ins == _INS_GET_RESPONSE:
            return self._poll(cancel=command.p1 == _P1_CANCEL)
        return b"", SW.INS_NOT_SUPPORTED

    # --- CTAP2 messages -----------------------------------------------------------------------

    def _message(self, command: Command) -> tuple[bytes, int]:
        self._drop_job()
        if not command.p1 & _P1_POLLING:
            return self.authenticator.handle(command.data), SW.OK
        self._job = _Job(self.authenticator, command.data)
        return self._poll(cancel=False)

    def _poll(self, *, cancel: bool) -> tuple[bytes, int]:
        job = self._job
        if job is None:
            return b"", SW.CONDITIONS_NOT_SATISFIED
        if cancel:
            job.cancel.set()
        if not job.done.wait(self.keepalive_after):
            waiting = self.authenticator.waiting_for_touch
            status = _KEEPALIVE_UP_NEEDED if waiting else _KEEPALIVE_PROCESSING
            return bytes([status]), _SW_KEEPALIVE
        self._job = None
        return job.answer, SW.OK

    def _drop_job(self) -> None:
        if self._job is not None:
            self._job.stop()
            self._job = None
