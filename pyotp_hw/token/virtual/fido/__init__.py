"""The virtual FIDO2 authenticator: a CTAP 2.1 authenticator as the virtual card's second applet.

``FidoApplet(Authenticator(store, touch=...))`` goes on a :class:`~..card.VirtualCard` beside the
OATH applet (``make_card(extra_applets=[...])``; ``pyotp-hw token virtual`` does it by default).
Clients reach it as an NFC authenticator over PC/SC (python-fido2's ``CtapPcscDevice``). Nothing
here uses python-fido2: it is the tests' independent client.
"""

from __future__ import annotations

from ....errors import MissingExtra

try:
    import cryptography  # noqa: F401 - every part below computes with it
except ImportError:  # pragma: no cover - the token extra installs it
    raise MissingExtra("the virtual FIDO2 authenticator", "fido", "cryptography") from None

from .applet import FIDO_AID, SELECT_ANSWER, FidoApplet
from .authenticator import AAGUID, MAX_CREDS_IN_LIST, MAX_MSG_SIZE, Authenticator
from .credential import CREDENTIAL_ID_LENGTH
from .state import (
    MAX_PIN_RETRIES,
    STATE_SUFFIX,
    FidoFileStore,
    FidoMemoryStore,
    FidoState,
    FidoStore,
)
from .status import Status

__all__ = [
    "FidoApplet",
    "Authenticator",
    "FidoState",
    "FidoStore",
    "FidoMemoryStore",
    "FidoFileStore",
    "Status",
    "FIDO_AID",
    "SELECT_ANSWER",
    "AAGUID",
    "MAX_MSG_SIZE",
    "MAX_CREDS_IN_LIST",
    "MAX_PIN_RETRIES",
    "CREDENTIAL_ID_LENGTH",
    "STATE_SUFFIX",
]
