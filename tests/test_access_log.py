"""The access log keeps one line per request, whatever the request holds (issue 17, finding
4): with the Makefile's format (`%(U)s`, the decoded path) `%0d%0a` in a URL wrote a line
of the caller's choosing, and NUL bytes reached the log. Tested against a real gunicorn
started as `make run` starts it."""

from __future__ import annotations

import re
import shlex
import socket

from screening.access_log import escape
from screening.config import ROOT

# A request line a client can send: CR LF, NUL, an escape sequence, quotes and backslashes,
# raw and percent-encoded, and bytes that are not UTF-8.
PATHS = [
    b"/%0d%0a127.0.0.1%20%22GET%20/forged%20HTTP/1.1%22%20200%20-%200ms",
    b"/a%00b",
    b"/%1b[31mred%1b[0m",
    b"/%22%20200%20-%200ms%0a",
    b"/back%5c%22slash",
    b"/caf%c3%a9%ff%85",
    b'/"quoted"\\',
    b"/\x1b[2Jraw-escape",
]
LINE = re.compile(r'^\S+ "(?:[^"\\]|\\.)*" \d{3} \S+ \d+ms$')


def make_run_arguments() -> list[str]:
    """The access-log options `make run` passes to gunicorn (besides gunicorn_conf)."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0].replace("\\\n", " ")
    words = shlex.split(recipe.replace("$(BIN)/gunicorn", "gunicorn"))
    options = []
    for i, word in enumerate(words):
        if word in ("--access-logformat", "--access-logfile"):
            options += [word, words[i + 1]]
    return options


def send(port: int, path: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    return reply


def test_requests_cannot_split_or_forge_access_log_lines(gunicorn):
    options = make_run_arguments()
    assert "--access-logfile" in options  # `make run` logs requests
    server = gunicorn(workers=1, args=tuple(options))
    statuses = [send(server.port, path).split(b" ", 2)[1] for path in PATHS]
    # gunicorn itself refuses a raw control character in the request line (400, never
    # logged as a request); everything else reaches the app (404).
    assert statuses == [b"404"] * (len(PATHS) - 1) + [b"400"], statuses
    log = server.stdout()
    lines = [line for line in log.split("\n") if line]
    # The start-up check (GET /) and one line per request the app answered: no more.
    assert len(lines) == len(PATHS), log
    bad = [line for line in lines if not LINE.match(line)]
    assert not bad, bad
    assert "forged" in log and not any("forged" in line.split('"')[0] for line in lines)
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", log), repr(log)  # newlines end lines


def test_escape_leaves_plain_text_alone_and_escapes_the_rest():
    assert escape("/staff/day") == "/staff/day"
    assert escape('a"b\\c') == 'a\\"b\\\\c'
    assert escape("\r\n\x00\x1b\x7f\x85é") == "\\x0d\\x0a\\x00\\x1b\\x7f\\x85\\xe9"
    assert escape("\u202e") == "\\u202e"
