"""gunicorn's settings for the app servers: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Read from the environment, with the defaults production wants (README, Serving in production):

- ``GUNICORN_BIND`` (``0.0.0.0:8000``), ``GUNICORN_WORKERS`` (2 × cores + 1),
  ``GUNICORN_THREADS`` (1), ``GUNICORN_TIMEOUT`` (30 s).
- ``PROMETHEUS_MULTIPROC_DIR``: where each worker writes its metrics (prometheus_client's
  multiprocess mode), so ``/metrics`` adds every worker up. The folder is emptied when the
  server starts (a restart must not add the last run's counts) and a dead worker is marked
  (``child_exit``), so its live gauges (connections in use) stop counting.
- The app itself trusts forwarded headers from ``TRUSTED_PROXIES`` hops (Werkzeug's
  ProxyFix); gunicorn's own ``forwarded_allow_ips`` is left at loopback, so gunicorn never
  rewrites the scheme or address it was told by anyone further away.

``tests/test_deploy.py`` loads this file and checks each setting with gunicorn's own validators.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = _int("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count() + 1)
threads = _int("GUNICORN_THREADS", 1)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)
keepalive = 5
# The app writes one JSON line per request itself (observability.py); gunicorn's own access log
# would repeat it without the request id.
accesslog = None
errorlog = "-"
# Bounded request lines and headers (the app bounds bodies itself).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# Restart workers now and then, each at its own moment, so slow leaks never build up.
max_requests = 20000
max_requests_jitter = 2000
# No control socket: its default place is shared by every server on the machine (two app
# servers would fight over it) and lies in a home folder the image keeps read-only.
control_socket_disable = True
# Read the metrics folder once here, not at each hook: the environment is the master's.
metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def on_starting(server) -> None:
    """Empty the metrics folder: counts of an earlier run must not be added to this one's."""
    if not metrics_dir:
        return
    folder = Path(metrics_dir)
    if folder.exists():
        for item in folder.iterdir():
            if item.is_dir():
                shutil.rmtree(item)
            else:
                item.unlink()
    folder.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker) -> None:
    """A worker has gone: its live gauges no longer count (its counters still do)."""
    if not metrics_dir:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, metrics_dir)
