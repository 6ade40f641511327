"""gunicorn settings shared by `make run`, the live tests and the benchmarks.

Threaded workers: browsers open connections they send nothing on yet (Chromium's
preconnects, its PDF viewer). A sync worker waits on such a socket until its 30 s timeout
and is then killed, so with two workers two idle sockets stalled every client and the front
desk. A gthread worker watches idle sockets with a selector and serves requests from its
threads; each thread keeps its own database connection (screening/db.py).

Use: gunicorn -c python:screening.gunicorn_conf ...
"""

worker_class = "gthread"
# Four threads: gunicorn 27 lends a fresh connection a thread for up to 5 s while it waits
# for the request, so with two, four idle browser sockets stalled everyone (test_serving).
# Saves from one worker's threads queue on a lock (screening/db.py), not on SQLite.
threads = 4
# No keep-alive: a gthread worker takes any number of connections, so kept-alive ones
# bunched on one worker and the other sat idle (`make bench`: one round in two at half
# speed, one worker doing five times the other's work). Closed after each response, every
# request goes to whichever worker is free. A proxy in front still keeps browsers'
# connections.
keepalive = 0
# One line per request, which the request cannot split or forge (screening/access_log.py):
# the address, the method, the path without its query string (names are never in URLs, but
# a query is still the caller's free text), the protocol, the status, the size, the time.
logger_class = "screening.access_log.EscapingLogger"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'
