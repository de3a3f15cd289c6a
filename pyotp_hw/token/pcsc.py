"""PC/SC readers through pyscard: the only module of the package that imports ``smartcard``.

pyscard is the ``token`` extra and is imported on first use, so the rest of the package (and the
virtual token) works without it. PC/SC status codes become typed errors: no daemon running, no
reader, no card, card removed, card busy.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import ModuleType

from ..errors import MissingExtra
from .errors import (
    NoReaderFound,
    NoTokenFound,
    PcscUnavailable,
    ReaderNotFound,
    TokenBusy,
    TokenConnectionError,
)

__all__ = ["PcscConnection", "reader_names", "card_present", "context"]

_M = 0xFFFFFFFF


def _scard() -> ModuleType:
    try:
        from smartcard import scard
    except ImportError:
        raise MissingExtra("talking to hardware tokens over PC/SC", "token", "pyscard") from None
    return scard  # type: ignore[no-any-return]


def _message(scard: ModuleType, hresult: int) -> str:
    try:
        text = str(scard.SCardGetErrorMessage(hresult)).strip().rstrip(".")
    except (TypeError, ValueError, OverflowError):  # a code pyscard cannot describe
        text = "PC/SC error"
    return f"{text} (0x{hresult & _M:08X})"


def _is(scard: ModuleType, hresult: int, *names: str) -> bool:
    return any(hresult & _M == getattr(scard, n, -1) & _M for n in names)


def _establish(scard: ModuleType) -> int:
    """A new PC/SC context handle, or PcscUnavailable saying why there is none."""
    hresult, hcontext = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        if _is(scard, hresult, "SCARD_E_NO_SERVICE", "SCARD_E_SERVICE_STOPPED"):
            raise PcscUnavailable(
                "no PC/SC service is running: start pcscd (the smart card daemon)", stopped=True)
        raise PcscUnavailable(f"cannot reach the PC/SC service: {_message(scard, hresult)}")
    return int(hcontext)


@contextlib.contextmanager
def context() -> Iterator[tuple[ModuleType, int]]:
    """Yield ``(scard module, PC/SC context handle)``; release the context afterwards."""
    scard = _scard()
    hcontext = _establish(scard)
    try:
        yield scard, hcontext
    finally:
        scard.SCardReleaseContext(hcontext)


def reader_names() -> list[str]:
    """Return the names of every PC/SC reader (an empty list when there is none)."""
    with context() as (scard, hcontext):
        hresult, readers = scard.SCardListReaders(hcontext, [])
        if _is(scard, hresult, "SCARD_E_NO_READERS_AVAILABLE"):
            return []
        if hresult != scard.SCARD_S_SUCCESS:
            raise NoReaderFound(f"cannot list the smart card readers: {_message(scard, hresult)}")
        return [str(r) for r in readers]


def card_present(reader: str) -> bool:
    """Return True when ``reader`` holds a powered-up-able card right now."""
    with context() as (scard, hcontext):
        hresult, states = scard.SCardGetStatusChange(
            hcontext, 0, [(reader, scard.SCARD_STATE_UNAWARE)]
        )
        if hresult != scard.SCARD_S_SUCCESS or not states:
            return False
        event_state = states[0][1]
        return bool(event_state & scard.SCARD_STATE_PRESENT)


class PcscConnection:
    """A :class:`~pyotp_hw.token.connection.Connection` to the card in one PC/SC reader.

    The card is opened exclusively when possible (so no other program changes the selected
    applet between our commands), shared otherwise; closing resets the card so that an unlocked
    OATH session does not outlive us (``reset_on_close=False`` leaves it, for a probe that
    must not disturb other programs sharing the card). After a failed exchange the card is left
    alone on close: resetting a card that vanished gains nothing, and Debian's vpcd stops
    accepting a new card on that reader after a reset of a dead one.
    """

    def __init__(self, reader: str, *, exclusive: bool = True, reset_on_close: bool = True
                 ) -> None:
        self.reader = reader
        self.reset_on_close = reset_on_close
        self._scard = _scard()
        scard = self._scard
        self._context: int | None = _establish(scard)
        self._card: int | None = None  # the PC/SC card handle
        self._broken = False
        try:
            self._connect(exclusive)
        except BaseException:
            scard.SCardReleaseContext(self._context)
            raise

    def _connect(self, exclusive: bool) -> None:
        scard = self._scard
        protocols = scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
        modes = [scard.SCARD_SHARE_EXCLUSIVE, scard.SCARD_SHARE_SHARED] if exclusive else [
            scard.SCARD_SHARE_SHARED
        ]
        hresult = 0
        for mode in modes:
            hresult, card, protocol = scard.SCardConnect(
                self._context, self.reader, mode, protocols
            )
            if hresult == scard.SCARD_S_SUCCESS:
                self._card = card
                self._pci = scard.SCARD_PCI_T0 if protocol == scard.SCARD_PROTOCOL_T0 else (
                    scard.SCARD_PCI_T1
                )
                return
            if not _is(scard, hresult, "SCARD_E_SHARING_VIOLATION"):
                break
        if _is(scard, hresult, "SCARD_E_SHARING_VIOLATION"):
            raise TokenBusy(f"another program is using the token in reader {self.reader!r}")
        if _is(scard, hresult, "SCARD_E_UNKNOWN_READER", "SCARD_E_READER_UNAVAILABLE"):
            raise ReaderNotFound(f"there is no reader named {self.reader!r}")
        if _is(
            scard, hresult, "SCARD_E_NO_SMARTCARD", "SCARD_W_REMOVED_CARD",
            "SCARD_W_UNPOWERED_CARD", "SCARD_W_UNRESPONSIVE_CARD", "SCARD_E_TIMEOUT",
        ):
            raise NoTokenFound(f"there is no card in reader {self.reader!r}")
        if _is(scard, hresult, "SCARD_E_NO_SERVICE", "SCARD_E_SERVICE_STOPPED"):
            raise PcscUnavailable("the PC/SC service stopped")
        raise TokenConnectionError(
            f"cannot connect to the card in reader {self.reader!r}: {_message(scard, hresult)}"
        )

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """Send one APDU and return ``(data, sw)``; raise TokenConnectionError on failure."""
        if self._card is None:
            raise TokenConnectionError("the connection to the token is closed")
        if self._broken:
            raise TokenConnectionError(
                f"the token in reader {self.reader!r} stopped answering earlier: reconnect"
            )
        scard = self._scard
        hresult, response = scard.SCardTransmit(self._card, self._pci, list(apdu))
        if hresult != scard.SCARD_S_SUCCESS or len(response) < 2:
            self._broken = True
            if _is(scard, hresult, "SCARD_E_NO_SERVICE", "SCARD_E_SERVICE_STOPPED"):
                raise TokenConnectionError("the PC/SC service stopped during the exchange")
            detail = _message(scard, hresult) if hresult != scard.SCARD_S_SUCCESS else (
                "an empty response"
            )
            raise TokenConnectionError(
                f"the token in reader {self.reader!r} was removed or stopped answering "
                f"({detail})"
            )
        raw = bytes(response)
        return raw[:-2], int.from_bytes(raw[-2:], "big")

    def close(self) -> None:
        """Reset the card, disconnect and release the PC/SC context."""
        scard = self._scard
        if self._card is not None:
            reset = self.reset_on_close and not self._broken
            disposition = scard.SCARD_RESET_CARD if reset else scard.SCARD_LEAVE_CARD
            scard.SCardDisconnect(self._card, disposition)
            self._card = None
        if self._context is not None:
            scard.SCardReleaseContext(self._context)
            self._context = None

    def __enter__(self) -> PcscConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
