"""The notices' words: a subject, a plain-text and an HTML body per kind, from templates.

Templates use :class:`string.Template` placeholders: ``$site``, ``$user``, ``$when`` (UTC),
``$what`` (one line saying what changed) and ``$detail``. A site replaces any of them with files
in its own directory (``--notice-templates DIR``): ``KIND.subject``, ``KIND.txt``,
``KIND.html``, where KIND is ``enabled``, ``replaced``, ``disabled``, ``locked`` or ``replay``.
Values are HTML-escaped in the HTML body. A notice never carries a secret or a code: only what
changed and when.
"""

from __future__ import annotations

import datetime as _dt
import html
import os
import string
from email.message import EmailMessage

from ..errors import InvalidArgument
from ..verifier.stores.service import Notice

__all__ = ["Templates", "KINDS"]

KINDS = ("enabled", "replaced", "disabled", "locked", "replay")

_WHAT = {
    "enabled": "2-step verification was turned on for your account",
    "replaced": "the authenticator of your account's 2-step verification was replaced",
    "disabled": "2-step verification was turned off for your account",
    "locked": "2-step verification of your account was locked after repeated wrong codes",
    "replay": "a code already used for your account was offered again",
}

_SUBJECT = "[$site] Your 2-step verification settings: $kind"

_TEXT = """Hello $user,

$what, at $when.

If this was you, there is nothing to do. If it was not, sign in and secure your account
at once, or contact $site's support.

$detail
"""

_HTML = """<!DOCTYPE html>
<html><body>
<p>Hello $user,</p>
<p><strong>$what</strong>, at $when.</p>
<p>If this was you, there is nothing to do. If it was not, sign in and secure your account at
once, or contact $site's support.</p>
<p><small>$detail</small></p>
</body></html>
"""


class Templates:
    """The subject and bodies of each kind of notice (built in, or from a directory)."""

    def __init__(self, site: str, directory: str | None = None) -> None:
        self.site = site
        self._parts: dict[tuple[str, str], string.Template] = {}
        for kind in KINDS:
            for part, default in (("subject", _SUBJECT), ("txt", _TEXT), ("html", _HTML)):
                text = default
                if directory is not None:
                    path = os.path.join(directory, f"{kind}.{part}")
                    if os.path.exists(path):
                        with open(path, encoding="utf-8") as f:
                            text = f.read()
                self._parts[(kind, part)] = string.Template(text)

    def message(self, notice: Notice, sender: str) -> EmailMessage:
        """The email for ``notice``: plain text with an HTML alternative."""
        if notice.kind not in KINDS:
            raise InvalidArgument("unknown kind of notice")
        when = _dt.datetime.fromtimestamp(notice.at, _dt.timezone.utc)
        values = {"site": self.site, "user": notice.user, "kind": notice.kind,
                  "when": f"{when:%Y-%m-%d %H:%M:%S} UTC", "what": _WHAT[notice.kind],
                  "detail": notice.detail}
        escaped = {k: html.escape(v) for k, v in values.items()}
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = notice.email
        subject = self._parts[(notice.kind, "subject")].safe_substitute(values)
        msg["Subject"] = " ".join(subject.split())
        msg["Message-ID"] = f"<notice-{notice.id}-{int(notice.at)}@pyotp-hw>"
        msg.set_content(self._parts[(notice.kind, "txt")].safe_substitute(values))
        msg.add_alternative(self._parts[(notice.kind, "html")].safe_substitute(escaped),
                            subtype="html")
        return msg
