"""PostgreSQL URLs without their passwords, for reprs, output and error messages.

A libpq URL can carry a password in two places: the userinfo (``user:PASSWORD@host``) and the
query string (``?password=...``, and ``?sslpassword=...`` for the client key). Both are
replaced by ``***``. The URL is split the way libpq splits it (userinfo up to the first ``@``
before any ``/``), without :mod:`urllib.parse`, which raises on some malformed URLs that libpq
then reports, echoing the URL whole: :func:`scrub` removes the raw URL and every password value
(as written and percent-decoded) from such messages.
"""

from __future__ import annotations

from urllib.parse import unquote

__all__ = ["redact_url", "scrub"]

_SECRET_PARAMS = frozenset({"password", "sslpassword"})
_MASK = "***"


def _split(url: str, stops: str = "/") -> tuple[str, str | None, str, str]:
    """(scheme and ``://``, userinfo or None without ``@``, host and path, query) of a URL.

    The userinfo ends at the last ``@`` before the first of ``stops``: libpq's split for ``"/"``
    (but an unencoded ``@`` in a password stays inside it).
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "", None, url, ""
    head = scheme + sep
    end = len(rest)
    for stop in stops:
        at = rest.find(stop)
        if at != -1:
            end = min(end, at)
    at = rest.rfind("@", 0, end)
    userinfo: str | None = None
    if at != -1:
        userinfo, rest = rest[:at], rest[at + 1:]
    body, _, query = rest.partition("?")
    return head, userinfo, body, query


def _secret_values(url: str) -> list[str]:
    """Every password value of ``url``, read both ways a malformed URL may be split."""
    found: list[str] = []
    for stops in ("/", "/?"):
        _, userinfo, _, query = _split(url, stops)
        if userinfo is not None and ":" in userinfo:
            found.append(userinfo.partition(":")[2])
        for pair in query.split("&"):
            name, _, value = pair.partition("=")
            if unquote(name).strip().lower() in _SECRET_PARAMS:
                found.append(value)
    out: list[str] = []
    for value in found:
        for form in (value, unquote(value)):
            if form and form not in out:
                out.append(form)
    return sorted(out, key=len, reverse=True)  # longest first: a prefix must not go first


def redact_url(url: str) -> str:
    """``url`` with every password replaced by ``***``."""
    head, userinfo, body, query = _split(url)
    if not head:
        return url
    out = head
    if userinfo is not None:
        if ":" in userinfo:
            userinfo = userinfo.partition(":")[0] + ":" + _MASK
        out += userinfo + "@"
    pairs = []
    for pair in query.split("&") if query else []:
        name, eq, value = pair.partition("=")
        if unquote(name).strip().lower() in _SECRET_PARAMS:
            value = _MASK
        pairs.append(name + eq + value)
    out += body
    if pairs:
        out += "?" + "&".join(pairs)
    for secret in _secret_values(url):  # whatever the split missed (a malformed URL)
        out = out.replace(secret, _MASK)
    return out


def scrub(text: str, url: str) -> str:
    """``text`` (an error message) without ``url`` or any password it holds."""
    text = text.replace(url, redact_url(url))
    for secret in _secret_values(url):
        text = text.replace(secret, _MASK)
    return text
