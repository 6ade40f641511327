"""The client blueprint: the wizard (routes.py) and invitation links (invitations.py), whose
views register on the same blueprint when this package is imported."""

from . import invitations  # noqa: F401 - registers /i/<token> on routes.bp
