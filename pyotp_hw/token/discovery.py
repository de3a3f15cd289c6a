"""Finding tokens: which PC/SC readers hold a card with an OATH applet, and opening one."""

from __future__ import annotations

from dataclasses import dataclass

from . import pcsc
from .apdu import SW
from .errors import (
    MultipleTokensFound,
    NoReaderFound,
    NoTokenFound,
    ProtocolError,
    ReaderNotFound,
    TokenBusy,
    TokenConnectionError,
)
from .model import SelectAnswer
from .oath import OathSession
from .ykoath import AID, INS_SELECT

__all__ = ["ReaderStatus", "list_readers", "find_tokens", "choose_reader", "open_token"]


@dataclass(frozen=True)
class ReaderStatus:
    """One PC/SC reader: does it hold a card, and does that card answer as an OATH token?

    ``device_id`` is the OATH device id the token's SELECT answer gives (as
    :attr:`TokenInfo.device_id`), None when there is no token or its answer names none.
    """

    name: str
    card_present: bool
    oath: bool
    busy: bool = False
    device_id: str | None = None

    def to_dict(self) -> dict[str, str | bool | None]:
        """Return the fields as JSON-ready values."""
        return {"reader": self.name, "card": self.card_present, "oath": self.oath,
                "busy": self.busy, "device_id": self.device_id}


def _probe(name: str) -> ReaderStatus:
    try:
        connection = pcsc.PcscConnection(name, exclusive=False, reset_on_close=False)
    except TokenBusy:
        return ReaderStatus(name, card_present=True, oath=False, busy=True)
    except (NoTokenFound, TokenConnectionError):
        return ReaderStatus(name, card_present=False, oath=False)
    device_id = None
    try:
        data, sw = connection.transmit(bytes([0x00, INS_SELECT, 0x04, 0x00, len(AID)]) + AID)
        oath = sw == SW.OK or sw >> 8 == 0x61
        if sw == SW.OK:
            device_id = SelectAnswer.parse(data).device_id or None
    except TokenConnectionError:
        oath = False
    except ProtocolError:
        pass  # an answer without a usable id: still a token, opened and judged later
    finally:
        connection.close()
    return ReaderStatus(name, card_present=True, oath=oath, device_id=device_id)


def list_readers() -> list[ReaderStatus]:
    """Return every PC/SC reader with whether it holds an OATH token.

    Raises :class:`PcscUnavailable` when no PC/SC service runs.
    """
    return [_probe(name) for name in pcsc.reader_names()]


def find_tokens() -> list[str]:
    """Return the names of the readers whose card has an OATH applet."""
    return [r.name for r in list_readers() if r.oath]


def _candidates(names: list[str], reader: str | None) -> list[str]:
    if reader is None:
        return names
    if reader in names:
        return [reader]
    candidates = [n for n in names if reader.lower() in n.lower()]
    if not candidates:
        listed = "; ".join(repr(n) for n in names)
        raise ReaderNotFound(f"no reader matches {reader!r} (readers: {listed})")
    return candidates


def _with_device(tokens: list[ReaderStatus], device_id: str) -> list[ReaderStatus]:
    chosen = [t for t in tokens if t.device_id == device_id]
    if not chosen:
        seen = "; ".join(f"{t.device_id} in {t.name!r}" for t in tokens) or "none"
        raise NoTokenFound(f"no token with device id {device_id!r} (tokens: {seen})")
    return chosen


def choose_reader(reader: str | None = None, *, device_id: str | None = None) -> str:
    """Return the reader to use.

    With ``reader``, the reader of that exact name, or the one whose name contains it
    (case-insensitively; among several, the only one holding an OATH token). With
    ``device_id``, the reader whose token has that device id (among those ``reader`` names,
    when both are given). Without either, the only reader holding an OATH token. Raises
    :class:`NoReaderFound`, :class:`ReaderNotFound`, :class:`NoTokenFound` or
    :class:`MultipleTokensFound` (which lists the candidates and their device ids).
    """
    names = pcsc.reader_names()
    if not names:
        raise NoReaderFound("no smart card reader found (is the token plugged in?)")
    candidates = _candidates(names, reader)
    if reader is not None and len(candidates) == 1 and device_id is None:
        return candidates[0]
    tokens = [r for r in (_probe(n) for n in candidates) if r.oath]
    if not tokens:
        listed = "; ".join(repr(n) for n in candidates)
        raise NoTokenFound(f"no token with an OATH applet found (readers: {listed})")
    if device_id is not None:
        tokens = _with_device(tokens, device_id)
    if len(tokens) > 1:
        raise MultipleTokensFound([t.name for t in tokens], [t.device_id for t in tokens])
    return tokens[0].name


def open_token(reader: str | None = None, password: str | None = None, *,
               device_id: str | None = None) -> OathSession:
    """Open a session with the OATH applet of a token over PC/SC.

    ``reader`` and ``device_id`` pick the token (see :func:`choose_reader`); ``password``
    unlocks a protected token right away (it is ignored when the token has none). Use the
    result as a context manager to release the token.
    """
    name = choose_reader(reader, device_id=device_id)
    connection = pcsc.PcscConnection(name)
    try:
        session = OathSession(connection, reader=name)
        if device_id is not None and session.info.device_id != device_id:
            raise NoTokenFound(
                f"the token in {name!r} changed while it was opened (device id "
                f"{session.info.device_id}, not {device_id!r})"
            )
        if password is not None and session.info.locked:
            session.unlock(password)
    except BaseException:
        connection.close()
        raise
    return session
