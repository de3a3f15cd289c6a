"""Constants of the YKOATH protocol, shared by the client session and the virtual card.

Facts from Yubico's public YKOATH specification and the Nitrokey 3 Secrets App documentation:
the applet id, instructions, tags, type and algorithm nibbles, property bits, and the
credential-id format ``[period/][issuer:]name``.
"""

from __future__ import annotations

import re
from enum import Enum, IntEnum
from typing import Literal

from ..kinds import Digest, Kind

__all__ = [
    "AID",
    "INS_SELECT",
    "INS",
    "Op",
    "TAG",
    "OathType",
    "CredentialType",
    "Digest",
    "OATH_HOTP",
    "OATH_TOTP",
    "TYPE_NAMES",
    "ALGORITHMS",
    "ALGORITHM_NAMES",
    "DIGEST_BLOCK_SIZE",
    "PROP_INCREASING",
    "PROP_TOUCH",
    "PROP_PIN_ENCRYPTED",
    "DEFAULT_PERIOD",
    "MAX_ID_LENGTH",
    "MIN_KEY_LENGTH",
    "MAX_KEY_LENGTH",
    "CHALLENGE_LENGTH",
    "format_id",
    "parse_id",
]

#: The OATH applet id (ykneo-oath installs as AID + 01; selecting this prefix matches it).
AID = bytes.fromhex("A0000005272101")
#: ISO SELECT (with P1 04: by AID). The same byte as CALCULATE ALL, told apart by P1.
INS_SELECT = 0xA4


class INS(IntEnum):
    """OATH instructions (CLA 00)."""

    PUT = 0x01
    DELETE = 0x02
    SET_CODE = 0x03
    RESET = 0x04
    RENAME = 0x05
    LIST = 0xA1
    CALCULATE = 0xA2
    VALIDATE = 0xA3
    CALCULATE_ALL = 0xA4
    SEND_REMAINING = 0xA5
    # Nitrokey 3 Secrets App PIN commands
    VERIFY_PIN = 0xB2
    CHANGE_PIN = 0xB3
    SET_PIN = 0xB4


class Op(Enum):
    """The commands a client sends, as ``(INS, P1)``: SELECT and CALCULATE ALL share INS A4."""

    _value_: tuple[int, int]

    SELECT = (INS_SELECT, 0x04)
    PUT = (INS.PUT, 0x00)
    DELETE = (INS.DELETE, 0x00)
    SET_CODE = (INS.SET_CODE, 0x00)
    RESET = (INS.RESET, 0xDE)  # P1 P2 must be DE AD
    RENAME = (INS.RENAME, 0x00)
    LIST = (INS.LIST, 0x00)
    CALCULATE = (INS.CALCULATE, 0x00)
    VALIDATE = (INS.VALIDATE, 0x00)
    CALCULATE_ALL = (INS.CALCULATE_ALL, 0x00)
    VERIFY_PIN = (INS.VERIFY_PIN, 0x00)
    CHANGE_PIN = (INS.CHANGE_PIN, 0x00)
    SET_PIN = (INS.SET_PIN, 0x00)

    @property
    def ins(self) -> int:
        """The instruction byte."""
        return self._value_[0]

    @property
    def p1(self) -> int:
        """The first parameter byte."""
        return self._value_[1]


class TAG(IntEnum):
    """OATH TLV tags."""

    NAME = 0x71
    NAME_LIST = 0x72
    KEY = 0x73
    CHALLENGE = 0x74
    RESPONSE = 0x75
    TRUNCATED = 0x76
    HOTP = 0x77
    PROPERTY = 0x78
    VERSION = 0x79
    IMF = 0x7A
    ALGORITHM = 0x7B
    TOUCH = 0x7C
    # Nitrokey 3 Secrets App
    PIN = 0x80
    NEW_PIN = 0x81
    PIN_COUNTER = 0x82
    SERIAL = 0x8F


#: The kinds of credential a client stores: the package's OTP kinds.
OathType = Kind
#: The kinds a token may list: a Nitrokey 3 also keeps reverse HOTP and HMAC slots.
CredentialType = Literal["totp", "hotp", "reverse-hotp", "hmac", "unknown"]

OATH_HOTP = 0x10
OATH_TOTP = 0x20
#: Type nibble -> the kind a token lists.
TYPE_NAMES: dict[int, CredentialType] = {
    OATH_HOTP: "hotp", OATH_TOTP: "totp", 0x30: "reverse-hotp", 0x40: "hmac",
}
#: Digest name -> algorithm nibble.
ALGORITHMS: dict[Digest, int] = {"sha1": 0x01, "sha256": 0x02, "sha512": 0x03}
#: Algorithm nibble -> digest name.
ALGORITHM_NAMES: dict[int, Digest] = {v: k for k, v in ALGORITHMS.items()}
#: HMAC block size of each digest (keys longer than this are hashed first, HMAC's own rule).
DIGEST_BLOCK_SIZE: dict[Digest, int] = {"sha1": 64, "sha256": 64, "sha512": 128}

PROP_INCREASING = 0x01
PROP_TOUCH = 0x02
PROP_PIN_ENCRYPTED = 0x04

DEFAULT_PERIOD = 30
MAX_ID_LENGTH = 64
MIN_KEY_LENGTH = 14
MAX_KEY_LENGTH = 64
CHALLENGE_LENGTH = 8

# ASCII digits only: re's \d would also take other scripts' digits, which int() reads.
_ID = re.compile(r"^(?:([0-9]+)/)?(?:([^:]+):)?(.+)$", re.DOTALL)
# A period of more digits than 2**32-1 has is not one (and int() refuses 4300 digits or more).
_MAX_PERIOD_DIGITS = 10


def format_id(account: str, issuer: str | None, *, totp: bool, period: int) -> str:
    """Return the credential id ``[period/][issuer:]account`` (period only when not 30 s)."""
    prefix = f"{period}/" if totp and period != DEFAULT_PERIOD else ""
    return f"{prefix}{issuer}:{account}" if issuer else f"{prefix}{account}"


def parse_id(cred_id: str, *, totp: bool) -> tuple[str | None, str, int]:
    """Split a credential id into ``(issuer, account, period)``.

    The period prefix counts for TOTP only; an HOTP id keeps any ``digits/`` as part of its text.
    """
    if not totp:
        if cred_id.find(":") > 0:
            issuer, account = cred_id.split(":", 1)
            return issuer, account, 0
        return None, cred_id, 0
    match = _ID.match(cred_id)
    if match is None:  # only an empty id fails to match
        return None, cred_id, DEFAULT_PERIOD
    period_text, issuer, account = match.groups()
    if period_text and len(period_text.lstrip("0")) > _MAX_PERIOD_DIGITS:
        return None, cred_id, DEFAULT_PERIOD
    period = int(period_text) if period_text else DEFAULT_PERIOD
    if not 0 < period < 2**32:  # not a usable period: the prefix is part of the name
        return None, cred_id, DEFAULT_PERIOD
    return issuer, account, period
