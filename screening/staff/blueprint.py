"""The staff blueprint, shared by the modules that add views to it (routes, accounts pages,
printing), so that none of them imports another's views."""

from __future__ import annotations

from flask import Blueprint

from ..store.lists import SQLITE_MAX

bp = Blueprint("staff", __name__, url_prefix="/staff")
# A submission id in a URL: an int SQLite can hold (a bigger one is a 404, not a 500).
ID = f"int(max={SQLITE_MAX})"
