"""What a person reads when a code is refused: one sentence per service reason.

The service's reasons (``pyotp_hw.verifier.Reason`` values, sent as text) are for logs; a site
tells the person only what helps them: retype, wait for the next code, wait longer, get help.
"""

from __future__ import annotations

import re

__all__ = ["code_message", "normalise_code", "MALFORMED", "NEEDS_PROOF"]

MALFORMED = "A code is 6 digits, like 123456. Type the code your authenticator shows."
WRONG = ("That code is not right. Check that you are reading the account for this site and "
         "type it again.")
REPLAYED = ("That code was already used. Wait until your authenticator shows a new code, "
            "then type the new one.")
THROTTLED = ("Too many wrong codes in a row. Wait half a minute, then type the newest code "
             "your authenticator shows.")
LOCKED = ("2-step verification of this account is locked after too many wrong codes. "
          "Contact support to unlock it.")
EXPIRED = "This set-up has expired. Start again to get a new QR code."
NO_PENDING = "There is no set-up in progress. Start again from Password and Security."
UNAVAILABLE = "We could not check the code just now. Please try again in a moment."

#: The service's reason when replacing an authenticator needs a fresh re-authentication.
NEEDS_PROOF = "replacing the active credential needs its current code or re-authentication"

_BY_REASON = {
    "malformed code": MALFORMED,
    "invalid code": WRONG,
    "replayed code": REPLAYED,
    "throttled": THROTTLED,
    "credential locked": LOCKED,
    "enrollment expired": EXPIRED,
    "no pending enrollment": NO_PENDING,
    "the current credential's code was not accepted": WRONG,
    "store unavailable": UNAVAILABLE,
}

_SEPARATORS = re.compile(r"[\s\-]+")


def code_message(reason: str) -> str:
    """The sentence for a refused code whose service reason is ``reason``."""
    return _BY_REASON.get(reason, WRONG)


def normalise_code(text: str) -> str | None:
    """The code typed, without spaces or dashes, or None when it cannot be a code."""
    code = _SEPARATORS.sub("", text)
    if not 6 <= len(code) <= 8 or not code.isascii() or not code.isdigit():
        return None
    return code
