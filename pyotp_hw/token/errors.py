"""Errors of the hardware-token layer.

Every class derives from :class:`pyotp_hw.errors.OTPError` and from the builtin exception it
means. Messages say what went wrong in the user's words ("wrong password", "the token is full",
"no such account") and never contain a secret. They carry meaning only: exit statuses and the
names of command-line options belong to :mod:`pyotp_hw.cli`, which maps these classes to both.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import InvalidArgument, OTPError

__all__ = [
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

class TokenError(OTPError):
    """Base class of every error about a hardware (or virtual) OATH token."""


# --- nothing to talk to -------------------------------------------------------------------------


class PcscUnavailable(TokenError, ConnectionError):
    """No PC/SC service is running (pcscd is not started), or it cannot be reached.

    ``stopped`` is True when no service runs at all, so that a caller can suggest how to start
    one (the command line names its virtual token).
    """

    def __init__(self, message: str, *, stopped: bool = False) -> None:
        super().__init__(message)
        self.stopped = stopped


class NoReaderFound(TokenError, LookupError):
    """The PC/SC service runs but lists no smart card reader."""


class NoTokenFound(TokenError, LookupError):
    """Readers exist, but none holds a card with an OATH applet."""


class NoOathApplet(NoTokenFound):
    """The card in the chosen reader has no OATH applet (SELECT answered 6A82)."""


class ReaderNotFound(NoTokenFound):
    """No reader matches the name the user gave."""


class MultipleTokensFound(TokenError, LookupError):
    """Several readers hold an OATH token; the caller must choose one.

    ``readers`` lists their names, in the order PC/SC gave them, and ``device_ids`` the device
    id of each one's token (None where it is not known; empty when none were given).
    """

    def __init__(self, readers: Sequence[str], device_ids: Sequence[str | None] = ()) -> None:
        self.readers = list(readers)
        self.device_ids = list(device_ids)
        super().__init__(f"{len(self.readers)} tokens found ({self.listing()}): choose one of "
                         "them")

    def listing(self) -> str:
        """The readers, each with its token's device id where known, as one line."""
        ids = self.device_ids or [None] * len(self.readers)
        return "; ".join(f"{r!r} (device id {d})" if d else repr(r)
                         for r, d in zip(self.readers, ids, strict=False))


class TokenConnectionError(TokenError, ConnectionError):
    """The token was removed, the card process stopped, or the reader stopped answering."""


class TokenBusy(TokenConnectionError):
    """Another program holds the token exclusively."""


# --- the token answered, but not usefully -------------------------------------------------------


class ProtocolError(TokenError, RuntimeError):
    """The token's answer does not follow the protocol (malformed, truncated or unexpected)."""


class TokenStatusError(TokenError, RuntimeError):
    """The token refused a command; ``sw`` is the ISO 7816 status word it answered."""

    def __init__(self, message: str, sw: int | None = None) -> None:
        super().__init__(message)
        self.sw = sw


class AuthenticationRequired(TokenStatusError, PermissionError):
    """The token is protected by a password and this session is not unlocked."""


class WrongPassword(TokenStatusError, PermissionError):
    """The password given does not unlock the token.

    ``retries`` is the number of attempts left where the token counts them (Nitrokey PIN).
    """

    def __init__(self, message: str, sw: int | None = None, retries: int | None = None) -> None:
        super().__init__(message, sw)
        self.retries = retries


class PasswordBlocked(TokenStatusError, PermissionError):
    """The token's PIN is blocked after too many wrong attempts."""


class NoPasswordSet(TokenStatusError, ValueError):
    """An unlock was asked of a token that has no password."""


class TokenAuthenticityError(TokenError, PermissionError):
    """The token failed to prove that it knows the password (mutual authentication failed).

    A genuine token that accepted our password answers our own challenge correctly; a wrong or
    missing answer means the card is an impostor (or broken), so nothing it says is trusted.
    """


class TouchTimeout(TokenStatusError, TimeoutError):
    """A credential needs a touch of the token and none came in time."""


class TokenFull(TokenStatusError):
    """The token has no room for another credential."""


class NoSuchCredential(TokenStatusError, LookupError):
    """No credential on the token has the given name."""


class AmbiguousCredential(TokenError, LookupError):
    """A name matches several credentials; ``matches`` lists their full names."""

    def __init__(self, name: str, matches: Sequence[str]) -> None:
        self.matches = list(matches)
        listed = ", ".join(repr(m) for m in self.matches)
        super().__init__(f"{name!r} matches several accounts on the token ({listed}): be exact")


class ForeignCredential(TokenError, ValueError):
    """A :class:`~pyotp_hw.token.Credential` read from one token was given to another's session.

    ``device_id`` is the id of the token it belongs to; its name is not sent to this token.
    """

    def __init__(self, message: str, device_id: str) -> None:
        super().__init__(message)
        self.device_id = device_id


class CredentialExists(TokenStatusError, ValueError):
    """A credential with this name is already on the token and overwriting was not asked for."""


class NotSupportedByToken(TokenStatusError, NotImplementedError):
    """The token does not implement this operation (for example RENAME on a Nitrokey 3)."""


class TokenMemoryError(TokenStatusError):
    """The token reported a memory failure."""


class CommandRejected(TokenStatusError, ValueError):
    """The token rejected a command's content (wrong syntax or an unsupported parameter)."""


class InvalidCredential(InvalidArgument):
    """A credential cannot be stored on a token (name too long, 9 digits, Steam, ...)."""


class StateFileError(TokenError, ValueError):
    """The virtual token's state file cannot be read (damaged, wrong passphrase, unknown format)."""


class KeyStoreError(TokenError, ValueError):
    """The file of remembered access keys cannot be used (damaged, readable by others, a link);
    the message names the file and what to do, never a key."""


class StateProtectionMismatch(StateFileError):
    """A state file is sealed but was opened as plaintext, or the other way round.

    ``sealed`` tells which the file is, so that a caller can name the option to change.
    """

    def __init__(self, message: str, *, sealed: bool) -> None:
        super().__init__(message)
        self.sealed = sealed


class RigError(TokenError, RuntimeError):
    """The private PC/SC rig (pcscd with vpcd and the virtual token) could not be started."""
