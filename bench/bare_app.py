"""The floor for the wizard benchmarks: a bare Flask app that answers "ok", nothing else.

Served by gunicorn with the app's own settings (`gunicorn ... bare_app:app` from bench/), so
the ratio of the wizard's figures to these shows the app's cost, not the machine's.
"""

from flask import Flask

app = Flask(__name__)


@app.route("/", methods=["GET", "POST"])
def ok():
    return "ok"
