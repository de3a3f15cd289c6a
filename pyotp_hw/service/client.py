"""A small client for sites: :class:`Client` speaks the service's JSON API over HTTP/1.1.

Standard library only (``http.client``), one kept-alive connection per thread::

    from pyotp_hw.service import Client

    svc = Client("http://127.0.0.1:8400", key=os.environ["OTP_SERVICE_KEY"])
    svc.verify("alice", code).ok
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Mapping
from typing import Literal
from urllib.parse import quote, urlsplit

from .._types import JSONObject, JSONValue
from ..errors import InvalidArgument, OTPError

__all__ = ["Client", "ServiceError", "Answer", "QrFormat"]

#: The images of a pending enrollment's QR code the service serves: ``qr.svg`` and ``qr.png``.
QrFormat = Literal["svg", "png"]


class ServiceError(OTPError, RuntimeError):
    """The service refused a request: ``status`` is the HTTP status, ``field`` the field it
    named (for 400), ``retry_after`` the seconds it asked to wait (429, 503)."""

    def __init__(self, status: int, message: str, field: str | None = None,
                 retry_after: int | None = None) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.field = field
        self.retry_after = retry_after


class Answer:
    """A verification answer: ``ok`` and ``reason`` (true exactly when ``ok`` is)."""

    __slots__ = ("ok", "reason")

    def __init__(self, ok: bool, reason: str) -> None:
        self.ok = ok
        self.reason = reason

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return f"Answer(ok={self.ok}, reason={self.reason!r})"


def _u(user: str) -> str:
    return quote(user, safe="")


class Client:
    """The service at ``url`` (``http://HOST:PORT``), authenticated with API ``key``."""

    def __init__(self, url: str, key: str | None, *, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidArgument("the service URL looks like http://HOST:PORT")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._key = key
        self._timeout = timeout
        self._local = threading.local()

    def __repr__(self) -> str:
        scheme = "https" if self._https else "http"
        return f"<Client {scheme}://{self._host}:{self._port}>"

    def _conn(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            conn = cls(self._host, self._port, timeout=self._timeout)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def request(self, method: str, path: str, body: bytes | None = None,
                content_type: str = "application/json") -> tuple[int, dict[str, str], bytes]:
        """One raw request: (status, headers in lower case, body); retried once on a
        connection the server had closed."""
        headers = {"content-type": content_type} if body is not None else {}
        if self._key is not None:
            headers["authorization"] = f"Bearer {self._key}"
        for attempt in (0, 1):
            conn = self._conn()
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt:
                    raise
                continue
            except BaseException:
                self.close()  # the connection's state is unknown: start afresh next time
                raise
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        raise AssertionError("unreachable")  # pragma: no cover

    def call(self, method: str, path: str, payload: Mapping[str, JSONValue] | None = None,
             expect: tuple[int, ...] = (200,)) -> JSONValue:
        """A JSON request; the decoded answer (None for an empty one), or :class:`ServiceError`."""
        body = None if payload is None else json.dumps(payload).encode()
        status, headers, data = self.request(method, path, body)
        if status not in expect:
            try:
                info = json.loads(data)
            except ValueError:
                info = {}
            if not isinstance(info, dict):
                info = {}
            retry = headers.get("retry-after")
            raise ServiceError(status, str(info.get("error", "request refused")),
                               info.get("field"),
                               int(retry) if retry and retry.isdigit() else None)
        return _decoded(status, data) if data else None

    def _object(self, method: str, path: str, payload: Mapping[str, JSONValue] | None = None,
                expect: tuple[int, ...] = (200,)) -> JSONObject:
        """:meth:`call` for a route that answers a JSON object (every route of the API does)."""
        return _object_of(self.call(method, path, payload, expect), "answer")

    # ------------------------------------------------------------------ the API

    def verify(self, user: str, code: str) -> Answer:
        """Verify (and consume) one code."""
        r = self._object("POST", "/v1/verify", {"user": user, "code": code})
        return _answer(r)

    def verify_batch(self, items: list[tuple[str, str]]) -> list[Answer]:
        """Verify many ``(user, code)`` pairs in one request; answers in order."""
        r = self._object("POST", "/v1/verify/batch",
                         {"items": [{"user": u, "code": c} for u, c in items]})
        return [_answer(x) for x in _list_of(r, "results")]

    def enroll(self, user: str, *, issuer: str, name: str, email: str) -> JSONObject:
        """Begin an enrollment: ``{"uri", "expires_at"}`` (the URI holds the secret)."""
        return self._object(
            "POST", "/v1/enrollments",
            {"user": user, "issuer": issuer, "name": name, "email": email}, expect=(201,))

    def qr(self, user: str, fmt: QrFormat = "svg") -> bytes:
        """The pending enrollment's QR code, ``svg`` or ``png``."""
        status, _, data = self.request("GET", f"/v1/enrollments/{_u(user)}/qr.{fmt}")
        if status != 200:
            raise ServiceError(status, "no QR code")
        return data

    def confirm(self, user: str, code: str, *, current_code: str | None = None,
                reauthenticated: bool = False) -> Answer:
        """Confirm the pending enrollment with a code from the new authenticator."""
        payload: JSONObject = {"code": code}
        if current_code is not None:
            payload["current_code"] = current_code
        if reauthenticated:
            payload["reauthenticated"] = True
        r = self._object("POST", f"/v1/enrollments/{_u(user)}/confirm", payload)
        return _answer(r)

    def user(self, user: str) -> JSONObject:
        """The user's state (credentials without secrets, contact)."""
        return self._object("GET", f"/v1/users/{_u(user)}")

    def disable(self, user: str) -> bool:
        """Turn the user's second factor off; False when there was none."""
        disabled = self._object("POST", f"/v1/users/{_u(user)}/disable", {}).get("disabled")
        if not isinstance(disabled, bool):
            raise ServiceError(200, "the service's answer lacks a boolean 'disabled'")
        return disabled

    def resync(self, user: str, code1: str, code2: str) -> Answer:
        """Resynchronise a drifted authenticator from two consecutive codes."""
        r = self._object("POST", f"/v1/users/{_u(user)}/resync", {"codes": [code1, code2]})
        return _answer(r)

    def unlock(self, user: str) -> None:
        """Clear the user's lockout."""
        self.call("POST", f"/v1/users/{_u(user)}/unlock", {})

    def events(self, after: int = 0, limit: int = 1000) -> list[JSONObject]:
        """The change feed after event id ``after``."""
        r = self._object("GET", f"/v1/events?after={int(after)}&limit={int(limit)}")
        return [_object_of(x, "event") for x in _list_of(r, "events")]

    def validate_check(self, user: str, password: str) -> JSONObject:
        """``/validate/check`` as a privacyIDEA client calls it (form encoded)."""
        from urllib.parse import urlencode

        status, _, data = self.request("POST", "/validate/check",
                                       urlencode({"user": user, "pass": password}).encode(),
                                       "application/x-www-form-urlencoded")
        out = _object_of(_decoded(status, data), "answer", status)
        if status != 200:
            result = out.get("result", {})
            error = result.get("error", {}) if isinstance(result, dict) else {}
            raise ServiceError(status, str(error))
        return out

    def healthz(self) -> bool:
        """True when the service answers its health check."""
        status, _, _ = self.request("GET", "/healthz")
        return status == 200


def _decoded(status: int, data: bytes) -> JSONValue:
    try:
        value: JSONValue = json.loads(data)
    except ValueError:  # not JSON, or not UTF-8
        raise ServiceError(status, "the service answered something that is not JSON; is the "
                           "URL that of a pyotp-hw service?") from None
    return value


def _object_of(value: JSONValue, what: str, status: int = 200) -> JSONObject:
    if not isinstance(value, dict):
        raise ServiceError(status, f"the service's {what} is not a JSON object")
    return value


def _list_of(answer: JSONObject, key: str) -> list[JSONValue]:
    value = answer.get(key)
    if not isinstance(value, list):
        raise ServiceError(200, f"the service's answer has no list {key!r}")
    return value


def _answer(value: JSONValue) -> Answer:
    """An :class:`Answer` from ``{"ok": bool, "reason": str}``, or :class:`ServiceError`."""
    fields = _object_of(value, "answer")
    ok, reason = fields.get("ok"), fields.get("reason")
    if not isinstance(ok, bool) or not isinstance(reason, str):
        raise ServiceError(200, "the service's answer lacks a boolean 'ok' and a text 'reason'")
    return Answer(ok, reason)
