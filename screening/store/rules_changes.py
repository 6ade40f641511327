"""A change of the rules in force, audited once with both versions (their texts are kept in
rules_versions, so either can be read back)."""

from __future__ import annotations

import sqlite_utils

from .audit import record as audit
from .db import now, transaction
from .submissions import keep_rules_version

ACTION = "rules_change"


def record(db: sqlite_utils.Database, old, new) -> bool:
    """Audit the change from ruleset `old` to `new` (detail "OLD -> NEW", full hashes) unless
    another worker already audited the change to `new`; True if this call audited it."""
    stamp = now()
    with transaction(db):
        keep_rules_version(db, old, stamp)
        keep_rules_version(db, new, stamp)
        last = db.execute(
            "SELECT detail FROM audit WHERE action = ? ORDER BY id DESC LIMIT 1", [ACTION]
        ).fetchone()
        if last is not None and str(last[0]).endswith(f"-> {new.version}"):
            return False
        audit(db, ACTION, detail=f"{old.version} -> {new.version}")
        return True
