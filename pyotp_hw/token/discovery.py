"""Finding tokens: which PC/SC readers hold a card with an OATH applet, and opening one."""

from __future__ import annotations

from dataclasses import dataclass

from . import pcsc
from .apdu import SW
from .errors import (
    MultipleTokensFound,
    NoReaderFound,
    NoTokenFound,
    ReaderNotFound,
    TokenBusy,
    TokenConnectionError,
)
from .oath import OathSession
from .ykoath import AID, INS_SELECT

__all__ = ["ReaderStatus", "list_readers", "find_tokens", "choose_reader", "open_token"]


@dataclass(frozen=True)
class ReaderStatus:
    """One PC/SC reader: does it hold a card, and does that card answer as an OATH token?"""

    name: str
    card_present: bool
    oath: bool
    busy: bool = False

    def to_dict(self) -> dict[str, str | bool]:
        """Return the fields as JSON-ready values."""
        return {"reader": self.name, "card": self.card_present, "oath": self.oath,
                "busy": self.busy}


def _probe(name: str) -> ReaderStatus:
    try:
        connection = pcsc.PcscConnection(name, exclusive=False, reset_on_close=False)
    except TokenBusy:
        return ReaderStatus(name, card_present=True, oath=False, busy=True)
    except (NoTokenFound, TokenConnectionError):
        return ReaderStatus(name, card_present=False, oath=False)
    try:
        _, sw = connection.transmit(bytes([0x00, INS_SELECT, 0x04, 0x00, len(AID)]) + AID)
        oath = sw == SW.OK or sw >> 8 == 0x61
    except TokenConnectionError:
        oath = False
    finally:
        connection.close()
    return ReaderStatus(name, card_present=True, oath=oath)


def list_readers() -> list[ReaderStatus]:
    """Return every PC/SC reader with whether it holds an OATH token.

    Raises :class:`PcscUnavailable` when no PC/SC service runs.
    """
    return [_probe(name) for name in pcsc.reader_names()]


def find_tokens() -> list[str]:
    """Return the names of the readers whose card has an OATH applet."""
    return [r.name for r in list_readers() if r.oath]


def choose_reader(reader: str | None = None) -> str:
    """Return the reader to use.

    With ``reader``, the reader of that exact name, or the one whose name contains it
    (case-insensitively; among several, the only one holding an OATH token). Without it, the
    only reader holding an OATH token. Raises :class:`NoReaderFound`, :class:`ReaderNotFound`,
    :class:`NoTokenFound` or :class:`MultipleTokensFound` (which lists the candidates).
    """
    names = pcsc.reader_names()
    if not names:
        raise NoReaderFound("no smart card reader found (is the token plugged in?)")
    if reader is not None:
        if reader in names:
            return reader
        candidates = [n for n in names if reader.lower() in n.lower()]
        if not candidates:
            listed = "; ".join(repr(n) for n in names)
            raise ReaderNotFound(f"no reader matches {reader!r} (readers: {listed})")
        if len(candidates) == 1:
            return candidates[0]
        names = candidates
    tokens = [r.name for r in (_probe(n) for n in names) if r.oath]
    if not tokens:
        listed = "; ".join(repr(n) for n in names)
        raise NoTokenFound(f"no token with an OATH applet found (readers: {listed})")
    if len(tokens) > 1:
        raise MultipleTokensFound(tokens)
    return tokens[0]


def open_token(reader: str | None = None, password: str | None = None) -> OathSession:
    """Open a session with the OATH applet of a token over PC/SC.

    ``reader`` picks the reader (see :func:`choose_reader`); ``password`` unlocks a protected
    token right away (it is ignored when the token has none). Use the result as a context
    manager to release the token.
    """
    name = choose_reader(reader)
    connection = pcsc.PcscConnection(name)
    try:
        session = OathSession(connection, reader=name)
        if password is not None and session.info.locked:
            session.unlock(password)
    except BaseException:
        connection.close()
        raise
    return session
