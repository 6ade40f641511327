"""The closed sets of the clinic's words, each defined once: outcomes, decisions, roles and
audit actions. Code, forms and templates read these tables; none keeps its own copy.

A stored code never changes (rows and exports hold it); its label and help are for people.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    code: str
    label: str
    help: str = ""


class Vocabulary:
    """An ordered closed set of terms; the order is the rank (0 = first)."""

    def __init__(self, *terms: Term):
        self.terms = terms
        self._by_code = {t.code: t for t in terms}

    def __iter__(self) -> Iterator[Term]:
        return iter(self.terms)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self.terms)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.terms)

    def get(self, code: str) -> Term | None:
        return self._by_code.get(code)

    def label(self, code: str | None) -> str:
        """The term's label; an unknown code as it is (an old row shows what it stored)."""
        term = self._by_code.get(code)
        return term.label if term else str(code or "")

    def help(self, code: str | None) -> str:
        term = self._by_code.get(code)
        return term.help if term else ""

    def rank(self, code: str) -> int:
        return self.codes.index(code)

    def choices(self) -> list[tuple[str, str]]:
        """(code, label) pairs for a form's select or radio field."""
        return [(t.code, t.label) for t in self.terms]


# Most severe first: a submission's outcome is its most severe fired flag, or clear.
OUTCOMES = Vocabulary(
    Term("refer", "Refer", "See a dermatologist or physician first"),
    Term("defer", "Defer", "Not yet: wait or heal first"),
    Term("review", "Review", "Discuss at consultation"),
    Term("prep", "Prep", "Client instructions only"),
    Term("clear", "Clear", "Nothing flagged"),
)
CLEAR = "clear"
# A rule's severity is any outcome but clear.
SEVERITIES = OUTCOMES.codes[:-1]

DECISIONS = Vocabulary(
    Term("cleared", "Cleared to book"),
    Term("refer_dermatology", "Refer to a dermatologist first"),
    Term("defer_until", "Defer until a date"),
    Term("consult", "Needs a consultation"),
)
DEFER_UNTIL = "defer_until"
CLEARED = "cleared"

ROLES = Vocabulary(
    Term("provider", "Provider", "Reviews submissions and records decisions"),
    Term("front_desk", "Front desk", "Finds today's clients and prints summaries"),
    Term("admin", "Admin", "Everything, plus staff accounts and the audit log"),
)
# Who may do what: admin everything; a provider all the front desk can, and decide.
CAN = {
    "front_desk": {"front_desk", "provider", "admin"},
    "provider": {"provider", "admin"},
    "admin": {"admin"},
}

# Each action as the audit page names it (the stored code stays the filter's value).
AUDIT_ACTIONS = Vocabulary(
    Term("login", "Logged in"),
    Term("login_failed", "Login failed"),
    Term("login_refused", "Login refused"),
    Term("logout", "Logged out"),
    Term("idle_logoff", "Logged off when idle"),
    Term("view_submission", "Opened a submission"),
    Term("decision", "Recorded a decision"),
    Term("print_summary", "Printed a summary"),
    Term("print_day", "Printed a day"),
    Term("print_batch", "Printed chosen summaries"),
    Term("user_create", "Created an account"),
    Term("user_disable", "Disabled an account"),
    Term("user_password", "Changed a password"),
    Term("view_audit", "Viewed the audit log"),
    Term("appointment_add", "Added an appointment"),
    Term("appointment_import", "Imported appointments"),
    Term("invitation_resend", "Resent an invitation"),
    Term("invitation_link", "Showed an invitation link"),
    Term("invitation_locked", "Invitation link paused (wrong dates of birth)"),
    Term("appointment_attach", "Attached a submission to an appointment"),
    Term("appointment_detach", "Detached a submission from an appointment"),
    Term("login_code_failed", "Login code wrong"),
    Term("login_counted", "More failed or refused logins (counted)"),
    Term("recovery_code_used", "Logged in with a recovery code"),
    Term("two_factor_enrol", "Set up two-factor sign-in"),
    Term("two_factor_reset", "Reset two-factor sign-in"),
    Term("drafts_purged", "Deleted expired drafts"),
    # A changed rules.yaml taken up while the app runs; detail: "OLD -> NEW" (rules versions).
    Term("rules_change", "Rules changed"),
    # Exports: the detail holds the filters (codes and dates) and the row count, never content.
    Term("export_csv", "Exported a CSV"),
    Term("export_fhir", "Exported FHIR"),
    Term("view_queue", "Viewed the queue"),
    Term("view_day", "Viewed a day's clients"),
    Term("view_users", "Viewed the staff accounts"),
    Term("search", "Searched by name"),
    Term("print_batch", "Printed selected summaries"),
    Term("contact", "Contacted a client"),
    Term("user_enable", "Re-enabled an account"),
    Term("user_role", "Changed a role"),
)

# The worklist's groups, in the order the queue shows them (store/lists.py reads them).
WORKLIST_GROUPS = Vocabulary(
    Term("upcoming", "Appointment in the next 7 days", "Soonest first"),
    Term(
        "unbooked", "No appointment in the next 7 days", "Most severe first, then waiting longest"
    ),
    Term("past", "Appointment date passed", "Most recent appointment first"),
)

# How a client was contacted ("contacted" entries in a submission's history).
CONTACT_METHODS = Vocabulary(
    Term("phone", "Phone call"),
    Term("voicemail", "Voicemail left"),
    Term("text", "Text message"),
    Term("email", "Email"),
    Term("in_person", "In person"),
)


def jinja_globals() -> dict:
    """The tables as templates see them."""
    return {
        "OUTCOMES": OUTCOMES,
        "DECISIONS": DECISIONS,
        "ROLES": ROLES,
        "AUDIT_ACTIONS": AUDIT_ACTIONS,
        "CONTACT_METHODS": CONTACT_METHODS,
        "WORKLIST_GROUPS": WORKLIST_GROUPS,
    }
