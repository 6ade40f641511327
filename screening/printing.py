"""Printing without waiting: summaries rendered ahead and stored, batches joined from them.

A submission's summary is queued when it is submitted and after each decision
(store.summaries); a thread in each server process renders the queue, so printing usually
serves a stored PDF. A batch is a fresh cover and the stored summaries joined with pypdf;
summaries not stored yet are rendered in a process pool over every core. Log lines name
submission ids, never a client.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed

import sqlite_utils
from flask import Flask, current_app

from .content import today
from .output import batch, pdf
from .questionnaire import age_on
from .store import get_db
from .store import now as store_now
from .store import summaries as store
from .store.submissions import get_submission

log = logging.getLogger(__name__)

POOL_IDLE_SECONDS = 300  # a pool unused this long is shut down (its processes hold ~100 MB)


# One summary -------------------------------------------------------------------------------


def _ages(db: sqlite_utils.Database, submission_ids: list[int]) -> dict[int, int]:
    """Each submitted submission's client age today (ids of missing ones are left out)."""
    on, ages = today(), {}
    for submission_id in submission_ids:
        submission = get_submission(db, submission_id)
        if submission is not None:
            ages[submission_id] = age_on(submission["date_of_birth"], on)
    return ages


def stored(db: sqlite_utils.Database, submission_ids: list[int]) -> dict[int, dict]:
    """The current stored summaries among these ids: {id: {"pdf", "prepared_at"}}."""
    return store.current(db, submission_ids, pdf.layout(), _ages(db, submission_ids))


def prepare(db: sqlite_utils.Database, submission_id: int) -> dict | None:
    """Render one summary now and store it; None when there is no such submission."""
    prepared = pdf.prepare_summary(db, submission_id)
    if prepared is not None:
        store.save(db, submission_id, prepared)
    return prepared


def summary(db: sqlite_utils.Database, submission_id: int) -> bytes | None:
    """One client's summary: the stored one while it is current, else rendered (and
    stored). None when there is no such submitted submission."""
    found = stored(db, [submission_id])
    if submission_id in found:
        return found[submission_id]["pdf"]
    prepared = prepare(db, submission_id)
    return prepared["pdf"] if prepared else None


# Batches -----------------------------------------------------------------------------------


def printable(db: sqlite_utils.Database, submission_ids: list[int]) -> list[int]:
    """The ids that are submitted submissions, in the order given, each once."""
    seen: set[int] = set()
    chosen = []
    for submission_id in submission_ids:
        if submission_id not in seen and get_submission(db, submission_id) is not None:
            seen.add(submission_id)
            chosen.append(submission_id)
    return chosen


def missing(db: sqlite_utils.Database, submission_ids: list[int]) -> list[int]:
    """The ids whose stored summary is absent or stale."""
    found = stored(db, submission_ids)
    return [i for i in submission_ids if i not in found]


def claim_missing(db: sqlite_utils.Database, submission_ids: list[int]) -> list[tuple[int, int]]:
    """Queue these summaries (if not queued) and claim those no one is rendering."""
    store.queue(db, submission_ids, renew=False)
    return store.claim(db, limit=len(submission_ids), only=submission_ids)


def render_claimed(app: Flask, claimed: list[tuple[int, int]]) -> None:
    """Render claimed jobs over every core and store each as it comes back (so a progress
    page can count them): this process renders too, taking the next job whenever it is
    free, while the pool's processes (one fewer than PRINT_PROCESSES, each with two jobs in
    hand) render the others.

    Measured on 2 cores: with the parent only waiting on a pool of two, a 50-client batch
    cost 0.87-0.93x a single summary per client (one pool process started cold in the
    batch, each paid a cold first render, the parent sat idle); the parent is warm already
    and costs no start-up."""
    if not claimed:
        return
    with app.app_context():
        db = get_db()
        children = _processes(app) - 1
        if len(claimed) == 1 or children < 1:
            for submission_id, generation in claimed:
                _finish(db, submission_id, generation, lambda i=submission_id: _render(db, i))
            return
        waiting = list(reversed(claimed))  # the next job is at the end
        executor = _pool(app)
        running: dict = {}

        def collect(block: bool) -> None:
            ready = [f for f in running if f.done()]
            if block and not ready and running:
                ready = [next(as_completed(running))]
            for future in ready:
                submission_id, generation = running.pop(future)
                _finish(db, submission_id, generation, future.result)

        while waiting or running:
            while waiting and len(running) < 2 * children:  # a pool process never waits
                submission_id, generation = waiting.pop()
                running[executor.submit(_child_render, submission_id)] = (submission_id, generation)
            if waiting:
                submission_id, generation = waiting.pop()
                _finish(db, submission_id, generation, lambda i=submission_id: _render(db, i))
            collect(block=not waiting)
        _pool_used(app)


def _render(db: sqlite_utils.Database, submission_id: int) -> dict | None:
    return pdf.prepare_summary(db, submission_id)


def _finish(db, submission_id: int, generation: int, render) -> None:
    """Render one job (`render()` returns the prepared summary), then store it and mark the
    job done together; on an error mark it failed (tried again later)."""
    try:
        prepared = render()
    except Exception as exc:  # noqa: BLE001 - one bad summary must not stop the others
        log.error(
            "summaries: submission %s failed to render: %s", submission_id, type(exc).__name__
        )
        store.failed(db, submission_id)
        return
    store.finish(db, submission_id, generation, prepared)


def batch_pdf(
    db: sqlite_utils.Database, submission_ids: list[int], day=None, heading: str | None = None
) -> bytes | None:
    """A batch for these submission ids, in this order: a fresh cover, then each summary
    (stored, else rendered now over every core). None when none of them is printable.
    A day's batch is the list of that day's ids (`day` titles its cover, else `heading`)."""
    ids = printable(db, submission_ids)
    if not ids:
        return None
    found = stored(db, ids)
    absent = [i for i in ids if i not in found]
    if absent:
        render_claimed(current_app._get_current_object(), claim_missing(db, absent))
        found.update(stored(db, absent))
    parts = []
    for submission_id in ids:  # any still missing was being rendered elsewhere: render it
        if submission_id in found:
            parts.append(found[submission_id]["pdf"])
        else:
            parts.append(prepare(db, submission_id)["pdf"])
    return batch.join(pdf.cover_pdf(db, ids, day, heading), parts)


def start_preparing(app: Flask, db: sqlite_utils.Database, submission_ids: list[int]) -> int:
    """Claim the missing summaries no one is rendering and render them in a thread (for a
    progress page); how many were claimed."""
    claimed = claim_missing(db, submission_ids)
    if claimed:
        threading.Thread(
            target=render_claimed, args=(app, claimed), name="screening-batch", daemon=True
        ).start()
    return len(claimed)


# The process pool --------------------------------------------------------------------------


def _processes(app: Flask) -> int:
    wanted = app.config.get("PRINT_PROCESSES")
    return int(wanted) if wanted is not None else (os.cpu_count() or 1)


def _child_config(app: Flask) -> dict:
    """The app's settings a pool process can rebuild the same app from (picklable ones)."""
    config = {}
    for key, value in app.config.items():
        try:
            pickle.dumps(value)
        except Exception:  # noqa: BLE001, S112 - an object only this process can use
            continue
        config[key] = value
    return config


class _Pool:
    """This process's pool: built on first use, rebuilt for another app's settings, shut
    down after POOL_IDLE_SECONDS unused."""

    def __init__(self):
        self.lock = threading.Lock()
        self.executor: ProcessPoolExecutor | None = None
        self.key: tuple | None = None
        self.timer: threading.Timer | None = None


_pools = _Pool()


def _pool(app: Flask) -> ProcessPoolExecutor:
    config = _child_config(app)
    key = (os.getpid(), str(config.get("DATABASE")), repr(sorted(config.items(), key=str)))
    with _pools.lock:
        if _pools.timer is not None:
            _pools.timer.cancel()
            _pools.timer = None
        if _pools.executor is not None and _pools.key != key:
            if _pools.key[0] == os.getpid():
                _pools.executor.shutdown(wait=False, cancel_futures=True)
            _pools.executor = None
        if _pools.executor is None:
            context = multiprocessing.get_context("forkserver")
            _pools.executor = ProcessPoolExecutor(
                max_workers=max(1, _processes(app) - 1),  # this process renders too
                mp_context=context,
                initializer=_child_start,
                initargs=(config,),
            )
            _pools.key = key
        return _pools.executor


def _pool_used(app: Flask) -> None:
    """Shut the pool down if it stays unused for POOL_IDLE_SECONDS."""
    with _pools.lock:
        if _pools.timer is not None:
            _pools.timer.cancel()
        _pools.timer = threading.Timer(POOL_IDLE_SECONDS, shutdown_pool)
        _pools.timer.daemon = True
        _pools.timer.start()


def shutdown_pool() -> None:
    """Stop this process's pool (idle, tests, the benchmark)."""
    with _pools.lock:
        executor, key = _pools.executor, _pools.key
        _pools.executor = _pools.key = None
        if _pools.timer is not None:
            _pools.timer.cancel()
            _pools.timer = None
    if executor is not None and key and key[0] == os.getpid():
        executor.shutdown(wait=True)


_child_app: Flask | None = None


def _child_start(config: dict) -> None:
    """A pool process's initializer: the same app, built from the parent's settings, and
    one small render, so the first summary it is given costs no more than the next (fonts,
    the stylesheet and WeasyPrint's imports are loaded here, before any job waits)."""
    global _child_app
    from . import create_app  # here, not at the top: the package imports this module

    _child_app = create_app(config)
    with _child_app.app_context():
        pdf.render("<p>warm-up</p>", store_now())


def warm_pool(app: Flask) -> None:
    """Start this process's pool and wait until its processes are ready (the benchmark;
    a server starts it with its first batch and keeps it POOL_IDLE_SECONDS)."""
    executor = _pool(app)
    for future in [executor.submit(int, 0) for _ in range(max(1, _processes(app) - 1))]:
        future.result()


def _child_render(submission_id: int) -> dict | None:
    """Render one summary in a pool process; the parent stores it."""
    assert _child_app is not None
    with _child_app.app_context():
        return pdf.prepare_summary(get_db(), submission_id)


# The background worker ---------------------------------------------------------------------


def work_once(app: Flask) -> int:
    """Render every queued summary no one else is rendering, one at a time; how many."""
    count = 0
    with app.app_context():
        db = get_db()
        while store.due(db):
            claimed = store.claim(db, limit=1)
            if not claimed:
                break
            submission_id, generation = claimed[0]
            _finish(db, submission_id, generation, lambda i=submission_id: _render(db, i))
            count += 1
    return count


class Worker:
    """Renders queued summaries every SUMMARY_POLL_SECONDS in each server process. Claims
    make several processes safe together."""

    def __init__(self, app: Flask):
        self.app = app
        self.wake_up = threading.Event()
        self.pid = os.getpid()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name="screening-summaries", daemon=True)

    def stop(self) -> None:
        """End the thread after its current round (tests; a server just exits)."""
        self.stopping = True
        self.wake_up.set()
        self.thread.join(timeout=60)

    def _run(self) -> None:
        seconds = float(self.app.config["SUMMARY_POLL_SECONDS"])
        while not self.stopping:
            if not self._database_there():
                break
            try:
                work_once(self.app)
            except Exception as exc:  # noqa: BLE001 - the thread must live; jobs stay queued
                log.error("summaries: worker round failed: %s", type(exc).__name__)
            self.wake_up.wait(seconds)
            self.wake_up.clear()

    def _database_there(self) -> bool:
        """Whether the database file is still where the settings say. A server whose file
        was moved or deleted (a test's temporary one, once the test ended) has nothing to
        render: say so once and stop, rather than fail every round."""
        if os.path.exists(self.app.config["DATABASE"]):
            return True
        log.info("summaries: the database file is gone; worker stopped in process %s", self.pid)
        self.stopping = True
        return False


_workers: list[Worker] = []  # every worker this process started, for stop_workers()


def stop_workers() -> None:
    """Stop every worker thread this process started (a test's app ends with its test)."""
    while _workers:
        worker = _workers.pop()
        if worker.pid == os.getpid() and worker.thread.is_alive():
            worker.stop()


_starting = threading.Lock()


def start_worker(app: Flask) -> Worker:
    """Start the worker on a process's first request: after gunicorn forks, never in a CLI
    command, and once per process."""
    worker = app.extensions.get("summary_worker")
    if worker is not None and worker.pid == os.getpid():
        return worker
    with _starting:
        worker = app.extensions.get("summary_worker")
        if worker is None or worker.pid != os.getpid():
            worker = app.extensions["summary_worker"] = Worker(app)
            _workers.append(worker)
            worker.thread.start()
            log.info("summaries: worker started in process %s", worker.pid)
    return worker


def init_app(app: Flask) -> None:
    """Arrange the background worker: SUMMARY_WORKER None starts it unless TESTING, and
    never over an in-memory database (each thread would open a database of its own)."""
    wanted = app.config.get("SUMMARY_WORKER")
    if wanted is None:
        wanted = not app.testing
    if str(app.config.get("DATABASE")) == ":memory:":
        wanted = False
    if wanted:
        app.before_request(lambda: start_worker(app) and None)
