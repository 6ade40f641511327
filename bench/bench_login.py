"""What a flood of logins costs everyone else (issue 17), measured against real gunicorn.

- GET / latency (p50, p95) from one probe client: idle; while 12 threads flood a plain page
  (GET /staff/login) as fast as they can; while 12 threads post /staff/login with random
  names and passwords (a valid CSRF token each) from one address; and from many addresses
  (PROXY_HOPS=1, a random X-Forwarded-For each: only the machine-wide hashing slots help).
- The audit rows written by 2,000 refused attempts for one name.
- The argon2 parameters and the time of one hash here.

Not a test (no timing asserts) and not in bench/run.py's default run: it takes the CPU for
about two minutes. Usage: python bench/bench_login.py [--seconds 15]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # a standalone script: run from a checkout without installing
sys.path.insert(0, str(ROOT / "tests"))

import requests
from argon2 import PasswordHasher
from helpers import csrf_token, make_user
from live import Server

from screening import create_app
from screening.staff import accounts
from screening.store.audit import flush_tallies
from screening.store.db import connect

FLOODERS = 12
PASSWORD = "bench provider password, long enough"


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def probe(base: str, seconds: float) -> list[float]:
    """GET / one after another (a new connection each, as the server closes them)."""
    times, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        start = time.perf_counter()
        response = requests.get(base + "/", timeout=60)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
    return times


def flood(base: str, stop: threading.Event, kind: str, counts: dict) -> None:
    """One attacker thread: a plain page, or login posts with random names."""
    http = requests.Session()
    token = csrf_token(http.get(base + "/staff/login", timeout=60).text)
    while not stop.is_set():
        if kind == "plain":
            response = http.get(base + "/staff/login", timeout=60)
        else:
            headers = (
                {"X-Forwarded-For": f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.9"}
                if kind == "login-many"
                else {}
            )
            response = http.post(
                base + "/staff/login",
                data={
                    "csrf_token": token,
                    "username": secrets.token_hex(6),
                    "password": secrets.token_hex(8),
                },
                headers=headers,
                allow_redirects=False,
                timeout=60,
            )
        counts[response.status_code] = counts.get(response.status_code, 0) + 1


def measure(base: str, kind: str | None, seconds: float) -> dict:
    stop, counts = threading.Event(), {}
    threads = [
        threading.Thread(target=flood, args=(base, stop, kind, counts))
        for _ in range(FLOODERS if kind else 0)
    ]
    for t in threads:
        t.start()
    time.sleep(2 if kind else 0)  # let the flood get going
    times = probe(base, seconds)
    stop.set()
    for t in threads:
        t.join(timeout=120)
    return {
        "p50": percentile(times, 50) * 1000,
        "p95": percentile(times, 95) * 1000,
        "probes": len(times),
        "flood": dict(sorted(counts.items())),
    }


def refused_rows(base: str, database: Path) -> tuple[int, int, int]:
    """Lock one name (5 wrong passwords), send 2,000 more attempts; the audit rows they
    wrote at once, and after the hourly round writes the counts."""
    http = requests.Session()
    token = csrf_token(http.get(base + "/staff/login", timeout=60).text)

    def audit_rows() -> int:
        conn = sqlite3.connect(database)
        try:
            return conn.execute("SELECT count(*) FROM audit").fetchone()[0]
        finally:
            conn.close()

    db = connect(database)
    try:
        flush_tallies(db, minutes=0)  # the floods' counts first, so that only these count
    finally:
        db.conn.close()
    before = audit_rows()
    statuses: dict[int, int] = {}
    for i in range(2005):
        response = http.post(
            base + "/staff/login",
            data={"csrf_token": token, "username": "dana", "password": f"wrong {i}"},
            headers={"X-Forwarded-For": "192.0.2.77"},
            allow_redirects=False,
            timeout=60,
        )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    assert statuses == {401: 5, 429: 2000}, statuses
    written = audit_rows() - before
    db = connect(database)
    try:
        flush_tallies(db, minutes=0)  # what the next hourly round writes
    finally:
        db.conn.close()
    return 2000, written, audit_rows() - before


def hash_time(hasher: PasswordHasher, rounds: int = 15) -> float:
    digest = hasher.hash(PASSWORD)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        hasher.verify(digest, PASSWORD)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15, help="probe time per phase")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-login-") as folder:
        workdir = Path(folder)
        database = workdir / "login.db"
        server = Server(
            workdir, database=database, workers=2, env={"SCREENING_PROXY_HOPS": "1"}
        ).start(timeout=60)
        try:
            app = create_app({"SECRET_KEY": "bench", "DATABASE": str(database)})
            make_user(app, "dana", "provider")
            results = {}
            for name, kind in (
                ("idle", None),
                ("12 threads flooding a plain page (GET /staff/login)", "plain"),
                ("12 threads posting /staff/login, random names, one address", "login-one"),
                ("12 threads posting /staff/login, random names, many addresses", "login-many"),
            ):
                results[name] = measure(server.url, kind, args.seconds)
                print(f"{name}: {results[name]}", flush=True)
            attempts, at_once, after_round = refused_rows(server.url, database)
        finally:
            server.stop()
    ours = accounts.hasher
    old = PasswordHasher()
    print()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")
    print("| GET / while ... | p50 | p95 | probes | flood replies by status |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['p50']:.0f} ms | {r['p95']:.0f} ms | {r['probes']} | {r['flood']} |")
    plain = results["12 threads flooding a plain page (GET /staff/login)"]
    for name, r in results.items():
        if "posting" in name:
            print(f"{name}: p50 {r['p50'] / plain['p50']:.2f}x the plain flood's (target <= 2x)")
    print(
        f"audit rows written by {attempts:,} refused attempts: {at_once} at once, "
        f"{after_round} after the hourly round writes the count (5 failures before them)"
    )
    print(
        f"argon2id m={ours.memory_cost} KiB, t={ours.time_cost}, p={ours.parallelism}: "
        f"{hash_time(ours):.0f} ms per hash here (argon2-cffi's default m={old.memory_cost}, "
        f"t={old.time_cost}, p={old.parallelism}: {hash_time(old, 5):.0f} ms)"
    )


if __name__ == "__main__":
    main()
