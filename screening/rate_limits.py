"""Limits on what anonymous clients can do per address and hour (drafts started,
questionnaires submitted), with the counts in SQLite so that every worker shares them.

Generous by default (SCREENING_CLIENT_*_PER_HOUR, 60): a clinic's shared Wi-Fi or kiosk is
one address. Over the limit, a polite page and a Retry-After, not an error.
"""

from __future__ import annotations

import datetime as dt
from functools import wraps

from flask import current_app, request

from .store import get_db, limits
from .web import error_page


def limited(kind: str, setting: str):
    """Count each POST to the view against `setting` (per address and hour)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if request.method == "POST":
                key = f"{kind}:{request.remote_addr or '?'}"
                if not limits.take(get_db(), key, current_app.config[setting]):
                    return too_many()
            return view(*args, **kwargs)

        return wrapped

    return decorator


def too_many():
    """The polite 429 page, with the seconds until the next hour's count begins."""
    now = dt.datetime.now(dt.UTC)
    wait = 3600 - (now.minute * 60 + now.second)
    body, code = error_page(429)
    return body, code, {"Retry-After": str(wait)}
