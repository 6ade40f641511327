"""Two-factor sign-in for staff: TOTP codes from an authenticator app (RFC 6238, pyotp),
a QR code to set it up (segno), and one-time recovery codes kept only as hashes.

A code is accepted for its own 30-second step or one step either side (clocks drift), and
never twice: the last accepted step is stored, and only a later one is accepted after it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets

import pyotp
import segno
import sqlite_utils
from flask import current_app

from ..store import staff as store

# Who must sign in with a code when REQUIRE_2FA is on: the roles that read health data
# and decide on it, and the one that manages accounts.
REQUIRED_FOR = frozenset({"provider", "admin"})
WINDOW = 1  # steps either side of now
RECOVERY_CODES = 10
_TOTP_CODE = re.compile(r"[0-9]{6}")
_RECOVERY_CODE = re.compile(r"[a-z2-7]{16}")


def needed(user: dict) -> bool:
    """Whether this login needs a code: always once set up, and for the roles that must
    have it when REQUIRE_2FA is on."""
    if user.get("totp_secret"):
        return True
    return bool(current_app.config["REQUIRE_2FA"]) and user["role"] in REQUIRED_FOR


def new_secret() -> str:
    """160 random bits, base32 (what authenticator apps expect)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(
        name=username, issuer_name=current_app.config["CLINIC_NAME"]
    )


def qr_data_uri(uri: str) -> str:
    """The otpauth:// URI as an SVG QR code in a data: URI (the CSP allows img-src data:;
    nothing is fetched, nothing is written to disk)."""
    return segno.make(uri, error="m", micro=False).svg_data_uri(scale=5, border=4)


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type by hand into an app."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def normalize(code: str) -> str:
    """What the user typed, without spaces or dashes, lower case."""
    return re.sub(r"[\s-]", "", code or "").lower()


def matching_step(secret: str, code: str, at: dt.datetime | None = None) -> int | None:
    """The time step whose code this is (now, or one step either side), or None."""
    code = normalize(code)
    if not _TOTP_CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(at or dt.datetime.now(dt.UTC))
    for step in (now, now - WINDOW, now + WINDOW):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def check(db: sqlite_utils.Database, user: dict, code: str) -> str | None:
    """ "totp" or "recovery" when the code lets this user in (and is now spent), else None."""
    typed = normalize(code)
    if _TOTP_CODE.fullmatch(typed):
        step = matching_step(user["totp_secret"], typed)
        if step is not None and store.accept_step(db, user["id"], step):
            return "totp"
        return None
    if _RECOVERY_CODE.fullmatch(typed) and store.use_recovery_code(
        db, user["id"], hash_recovery_code(typed)
    ):
        return "recovery"
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes of 80 random bits each, as xxxx-xxxx-xxxx-xxxx (letters a-z and 2-7)."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def hash_recovery_code(code: str) -> str:
    """sha256 is enough here: each code has 80 random bits, nothing to guess from."""
    return hashlib.sha256(normalize(code).encode()).hexdigest()


def confirm(db: sqlite_utils.Database, user: dict, code: str) -> list[str] | None:
    """Set up two-factor sign-in with the pending secret if the code fits it; return the
    new recovery codes (to show once), or None when the code does not fit."""
    secret = user.get("totp_pending")
    step = matching_step(secret, code) if secret else None
    if step is None:
        return None
    codes = new_recovery_codes()
    store.enrol(db, user["id"], secret, step, [hash_recovery_code(c) for c in codes])
    return codes
