"""The service's endpoints (see the README's "Verification service" section for the API).

``POST /v1/verify``, the hot path, is answered before routing (:mod:`.fastpath`). Every
handler reads its body under the size limit, checks it field by field
(:mod:`.validation`), and calls the verifier facade in a worker thread, never on the event loop.
Codes, URIs and keys never reach a log line.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Mapping

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import InvalidArgument, InvalidType, OTPError
from ..verifier import (
    AlreadyEnrolled,
    CredentialInfo,
    Enrollment,
    NotEnrolled,
    ReauthenticationRequired,
    Result,
    StoreError,
    Verifier,
)
from .batcher import DeadlineExceeded, Overloaded
from .state import Service
from .validation import BadRequest, Fields, check_user_field, parse_form, parse_json

__all__ = ["routes", "exception_handlers"]

Handler = Callable[[Request], Awaitable[Response]]
"""An endpoint function."""


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 past ``limit`` bytes (before reading it when it says so)."""
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise BadRequest("Content-Length is not a number")
        if int(length) > limit:
            raise BadRequest(f"the body is larger than {limit} bytes", status=413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequest(f"the body is larger than {limit} bytes", status=413)
        chunks.append(chunk)
    return b"".join(chunks)


def _result(result: Result) -> dict[str, bool | str]:
    return {"ok": result.ok, "reason": str(result.reason)}


def _info(info: CredentialInfo | None) -> dict[str, object] | None:
    return None if info is None else dataclasses.asdict(info)


class Handlers:
    """The endpoint functions of one :class:`Service`."""

    def __init__(self, service: Service) -> None:
        self.s = service

    @property
    def _v(self) -> Verifier:
        assert self.s.verifier is not None
        return self.s.verifier

    async def _json(self, request: Request, *, empty_ok: bool = False) -> Fields:
        body = await read_body(request, self.s.config.max_body)
        if empty_ok and not body.strip():
            return Fields({})
        return Fields(parse_json(body))

    def _path_user(self, request: Request) -> str:
        return check_user_field(request.path_params["user"], "user")

    async def _verify_one(self, user: str, code: str) -> Result:
        assert self.s.coalescer is not None
        result = await self.s.coalescer.verify(user, code, self.s.config.deadline)
        self.s.metrics.outcome(result.ok, str(result.reason))
        return result

    # ------------------------------------------------------------------ verification

    async def verify_batch(self, request: Request) -> Response:
        """``POST /v1/verify/batch`` ``{"items": [...]}`` -> ``{"results": [...]}``."""
        f = await self._json(request)
        items = f.get("items", list)
        f.done()
        if len(items) > self.s.config.max_batch_items:
            raise BadRequest(f"items: more than {self.s.config.max_batch_items}", "items")
        pairs = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise BadRequest(f"items[{i}]: must be an object", f"items[{i}]")
            g = Fields(item, f"items[{i}]")
            pairs.append((g.user(), g.code()))
            g.done()
        results = await run_in_threadpool(self._v.verify_many, pairs)
        for r in results:
            self.s.metrics.outcome(r.ok, str(r.reason))
        return JSONResponse({"results": [_result(r) for r in results]})

    async def validate_check(self, request: Request) -> Response:
        """``POST /validate/check`` as privacyIDEA answers it (form or JSON ``user``, ``pass``)."""
        try:
            body = await read_body(request, self.s.config.max_body)
            ctype = request.headers.get("content-type", "")
            data = parse_json(body) if ctype.startswith("application/json") else parse_form(body)
            f = Fields(data)
            user, code = f.user(), f.text("pass", limit=64)
            f.text("realm", required=False)
            f.done()
        except BadRequest as exc:
            return JSONResponse(_pi_error(905, str(exc)), status_code=exc.status)
        result = await self._verify_one(user, code)
        detail = {"message": "matching 1 tokens" if result.ok else "wrong otp value",
                  "threadid": 0}
        if not result.ok:
            detail["reason"] = str(result.reason)
        return JSONResponse(_pi_body({"status": True, "value": result.ok,
                                      "authentication": "ACCEPT" if result.ok else "REJECT"},
                                     detail))

    # ------------------------------------------------------------------ enrollment

    async def enroll(self, request: Request) -> Response:
        """``POST /v1/enrollments`` ``{"user", "issuer", "name", "email"}`` -> 201."""
        f = await self._json(request)
        user, issuer, name = f.user(), f.text("issuer"), f.text("name")
        email = f.text("email", limit=254)
        f.done()

        def begin() -> Enrollment:
            try:
                self.s.store.set_contact(user, email)
            except InvalidArgument as exc:
                raise BadRequest(f"email: {exc}", "email") from None
            try:
                return self._v.begin_enrollment(user, issuer=issuer, name=name)
            except (InvalidArgument, InvalidType) as exc:
                raise BadRequest(str(exc)) from None

        enrollment = await run_in_threadpool(begin)
        return JSONResponse({"uri": enrollment.uri, "expires_at": enrollment.expires_at},
                            status_code=201, headers={"cache-control": "no-store"})

    async def qr(self, request: Request) -> Response:
        """``GET /v1/enrollments/{user}/qr.svg`` or ``qr.png``: the pending enrollment's QR."""
        user = self._path_user(request)
        fmt = request.path_params["fmt"]
        if fmt not in ("svg", "png"):
            raise BadRequest("the QR code comes as qr.svg or qr.png", status=404)
        enrollment = await run_in_threadpool(self._v.pending_enrollment, user)
        if enrollment is None:
            raise BadRequest("no pending enrollment", status=404)
        from .. import qr

        if fmt == "svg":
            data, media = await run_in_threadpool(qr.svg_bytes, enrollment.uri), "image/svg+xml"
        else:
            data, media = await run_in_threadpool(qr.png_bytes, enrollment.uri), "image/png"
        return Response(data, media_type=media, headers={"cache-control": "no-store"})

    async def confirm(self, request: Request) -> Response:
        """``POST /v1/enrollments/{user}/confirm`` ``{"code"}`` -> ``{"ok", "reason"}``."""
        user = self._path_user(request)
        f = await self._json(request)
        code = f.code()
        current = f.text("current_code", required=False, limit=64)
        reauth = f.get("reauthenticated", bool, required=False, default=False)
        f.done()
        result = await run_in_threadpool(
            lambda: self._v.confirm_enrollment(user, code, current_code=current,
                                               reauthenticated=reauth))
        return JSONResponse(_result(result))

    # ------------------------------------------------------------------ users

    async def user(self, request: Request) -> Response:
        """``GET /v1/users/{user}``: the user's credentials (no secret) and contact."""
        user = self._path_user(request)

        def read() -> dict[str, object]:
            return {"user": user, "active": _info(self._v.credential(user)),
                    "pending": _info(self._v.credential(user, "pending")),
                    "email": self.s.store.contact(user)}

        return JSONResponse(await run_in_threadpool(read))

    async def disable(self, request: Request) -> Response:
        """``POST /v1/users/{user}/disable`` -> ``{"disabled": bool}``."""
        user = self._path_user(request)
        (await self._json(request, empty_ok=True)).done()
        return JSONResponse({"disabled": await run_in_threadpool(self._v.disable, user)})

    async def resync(self, request: Request) -> Response:
        """``POST /v1/users/{user}/resync`` ``{"codes": [c1, c2]}`` -> ``{"ok", "reason"}``."""
        user = self._path_user(request)
        f = await self._json(request)
        codes = f.get("codes", list)
        f.done()
        if len(codes) != 2:
            raise BadRequest("codes: must hold two consecutive codes", "codes")
        for i, c in enumerate(codes):
            if not isinstance(c, str) or len(c) > 64:
                raise BadRequest(f"codes[{i}]: must be a string of at most 64 characters",
                                 f"codes[{i}]")
        result = await run_in_threadpool(self._v.resync, user, codes[0], codes[1])
        return JSONResponse(_result(result))

    async def unlock(self, request: Request) -> Response:
        """``POST /v1/users/{user}/unlock`` -> ``{"unlocked": true}`` (404 without one)."""
        user = self._path_user(request)
        (await self._json(request, empty_ok=True)).done()
        await run_in_threadpool(self._v.unlock, user)
        return JSONResponse({"unlocked": True})

    async def events(self, request: Request) -> Response:
        """``GET /v1/events?after=ID&limit=N``: the change feed, oldest first."""
        q = request.query_params
        unknown = sorted(set(q) - {"after", "limit"})
        if unknown:
            raise BadRequest(f"{unknown[0]}: unknown parameter", unknown[0])
        after = _int_param(q, "after", 0, 0, 1 << 62)
        limit = _int_param(q, "limit", 1000, 1, 10_000)
        events = await run_in_threadpool(lambda: self._v.events(after=after, limit=limit))
        out = [{"id": e.id, "user": e.user, "kind": str(e.kind), "at": e.at, "detail": e.detail}
               for e in events]
        return JSONResponse({"events": out, "last": out[-1]["id"] if out else after})

    # ------------------------------------------------------------------ operations

    async def healthz(self, request: Request) -> Response:
        """``GET /healthz``: open, answers while the process serves."""
        depth = 0 if self.s.coalescer is None else self.s.coalescer.depth
        return JSONResponse({"status": "ok", "queue": depth})

    async def metrics(self, request: Request) -> Response:
        """``GET /metrics``: Prometheus text format."""
        return Response(self.s.metrics.render(),
                        media_type="text/plain; version=0.0.4; charset=utf-8")


def _int_param(q: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = q.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadRequest(f"{name}: must be an integer from {low} to {high}", name)
    return int(raw)


def _pi_body(result: Mapping[str, object], detail: Mapping[str, object] | None = None
             ) -> dict[str, object]:
    """privacyIDEA's response envelope."""
    out: dict[str, object] = {"id": 1, "jsonrpc": "2.0", "result": result, "time": time.time(),
                           "version": "pyotp-hw (privacyIDEA compatible)"}
    if detail is not None:
        out["detail"] = detail
    return out


def _pi_error(code: int, message: str) -> dict[str, object]:
    return _pi_body({"status": False, "error": {"code": code, "message": message}})


def routes(service: Service) -> list[Route]:
    """The routes of ``service``."""
    h = Handlers(service)
    return [
        Route("/v1/verify/batch", h.verify_batch, methods=["POST"]),
        Route("/validate/check", h.validate_check, methods=["POST"]),
        Route("/v1/enrollments", h.enroll, methods=["POST"]),
        Route("/v1/enrollments/{user}/qr.{fmt}", h.qr, methods=["GET"]),
        Route("/v1/enrollments/{user}/confirm", h.confirm, methods=["POST"]),
        Route("/v1/users/{user}", h.user, methods=["GET"]),
        Route("/v1/users/{user}/disable", h.disable, methods=["POST"]),
        Route("/v1/users/{user}/resync", h.resync, methods=["POST"]),
        Route("/v1/users/{user}/unlock", h.unlock, methods=["POST"]),
        Route("/v1/events", h.events, methods=["GET"]),
        Route("/healthz", h.healthz, methods=["GET"]),
        Route("/metrics", h.metrics, methods=["GET"]),
    ]


def _error(status: int, message: str, headers: dict[str, str] | None = None,
           field: str | None = None) -> JSONResponse:
    body = {"error": message}
    if field is not None:
        body["field"] = field
    return JSONResponse(body, status_code=status, headers=headers)


async def _bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadRequest)
    return _error(exc.status, str(exc), field=exc.field)


async def _overloaded(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Overloaded)
    return _error(503, "overloaded, retry later", {"retry-after": str(exc.retry_after)})


async def _deadline(request: Request, exc: Exception) -> Response:
    return _error(503, "the verification did not finish in time", {"retry-after": "1"})


async def _otp_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, NotEnrolled):
        return _error(404, str(exc))
    if isinstance(exc, AlreadyEnrolled):
        return _error(409, str(exc))
    if isinstance(exc, ReauthenticationRequired):
        return _error(403, str(exc))
    if isinstance(exc, StoreError):
        return _error(503, "the store is unavailable", {"retry-after": "1"})
    return _error(400, str(exc))


def exception_handlers(
) -> dict[type[Exception], Callable[[Request, Exception], Awaitable[Response]]]:
    """How the service's exceptions become answers."""
    return {BadRequest: _bad_request, Overloaded: _overloaded, DeadlineExceeded: _deadline,
            OTPError: _otp_error, asyncio.TimeoutError: _deadline}
