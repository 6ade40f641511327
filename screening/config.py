"""Default settings. instance/config.py, then SCREENING_* environment variables override them.

Environment values are parsed as JSON where they can be (SCREENING_KIOSK=true is a boolean).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import MutableMapping
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
REPOSITORY = PACKAGE.parent  # in a source checkout or an editable install
# A regular install (`pip install .`, a wheel): copies of the repository's templates/,
# questionnaire.yaml and rules.yaml, made by the build (setup.py).
BUNDLED = PACKAGE / "_bundled"


def content_root() -> Path:
    """The folder with templates/, questionnaire.yaml and rules.yaml: the repository's own
    files when they are there (a checkout), else the copies bundled in the installed package."""
    if all((REPOSITORY / name).exists() for name in ("templates", "questionnaire.yaml")):
        return REPOSITORY
    return BUNDLED


CONTENT_ROOT = content_root()
TEMPLATES = CONTENT_ROOT / "templates"  # Flask's template_folder
ROOT = CONTENT_ROOT  # the older name, still used (create_app, tests): the repository in a checkout


def resolve_paths(config: MutableMapping) -> None:
    """QUESTIONNAIRE and RULES (SCREENING_QUESTIONNAIRE, SCREENING_RULES), when set, win over
    the older QUESTIONNAIRE_PATH and RULES_PATH; afterwards both names hold the path in use.
    Call it once every setting is loaded."""
    for key, older in (("QUESTIONNAIRE", "QUESTIONNAIRE_PATH"), ("RULES", "RULES_PATH")):
        if config.get(key):
            config[older] = str(config[key])  # a SCREENING_* value can arrive parsed as JSON
        config[key] = config[older]


def defaults(instance_path: str) -> dict:
    """The defaults, with paths inside this app's instance folder."""
    return {
        # No default SECRET_KEY: one that works in production is a hole. `make run` writes
        # a generated one to instance/config.py (mode 0600).
        "SECRET_KEY": None,
        "DATABASE": str(Path(instance_path) / "screening.db"),
        # QUESTIONNAIRE and RULES, when set, win over the *_PATH names: see resolve_paths().
        "QUESTIONNAIRE": None,
        "RULES": None,
        "QUESTIONNAIRE_PATH": str(CONTENT_ROOT / "questionnaire.yaml"),
        "RULES_PATH": str(CONTENT_ROOT / "rules.yaml"),
        "CLINIC_NAME": "Skin Clinic",
        # The languages clients may answer in, the clinic's own first: each other one needs
        # questionnaire.<lang>.yaml and rules.<lang>.yaml beside the content, and a catalogue
        # in screening/translations/ (start-up and `rules check` fail on a missing text).
        "LANGUAGES": "en,es",
        "CLINIC_PHONE": "",  # shown on the done page, which tells clients to call
        # A shared front-desk tablet: a start-over button, and a fresh start after idling.
        "KIOSK": False,
        "KIOSK_IDLE_SECONDS": 180,
        "KIOSK_DONE_SECONDS": 30,
        # A client can leave and resume a draft on the same device within this time.
        "DRAFT_HOURS": 24,
        "STAFF_IDLE_MINUTES": 15,
        # Staff who can see health data (providers, admins) sign in with a password and a
        # code from an authenticator app (TOTP), set up at their first login. Turn it off
        # only on a closed network (README).
        "REQUIRE_2FA": True,
        # Login attempts in LOGIN_LOCKOUT_MINUTES: for one name from one address (or from a
        # browser that logged in to it before), from one address across all names, and for
        # one name across all addresses (browsers that logged in to it before excepted).
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_ADDRESS_MAX_FAILURES": 30,
        "LOGIN_ACCOUNT_MAX_FAILURES": 20,
        "LOGIN_LOCKOUT_MINUTES": 15,
        # Password hashes at once across every worker (None: half the cores, at least one),
        # so a flood of logins leaves cores for pages.
        "LOGIN_HASH_SLOTS": None,
        # Anonymous clients, per address and hour (0: no limit). A clinic's shared Wi-Fi or
        # kiosk is one address: keep these well above a busy day's clients per hour.
        "CLIENT_STARTS_PER_HOUR": 60,
        "CLIENT_SUBMISSIONS_PER_HOUR": 60,
        # Served over HTTPS (behind a TLS proxy): Secure cookies and HSTS.
        "HTTPS": False,
        # How many proxies in front of the app set X-Forwarded-For/-Proto (nginx: 1). With 0
        # those headers are ignored: a client could forge them to dodge the login lockout.
        "PROXY_HOPS": 0,
        "PDF_PAGE_SIZE": "Letter",  # or "A4"
        # Email (invitations, reminders, provider alerts). Nothing is sent without SMTP_URL:
        # smtp://host[:25], smtp+starttls://host[:587] or smtps://host[:465], with an
        # optional user:password@ (percent-encode special characters).
        "SMTP_URL": "",
        "MAIL_FROM": "",  # the sender address, e.g. "Skin Clinic <desk@clinic.example>"
        # The address clients and staff reach the app at (https://screening.clinic.example):
        # emailed links start with it. Staff pages fall back to the address they were opened at.
        "BASE_URL": "",
        # `invitations remind` reminds clients whose appointment is this close and who have
        # not answered yet.
        "REMIND_HOURS": 48,
        # A refer or defer submission this close to its appointment emails ALERT_TO (one
        # address, several separated by commas, or a JSON list).
        "ALERT_HOURS": 72,
        "ALERT_TO": "",
        # Wrong dates of birth on an invitation link before it is paused, and for how long.
        "LINK_MAX_FAILURES": 5,
        "LINK_LOCK_MINUTES": 15,
        # The app's own outbox worker (a thread per server process): None starts it whenever
        # SMTP_URL is set (never under TESTING); True or False decides. It also queues alerts.
        "MAIL_WORKER": None,
        "MAIL_POLL_SECONDS": 30,
        # Summary PDFs rendered ahead (a thread per server process): None starts it unless
        # TESTING; True or False decides. New jobs are looked for this often (a cheap read).
        "SUMMARY_WORKER": None,
        "SUMMARY_POLL_SECONDS": 2,
        # Processes that render a batch's summaries not stored yet, the server process
        # counted (it renders beside a pool of one fewer): None is every core; 0 or 1
        # renders them in the server process alone.
        "PRINT_PROCESSES": None,
        "SMTP_TIMEOUT": 20,
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "SESSION_COOKIE_NAME": "screening",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": dt.timedelta(hours=24),
        # Re-sign the cookie only when the session changes (a saved step marks it changed,
        # so the cookie lives as long as the draft): signing it on every page view cost a
        # tenth of a step page's time. Staff idle logoff is checked on the server.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "WTF_CSRF_TIME_LIMIT": None,
        # Pages send Referrer-Policy: no-referrer, so browsers post no Referer; Flask-WTF's
        # HTTPS referrer check would refuse every form. The CSRF token still guards them.
        "WTF_CSRF_SSL_STRICT": False,  # the token lives as long as the session it is bound to
    }
