"""The ceiling: a bare Flask app returning a small JSON document, served like the API.

``gunicorn bench.bare_app:app`` with the same worker settings as the API; every figure of the
benchmark is reported as a ratio to this app's throughput on the same machine in the same run.
"""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def hello():
    return jsonify(status="ok", service="bare-flask", items=[1, 2, 3])
