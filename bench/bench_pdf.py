"""Time PDF summaries against a minimal WeasyPrint document of the same text, in the same run.

Measures, on a temporary database: the median time to render one client's summary beside a
plain <p> document of the same text length and font; the per-client time of a 50-client
day batch beside single summaries rendered just before and after it; and the process's
resident memory after 50 and after 500 summary renders.

Usage: python bench/bench_pdf.py [--json] [--quick] [--deadline SECONDS]
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # a standalone script: run from a checkout without installing
sys.path.insert(0, str(ROOT / "tests"))

from helpers import valid_answers

from screening import create_app, printing
from screening.content import questionnaire as current_questionnaire
from screening.content import rules as current_rules
from screening.output import pdf
from screening.store import get_db, init_db
from screening.store import summaries as summary_store
from screening.store.submissions import import_answers

RATIO_TARGET = 2.0  # a summary may cost at most twice a plain document of its text
GROWTH_TARGET = 0.20  # resident memory may grow less than 20% from 50 to 500 renders
STORED_DAY_TARGET_MS = 1500  # a day of 50 joined from stored summaries
UNCACHED_TARGET = 0.6  # an uncached batch, per client, beside one summary (2 cores)
DAY_CLIENTS = 50
BESIDE = 5  # single summaries rendered just before and just after each day batch
FIRST = ["Ana", "José", "Zoë", "Liam", "Priya", "Wei", "Fatima", "Ivan", "Amara", "Yuki"]
LAST = ["García", "Smith", "Nguyen", "Müller", "O'Brien", "Patel", "Okafor", "Chen", "Kim"]


def rss_mb() -> float:
    """This process's resident memory (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def text_of(page: str) -> str:
    """The visible text of an HTML page: tags and head dropped, whitespace collapsed."""
    body = re.sub(r"(?s)<head>.*?</head>", " ", page)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def plain_document(text: str) -> str:
    """The baseline: the same text as plain paragraphs, in the summary's font and size."""
    words, paragraphs, current = text.split(" "), [], []
    for word in words:  # paragraphs of about 400 characters
        current.append(word)
        if sum(len(w) + 1 for w in current) > 400:
            paragraphs.append(" ".join(current))
            current = []
    paragraphs.append(" ".join(current))
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><style>"
        "html { font-family: 'DejaVu Sans', sans-serif; font-size: 9.5pt; }"
        f"</style></head><body>{body}</body></html>"
    )


class Times:
    """Wall-clock and process CPU time of each call: the CPU figure shows what the render
    itself cost when other work on the machine stretched the wall-clock one."""

    def __init__(self):
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def time(self, function, *args):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function(*args)
        self.cpu.append(time.process_time() - cpu)
        self.wall.append(time.perf_counter() - wall)
        return result

    def extend(self, other: Times) -> None:
        self.wall += other.wall
        self.cpu += other.cpu


def median_ms(times: list[float]) -> float:
    return round(statistics.median(times) * 1000, 2)


def measure(quick: bool, deadline: float | None = None, memory: bool = True) -> dict:
    """Render on a temporary database; return the figures. Past `deadline` (seconds from
    now) no further day batch starts and the memory run stops where it is, reported so.
    `memory` False leaves the memory run out (`make bench` takes a worker's memory over
    background renders from measure_printing instead)."""
    stop_at = time.monotonic() + deadline if deadline else float("inf")
    from weasyprint import HTML

    pairs, batches = (8, 2) if quick else (20, 5)
    renders_low, renders_high = (20, 100) if quick else (50, 500)
    with tempfile.TemporaryDirectory(prefix="bench-pdf-") as tmp:
        database = Path(tmp) / "bench.db"
        init_db(database)
        app = create_app({"SECRET_KEY": "bench-pdf", "DATABASE": str(database)})
        with app.app_context():
            db = get_db()
            qn, ruleset, today = current_questionnaire(), current_rules(), dt.date.today()
            day = today + dt.timedelta(days=7)
            one = import_answers(
                db,
                valid_answers(
                    appointment_date=None, smoker=True, cold_sores=True, cold_sore_now=False
                ),
                qn,
                ruleset,
                today,
            )
            for i in range(DAY_CLIENTS):
                name = f"{FIRST[i % len(FIRST)]} {LAST[i % len(LAST)]}"
                import_answers(
                    db,
                    valid_answers(
                        full_name=name,
                        signature=name,
                        appointment_date=day.isoformat(),
                        smoker=i % 3 == 0,
                        cold_sores=i % 4 == 0,
                        cold_sore_now=False if i % 4 == 0 else None,
                    ),
                    qn,
                    ruleset,
                    today,
                )

            # The summary's own text, as a plain document (built from the same template).
            from flask import render_template

            sub = pdf.get_submission(db, one)
            page = render_template("pdf/summary.html", clients=[pdf._client(db, sub, today)], qn=qn)
            text = text_of(page)
            plain = plain_document(text)
            fonts, _fetcher, _css = pdf._renderer()

            def render_plain() -> bytes:
                return HTML(string=plain).write_pdf(font_config=fonts)

            renders = 0
            pdf.summary_pdf(db, one)  # warm-up: fonts, caches
            render_plain()
            renders += 1
            summary, plain_doc = Times(), Times()
            for _ in range(pairs):  # interleaved, so both see the same machine load
                data = summary.time(pdf.summary_pdf, db, one)
                plain_pdf = plain_doc.time(render_plain)
                renders += 1
            assert data.startswith(b"%PDF") and plain_pdf.startswith(b"%PDF")

            # Each batch beside single summaries rendered just before and after it, so
            # both see the same machine load.
            batches_, beside = Times(), Times()
            wall_ratios, cpu_ratios = [], []
            for _ in range(batches):
                if wall_ratios and time.monotonic() > stop_at:
                    break
                window = Times()
                for _ in range(BESIDE):
                    window.time(pdf.summary_pdf, db, one)
                batch = batches_.time(pdf.day_pdf, db, day)
                for _ in range(BESIDE):
                    window.time(pdf.summary_pdf, db, one)
                renders += 2 * BESIDE
                beside.extend(window)
                wall_ratios.append(batches_.wall[-1] / DAY_CLIENTS / statistics.median(window.wall))
                cpu_ratios.append(batches_.cpu[-1] / DAY_CLIENTS / statistics.median(window.cpu))
            assert batch.startswith(b"%PDF")

            if not memory:
                renders_low = renders_high = renders
            while renders < renders_low:
                pdf.summary_pdf(db, one)
                renders += 1
            rss_low = rss_mb()
            while renders < renders_high and time.monotonic() < stop_at:
                pdf.summary_pdf(db, one)
                renders += 1
            rss_high = rss_mb()
            renders_reached = renders

    summary_ms, plain_ms = median_ms(summary.wall), median_ms(plain_doc.wall)
    summary_cpu, plain_cpu = median_ms(summary.cpu), median_ms(plain_doc.cpu)
    day_ratio, day_cpu_ratio = statistics.median(wall_ratios), statistics.median(cpu_ratios)
    growth = (rss_high - rss_low) / rss_low
    return {
        "benchmark": "pdf",
        "quick": quick,
        "text_chars": len(text),
        "summary_median_ms": summary_ms,
        "plain_median_ms": plain_ms,
        "summary_ratio": round(summary_ms / plain_ms, 2),
        "summary_cpu_median_ms": summary_cpu,
        "plain_cpu_median_ms": plain_cpu,
        "summary_cpu_ratio": round(summary_cpu / plain_cpu, 2),
        "summary_ratio_target": RATIO_TARGET,
        "summary_target_met": summary_ms <= RATIO_TARGET * plain_ms,
        "summary_runs": pairs,
        "summary_bytes": len(data),
        "plain_bytes": len(plain_pdf),
        "day_clients": DAY_CLIENTS,
        "day_runs": len(wall_ratios),
        "day_median_ms": median_ms(batches_.wall),
        "day_per_client_ms": round(statistics.median(batches_.wall) * 1000 / DAY_CLIENTS, 2),
        "day_per_client_cpu_ms": round(statistics.median(batches_.cpu) * 1000 / DAY_CLIENTS, 2),
        "day_beside_summary_ms": median_ms(beside.wall),
        "day_beside_summary_cpu_ms": median_ms(beside.cpu),
        "day_ratios": [round(r, 3) for r in wall_ratios],
        "day_cpu_ratios": [round(r, 3) for r in cpu_ratios],
        "day_ratio": round(day_ratio, 3),
        "day_cpu_ratio": round(day_cpu_ratio, 3),
        "day_target_met": day_ratio <= 1,
        "rss_renders": [renders_low, renders_reached],
        "rss_complete": renders_reached >= renders_high,
        "rss_low_mb": round(rss_low, 1),
        "rss_high_mb": round(rss_high, 1),
        "rss_growth": round(growth, 3),
        "rss_growth_target": GROWTH_TARGET,
        "rss_target_met": growth < GROWTH_TARGET and renders_reached >= renders_high,
    }


def measure_printing(clients: int = DAY_CLIENTS, renders: int = 500) -> dict:
    """Issue 22's figures, each beside its baseline: a day's batch joined from stored
    summaries beside the same day rendered from scratch; an uncached batch over every core
    (this process and a warm pool) per client beside single summaries rendered just before
    and after it; a worker's memory growth over `renders` background renders (from the
    first tenth to the end)."""
    with tempfile.TemporaryDirectory(prefix="bench-print-") as tmp:
        database = Path(tmp) / "bench.db"
        init_db(database)
        app = create_app({"SECRET_KEY": "bench-pdf", "DATABASE": str(database)})
        with app.app_context():
            db = get_db()
            qn, ruleset, today = current_questionnaire(), current_rules(), dt.date.today()
            day = today + dt.timedelta(days=7)
            for i in range(clients):
                name = f"{FIRST[i % len(FIRST)]} {LAST[i % len(LAST)]}"
                answers = valid_answers(
                    full_name=name, signature=name, appointment_date=day.isoformat()
                )
                import_answers(db, answers, qn, ruleset, today)
            ids = [row["id"] for row in pdf.day_clients(db, day)]
            pdf.summary_pdf(db, ids[0])  # warm-up
            scratch = Times()
            scratch.time(pdf.day_pdf, db, day)
            db.execute("DELETE FROM summary_jobs")
            single, pooled, pool_start = Times(), Times(), Times()
            try:
                pool_start.time(printing.warm_pool, app)  # a pool kept from an earlier batch
                for _ in range(BESIDE):
                    single.time(pdf.summary_pdf, db, ids[0])
                pooled.time(printing.batch_pdf, db, ids, day)
                for _ in range(BESIDE):
                    single.time(pdf.summary_pdf, db, ids[0])
            finally:
                printing.shutdown_pool()
            assert not printing.missing(db, ids)
            joined = Times()
            for _ in range(3):
                data = joined.time(printing.batch_pdf, db, ids, day)
            assert data.startswith(b"%PDF")
            # A worker's memory over background renders of the same summaries, again and again.
            rss_first = None
            done = 0
            while done < renders:
                summary_store.queue(db, ids[: min(len(ids), renders - done)])
                done += printing.work_once(app)
                if rss_first is None and done >= renders // 10:
                    rss_first = rss_mb()
            rss_last = rss_mb()
    single_ms = statistics.median(single.wall) * 1000
    stored_ms = statistics.median(joined.wall) * 1000
    ratio = statistics.median(pooled.wall) * 1000 / clients / single_ms
    growth = (rss_last - rss_first) / rss_first
    return {
        "benchmark": "printing",
        "clients": clients,
        "single_summary_ms": round(single_ms, 1),
        "day_from_scratch_ms": median_ms(scratch.wall),
        "day_from_stored_ms": round(stored_ms, 1),
        "day_from_stored_target_ms": STORED_DAY_TARGET_MS,
        "day_from_stored_target_met": stored_ms <= STORED_DAY_TARGET_MS,
        "pool_start_ms": median_ms(pool_start.wall),
        "uncached_pool_ms": median_ms(pooled.wall),
        "uncached_per_client_ratio": round(ratio, 3),
        "uncached_target": UNCACHED_TARGET,
        "uncached_target_met": ratio <= UNCACHED_TARGET,
        "cores": os.cpu_count(),
        "background_renders": renders,
        "rss_first_tenth_mb": round(rss_first, 1),
        "rss_end_mb": round(rss_last, 1),
        "rss_growth": round(growth, 3),
        "rss_growth_target": GROWTH_TARGET,
        "rss_target_met": growth < GROWTH_TARGET,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer renders (memory after 20 and 100 instead of 50 and 500)",
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop starting work after this long (bench/run.py's time budget)",
    )
    parser.add_argument(
        "--printing",
        action="store_true",
        help="only issue 22's printing figures (stored summaries, the pool, background renders)",
    )
    parser.add_argument("--clients", type=int, default=DAY_CLIENTS, help="with --printing")
    parser.add_argument("--renders", type=int, default=500, help="with --printing")
    parser.add_argument(
        "--no-memory", action="store_true", help="leave the memory run out (make bench)"
    )
    args = parser.parse_args(argv)
    if args.printing:
        print(json.dumps(measure_printing(args.clients, args.renders)))
        return 0
    f = measure(args.quick, args.deadline, memory=not args.no_memory)
    if args.json:
        print(json.dumps(f))
        return 0
    yes = {True: "met", False: "NOT met"}
    print(f"PDF summary ({f['text_chars']} characters of text), median of {f['summary_runs']}:")
    print(
        f"  summary {f['summary_median_ms']} ms, plain document {f['plain_median_ms']} ms, "
        f"ratio {f['summary_ratio']} (target <= {RATIO_TARGET:g}: "
        f"{yes[f['summary_target_met']]}); CPU {f['summary_cpu_median_ms']} / "
        f"{f['plain_cpu_median_ms']} ms, ratio {f['summary_cpu_ratio']}"
    )
    print(
        f"  day batch of {DAY_CLIENTS}: {f['day_median_ms']} ms, {f['day_per_client_ms']} ms "
        f"a client; summaries beside it {f['day_beside_summary_ms']} ms; ratio "
        f"{f['day_ratio']} (target <= 1: {yes[f['day_target_met']]}); CPU "
        f"{f['day_per_client_cpu_ms']} / {f['day_beside_summary_cpu_ms']} ms, ratio "
        f"{f['day_cpu_ratio']}"
    )
    low, high = f["rss_renders"]
    print(
        f"  memory: {f['rss_low_mb']} MB after {low} renders, {f['rss_high_mb']} MB after "
        f"{high} ({f['rss_growth']:+.1%}; target < {GROWTH_TARGET:.0%}: "
        f"{yes[f['rss_target_met']]})"
    )
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Straight out: WeasyPrint 70's objects crashed (SIGSEGV) in the interpreter's final
    # teardown after every figure was printed, which turned a finished run into a failure.
    os._exit(code)
