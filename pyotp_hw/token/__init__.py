"""Hardware tokens: OATH credentials on a YubiKey, a Nitrokey 3 or a Java card, over PC/SC.

::

    from pyotp_hw.token import open_token
    with open_token() as tok:                 # the one reader holding an OATH token
        tok.put("otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example")
        print(tok.calculate("Example:alice").value)

Layers: :mod:`.tlv` and :mod:`.apdu` (codecs), :mod:`.connection` (the ``transmit`` abstraction
with chaining), :mod:`.pcsc` (pyscard, the ``token`` extra, imported lazily), :mod:`.oath` (the
YKOATH session), :mod:`.discovery` (readers), :mod:`.virtual` (the software token) and
:mod:`.rig` (a private pcscd with the virtual token, for tests and demos).
"""

from __future__ import annotations

from .discovery import ReaderStatus, choose_reader, find_tokens, list_readers, open_token
from .errors import (
    AmbiguousCredential,
    AuthenticationRequired,
    CommandRejected,
    CredentialExists,
    InvalidCredential,
    MultipleTokensFound,
    NoOathApplet,
    NoPasswordSet,
    NoReaderFound,
    NoSuchCredential,
    NoTokenFound,
    NotSupportedByToken,
    PasswordBlocked,
    PcscUnavailable,
    ProtocolError,
    ReaderNotFound,
    RigError,
    StateFileError,
    TokenAuthenticityError,
    TokenBusy,
    TokenConnectionError,
    TokenError,
    TokenFull,
    TokenMemoryError,
    TokenStatusError,
    TouchTimeout,
    WrongPassword,
)
from .oath import Code, Credential, CredentialData, OathSession, TokenInfo

__all__ = [
    "open_token",
    "list_readers",
    "find_tokens",
    "choose_reader",
    "ReaderStatus",
    "OathSession",
    "Credential",
    "CredentialData",
    "Code",
    "TokenInfo",
    "TokenError",
    "PcscUnavailable",
    "NoReaderFound",
    "NoTokenFound",
    "NoOathApplet",
    "ReaderNotFound",
    "MultipleTokensFound",
    "TokenConnectionError",
    "TokenBusy",
    "ProtocolError",
    "TokenStatusError",
    "AuthenticationRequired",
    "WrongPassword",
    "PasswordBlocked",
    "NoPasswordSet",
    "TokenAuthenticityError",
    "TouchTimeout",
    "TokenFull",
    "NoSuchCredential",
    "AmbiguousCredential",
    "CredentialExists",
    "NotSupportedByToken",
    "TokenMemoryError",
    "CommandRejected",
    "InvalidCredential",
    "StateFileError",
    "RigError",
]
