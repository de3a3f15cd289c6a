"""CTAP2 status codes (the first byte of every authenticator answer) and a failure with one."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["Status", "CtapFailure"]


class Status(IntEnum):
    """The CTAP 2.1 status codes this authenticator answers."""

    OK = 0x00
    INVALID_COMMAND = 0x01
    INVALID_PARAMETER = 0x02
    INVALID_LENGTH = 0x03
    CBOR_UNEXPECTED_TYPE = 0x11
    INVALID_CBOR = 0x12
    MISSING_PARAMETER = 0x14
    LIMIT_EXCEEDED = 0x15
    CREDENTIAL_EXCLUDED = 0x19
    UNSUPPORTED_ALGORITHM = 0x26
    OPERATION_DENIED = 0x27
    UNSUPPORTED_OPTION = 0x2B
    INVALID_OPTION = 0x2C
    KEEPALIVE_CANCEL = 0x2D
    NO_CREDENTIALS = 0x2E
    USER_ACTION_TIMEOUT = 0x2F
    NOT_ALLOWED = 0x30
    PIN_INVALID = 0x31
    PIN_BLOCKED = 0x32
    PIN_AUTH_INVALID = 0x33
    PIN_AUTH_BLOCKED = 0x34
    PIN_NOT_SET = 0x35
    PUAT_REQUIRED = 0x36
    PIN_POLICY_VIOLATION = 0x37
    REQUEST_TOO_LARGE = 0x39
    UP_REQUIRED = 0x3B
    INVALID_SUBCOMMAND = 0x3E
    UNAUTHORIZED_PERMISSION = 0x40
    OTHER = 0x7F


class CtapFailure(Exception):
    """A command ends with ``status``; the authenticator turns it into its one-byte answer.

    It never leaves the virtual card: :meth:`Authenticator.handle` catches it.
    """

    def __init__(self, status: Status) -> None:
        super().__init__(f"CTAP2 status 0x{int(status):02X} ({status.name})")
        self.status = status
