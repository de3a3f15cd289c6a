"""Load benchmark of the verification service against a naive one, with wrk on loopback.

Both services run on the same stack (Starlette on uvicorn, one process, SQLite in WAL mode with
``synchronous=FULL``) and the same machine, both up, measured one at a time. Every request
carries a valid code of a user not seen before in the run (so the key cache starts cold for each
user and no answer is a cheap replay, unless wrk wraps around its list, which the table
reports). For concurrency 1, 64 and 256 each gets ``--duration`` seconds of wrk; the table gives
requests per second, p50 and p99 latency, the server's CPU time per request (what throughput
means on a machine shared with other work) and the share of accepted answers; each point is run
``--reps`` times, alternating which service goes first, and the best run of each is tabled.

A third server, the stack's floor (``bench/floor_service.py``: uvicorn answering a fixed
acceptance without verifying), is measured the same way unless ``--no-floor``: the naive
service's CPU per request over the floor's is the most any service on this stack can gain.

    python bench/service_load.py [--duration 5] [--json out.json]

Needs wrk (Debian: ``apt-get install wrk``), pyotp, and the ``service`` extra.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests import oracle  # noqa: E402 - the independent code oracle (hmac)

CONCURRENCY = (1, 64, 256)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(port: int, proc: subprocess.Popen[bytes]) -> None:
    end = time.monotonic() + 60
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit("the service exited at start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the service did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def bodies(path: Path, users: list[tuple[str, bytes]]) -> None:
    now = int(time.time())
    with open(path, "w") as f:
        for user, secret in users:
            f.write(json.dumps({"user": user, "code": oracle.totp(secret, now)}) + "\n")


def wrk(url: str, conc: int, duration: int, body_file: Path, key: str) -> dict[str, Any]:
    threads = 1 if conc == 1 else 2
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(conc), "-d", f"{duration}s", "--timeout", "10s",
         "-s", str(HERE / "wrk_verify.lua"), url, "--", str(body_file), str(threads), key],
        capture_output=True, text=True, timeout=duration + 60, check=True)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1]
    r: dict[str, Any] = json.loads(line)
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    return r


def batch_totals(port: int, key: str) -> tuple[float, float]:
    """(codes, batches) so far, from the service's /metrics."""
    from pyotp_hw.service import Client

    text = Client(f"http://127.0.0.1:{port}", key).request("GET", "/metrics")[2].decode()
    values = {}
    for line in text.splitlines():
        if line.startswith(("pyotp_hw_batch_size_sum", "pyotp_hw_batch_size_count")):
            values[line.split("{")[0]] = float(line.rsplit(" ", 1)[1])
    return values["pyotp_hw_batch_size_sum"], values["pyotp_hw_batch_size_count"]


def start(name: str, tmp: Path, url: str, extra: list[str]) -> tuple[subprocess.Popen[bytes],
                                                                     int]:
    port = free_port()
    if name == "service":
        cmd = [sys.executable, "-m", "pyotp_hw", "serve", "--db", url, "--key-file",
               str(tmp / "data.key"), "--listen", f"127.0.0.1:{port}", *extra]
    elif name == "floor":
        cmd = [sys.executable, str(HERE / "floor_service.py"), "--listen", f"127.0.0.1:{port}"]
    else:
        cmd = [sys.executable, str(HERE / "naive_service.py"), "--db", str(tmp / "naive.db"),
               "--listen", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_http(port, proc)
    return proc, port


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process, all its threads together."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(name: str, proc: subprocess.Popen[bytes], port: int, c: int, duration: int,
            body_file: Path, key: str) -> dict[str, Any]:
    before = batch_totals(port, key) if name == "service" else (0.0, 0.0)
    cpu = cpu_seconds(proc.pid)
    r = wrk(f"http://127.0.0.1:{port}", c, duration, body_file, key)
    r["cpu_us_per_request"] = (cpu_seconds(proc.pid) - cpu) * 1e6 / max(1, r["requests"])
    if name == "service":
        after = batch_totals(port, key)
        r["mean_batch"] = (after[0] - before[0]) / max(1.0, after[1] - before[1])
    print(f"{name:8} c={c:<4} {r['rps']:9.0f} req/s  p50 {r['p50_us'] / 1e3:7.2f} ms  p99 "
          f"{r['p99_us'] / 1e3:7.2f} ms  accepted {r['accepted']}/{r['answered']}  errors "
          f"{r['errors']}  mean batch {r.get('mean_batch', 1.0):.1f}  CPU "
          f"{r['cpu_us_per_request']:.0f} us/request", flush=True)
    return r


def table(results: dict[str, dict[int, dict[str, Any]]]) -> None:
    print("\n| concurrency | service req/s | naive req/s | ratio | service p50 / p99 ms "
          "| naive p50 / p99 ms | mean batch | CPU us/request service / naive |\n"
          "|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in CONCURRENCY:
        s, n = results["service"][c], results["naive"][c]
        print(f"| {c} | {s['rps']:,.0f} | {n['rps']:,.0f} | {s['rps'] / n['rps']:.1f}x | "
              f"{s['p50_us'] / 1e3:.2f} / {s['p99_us'] / 1e3:.2f} | "
              f"{n['p50_us'] / 1e3:.2f} / {n['p99_us'] / 1e3:.2f} | {s['mean_batch']:.1f} | "
              f"{s['cpu_us_per_request']:.0f} / {n['cpu_us_per_request']:.0f} |")
    if "floor" not in results:
        return
    print("\nThe stack's floor (uvicorn answering without verifying, bench/floor_service.py):\n\n"
          "| concurrency | floor req/s | floor p50 / p99 ms | CPU us/request floor / service "
          "| naive CPU / floor CPU |\n|---:|---:|---:|---:|---:|")
    for c in CONCURRENCY:
        f, s, n = results["floor"][c], results["service"][c], results["naive"][c]
        print(f"| {c} | {f['rps']:,.0f} | {f['p50_us'] / 1e3:.2f} / {f['p99_us'] / 1e3:.2f} | "
              f"{f['cpu_us_per_request']:.0f} / {s['cpu_us_per_request']:.0f} | "
              f"{n['cpu_us_per_request'] / f['cpu_us_per_request']:.1f}x |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--users", type=int, default=40_000, help="fresh users per run")
    ap.add_argument("--reps", type=int, default=2, help="runs per point, alternating order")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--service-args", default="", help="more `pyotp-hw serve` options")
    ap.add_argument("--no-floor", action="store_true",
                    help="leave out the stack's floor (bench/floor_service.py)")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found (Debian: apt-get install wrk)")
    import naive_service

    from pyotp_hw.service.apikeys import create_key
    from pyotp_hw.verifier import KeyFile, Verifier

    names: tuple[str, ...] = ("service", "naive") if args.no_floor else ("service", "naive",
                                                                          "floor")
    slots = [(c, rep) for c in CONCURRENCY for rep in range(args.reps)]
    tmp = Path(tempfile.mkdtemp(prefix="pyotp-hw-load-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        url = f"sqlite:///{tmp}/service.db"
        KeyFile.create(str(tmp / "data.key"))
        users = {(name, c, rep): [(f"{name}{c}_{rep}_{i}", os.urandom(20))
                                  for i in range(args.users)]
                 for name in names for c, rep in slots}
        with Verifier.open(url, key=KeyFile(str(tmp / "data.key"))) as v:
            for c, rep in slots:
                v.enroll_many(users[("service", c, rep)])
        key = create_key(url, "bench")
        naive_service.create(str(tmp / "naive.db"), [
            (u, base64.b32encode(s).decode()) for c, rep in slots
            for u, s in users[("naive", c, rep)]])
        ports, by_name = {}, {}
        for name in names:
            by_name[name], ports[name] = start(name, tmp, url, args.service_args.split())
            procs.append(by_name[name])
        time.sleep(1.0)
        # Both services are up (and idle but for the one measured); each point alternates
        # which goes first, so that a change in the machine's other load hits both alike.
        runs: dict[str, dict[int, list[dict[str, Any]]]] = {n: {c: [] for c in CONCURRENCY}
                                                            for n in names}
        for c, rep in slots:
            for name in (names if rep % 2 == 0 else names[::-1]):
                body_file = tmp / f"{name}{c}_{rep}.jsonl"
                bodies(body_file, users[(name, c, rep)])
                runs[name][c].append(one_run(name, by_name[name], ports[name], c,
                                             args.duration, body_file, key))
        best = {n: {c: max(runs[n][c], key=lambda r: r["rps"]) for c in CONCURRENCY}
                for n in names}
        table(best)
        if args.json:
            Path(args.json).write_text(json.dumps({"best": best, "runs": runs}, indent=1))
    finally:
        for proc in procs:
            stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
