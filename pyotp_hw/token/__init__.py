"""Hardware tokens: OATH credentials on a YubiKey, a Nitrokey 3 or a Java card, over PC/SC.

::

    from pyotp_hw.token import open_token
    with open_token() as tok:                 # the one reader holding an OATH token
        tok.put("otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example")
        print(tok.calculate("Example:alice").value)

This package is the facade: the names below are its public interface, with two public
subpackages of their own, :mod:`.virtual` (the software token) and :mod:`.rig` (a private
pcscd with the virtual token, for tests and demos). Inside: :mod:`.tlv` and :mod:`.apdu`
(codecs), :mod:`.connection` (the ``transmit`` abstraction with chaining), :mod:`.pcsc`
(pyscard, the ``token`` extra, imported lazily), :mod:`.oath` (the YKOATH session) with
:mod:`.model` (its values), :mod:`.status` (status words to errors) and :mod:`.access` (the
password and PIN schemes), :mod:`.discovery` (readers), and :mod:`.keystore` (access keys
remembered per device id, as ykman remembers them). Names are exact here; the command
line searches. The session logs its commands (never their data) on the ``pyotp_hw.token``
logger at DEBUG level.
"""

from __future__ import annotations

from .access import AccessKind, derive_key
from .connection import Connection
from .discovery import ReaderStatus, choose_reader, find_tokens, list_readers, open_token
from .errors import (
    AmbiguousCredential,
    AuthenticationRequired,
    CommandRejected,
    CredentialExists,
    ForeignCredential,
    InvalidCredential,
    KeyStoreError,
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
    StateProtectionMismatch,
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
from .keystore import RememberedKeys, default_key_file
from .model import Code, Credential, CredentialData, JsonScalar, TokenInfo
from .oath import OathSession, TimeLike
from .ykoath import CredentialType, Digest, OathType

__all__ = [
    "open_token",
    "list_readers",
    "find_tokens",
    "choose_reader",
    "ReaderStatus",
    "Connection",
    "OathSession",
    "Credential",
    "CredentialData",
    "Code",
    "TokenInfo",
    "TimeLike",
    "JsonScalar",
    "OathType",
    "CredentialType",
    "Digest",
    "AccessKind",
    "derive_key",
    "RememberedKeys",
    "default_key_file",
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
    "ForeignCredential",
    "CredentialExists",
    "NotSupportedByToken",
    "TokenMemoryError",
    "CommandRejected",
    "InvalidCredential",
    "StateFileError",
    "StateProtectionMismatch",
    "KeyStoreError",
    "RigError",
]
