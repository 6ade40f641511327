"""Run every benchmark, print one table (figure, same-run baseline, ratio, target, met) and
write build/bench.json.

Each figure is measured beside a baseline taken in the same run on the same machine (a bare
Flask app, plain Python, a plain WeasyPrint document, the small database), because other
work shares this machine and absolute figures alone would mostly measure that.

Usage: python bench/run.py [--quick] [--only NAME]   (`make bench`; about 10 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import json
import os
import platform
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BUILD = ROOT / "build"
sys.path.insert(0, str(ROOT))  # a standalone script: run from a checkout without installing
sys.path.insert(0, str(ROOT / "tests"))

import requests
from helpers import csrf_token, form_data, revision, valid_answers
from live import Server

from screening import questionnaire

PYTHON = sys.executable
FLASK = str(Path(sys.executable).with_name("flask"))
WRK = os.environ.get("WRK", "wrk")
SECRET_KEY = "bench-secret-key"
SESSIONS = 64  # prepared wizard clients the wrk scripts take turns as
CONNECTIONS, THREADS = 16, 2
WIZARD_ROUNDS, WIZARD_SECONDS = 5, 3  # interleaved wrk rounds, seconds each
DRAFTS = 150  # filled drafts for the submit benchmark
POOL = 4  # client threads for the submit benchmark
QUEUE_REQUESTS = 50
COMMON_NAME = "ana"  # one of the demo's first names
PROVIDER_PASSWORD = "bench provider password, long enough"


# -- helpers ---------------------------------------------------------------------------------


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def row(
    name: str,
    figure: float,
    unit: str,
    baseline: float | None,
    baseline_name: str,
    target: str,
    met: bool,
    ratio: float | None = None,
    note: str = "",
) -> dict:
    """One line of the table."""
    if ratio is None and baseline:
        ratio = figure / baseline
    return {
        "figure": name,
        "value": figure,
        "unit": unit,
        "baseline": baseline,
        "baseline_name": baseline_name,
        "ratio": None if ratio is None else round(ratio, 3),
        "target": target,
        "met": bool(met),
        "note": note,
    }


def app_env(database: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCREENING_", "FLASK_"))}
    env.update(
        {
            "SCREENING_DATABASE": str(database),
            "SCREENING_SECRET_KEY": SECRET_KEY,
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def flask_cli(
    database: Path, *args: str, stdin: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """`flask --app screening ...` on this database, in its own process group."""
    return subprocess.run(
        [FLASK, "--app", "screening", *args],
        env=app_env(database),
        cwd=database.parent,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
        start_new_session=True,
    )


@contextlib.contextmanager
def serving(workdir: Path, **kwargs):
    """A gunicorn with 2 workers on a free 127.0.0.1 port, stopped whatever happens."""
    server = Server(workdir, workers=2, **kwargs)
    try:
        server.start(timeout=60)
        yield server
    finally:
        server.stop()


def bare_server(workdir: Path):
    return serving(workdir, app="bare_app:app", env={"PYTHONPATH": str(BENCH)}, name="bare")


# -- 1. wizard pages under wrk ----------------------------------------------------------------


def prepare_client(base: str, qn: questionnaire.Questionnaire) -> dict:
    """A real client: start a draft, open its first step; keep the cookie and CSRF token."""
    http = requests.Session()
    start = http.get(base + "/", timeout=10)
    response = http.post(
        base + "/start",
        data={"csrf_token": csrf_token(start.text)},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.status_code
    section = next(s for s in qn.steps if s.id == "about")
    answers = form_data(section.step_questions, valid_answers())
    # Save the step once: a form carries the revision of the answers it shows, and posting
    # the same answers again keeps it, so every benchmarked post is a real save.
    page = http.get(base + "/step/about", timeout=10)
    first = {**answers, "csrf_token": csrf_token(page.text), "rev": revision(page.text)}
    saved = http.post(base + "/step/about", data=first, allow_redirects=False, timeout=10)
    location = saved.headers.get("Location", "")
    assert saved.status_code == 302 and location.endswith("/step/skin"), location
    page = http.get(base + "/step/about", timeout=10)
    assert page.status_code == 200, page.status_code
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    body = {
        **answers,
        "csrf_token": csrf_token(page.text),
        "rev": revision(page.text),
        "nav": "next",
    }
    return {"cookie": cookie, "body": urlencode(body, doseq=True), "http": http}


def run_wrk(
    url: str,
    method: str,
    path: str,
    status: int,
    sessions: list[dict],
    name: str,
    duration: int = 5,
    warmup: int = 1,
) -> dict:
    """wrk with a generated script, so every request is one of the prepared clients."""
    wrk_dir = BUILD / "wrk"
    wrk_dir.mkdir(parents=True, exist_ok=True)
    data = wrk_dir / f"{name}.tsv"
    data.write_text("".join(f"{s['cookie']}\t{s['body']}\n" for s in sessions))
    template = (BENCH / "wrk" / "sessions.lua").read_text()
    script = wrk_dir / f"{name}.lua"
    script.write_text(
        template.replace("@METHOD@", method)
        .replace("@PATH@", path)
        .replace("@DATA@", str(data))
        .replace("@STATUS@", str(status))
    )
    results = {}
    for label, seconds in (("warmup", warmup), ("run", duration)):
        command = [
            WRK,
            f"-t{THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "5s",
            "-s",
            str(script),
            url,
        ]
        out = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
            start_new_session=True,
        ).stdout
        match = re.search(r"^BENCH_JSON (.*)$", out, re.MULTILINE)
        if not match:
            raise RuntimeError(f"wrk printed no figures:\n{out}")
        results[label] = json.loads(match.group(1))
    figures = results["run"]
    figures["rps"] = round(figures["requests"] / (figures["duration_us"] / 1e6), 1)
    figures["errors"] = figures["unexpected_status"] + sum(figures["socket_errors"].values())
    return figures


def bench_wizard(tmp: Path, qn) -> tuple[list[dict], dict]:
    """(c) bare Flask, (a) GET a step, (b) POST a valid step: wrk -t2 -c16, in WIZARD_ROUNDS
    interleaved rounds, so each ratio compares runs seconds apart (the machine's speed
    drifts by a quarter over a minute here); the table shows the median round."""
    rounds = []
    with bare_server(tmp) as bare, serving(tmp, database=tmp / "wizard.db", name="wizard") as app:
        clients = [prepare_client(app.url, qn) for _ in range(SESSIONS)]
        for _ in range(WIZARD_ROUNDS):
            rounds.append(
                {
                    "bare": run_wrk(
                        bare.url + "/",
                        "GET",
                        "/",
                        200,
                        [{"cookie": "x=1", "body": ""}],
                        "bare",
                        WIZARD_SECONDS,
                    ),
                    "get_step": run_wrk(
                        app.url + "/step/about",
                        "GET",
                        "/step/about",
                        200,
                        clients,
                        "get_step",
                        WIZARD_SECONDS,
                    ),
                    "post_step": run_wrk(
                        app.url + "/step/about",
                        "POST",
                        "/step/about",
                        302,
                        clients,
                        "post_step",
                        WIZARD_SECONDS,
                    ),
                }
            )
        # Read back: a POST really stored the answers (a step further is now reachable).
        check = clients[0]["http"].get(app.url + "/step/skin", allow_redirects=False, timeout=10)
        assert check.status_code == 200, "the posted step was not saved"
    figures = {
        "rounds": rounds,
        "sessions": SESSIONS,
        "connections": CONNECTIONS,
        "threads": THREADS,
        "seconds": WIZARD_SECONDS,
    }
    rows = []
    for key, label, share in (
        ("get_step", "GET /step/about", 0.20),
        ("post_step", "POST /step/about (saved)", 0.10),
    ):
        ratios = [r[key]["rps"] / r["bare"]["rps"] for r in rounds]
        middle = rounds[ratios.index(statistics.median_low(ratios))]
        f, bare_f = middle[key], middle["bare"]
        errors = sum(r[key]["errors"] for r in rounds)
        statuses = [r[key]["statuses"] for r in rounds if r[key]["statuses"]]
        note = f"{errors} errors" + (f" {statuses}" if statuses else "")
        each = ", ".join(f"{x:.3f}" for x in ratios)
        p95s = [r[key]["p95_us"] / 1000 for r in rounds]
        p95_median, p95_worst = statistics.median(p95s), max(p95s)
        figures[key] = {
            "ratios": [round(x, 3) for x in ratios],
            "p95_ms": [round(x, 2) for x in p95s],
        }
        rows.append(
            row(
                f"{label}: requests/s (median of {len(rounds)} rounds: {each})",
                f["rps"],
                "req/s",
                bare_f["rps"],
                "bare Flask 'ok' req/s, same round",
                f">= {share:.0%} of baseline",
                errors == 0 and statistics.median_low(ratios) >= share,
                note=note,
            )
        )
        rows.append(
            row(
                f"{label}: p95 latency, median of {len(rounds)} rounds (worst "
                f"{p95_worst:.1f} ms; p50 {f['p50_us'] / 1000:.1f} ms)",
                round(p95_median, 2),
                "ms",
                round(bare_f["p95_us"] / 1000, 2),
                "bare Flask 'ok' p95",
                "< 50 ms",
                errors == 0 and p95_median < 50,
                note=note,
            )
        )
    return rows, figures


# -- 2. submit ---------------------------------------------------------------------------------


def filled_draft(base: str, qn) -> dict:
    """A client who has answered every step: only the review page's submit is left."""
    http = requests.Session()
    start = http.get(base + "/", timeout=10)
    http.post(
        base + "/start",
        data={"csrf_token": csrf_token(start.text)},
        allow_redirects=False,
        timeout=10,
    )
    answers = valid_answers()
    for section in qn.steps:
        page = http.get(f"{base}/step/{section.id}", timeout=10)
        data = {
            **form_data(section.step_questions, answers),
            "csrf_token": csrf_token(page.text),
            "rev": revision(page.text),
            "nav": "next",
        }
        response = http.post(
            f"{base}/step/{section.id}", data=data, allow_redirects=False, timeout=10
        )
        assert response.status_code == 302, (section.id, response.status_code)
    review = http.get(base + "/review", timeout=10)
    assert review.status_code == 200, review.status_code
    key = re.search(r'name="submit_key"[^>]*value="([^"]*)"', review.text) or re.search(
        r'value="([^"]*)"[^>]*name="submit_key"', review.text
    )
    data = {
        "attest": "yes",
        "signature": answers["full_name"],
        "submit_key": key.group(1),
        "csrf_token": csrf_token(review.text),
        "rev": revision(review.text),
    }
    return {"http": http, "data": data}


def timed_post(http, url: str, data: dict, expected: int) -> tuple[float, int]:
    start = time.perf_counter()
    response = http.post(url, data=data, allow_redirects=False, timeout=30)
    elapsed = time.perf_counter() - start
    return elapsed, response.status_code if response.status_code != expected else 0


def bench_submit(tmp: Path, qn) -> tuple[list[dict], dict]:
    """p95 of the review POST for 150 filled drafts (4 client threads) beside a bare POST."""
    with (
        bare_server(tmp) as bare,
        serving(tmp, database=tmp / "submit.db", name="submit") as app,
        concurrent.futures.ThreadPoolExecutor(POOL) as pool,
    ):
        drafts = list(pool.map(lambda _: filled_draft(app.url, qn), range(DRAFTS)))
        bare_http = [requests.Session() for _ in range(DRAFTS)]
        bare = list(pool.map(lambda h: timed_post(h, bare.url + "/", {"a": "1"}, 200), bare_http))
        submits = list(
            pool.map(lambda d: timed_post(d["http"], app.url + "/review", d["data"], 302), drafts)
        )
    with contextlib.closing(sqlite3.connect(tmp / "submit.db")) as db:
        stored = db.execute(
            "SELECT count(*) FROM submissions WHERE status = 'submitted'"
        ).fetchone()[0]
    times, errors = [t for t, _ in submits], [s for _, s in submits if s]
    bare_times = [t for t, _ in bare]
    figures = {
        "drafts": DRAFTS,
        "pool": POOL,
        "p50_ms": ms(statistics.median(times)),
        "p95_ms": ms(p95(times)),
        "max_ms": ms(max(times)),
        "errors": len(errors),
        "error_statuses": errors[:10],
        "submitted_rows": stored,
        "bare_p50_ms": ms(statistics.median(bare_times)),
        "bare_p95_ms": ms(p95(bare_times)),
    }
    note = f"{len(errors)} errors, {stored} stored; p50 {figures['p50_ms']} ms"
    return [
        row(
            "Submit POST /review: p95",
            figures["p95_ms"],
            "ms",
            figures["bare_p95_ms"],
            "bare Flask POST p95",
            "< 50 ms",
            not errors and stored == DRAFTS and figures["p95_ms"] < 50,
            note=note,
        )
    ], figures


def script_json(command: list[str], timeout: float) -> dict:
    """Run a benchmark script of bench/ (its own process, so its imports and memory stay
    out of this one) and read the JSON it prints."""
    done = subprocess.run(
        [PYTHON, str(BENCH / command[0]), *command[1:]],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return json.loads(done.stdout)


def bench_rules() -> tuple[list[dict], dict]:
    f = script_json(["bench_rules.py", "--json"], timeout=120)
    return [
        row(
            "Rules evaluation: median",
            f["median_ms"],
            "ms",
            f["baseline_median_ms"],
            "same conditions in plain Python",
            "< 1 ms",
            f["target_met"],
            note=f"{f['rules']} rules, p95 {f['p95_ms']} ms",
        )
    ], f


# -- 3. PDF -------------------------------------------------------------------------------------


def bench_pdf(quick: bool, seconds_left: float) -> tuple[list[dict], dict]:
    """bench/bench_pdf.py in its own process (its memory figures are that process's)."""
    command = [
        "bench_pdf.py",
        "--json",
        "--no-memory",  # the printing step measures a worker's memory over 500 renders
        "--deadline",
        str(max(60, int(seconds_left))),
    ] + (["--quick"] if quick else [])
    f = script_json(command, timeout=max(60, seconds_left) + 120)
    return [
        row(
            "PDF summary: median render",
            f["summary_median_ms"],
            "ms",
            f["plain_median_ms"],
            f"plain <p> doc, same text ({f['text_chars']} chars)",
            "<= 2x baseline",
            f["summary_target_met"],
            note=f"CPU {f['summary_cpu_median_ms']} / {f['plain_cpu_median_ms']} ms = "
            f"{f['summary_cpu_ratio']}x",
        ),
        row(
            f"PDF day batch ({f['day_clients']}): per client",
            f["day_per_client_ms"],
            "ms",
            f["day_beside_summary_ms"],
            "one summary, rendered beside each batch",
            "<= 1x baseline",
            f["day_target_met"],
            ratio=f["day_ratio"],
            note="median of per-batch ratios "
            + ", ".join(map(str, f["day_ratios"]))
            + f"; CPU ratio {f['day_cpu_ratio']}",
        ),
    ], f


# -- 6. printing (issue 22) ---------------------------------------------------------------------

PRINT_REQUESTS = 60  # stored-summary requests, and as many bare ones, interleaved


def bench_print_served(tmp: Path) -> tuple[list[dict], dict]:
    """A stored summary printed through gunicorn beside a bare Flask app sending the same
    number of bytes, requests interleaved."""
    database, _ = seeded(tmp, 5)
    with serving(tmp, database=database, name="print") as app_server, bare_server(tmp) as bare:
        http = logged_in(app_server.url)
        with sqlite3.connect(database) as conn:
            sid = conn.execute("SELECT min(id) FROM submissions").fetchone()[0]
        url = f"{app_server.url}/staff/submissions/{sid}/summary.pdf"
        first = http.get(url, timeout=60)  # rendered and stored, unless the worker was first
        assert first.status_code == 200 and first.content.startswith(b"%PDF")
        size = len(first.content)
        bare_http = requests.Session()
        bare_url = f"{bare.url}/bytes/{size}"
        served, floor = [], []
        for _ in range(5):  # untimed: connections, caches
            http.get(url, timeout=60)
            bare_http.get(bare_url, timeout=60)
        for _ in range(PRINT_REQUESTS):
            start = time.perf_counter()
            response = http.get(url, timeout=60)
            served.append(time.perf_counter() - start)
            assert response.content == first.content  # the stored copy, not a new render
            start = time.perf_counter()
            response = bare_http.get(bare_url, timeout=60)
            floor.append(time.perf_counter() - start)
            assert len(response.content) == size
    served_p95, floor_p95 = ms(p95(served)), ms(p95(floor))
    figures = {
        "bytes": size,
        "requests": PRINT_REQUESTS,
        "served_p95_ms": served_p95,
        "served_p50_ms": ms(statistics.median(served)),
        "bare_p95_ms": floor_p95,
        "bare_p50_ms": ms(statistics.median(floor)),
    }
    return [
        row(
            "Print a stored summary via gunicorn: p95",
            served_p95,
            "ms",
            floor_p95,
            f"bare Flask, same {size:,} bytes",
            "<= 2x baseline",
            served_p95 <= 2 * floor_p95,
            note=f"p50 {figures['served_p50_ms']} / {figures['bare_p50_ms']} ms",
        )
    ], figures


def bench_printing(tmp: Path) -> tuple[list[dict], dict]:
    """Issue 22: a stored summary served, a day joined from stored summaries, an uncached
    batch over every core, and a worker's memory over 500 background renders."""
    rows, figures = bench_print_served(tmp)
    f = script_json(["bench_pdf.py", "--printing"], timeout=1200)
    figures.update(f)
    rows += [
        row(
            f"Print a day of {f['clients']}, every summary stored",
            f["day_from_stored_ms"],
            "ms",
            f["day_from_scratch_ms"],
            "the same day rendered from scratch",
            f"<= {f['day_from_stored_target_ms'] / 1000:g} s",
            f["day_from_stored_target_met"],
        ),
        row(
            f"Uncached batch of {f['clients']} on {f['cores']} cores: per client",
            round(f["uncached_pool_ms"] / f["clients"], 1),
            "ms",
            f["single_summary_ms"],
            "one summary, rendered beside the batch",
            f"<= {f['uncached_target']:g}x baseline",
            f["uncached_target_met"],
            ratio=f["uncached_per_client_ratio"],
            note=f"warm pool; starting it took {f['pool_start_ms']:.0f} ms",
        ),
        row(
            f"Memory: worker RSS after {f['background_renders']} background renders",
            f["rss_end_mb"],
            "MB",
            f["rss_first_tenth_mb"],
            f"RSS after {f['background_renders'] // 10}",
            "growth < 20%",
            f["rss_target_met"],
            note=f"{f['rss_growth']:+.1%}",
        ),
    ]
    return rows, figures


# -- 4. the queue at scale ----------------------------------------------------------------------


def seeded(tmp: Path, count: int) -> tuple[Path, float]:
    """A database with `count` demo submissions and a provider; the seeding's wall time."""
    database = tmp / f"queue-{count}.db"
    flask_cli(database, "init-db")
    start = time.perf_counter()
    flask_cli(database, "demo", "--count", str(count), "--seed", "1")
    seconds = time.perf_counter() - start
    flask_cli(
        database,
        "users",
        "create",
        "bench",
        "--role",
        "provider",
        "--password-stdin",
        stdin=PROVIDER_PASSWORD + "\n",
    )
    return database, seconds


def logged_in(base: str) -> requests.Session:
    http = requests.Session()
    page = http.get(base + "/staff/login", timeout=10)
    response = http.post(
        base + "/staff/login",
        allow_redirects=False,
        timeout=10,
        data={
            "username": "bench",
            "password": PROVIDER_PASSWORD,
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 302, response.status_code
    return http


# Each page and the name search it needs: name searches are posted and kept in the session
# (names stay out of URLs), so the search row has a session of its own.
QUEUE_PAGES = {
    "first page": ("/staff/", None),
    "last page": ("/staff/?last=1", None),
    f"name search '{COMMON_NAME}'": ("/staff/", COMMON_NAME),
}


def searching(base: str, name: str | None) -> requests.Session:
    """A logged-in provider session, with a posted name search when `name` is given."""
    http = logged_in(base)
    if name:
        page = http.get(base + "/staff/", timeout=30)
        http.post(
            base + "/staff/search/queue",
            timeout=30,
            allow_redirects=False,
            data={"csrf_token": csrf_token(page.text), "q": name},
        )
    return http


def bench_queue(tmp: Path) -> tuple[list[dict], dict]:
    """The queue's pages at 1,000 and 100,000 submissions, requests interleaved."""
    small, small_seconds = seeded(tmp, 1_000)
    large, large_seconds = seeded(tmp, 100_000)
    times = {size: {page: [] for page in QUEUE_PAGES} for size in (1_000, 100_000)}
    with (
        serving(tmp, database=small, name="queue-1k") as s1,
        serving(tmp, database=large, name="queue-100k") as s2,
    ):
        urls = {1_000: s1.url, 100_000: s2.url}
        sessions = {
            (size, page): searching(url, name)
            for size, url in urls.items()
            for page, (_, name) in QUEUE_PAGES.items()
        }
        for (size, page), http in sessions.items():  # one untimed pass: connections, caches
            http.get(urls[size] + QUEUE_PAGES[page][0], timeout=30)
        for _ in range(QUEUE_REQUESTS):
            for page, (path, _) in QUEUE_PAGES.items():
                for size, url in urls.items():
                    http = sessions[(size, page)]
                    start = time.perf_counter()
                    response = http.get(url + path, timeout=30)
                    times[size][page].append(time.perf_counter() - start)
                    assert response.status_code == 200 and "/submissions/" in response.text, (
                        size,
                        path,
                        response.status_code,
                    )
    figures = {
        "seed_1000_s": round(small_seconds, 2),
        "seed_100000_s": round(large_seconds, 2),
        "requests_each": QUEUE_REQUESTS,
        "pages": {},
    }
    rows = [
        row(
            "Seed 100,000 demo submissions",
            round(large_seconds, 1),
            "s",
            round(small_seconds, 1),
            "seed 1,000",
            "< 60 s",
            large_seconds < 60,
        )
    ]
    for page, (path, _) in QUEUE_PAGES.items():
        small_p95, large_p95 = ms(p95(times[1_000][page])), ms(p95(times[100_000][page]))
        figures["pages"][page] = {
            "path": path,
            "p95_ms_1000": small_p95,
            "p95_ms_100000": large_p95,
            "p50_ms_1000": ms(statistics.median(times[1_000][page])),
            "p50_ms_100000": ms(statistics.median(times[100_000][page])),
        }
        rows.append(
            row(
                f"Queue {page} at 100k: p95",
                large_p95,
                "ms",
                small_p95,
                "same page at 1,000",
                "<= 2x baseline",
                large_p95 <= 2 * small_p95,
            )
        )
    return rows, figures


# -- the run ------------------------------------------------------------------------------------


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_avg_at_start": os.getloadavg(),
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def table(rows: list[dict]) -> str:
    """The rows as a Markdown table (also readable in a terminal)."""

    def number(value):
        if value is None:
            return "—"
        return (
            f"{value:,.0f}"
            if abs(value) >= 1000
            else f"{value:.3g}"
            if abs(value) < 1
            else f"{value:,.1f}"
        )

    lines = [
        "| Figure | Value | Baseline (same run) | Ratio | Target | Met |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['figure']} | failed: {r['error']} | | | | no |")
            continue
        note = f" ({r['note']})" if r["note"] else ""
        baseline = (
            "—"
            if r["baseline"] is None
            else f"{number(r['baseline'])} {r['unit']} ({r['baseline_name']})"
        )
        lines.append(
            f"| {r['figure']}{note} | {number(r['value'])} {r['unit']} | {baseline} "
            f"| {number(r['ratio'])} | {r['target']} | {'yes' if r['met'] else 'NO'} |"
        )
    return "\n".join(lines)


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer PDF renders (memory after 20 and 100)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=["wizard", "submit", "rules", "pdf", "queue", "printing"],
        help="run only these benchmarks (repeatable)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=570,
        metavar="SECONDS",
        help="time for the whole run (default 570); the PDF memory run stops "
        "early, and says so, rather than go past it",
    )
    args = parser.parse_args(argv)
    # SIGTERM (a CI timeout, Ctrl-C from make) unwinds like Ctrl-C, so every server stops.
    signal.signal(signal.SIGTERM, _interrupted)
    qn = questionnaire.load(ROOT / "questionnaire.yaml")
    began = time.monotonic()
    report = {"machine": machine(), "rows": [], "figures": {}}
    with tempfile.TemporaryDirectory(prefix="screening-bench-") as tmp:
        # The PDF benchmark last: its long memory run takes what is left of the budget.
        steps = {
            "wizard": lambda: bench_wizard(Path(tmp), qn),
            "submit": lambda: bench_submit(Path(tmp), qn),
            "rules": bench_rules,
            "queue": lambda: bench_queue(Path(tmp)),
            "printing": lambda: bench_printing(Path(tmp)),
            "pdf": lambda: bench_pdf(args.quick, args.budget - (time.monotonic() - began) - 15),
        }
        for name, step in steps.items():
            if args.only and name not in args.only:
                continue
            print(f"[bench] {name} ...", file=sys.stderr, flush=True)
            started = time.monotonic()
            try:
                rows, figures = step()
            except Exception as exc:  # noqa: BLE001 - one broken benchmark still leaves the others' figures
                traceback.print_exc()
                rows, figures = (
                    [{"figure": name, "error": f"{type(exc).__name__}: {exc}"[:200], "met": False}],
                    {"error": traceback.format_exc()},
                )
            figures["seconds"] = round(time.monotonic() - started, 1)
            report["rows"] += rows
            report["figures"][name] = figures
    report["seconds"] = round(time.monotonic() - began, 1)
    report["machine"]["load_avg_at_end"] = os.getloadavg()
    BUILD.mkdir(exist_ok=True)
    (BUILD / "bench.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    m = report["machine"]
    load = " / ".join(f"{a[0]:.1f}" for a in (m["load_avg_at_start"], m["load_avg_at_end"]))
    heading = (
        f"{m['nproc']} x {m['cpu']}, Python {m['python']}, {m['date']}, "
        f"{report['seconds']:.0f} s, load average {load} (start / end)"
    )
    (BUILD / "bench.md").write_text(f"{heading}\n\n{table(report['rows'])}\n")
    print(f"\n{heading}\n")
    print(table(report["rows"]))
    missed = [r["figure"] for r in report["rows"] if not r["met"]]
    print(
        f"\n{len(report['rows']) - len(missed)} of {len(report['rows'])} targets met; "
        f"figures in {BUILD / 'bench.json'} and {BUILD / 'bench.md'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
