"""The schema as named migrations (sqlite-utils), applied in order by `init_db`."""

from __future__ import annotations

import os
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from .db import connect

migrations = Migrations("screening")


@migrations(name="0001_initial")
def _initial(db: sqlite_utils.Database) -> None:
    db["rules_versions"].create(
        {"hash": str, "text": str, "first_seen": str}, pk="hash", not_null={"text"}
    )
    db["users"].create(
        {
            "id": int,
            "username": str,
            "name": str,
            "role": str,
            "password_hash": str,
            "active": int,
            "created_at": str,
        },
        pk="id",
        not_null={"username", "role", "password_hash"},
        defaults={"active": 1},
    )
    db["users"].create_index(["username"], unique=True)
    db["submissions"].create(
        {
            "id": int,
            "token_hash": str,
            "status": str,
            "step": str,
            "created_at": str,
            "updated_at": str,
            "submitted_at": str,
            "client_name": str,
            "name_key": str,
            "date_of_birth": str,
            "appointment_date": str,
            "day": str,
            "answers": str,
            "questionnaire_version": str,
            "rules_version": str,
            "flags": str,
            "outcome": str,
            "outcome_rank": int,
            "flag_count": int,
            "decision": str,
            "submit_key": str,
        },
        pk="id",
        not_null={"status", "created_at", "updated_at", "answers"},
        defaults={"answers": "{}"},
        foreign_keys=[("rules_version", "rules_versions", "hash")],
    )
    s = db["submissions"]
    s.create_index(["token_hash"], unique=True)
    s.create_index(["submit_key"], unique=True)
    # The queue: submitted rows by severity then time; the front desk: by day.
    s.create_index(["status", "outcome_rank", "submitted_at"], index_name="idx_queue")
    s.create_index(["status", "day"], index_name="idx_day")
    s.create_index(["status", "name_key"], index_name="idx_name")
    s.create_index(["status", "updated_at"], index_name="idx_drafts")
    db["decisions"].create(
        {
            "id": int,
            "submission_id": int,
            "decision": str,
            "defer_until": str,
            "note": str,
            "user_id": int,
            "at": str,
        },
        pk="id",
        not_null={"submission_id", "decision", "at"},
        foreign_keys=[("submission_id", "submissions", "id"), ("user_id", "users", "id")],
    )
    db["decisions"].create_index(["submission_id", "at"])
    db["staff_sessions"].create(
        {"id": str, "user_id": int, "created_at": str, "last_seen": str, "revoked_at": str},
        pk="id",
        not_null={"user_id", "created_at", "last_seen"},
        foreign_keys=[("user_id", "users", "id")],
    )
    db["login_attempts"].create({"id": int, "username": str, "address": str, "at": str}, pk="id")
    db["login_attempts"].create_index(["username", "address", "at"])
    db["audit"].create(
        {
            "id": int,
            "at": str,
            "user_id": int,
            "username": str,
            "action": str,
            "submission_id": int,
            "detail": str,
        },
        pk="id",
        not_null={"at", "action"},
    )
    db["audit"].create_index(["at"])
    db["audit"].create_index(["submission_id"])


@migrations(name="0002_staff_queue")
def _staff_queue(db: sqlite_utils.Database) -> None:
    # The provider queue filters on "decided or not" before its severity-then-time order.
    db.execute(
        "CREATE INDEX idx_queue_decided ON submissions "
        "(status, (decision IS NULL), outcome_rank, submitted_at)"
    )
    # Find a client by any word of their name, by prefix, accents ignored.
    db.execute(
        "CREATE VIRTUAL TABLE names_fts USING fts5(client_name, content='submissions', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
    )
    db.execute(
        "CREATE TRIGGER names_fts_insert AFTER UPDATE OF client_name ON submissions "
        "WHEN new.client_name IS NOT NULL BEGIN "
        "INSERT INTO names_fts(names_fts, rowid, client_name) "
        "SELECT 'delete', old.id, old.client_name WHERE old.client_name IS NOT NULL; "
        "INSERT INTO names_fts(rowid, client_name) VALUES (new.id, new.client_name); END"
    )
    db.execute(
        "CREATE TRIGGER names_fts_new AFTER INSERT ON submissions "
        "WHEN new.client_name IS NOT NULL BEGIN "
        "INSERT INTO names_fts(rowid, client_name) VALUES (new.id, new.client_name); END"
    )
    db.execute(
        "CREATE TRIGGER names_fts_delete AFTER DELETE ON submissions "
        "WHEN old.client_name IS NOT NULL BEGIN "
        "INSERT INTO names_fts(names_fts, rowid, client_name) "
        "VALUES ('delete', old.id, old.client_name); END"
    )
    db["audit"].create_index(["action", "at"])
    db["audit"].create_index(["user_id", "at"])


@migrations(name="0003_append_only")
def _append_only(db: sqlite_utils.Database) -> None:
    # The audit log and the decision history are evidence: rows are added, never changed or
    # removed, by any code path or by hand in the sqlite3 shell.
    for table in ("audit", "decisions"):
        for event in ("UPDATE", "DELETE"):
            db.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} rows are never changed or "
                f"removed'); END"
            )


@migrations(name="0004_client_reference")
def _client_reference(db: sqlite_utils.Database) -> None:
    # A short random code the client quotes at the front desk (shown on the done page):
    # never the row id, never anything from the answers. Older rows have none.
    db["submissions"].add_column("reference", str)
    db["submissions"].create_index(["reference"], unique=True, index_name="idx_reference")


@migrations(name="0005_security")
def _security(db: sqlite_utils.Database) -> None:
    # Two-factor sign-in: the TOTP secret (a pending one while the user enrols), the last
    # time step accepted (a code is never accepted twice), and one-time recovery codes,
    # kept as sha256 hashes (each is 80 random bits: no slow hash needed).
    db["users"].add_column("totp_secret", str)
    db["users"].add_column("totp_pending", str)
    db["users"].add_column("totp_enrolled_at", str)
    db["users"].add_column("totp_last_step", int)
    db["recovery_codes"].create(
        {"id": int, "user_id": int, "code_hash": str, "used_at": str},
        pk="id",
        not_null={"user_id", "code_hash"},
        foreign_keys=[("user_id", "users", "id")],
    )
    db["recovery_codes"].create_index(["user_id", "code_hash"])
    # Login attempts are limited per address across names and per account across addresses;
    # a browser that logged in before (a device cookie) is counted on its own.
    db["login_attempts"].add_column("device", str)
    db["login_attempts"].create_index(["address", "at"])
    db["login_attempts"].create_index(["username", "at"])
    db["login_attempts"].create_index(["device", "at"])
    # Clients' drafts started and submissions per address and hour.
    db["rate_counts"].create(
        {"key": str, "window": str, "count": int}, pk=("key", "window"), not_null={"count"}
    )
    # Refused logins beyond the first few are counted here, then written as one audit row.
    db["audit_tallies"].create(
        {
            "action": str,
            "user_key": int,
            "user_id": int,
            "username": str,
            "since": str,
            "last": str,
            "count": int,
        },
        pk=("action", "user_key"),
        not_null={"since", "last", "count"},
    )


@migrations(name="0007_appointments")
def _appointments(db: sqlite_utils.Database) -> None:
    # Upcoming appointments and their invitation links. A link's token is never stored:
    # token_hash finds the appointment, link_nonce lets the app (with its SECRET_KEY) show
    # the same link again. submission_id is the draft a link opened, then the submission it
    # became (or a walk-in's, attached): one per appointment, and a deleted draft frees it.
    db.execute(
        "CREATE TABLE appointments ("
        "id INTEGER PRIMARY KEY, client_name TEXT NOT NULL, name_key TEXT NOT NULL, "
        "date_of_birth TEXT NOT NULL, email TEXT, phone TEXT, "
        "appointment_date TEXT NOT NULL, appointment_time TEXT, "
        "link_nonce TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, "
        "status TEXT NOT NULL DEFAULT 'new', created_at TEXT NOT NULL, "
        "created_by INTEGER REFERENCES users(id), "
        "invited_at TEXT, opened_at TEXT, reminded_at TEXT, "
        "submission_id INTEGER UNIQUE REFERENCES submissions(id) ON DELETE SET NULL, "
        "dob_failures INTEGER NOT NULL DEFAULT 0, locked_until TEXT)"
    )
    db.execute(
        "CREATE INDEX idx_appointments_day ON appointments "
        "(appointment_date, appointment_time, name_key)"
    )
    db.execute("CREATE INDEX idx_appointments_match ON appointments (name_key, date_of_birth)")
    # Email waiting to go out. idempotency_key makes queuing the same message twice a no-op;
    # claimed_until is a lease, so two workers never send one row at once.
    db.execute(
        "CREATE TABLE outbox ("
        "id INTEGER PRIMARY KEY, kind TEXT NOT NULL, "
        "appointment_id INTEGER REFERENCES appointments(id), "
        "idempotency_key TEXT NOT NULL UNIQUE, to_address TEXT NOT NULL, "
        "subject TEXT NOT NULL, text_body TEXT, html_body TEXT, "
        "attempts INTEGER NOT NULL DEFAULT 0, next_try_at TEXT NOT NULL, "
        "claimed_until TEXT, sent_at TEXT, failed_at TEXT, last_error TEXT, "
        "created_at TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX idx_outbox_due ON outbox (sent_at, failed_at, next_try_at)")
    db.execute("CREATE INDEX idx_outbox_appointment ON outbox (appointment_id, kind)")


# Characters that join the parts of one name ("O'Brien", "Jean-Luc"). A tokenizer can only
# split at them, and then "obrien" finds nothing: the index holds each name twice, once with
# them removed ("OBrien") and once split at them ("O", "Brien"). lists.name_match removes
# them from what staff type. Frozen here: a later change needs a migration of its own.
_NAME_JOINERS = "'\u2019\u2018\u02bc`-\u2010\u2011"


def _name_words(column: str) -> str:
    """SQL for the text indexed for a name: joined, then as written."""
    joined = column
    for char in _NAME_JOINERS:
        joined = f"replace({joined}, '{char.replace(chr(39), chr(39) * 2)}', '')"
    return f"({joined} || ' ' || {column})"


@migrations(name="0006_staff_workflow")
def _staff_workflow(db: sqlite_utils.Database) -> None:
    # The worklist: undecided clients by appointment date (the coming days, soonest first;
    # past appointments most recent first), the others by severity then waiting time. On the
    # plain column `decision` (queried as "decision IS NULL"), so that the group counts read
    # the index alone: SQLite 3.40 reads the table for each entry of an index on an
    # expression, such as 0002's on "(decision IS NULL)", which these replace.
    db.execute(
        "CREATE INDEX idx_worklist ON submissions "
        "(status, decision, appointment_date, outcome_rank, submitted_at)"
    )
    db.execute(
        "CREATE INDEX idx_undecided ON submissions (status, decision, outcome_rank, submitted_at)"
    )
    db.execute("DROP INDEX IF EXISTS idx_queue_decided")
    # Most severe first among decided ones (or all): 0001's idx_queue with `decision` last,
    # so that "decided" is judged in the index, not by reading each row.
    db.execute("DROP INDEX IF EXISTS idx_queue")
    db.execute(
        "CREATE INDEX idx_queue ON submissions (status, outcome_rank, submitted_at, decision)"
    )
    # Decided and undecided together ("All"), in the worklist's order; `decision` last so
    # that the decided ones are counted from the index too.
    db.execute(
        "CREATE INDEX idx_appointment ON submissions "
        "(status, appointment_date, outcome_rank, submitted_at, decision)"
    )
    # Name search that ignores apostrophes and hyphens as it ignores accents: rebuilt as a
    # contentless index of each name's words (see _name_words), kept by the same triggers.
    for trigger in ("names_fts_insert", "names_fts_new", "names_fts_delete"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute("DROP TABLE IF EXISTS names_fts")
    db.execute(
        "CREATE VIRTUAL TABLE names_fts USING fts5(name_words, content='', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    old, new = _name_words("old.client_name"), _name_words("new.client_name")
    db.execute(
        "CREATE TRIGGER names_fts_insert AFTER UPDATE OF client_name ON submissions "
        "WHEN new.client_name IS NOT NULL BEGIN "
        "INSERT INTO names_fts(names_fts, rowid, name_words) "
        f"SELECT 'delete', old.id, {old} WHERE old.client_name IS NOT NULL; "
        f"INSERT INTO names_fts(rowid, name_words) VALUES (new.id, {new}); END"
    )
    db.execute(
        "CREATE TRIGGER names_fts_new AFTER INSERT ON submissions "
        "WHEN new.client_name IS NOT NULL BEGIN "
        f"INSERT INTO names_fts(rowid, name_words) VALUES (new.id, {new}); END"
    )
    db.execute(
        "CREATE TRIGGER names_fts_delete AFTER DELETE ON submissions "
        "WHEN old.client_name IS NOT NULL BEGIN "
        "INSERT INTO names_fts(names_fts, rowid, name_words) "
        f"VALUES ('delete', old.id, {old}); END"
    )
    db.execute(
        "INSERT INTO names_fts(rowid, name_words) "
        f"SELECT id, {_name_words('client_name')} FROM submissions "
        "WHERE client_name IS NOT NULL"
    )
    # "Contacted the client": who, when, how, a note; kept beside the decisions, never edited.
    db["contacts"].create(
        {
            "id": int,
            "submission_id": int,
            "method": str,
            "note": str,
            "user_id": int,
            "at": str,
        },
        pk="id",
        not_null={"submission_id", "method", "at"},
        foreign_keys=[("submission_id", "submissions", "id"), ("user_id", "users", "id")],
    )
    db["contacts"].create_index(["submission_id", "at"])
    for event in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER contacts_no_{event.lower()} BEFORE {event} ON contacts "
            "BEGIN SELECT RAISE(ABORT, 'contacts rows are never changed or removed'); END"
        )


@migrations(name="0008_summaries")
def _summaries(db: sqlite_utils.Database) -> None:
    # Each submission's summary PDF, prepared in advance. It is current while the latest
    # decision (none: NULL), the rules version and the layout (page size, clinic name,
    # templates, in-force content) are those it was rendered with, and the age it shows is
    # the client's age today.
    db.execute(
        "CREATE TABLE summaries ("
        "submission_id INTEGER PRIMARY KEY REFERENCES submissions(id) ON DELETE CASCADE, "
        "decision_id INTEGER, rules_version TEXT, layout TEXT NOT NULL, age INTEGER, "
        "prepared_at TEXT NOT NULL, pdf BLOB NOT NULL)"
    )
    # Summaries to render in the background: one row per submission; `generation` grows when
    # it is queued again (a decision while it renders), so the renderer deletes only the
    # request it served. claimed_until is a lease: two workers never render one row at once.
    db.execute(
        "CREATE TABLE summary_jobs ("
        "submission_id INTEGER PRIMARY KEY REFERENCES submissions(id) ON DELETE CASCADE, "
        "generation INTEGER NOT NULL DEFAULT 1, queued_at TEXT NOT NULL, "
        "claimed_until TEXT, attempts INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute("CREATE INDEX idx_summary_jobs_due ON summary_jobs (claimed_until, queued_at)")


@migrations(name="0009_language")
def _language(db: sqlite_utils.Database) -> None:
    # The language a client read the questions in (en, es...): staff see "answered in
    # Spanish"; an appointment's language, when known, is the invitation's language.
    db.execute("ALTER TABLE submissions ADD COLUMN language TEXT")
    db.execute("ALTER TABLE appointments ADD COLUMN language TEXT")


def init_db(path: str | Path) -> None:
    """Create or upgrade the schema; safe to run any number of times."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = connect(path)
    try:
        migrations.apply(db)
    finally:
        db.conn.close()
    # Health data: readable by the app's user only (SQLite gives -wal/-shm the same mode).
    os.chmod(path, 0o600)
