"""The staff blueprint: views in routes.py, and appointments (appointments.py) and printing
(printing.py), whose views register on the same blueprint when this package is imported."""

from . import (
    appointments,  # noqa: F401 - registers /staff/appointments on routes.bp
    printing,  # noqa: F401 - registers every print view (/staff/print, ...pdf) on bp
)
