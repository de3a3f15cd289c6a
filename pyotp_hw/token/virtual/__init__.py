"""The virtual token: a software OATH applet on a software card.

It runs in-process for unit tests (``make_card().connect()`` gives a connection the client
session accepts) and behind pcscd's vpcd reader through ``pyotp-hw token virtual``, so that any
PC/SC client (this package, ykman) sees a token. Nothing here imports pyscard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..apdu import Command
from .applet import OATH_APPLET_AID, PROFILES, OathApplet, Profile, TouchPolicy
from .card import NFC_ATR, Applet, VirtualCard, VirtualConnection
from .state import (
    PASSPHRASE_ENV,
    FileStore,
    MemoryStore,
    OathState,
    PassphraseSealer,
    StateStore,
    StoredCredential,
)
from .vpcd import DEFAULT_PORT, exposed_listeners, serve

__all__ = [
    "Applet",
    "VirtualCard",
    "VirtualConnection",
    "OathApplet",
    "TouchPolicy",
    "Profile",
    "PROFILES",
    "OATH_APPLET_AID",
    "NFC_ATR",
    "OathState",
    "StoredCredential",
    "StateStore",
    "MemoryStore",
    "FileStore",
    "PassphraseSealer",
    "PASSPHRASE_ENV",
    "Command",
    "serve",
    "exposed_listeners",
    "DEFAULT_PORT",
    "make_card",
]


def make_card(
    *,
    store: StateStore | None = None,
    profile: str = "yubikey",
    touch: TouchPolicy | None = None,
    capacity: int | None = None,
    extra_applets: Iterable[Applet] = (),
    stall_on: Iterable[int] = (),
    on_stall: Callable[[Command], None] | None = None,
) -> VirtualCard:
    """Return a card with an OATH applet (plus ``extra_applets``, e.g. a FIDO2 applet).

    The profile decides the card-level behaviour too: a ``"nitrokey3"`` card refuses command
    chaining as the real one does.
    """
    applet = OathApplet(store, profile=profile, touch=touch, capacity=capacity)
    return VirtualCard(
        [applet, *extra_applets],
        command_chaining=applet.profile.command_chaining,
        stall_on=stall_on,
        on_stall=on_stall,
    )
