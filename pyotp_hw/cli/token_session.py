"""What the token commands do around the library: choosing the reader, asking for the password,
telling the user to touch the token, and finding an account from part of its name.

The library names credentials exactly and never prompts; these are the command line's. The
search and the order follow ykman's: a full id names its account, otherwise every account whose
id holds the query matches, and listings are sorted by issuer, then name, in any letter case.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ._common import CLIError, print_warning

if TYPE_CHECKING:
    from ..token import Code, Credential, OathSession, RememberedKeys

__all__ = [
    "PASSWORD_ENV",
    "TOUCH_PROMPT_DELAY",
    "interactive",
    "given_password",
    "chosen",
    "open_session",
    "key_store",
    "remember_password",
    "HIDDEN_ISSUER",
    "sort_key",
    "ordered",
    "is_hidden",
    "search",
    "find_one",
    "touch_prompt",
    "calculate_with_prompt",
]

PASSWORD_ENV = "PYOTP_HW_TOKEN_PASSWORD"  # noqa: S105 - a variable name
#: How long a code may take before the user is told the token may be waiting for a touch.
TOUCH_PROMPT_DELAY = 0.4
_PASSWORD_TRIES = 3


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def interactive() -> bool:
    """Whether a person can answer prompts (standard input and error are terminals)."""
    return _interactive()


def given_password(args: argparse.Namespace) -> str | None:
    """The password from ``--password``, else from ``$PYOTP_HW_TOKEN_PASSWORD``, else None."""
    value = args.password if args.password is not None else os.environ.get(PASSWORD_ENV)
    return None if value is None else str(value)


# --- opening the token ------------------------------------------------------------------------


def chosen(args: argparse.Namespace, option: str) -> str | None:
    """The value of ``--reader`` or ``--device`` (``option``: "reader" or "device"), given
    before the subcommand (``token --reader X code``) or after it; both, they must agree."""
    before = getattr(args, f"{option}_before", None)
    after = getattr(args, option, None)
    if before is not None and after is not None and before != after:
        raise CLIError(f"--{option} is given twice, with two different values")
    return after if after is not None else before


def _pick_reader(wanted: str | None, device: str | None) -> str:
    from ..token import MultipleTokensFound, choose_reader

    try:
        return choose_reader(wanted, device_id=device)
    except MultipleTokensFound as exc:
        if not _interactive():
            raise
        print("Several tokens are connected:", file=sys.stderr)
        ids = exc.device_ids or [None] * len(exc.readers)
        for i, (name, device_id) in enumerate(zip(exc.readers, ids, strict=False), 1):
            print(f"  {i}. {name}" + (f" (device id {device_id})" if device_id else ""),
                  file=sys.stderr)
        answer = input(f"Use which one? [1-{len(exc.readers)}] ").strip()
        if not answer.isdigit() or not 1 <= int(answer) <= len(exc.readers):
            raise CLIError("no token chosen") from None
        return exc.readers[int(answer) - 1]


def open_session(args: argparse.Namespace, *, unlock: bool = True) -> OathSession:
    """Open the token ``--reader`` and ``--device`` name (asking which one when several are
    connected and a person is there) and, with ``unlock``, unlock it: with the password given,
    else asked for on the terminal (three tries)."""
    from ..token import open_token

    device = chosen(args, "device")
    session = open_token(_pick_reader(chosen(args, "reader"), device), device_id=device)
    try:
        if unlock and session.info.locked:
            _unlock(session, args)
        elif unlock and getattr(args, "remember", False) and not session.info.password_set:
            print("pyotp-hw: note: the token has no password: nothing to remember",
                  file=sys.stderr)
    except BaseException:
        session.close()
        raise
    return session


# --- passwords: given, remembered, asked for ----------------------------------------------------


def key_store() -> RememberedKeys:
    """The access keys remembered on this machine (``$XDG_CONFIG_HOME/pyotp-hw``)."""
    from ..token import RememberedKeys

    return RememberedKeys()


def remember_password(session: OathSession, password: str) -> None:
    """Remember the access key ``password`` gives on this token (never the password itself)."""
    keys = key_store()
    device_id = session.info.device_id
    keys.put(device_id, session.access_key(password))
    print(f"pyotp-hw: password remembered for the token {device_id} (in {keys.path})",
          file=sys.stderr)


def _remembered_unlocks(session: OathSession) -> bool:
    """Unlock with the key remembered for this token, if there is one that still works."""
    from ..token import WrongPassword

    keys = key_store()
    device_id = session.info.device_id
    key = keys.get(device_id)
    if key is None:
        return False
    try:
        session.unlock_with_key(key)
    except WrongPassword:  # the password changed elsewhere: that key is no use any more
        keys.forget(device_id)
        print_warning("the password remembered for this token no longer unlocks it "
                      "(changed elsewhere?): it is forgotten")
        return False
    return True


def _unlock_with(session: OathSession, password: str, remember: bool) -> None:
    session.unlock(password)
    if remember:
        remember_password(session, password)


def _unlock(session: OathSession, args: argparse.Namespace) -> None:
    """The password given, else the remembered key, else (at a terminal) a prompt."""
    from ..token import WrongPassword

    given = given_password(args)
    remember = bool(getattr(args, "remember", False))
    uses_pin = session.info.uses_pin
    if remember and uses_pin:
        raise CLIError("this token takes its PIN itself, which is not remembered: leave out "
                       "--remember")
    if given is not None:
        _unlock_with(session, given, remember)
        return
    if not uses_pin and _remembered_unlocks(session):
        return
    if not _interactive():
        raise CLIError(
            f"the token is locked: give its password with --password or ${PASSWORD_ENV} "
            "(add --remember to keep it on this machine)"
        )
    word = "PIN" if uses_pin else "password"
    for attempt in range(_PASSWORD_TRIES):
        try:
            _unlock_with(session, getpass.getpass(f"Token {word}: "), remember)
            return
        except WrongPassword as exc:
            if attempt == _PASSWORD_TRIES - 1:
                raise
            print(f"pyotp-hw: {exc}", file=sys.stderr)


# --- names ------------------------------------------------------------------------------------

#: The issuer that hides an account from listings (Yubico Authenticator's and ykman's rule).
HIDDEN_ISSUER = "_hidden"


def sort_key(credential: Credential) -> tuple[str, str]:
    """ykman's order: by issuer (or the name, for an account without one), then by name, both
    in any letter case. Ties keep the token's order (the sort is stable)."""
    return ((credential.issuer or credential.name).lower(), credential.name.lower())


def ordered(credentials: Iterable[Credential]) -> list[Credential]:
    """The credentials in ykman's order (see :func:`sort_key`)."""
    return sorted(credentials, key=sort_key)


def is_hidden(credential: Credential) -> bool:
    """Whether the account is one that listings leave out (issuer ``_hidden``)."""
    return credential.issuer == HIDDEN_ISSUER


def search(credentials: Iterable[Credential], query: str, *, show_hidden: bool = False
           ) -> list[Credential]:
    """The accounts ``query`` matches, as ``ykman oath accounts code QUERY`` finds them.

    An account whose full id (``[period/][issuer:]name``) is ``query`` is the only match;
    otherwise every account whose id contains ``query``, in any letter case, matches (an empty
    query matches all). Hidden accounts are left out unless ``show_hidden``. Token order.
    """
    lowered = query.lower()
    hits = []
    for credential in credentials:
        if not show_hidden and is_hidden(credential):
            continue
        if credential.id == query:
            return [credential]
        if lowered in credential.id.lower():
            hits.append(credential)
    return hits


def _exact_rules(query: str) -> list[Callable[[Credential], bool]]:
    lowered = query.lower()
    return [
        lambda c: c.id == query,
        lambda c: c.label == query,
        lambda c: c.name == query,
        lambda c: c.label.lower() == lowered,
    ]


def find_one(session: OathSession, query: str) -> Credential:
    """The one account ``query`` names, for a command about to change it.

    No parts of names here: the first rule that matches anything decides, the full id, then
    ``issuer:name``, then the account name alone, then ``issuer:name`` in any letter case; a
    rule that matches several accounts is refused.
    """
    from ..token import AmbiguousCredential, NoSuchCredential

    creds = session.list()
    for rule in _exact_rules(query):
        matches = [c for c in creds if rule(c)]
        if len(matches) > 1:
            raise AmbiguousCredential(query, [c.id for c in matches])
        if matches:
            return matches[0]
    raise NoSuchCredential(f"no such account on the token: {query!r}")


# --- touch ------------------------------------------------------------------------------------


def touch_prompt(credential: Credential) -> None:
    """Tell the user, on standard error, to touch the token."""
    print(f"Touch the token to compute the code for {credential.label!r}...", file=sys.stderr,
          flush=True)


def calculate_with_prompt(
    session: OathSession,
    credential: Credential,
    for_time: int,
    *,
    prompt: Callable[[Credential], None] = touch_prompt,
    delay: float = TOUCH_PROMPT_DELAY,
) -> Code:
    """Compute one code, prompting for a touch: at once when the credential is known to need
    one, after ``delay`` seconds without an answer when that is not known (LIST does not say),
    never when it is known not to."""
    if credential.touch is False:
        return session.calculate(credential, for_time)
    if credential.touch:
        prompt(credential)
        return session.calculate(credential, for_time)
    timer = threading.Timer(delay, prompt, args=(credential,))
    timer.daemon = True
    timer.start()
    try:
        return session.calculate(credential, for_time)
    finally:
        timer.cancel()
