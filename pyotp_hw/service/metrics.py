"""The service's counters, in the Prometheus text exposition format (version 0.0.4).

Per process: with ``--workers N`` each worker counts its own requests and labels its lines with
``worker="PID"``, so a scraper that sums over the label sees the whole service. Labels name
route templates (``/v1/users/{user}``), never a user, a code or a key.
"""

from __future__ import annotations

import bisect
import os
import threading
from collections.abc import Callable, Sequence

__all__ = ["Metrics", "Histogram"]

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                   5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Histogram:
    """Cumulative buckets, a sum and a count."""

    def __init__(self, buckets: Sequence[float]) -> None:
        self.bounds = tuple(buckets)
        self.counts = [0] * (len(self.bounds) + 1)
        self.total = 0.0
        self.n = 0

    def observe(self, value: float) -> None:
        """Count one observation."""
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.total += value
        self.n += 1

    def lines(self, name: str, labels: str) -> list[str]:
        """Exposition lines (``labels`` is the inner text of ``{...}``, may be empty)."""
        sep = "," if labels else ""
        out = []
        running = 0
        for bound, count in zip(self.bounds, self.counts, strict=False):
            running += count
            out.append(f'{name}_bucket{{{labels}{sep}le="{bound:g}"}} {running}')
        out.append(f'{name}_bucket{{{labels}{sep}le="+Inf"}} {self.n}')
        out.append(f"{name}_sum{{{labels}}} {self.total:.6f}")
        out.append(f"{name}_count{{{labels}}} {self.n}")
        return out


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """Requests, latency, batch sizes, verification outcomes, queue depth, notices."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = {}
        self.latency: dict[str, Histogram] = {}
        self.batches = Histogram(BATCH_BUCKETS)
        self.outcomes: dict[tuple[bool, str], int] = {}
        self.notices: dict[str, int] = {}
        self.queue_depth: Callable[[], int] = lambda: 0
        self.worker = str(os.getpid())

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        with self._lock:
            key = (method, route, status)
            self.requests[key] = self.requests.get(key, 0) + 1
            hist = self.latency.get(route)
            if hist is None:
                hist = self.latency[route] = Histogram(LATENCY_BUCKETS)
            hist.observe(seconds)

    def verified(self, seconds: float, ok: bool, reason: str) -> None:
        """Count one ``POST /v1/verify`` answered 200 and its verification answer."""
        with self._lock:
            key = ("POST", "/v1/verify", 200)
            self.requests[key] = self.requests.get(key, 0) + 1
            hist = self.latency.get("/v1/verify")
            if hist is None:
                hist = self.latency["/v1/verify"] = Histogram(LATENCY_BUCKETS)
            hist.observe(seconds)
            outcome = (ok, reason)
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def batch(self, size: int) -> None:
        """Count one coalesced batch."""
        with self._lock:
            self.batches.observe(size)

    def outcome(self, ok: bool, reason: str) -> None:
        """Count one verification answer."""
        with self._lock:
            key = (ok, reason)
            self.outcomes[key] = self.outcomes.get(key, 0) + 1

    def notice(self, outcome: str) -> None:
        """Count one notice delivery attempt (``sent`` or ``failed``)."""
        with self._lock:
            self.notices[outcome] = self.notices.get(outcome, 0) + 1

    def render(self) -> str:
        """The exposition text."""
        w = f'worker="{self.worker}"'
        out = ["# HELP pyotp_hw_requests_total HTTP requests answered.",
               "# TYPE pyotp_hw_requests_total counter"]
        with self._lock:
            for (method, route, status), n in sorted(self.requests.items()):
                out.append(f'pyotp_hw_requests_total{{{w},method="{method}",'
                           f'route="{_escape(route)}",status="{status}"}} {n}')
            out += ["# HELP pyotp_hw_request_seconds Time to answer a request.",
                    "# TYPE pyotp_hw_request_seconds histogram"]
            for route, hist in sorted(self.latency.items()):
                out += hist.lines("pyotp_hw_request_seconds", f'{w},route="{_escape(route)}"')
            out += ["# HELP pyotp_hw_batch_size Codes per coalesced verify_many call.",
                    "# TYPE pyotp_hw_batch_size histogram"]
            out += self.batches.lines("pyotp_hw_batch_size", w)
            out += ["# HELP pyotp_hw_verifications_total Verification answers by reason.",
                    "# TYPE pyotp_hw_verifications_total counter"]
            for (ok, reason), n in sorted(self.outcomes.items()):
                result = "accept" if ok else "reject"
                out.append(f'pyotp_hw_verifications_total{{{w},result="{result}",'
                           f'reason="{_escape(reason)}"}} {n}')
            out += ["# HELP pyotp_hw_notices_total Notice delivery attempts.",
                    "# TYPE pyotp_hw_notices_total counter"]
            for outcome, n in sorted(self.notices.items()):
                out.append(f'pyotp_hw_notices_total{{{w},outcome="{outcome}"}} {n}')
        out += ["# HELP pyotp_hw_queue_depth Codes waiting for a batch.",
                "# TYPE pyotp_hw_queue_depth gauge",
                f"pyotp_hw_queue_depth{{{w}}} {self.queue_depth()}"]
        return "\n".join(out) + "\n"
