"""The one table from a command's status word to the typed error it means.

A status word means different things to different commands (6984 is "no such credential" to
DELETE and "no password set" to VALIDATE; 6983 is "name taken" to PUT and "PIN blocked" to the
PIN commands), so the table is keyed by command and status, with a row for "any command" below.
The session raises whatever :func:`error_for` returns for a status other than 9000, except
the statuses of :data:`MISSING_COMMAND`, by which a card says it lacks a command the session
can do without.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .apdu import SW, sw_text
from .errors import (
    AuthenticationRequired,
    CommandRejected,
    CredentialExists,
    NoOathApplet,
    NoPasswordSet,
    NoSuchCredential,
    NotSupportedByToken,
    PasswordBlocked,
    ProtocolError,
    TokenError,
    TokenFull,
    TokenMemoryError,
    TokenStatusError,
    TouchTimeout,
    WrongPassword,
)
from .ykoath import Op

__all__ = ["Meaning", "TABLE", "MISSING_COMMAND", "error_for", "LOCKED"]


@dataclass(frozen=True)
class Meaning:
    """The error a status means, and its message.

    The message may name ``{what}`` the command was asked to do, the credential's ``{name}``
    (its id) or ``{label}``, the ``{status}`` as text, and the PIN ``{tries}`` left.
    """

    error: type[TokenError]
    message: str


_FULL = Meaning(TokenFull, "the token is full: delete an account to make room")
_MISSING = Meaning(NoSuchCredential, "no such account on the token: {name!r}")
_NO_APPLET = Meaning(NoOathApplet, "{what} has no OATH applet")
_WRONG_PIN = Meaning(WrongPassword, "wrong PIN ({tries} tries left)")
_PIN_BLOCKED = Meaning(
    PasswordBlocked, "the token's PIN is blocked after too many wrong tries: only a reset helps"
)
_PIN_REJECTED = Meaning(CommandRejected, "the token rejected this PIN (too short or too long?)")
_PIN_OPS = (Op.VERIFY_PIN, Op.CHANGE_PIN, Op.SET_PIN)

#: 6982 while the session has not given the token's password (or PIN).
LOCKED = Meaning(AuthenticationRequired, "the token is locked: give its password to unlock it")

#: (command, status) -> meaning; a command of None is the row for any command but SELECT.
TABLE: Mapping[tuple[Op | None, int], Meaning] = {
    (None, SW.SECURITY_NOT_SATISFIED): Meaning(
        AuthenticationRequired, "the token refused to {what} (not authorised)"
    ),
    (None, SW.MEMORY_FAILURE): Meaning(
        TokenMemoryError, "the token reported a memory failure while trying to {what}"
    ),
    (None, SW.NO_SPACE): _FULL,
    (None, SW.INS_NOT_SUPPORTED): Meaning(NotSupportedByToken, "this token cannot {what}"),
    (None, SW.CLA_NOT_SUPPORTED): Meaning(NotSupportedByToken, "this token cannot {what}"),
    (None, SW.WRONG_DATA): Meaning(
        CommandRejected, "the token rejected the request to {what} (a value it does not support)"
    ),
    (Op.SELECT, SW.FILE_NOT_FOUND): _NO_APPLET,
    (Op.SELECT, SW.INS_NOT_SUPPORTED): _NO_APPLET,
    (Op.SELECT, SW.CLA_NOT_SUPPORTED): _NO_APPLET,
    (Op.SELECT, SW.WRONG_P1P2): _NO_APPLET,
    (Op.PUT, SW.AUTH_METHOD_BLOCKED): Meaning(
        CredentialExists, "an account named {name!r} is already on the token"
    ),
    (Op.PUT, SW.UNKNOWN_ERROR): _FULL,  # some YubiKey NEOs say 6F00 when full
    (Op.DELETE, SW.NO_SUCH_OBJECT): _MISSING,
    (Op.DELETE, SW.FILE_NOT_FOUND): _MISSING,  # a Nitrokey 3
    (Op.RENAME, SW.NO_SUCH_OBJECT): _MISSING,
    (Op.RENAME, SW.FILE_NOT_FOUND): _MISSING,
    (Op.RENAME, SW.INS_NOT_SUPPORTED): Meaning(
        NotSupportedByToken,
        "this token cannot rename accounts (it has no RENAME command: Nitrokey 3, YubiKey "
        "before firmware 5.3)",
    ),
    (Op.CALCULATE, SW.NO_SUCH_OBJECT): _MISSING,
    (Op.CALCULATE, SW.FILE_NOT_FOUND): _MISSING,
    (Op.CALCULATE, SW.SECURITY_NOT_SATISFIED): Meaning(
        TouchTimeout,
        "{label!r} needs a touch of the token and none came in time: touch the token when "
        "it blinks",
    ),
    (Op.VALIDATE, SW.WRONG_DATA): Meaning(WrongPassword, "wrong password"),
    (Op.VALIDATE, SW.NO_SUCH_OBJECT): Meaning(NoPasswordSet, "the token has no password set"),
    (Op.SET_CODE, SW.NO_SUCH_OBJECT): Meaning(
        ProtocolError, "the token did not accept the proof of the new password"
    ),
    **{(op, SW.VERIFY_FAILED): _WRONG_PIN for op in _PIN_OPS},
    **{(op, SW.AUTH_METHOD_BLOCKED): _PIN_BLOCKED for op in _PIN_OPS},
    **{(op, SW.WRONG_DATA): _PIN_REJECTED for op in _PIN_OPS},
}
#: Statuses by which a card says it has no such command, and what the session does instead:
#: CALCULATE ALL (a Nitrokey 3 by default): LIST, then CALCULATE each; SET CODE (a Nitrokey 3
#: that did not announce itself): its PIN commands.
MISSING_COMMAND: Mapping[Op, frozenset[int]] = {
    Op.CALCULATE_ALL: frozenset(
        {SW.INS_NOT_SUPPORTED, SW.CONDITIONS_NOT_SATISFIED, SW.CLA_NOT_SUPPORTED, SW.WRONG_P1P2}
    ),
    Op.SET_CODE: frozenset({SW.CONDITIONS_NOT_SATISFIED}),
}
_OTHERWISE = Meaning(TokenStatusError, "the token answered {status} when asked to {what}")
_SELECT_OTHERWISE = Meaning(ProtocolError, "selecting the OATH applet failed: {status}")


def error_for(
    op: Op,
    sw: int,
    *,
    what: str,
    name: str = "",
    label: str = "",
    locked: bool = False,
    protected: bool = False,
) -> TokenError:
    """Return the error that status ``sw`` means as the answer to ``op``.

    ``locked``: the session has not unlocked a protected token; ``protected``: a password or
    PIN is set. 6982 means "not authenticated" to every command, and also "no touch came" to
    CALCULATE: on a protected token it is the lock, except for CALCULATE once unlocked.
    """
    if sw == SW.SECURITY_NOT_SATISFIED and (locked or (protected and op is not Op.CALCULATE)):
        return _build(LOCKED, sw, {})
    family = sw & 0xFFF0 if sw & 0xFFF0 == SW.VERIFY_FAILED else sw  # 63Cx: x tries left
    meaning = TABLE.get((op, family))
    if meaning is None:  # SELECT is answered before there is an applet: no row for any command
        meaning = _SELECT_OTHERWISE if op is Op.SELECT else TABLE.get((None, family), _OTHERWISE)
    fields = {"what": what, "name": name, "label": label, "status": sw_text(sw),
              "tries": sw & 0x0F}
    return _build(meaning, sw, fields)


def _build(meaning: Meaning, sw: int, fields: Mapping[str, object]) -> TokenError:
    message = meaning.message.format(**fields)
    if meaning.error is WrongPassword and sw & 0xFFF0 == SW.VERIFY_FAILED:
        return WrongPassword(message, sw, retries=sw & 0x0F)
    if issubclass(meaning.error, TokenStatusError):
        return meaning.error(message, sw)
    return meaning.error(message)
