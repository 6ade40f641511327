"""The floor for the served benchmarks: a bare Flask app, nothing else.

Served by gunicorn with the app's own settings (`gunicorn ... bare_app:app` from bench/), so
the ratio of the app's figures to these shows the app's cost, not the machine's. `/` answers
"ok" (the wizard's floor); `/bytes/<n>` answers n bytes as a PDF would be sent (the floor for
printing a stored summary of that size).
"""

from flask import Flask, Response

app = Flask(__name__)


@app.route("/", methods=["GET", "POST"])
def ok():
    return "ok"


@app.get("/bytes/<int(max=50000000):size>")
def some_bytes(size: int):
    response = Response(b"%" * size, mimetype="application/pdf")
    response.headers["Content-Disposition"] = 'inline; filename="bare.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response
