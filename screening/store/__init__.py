"""The store: the only code that holds SQL. Views, the CLI and the output layer ask it.

One SQLite file (WAL, synchronous=FULL, busy timeout, foreign keys); every write that must
be whole runs in `transaction()`, which nests. Modules by what they keep: submissions
(drafts and submitted screenings), decisions, staff (accounts, sessions, login attempts),
audit, lists (the queue and a day's clients), schema (migrations), backup.
"""

from .db import (
    ago,
    close_db,
    connect,
    get_db,
    init_app,
    local_day,
    now,
    stored_time,
    transaction,
)
from .schema import init_db

__all__ = [
    "ago",
    "close_db",
    "connect",
    "get_db",
    "init_app",
    "init_db",
    "local_day",
    "now",
    "stored_time",
    "transaction",
]
