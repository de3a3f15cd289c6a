"""The naive verification service the load benchmark compares with: the same stack (Starlette
on uvicorn, SQLite in WAL mode with ``synchronous=FULL``, the pyotp-hw service's durability), but
pyotp per request and one transaction per request, as a site would write it by hand.

Each ``POST /v1/verify`` ``{"user", "code"}``: BEGIN IMMEDIATE; read the user's secret and last
used step; pyotp computes the codes of the +-1 step window; the matched step is consumed only
above the stored one (replay-safe, like the real service); COMMIT. The seeds are stored in the
clear (no sealing), which only favours it.

    python bench/naive_service.py --db PATH --listen 127.0.0.1:8500
"""

from __future__ import annotations

import argparse
import hmac
import json
import sqlite3
import threading
import time

import pyotp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

_local = threading.local()
DB = ""


def _conn() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DB, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        _local.conn = conn
    return conn


def create(path: str, users: list[tuple[str, str]]) -> None:
    """A naive store at ``path`` holding ``(user, base32 secret)`` pairs."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS naive_users (user_id TEXT PRIMARY KEY, "
                 "secret TEXT NOT NULL, last_step INTEGER)")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO naive_users (user_id, secret) VALUES (?, ?)", users)
    conn.execute("COMMIT")
    conn.close()


def verify(user: str, code: str) -> bool:
    """One request's work: one transaction, pyotp for the window."""
    conn = _conn()
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT secret, last_step FROM naive_users WHERE user_id = ?",
                           [user]).fetchone()
        if row is None:
            conn.execute("COMMIT")
            return False
        totp = pyotp.TOTP(row[0])
        now = time.time()
        step = int(now // 30)
        matched = None
        for offset in (-1, 0, 1):
            if hmac.compare_digest(totp.generate_otp(step + offset), code):
                matched = step + offset
        ok = matched is not None and (row[1] is None or matched > row[1])
        if ok:
            conn.execute("UPDATE naive_users SET last_step = ? WHERE user_id = ?",
                         [matched, user])
        conn.execute("COMMIT")
        return ok
    except BaseException:
        conn.execute("ROLLBACK")
        raise


async def verify_endpoint(request: Request) -> JSONResponse:
    """``POST /v1/verify``."""
    from starlette.concurrency import run_in_threadpool

    data = json.loads(await request.body())
    ok = await run_in_threadpool(verify, data["user"], data["code"])
    return JSONResponse({"ok": ok, "reason": "ok" if ok else "rejected"})


app = Starlette(routes=[Route("/v1/verify", verify_endpoint, methods=["POST"])])


def main() -> None:
    global DB
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--db", required=True)
    p.add_argument("--listen", default="127.0.0.1:8500")
    args = p.parse_args()
    DB = args.db
    host, _, port = args.listen.rpartition(":")
    import uvicorn

    uvicorn.run(app, host=host, port=int(port), access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
