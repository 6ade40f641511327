"""Device cookies: a browser that logged in to an account before is known to it.

Login attempts from a known browser are counted on their own (OWASP's "device cookies"):
someone else failing on the same name, or from the same network (a clinic's NAT, a proxy
with PROXY_HOPS=0), cannot lock the account's owner out. The cookie is signed with the
SECRET_KEY and names the account and a random id; it lets nobody in by itself.
"""

from __future__ import annotations

import secrets

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

COOKIE = "screening_device"
DAYS = 365


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="staff-device")


def _read() -> dict | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        value = _signer().loads(raw)
    except BadSignature:
        return None
    if isinstance(value, dict) and isinstance(value.get("u"), str) and value.get("n"):
        return value
    return None


def known(username: str) -> str | None:
    """This browser's device id when it logged in to `username` before, else None."""
    value = _read()
    return str(value["n"]) if value and value["u"] == username else None


def remember(response: Response, username: str) -> Response:
    """After a full login: this browser is now known to `username` (for a year)."""
    device = known(username) or secrets.token_urlsafe(16)
    response.set_cookie(
        COOKIE,
        _signer().dumps({"u": username, "n": device}),
        max_age=DAYS * 24 * 3600,
        path="/staff/",
        secure=bool(current_app.config["HTTPS"]),
        httponly=True,
        samesite="Lax",
    )
    return response
