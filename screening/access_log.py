"""gunicorn's access log, one request per line whatever the request holds.

gunicorn writes its atoms as they came (it only puts a backslash before a double quote):
the decoded path of `/%0d%0aforged` broke the line and wrote one of the caller's choosing,
and a NUL or an escape sequence reached the file and the terminal. Here every atom is
escaped: a backslash and a double quote get a backslash, anything outside printable ASCII
is written as \\xHH (bytes) or \\uHHHH, so a quoted field always ends at its own quote.
"""

from __future__ import annotations

from gunicorn.glogging import Logger, SafeAtoms


def escape(text: str) -> str:
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    return "".join(out)


class EscapedAtoms(SafeAtoms):
    """gunicorn's atoms with every text escaped (see the module docstring)."""

    def __init__(self, atoms):
        dict.__init__(self)
        for key, value in atoms.items():
            self[key] = escape(value) if isinstance(value, str) else value


class EscapingLogger(Logger):
    """gunicorn's logger, writing access lines from escaped atoms."""

    atoms_wrapper_class = EscapedAtoms
