"""`make bench`: the API under load on PostgreSQL, measured against a bare Flask app.

What one run does (about twelve minutes on two cores with ``--skip-scale``; all on 127.0.0.1):

1. installs ``wrk`` if it is missing (Debian's package); creates the database
   ``partnership_bench`` afresh, migrates it (``flask db upgrade``), checks that the migrations
   create every table and column the models declare, and runs ``flask seed-demo``;
2. loads 50 more refuges (each with its own provider organisation and staff user) and
   10,000 referrals with server-side SQL (``bench/load_data.py``), ``VACUUM (ANALYZE)``, and
   copies that database as ``partnership_bench_small`` for the scale step; times the
   safe-accommodation return of the last whole financial year (``bench/safe_accommodation.py``);
3. grows the main database to 100,000 referrals (and times the return again) and adds 200
   funding projects;
4. starts the API (gunicorn, sync workers, ``2 × cores + 1``, ``APP_ENV=production``, at the
   production log level ``INFO``: one JSON access-log line per request, written to a file as
   in production) and the bare Flask app (``bench/bare_app.py``) the same way, and signs in
   through the API;
5. throughput: ``wrk`` with 32 connections on 2 threads, a warm-up then 10 s, for bed search,
   the inbox's first page, a referral read (which writes its audit event), an availability
   update with ``If-Match``, and two web pages signed in with a page session cookie (the bed
   board with a household's search, the referral inbox; ``bench/pages.py``: their server time
   is the access log's ``duration_ms``), each between two runs of the bare app (its ratio uses
   their mean); meanwhile two delivery workers send every event to ``--webhooks`` endpoints (4)
   on a loopback receiver (``bench/events.py``): the delivery lag (p50, p99) and events per second;
   then, the workers stopped, the availability update again (its target row; the run with the
   workers delivering is reported beside it);
6. scale: grows the main database to 1,000,000 referrals, serves both databases at once and
   measures the median latency of the inbox's first page and of bed search with sequential
   requests alternating between 10,000 and 1,000,000 referrals;
7. prints one table and writes it to ``bench/results/latest.json``; stops what it started and
   drops its two databases (``--keep-db`` keeps them).

``python -m bench.run --help`` lists the options (a quick smoke run, profiling with py-spy).
"""

from __future__ import annotations

import argparse
import http.client
import importlib.metadata
import json
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from bench import events as events_bench
from bench import load_data, pages

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results"
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5432"))
PG_ADMIN = f"postgresql://postgres@{HOST}:{PG_PORT}/postgres"
DB_NAME = "partnership_bench"  # grows: 10,000 → 100,000 (throughput) → 1,000,000 referrals
SMALL_DB_NAME = "partnership_bench_small"  # a copy taken at 10,000 referrals, for the scale step
DB_NAMES = (DB_NAME, SMALL_DB_NAME)


def conninfo(name: str = DB_NAME) -> str:
    return f"postgresql://postgres@{HOST}:{PG_PORT}/{name}"


def database_url(name: str = DB_NAME) -> str:
    return f"postgresql+psycopg://postgres@{HOST}:{PG_PORT}/{name}"


CONNINFO = conninfo()

# Settings read by the app that the benchmark sets itself (anything inherited is dropped).
APP_SETTING_NAMES = (
    "APP_ENV",
    "DATABASE_URL",
    "JWT_SECRET_KEY",
    "ACCESS_TOKEN_MINUTES",
    "REFRESH_TOKEN_HOURS",
    "LOG_LEVEL",
    "LOGIN_FAILURES_BEFORE_LOCK",
    "LOGIN_LOCK_MINUTES",
    "LOGIN_RATE_LIMIT",
    "API_RATE_LIMIT",
    "HOLD_TTL_MINUTES",
    "AVAILABILITY_STALE_AFTER_HOURS",
    "REFERRAL_RETENTION_DAYS",
    "MAX_PAGE_SIZE",
    "DB_STATEMENT_TIMEOUT_MS",
    "DB_CONNECT_TIMEOUT_S",
    "DATABASE_SCHEMA",
    "GRANT_ID_PREFIX",
    "CORS_ORIGINS",
    "DEMO_PASSWORD",
    "ARGON2_TIME_COST",
    "ARGON2_MEMORY_COST",
    "RATELIMIT_ENABLED",
    "REDIS_URL",
    "WEBHOOK_SECRET_KEY",
    "WEBHOOKS_ALLOW_PRIVATE",
    "WEBHOOK_TIMEOUT_SECONDS",
    "WORKER_POLL_SECONDS",
    "EVENT_RETENTION_DAYS",
    "SMTP_URL",
)

BED_SEARCH_PATH = "/api/v1/beds/search?space_type=family&children=2"
INBOX_PATH = "/api/v1/referrals?direction=received&page_size=20"
# The pages people open (signed in with a page session): a household's bed search, the inbox.
BEDS_PAGE_PATH = "/beds?children=2&oldest_son_age=10&exclude_area=E07000197"
INBOX_PAGE_PATH = "/referrals?tab=received"


@dataclass
class Target:
    ratio: float | None
    p99_ms: float | None
    server_median_ms: float | None = None  # the access log's duration_ms (pages)

    def describe(self) -> str:
        if self.ratio is None and self.p99_ms is None and self.server_median_ms is None:
            return "reported (no target)"
        parts = []
        if self.ratio is not None:
            parts.append(f"≥ {self.ratio:.2f}")
        if self.p99_ms is not None:
            parts.append(f"p99 ≤ {self.p99_ms:g} ms")
        if self.server_median_ms is not None:
            parts.append(f"server median < {self.server_median_ms:g} ms")
        return ", ".join(parts)

    def met(self, figures: dict) -> bool:
        if figures["errors"]:
            return False
        if self.ratio is not None and figures["ratio"] < self.ratio:
            return False
        if self.p99_ms is not None and figures["p99_ms"] > self.p99_ms:
            return False
        if self.server_median_ms is not None:
            server = figures.get("server") or {}
            return bool(server.get("requests")) and server["median_ms"] < self.server_median_ms
        return True


@dataclass
class Scenario:
    key: str
    label: str
    target: Target | None
    script: str = "get.lua"
    user: str | None = None
    paths: list[str] = field(default_factory=list)
    bare: bool = False
    page: bool = False  # a web page: a page session cookie, not a bearer token
    data: dict = field(default_factory=dict)
    answer: dict = field(default_factory=dict)


SCALE_TARGET = 1.5
# Measured after the delivery workers have stopped (``Bench.throughput``).
MEASURED_ALONE = frozenset({"availability_update"})


class BenchError(RuntimeError):
    """A step failed; the message says which and why."""


def say(message: str = "") -> None:
    print(message, flush=True)


def step(message: str) -> None:
    say(f"== {message}")


# --- processes ------------------------------------------------------------------------------


class Processes:
    """Everything the benchmark starts, so that ``stop_all`` can end exactly those."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.running: dict[str, tuple[subprocess.Popen, Path]] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = self.workdir / f"{name}.log"
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C reaches us, and we stop it ourselves
            )
        self.running[name] = (proc, log)
        return proc

    def log_tail(self, name: str, lines: int = 30) -> str:
        entry = self.running.get(name)
        path = entry[1] if entry else self.workdir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, name: str) -> None:
        entry = self.running.pop(name, None)
        if entry is None:
            return
        proc = entry[0]
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # its own session: gunicorn and its workers
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --- HTTP on loopback -----------------------------------------------------------------------


def call(
    port: int,
    method: str,
    path: str,
    token: str | None = None,
    body: object = None,
    headers: dict | None = None,
    timeout: float = 30,
) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        sent = {"Accept": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=sent)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def wait_until_up(procs: Processes, name: str, port: int, path: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    last = "no answer"
    while time.monotonic() < deadline:
        proc = procs.running[name][0]
        if proc.poll() is not None:
            raise BenchError(f"{name} exited ({proc.returncode}):\n{procs.log_tail(name)}")
        try:
            status, _, body = call(port, "GET", path, timeout=5)
            if status == 200:
                return
            last = f"HTTP {status} {body[:200]!r}"
        except OSError as error:
            last = str(error)
        time.sleep(0.3)
    raise BenchError(f"{name} did not answer {path} with 200 ({last}):\n{procs.log_tail(name)}")


def alternate_requests(
    servers: dict[str, tuple[int, str]], path: str, warmup: int, requests: int
) -> tuple[dict[str, list[float]], dict[str, dict[int, int]]]:
    """Sequential GETs of ``path``, alternating between the servers (``{size: (port, token)}``)
    in alternating order, so that whatever else the machine does weighs on each alike; the
    first ``warmup`` rounds are not kept. Returns each size's latencies (ms) and statuses."""
    names = list(servers)
    samples: dict[str, list[float]] = {name: [] for name in names}
    statuses: dict[str, dict[int, int]] = {name: {} for name in names}
    for i in range(warmup + requests):
        for name in names if i % 2 == 0 else reversed(names):
            port, token = servers[name]
            t0 = time.perf_counter()
            status, _, _ = call(port, "GET", path, token)
            elapsed = (time.perf_counter() - t0) * 1000
            if i >= warmup:
                samples[name].append(elapsed)
                statuses[name][status] = statuses[name].get(status, 0) + 1
    return samples, statuses


def percentile(ordered: list[float], p: float) -> float:
    """The ``p``-th percentile of sorted samples (nearest rank)."""
    return ordered[max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered))) - 1))]


def login(port: int, username: str, password: str) -> str:
    status, _, body = call(
        port, "POST", "/api/v1/auth/login", body={"username": username, "password": password}
    )
    if status != 200:
        raise BenchError(f"sign-in as {username} failed: HTTP {status} {body[:300]!r}")
    return json.loads(body)["access_token"]


# --- database -------------------------------------------------------------------------------


def admin_connection() -> psycopg.Connection:
    return psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)


def recreate_database() -> None:
    """Drop the benchmark's own databases (never any other) and create the main one."""
    with admin_connection() as conn:
        for name in DB_NAMES:
            drop_database(name, conn)
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))


def copy_database(source: str, target: str) -> None:
    """An exact copy (no one may be connected to ``source`` meanwhile)."""
    with admin_connection() as conn:
        drop_database(target, conn)
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(target), sql.Identifier(source)
            )
        )


def drop_database(name: str, conn: psycopg.Connection | None = None) -> None:
    if name not in DB_NAMES:
        raise BenchError(f"the benchmark drops its own databases only, not {name!r}")
    if conn is None:
        with admin_connection() as admin:
            drop_database(name, admin)
        return
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def flask_cli(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise BenchError(
            f"flask {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout


def check_schema_matches_models() -> None:
    """The migrations must create every table and column the models declare (no create_all)."""
    from partnership_api.extensions import db
    from partnership_api.models import load_all

    load_all()
    with psycopg.connect(CONNINFO) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        ).fetchall()
    present: dict[str, set[str]] = {}
    for table, column in rows:
        present.setdefault(table, set()).add(column)
    problems = []
    for name, table in sorted(db.metadata.tables.items()):
        if name not in present:
            problems.append(f"table {name} is missing")
            continue
        missing = sorted(c.name for c in table.columns if c.name not in present[name])
        if missing:
            problems.append(f"{name} lacks columns {missing}")
    if problems:
        raise BenchError(
            "the migrations do not match the models (regenerate them with "
            "`flask --app wsgi db migrate`): " + "; ".join(problems)
        )


def server_version() -> str:
    with psycopg.connect(CONNINFO) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def data_counts() -> dict[str, int]:
    counts = {}
    with psycopg.connect(CONNINFO) as conn:
        for table in ("referrals", "referral_events", "organisations", "users", "audit_events"):
            counts[table] = conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()[0]
        counts["refuges"] = conn.execute(
            "SELECT count(*) FROM services WHERE kind = 'refuge'"
        ).fetchone()[0]
        if load_data.table_exists(conn, "projects"):
            counts["projects"] = conn.execute("SELECT count(*) FROM projects").fetchone()[0]
    return counts


# --- wrk ------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    say("wrk is not installed: installing Debian's package (apt-get install -y wrk)")
    command = ["apt-get", "install", "-y", "wrk"]
    if os.geteuid() != 0:
        command = ["sudo", "-n", *command]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        # The package lists may be missing on a fresh machine.
        subprocess.run([*command[:-3], "update"], capture_output=True, text=True)
        result = subprocess.run(command, capture_output=True, text=True)
    found = shutil.which("wrk")
    if not found:
        raise BenchError(
            f"could not install wrk:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
    return found


def lua_literal(value: object) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid Lua string for ASCII text
    if isinstance(value, list | tuple):
        return "{" + ", ".join(lua_literal(v) for v in value) + "}"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"[{json.dumps(str(k))}] = {lua_literal(v)}" for k, v in value.items())
            + "}"
        )
    raise TypeError(type(value))


def run_wrk(
    wrk: str, workdir: Path, port: int, scenario: Scenario, seconds: int, args: argparse.Namespace
) -> dict:
    data_file = workdir / f"{scenario.key}.data.lua"
    data_file.write_text("return " + lua_literal(scenario.data) + "\n")
    data_file.chmod(0o600)  # it holds bearer tokens
    env = dict(os.environ, BENCH_DATA=str(data_file), BENCH_LUA_DIR=str(BENCH_DIR))
    argv = [
        wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds}s",
        "--timeout",
        "2s",
        "-s",
        str(BENCH_DIR / scenario.script),
        f"http://{HOST}:{port}/",
    ]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 60)
    for line in result.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            figures = json.loads(line.removeprefix("BENCH_RESULT "))
            break
    else:
        raise BenchError(
            f"wrk gave no result for {scenario.key} ({result.returncode}):\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
    seconds_run = figures["duration_us"] / 1e6
    socket_errors = sum(
        figures[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    figures.update(
        rps=figures["requests"] / seconds_run if seconds_run else 0.0,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        socket_errors=socket_errors,
        errors=socket_errors + figures["non2xx"],
    )
    return figures


# --- CPU per request --------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds used so far by these processes (Linux ``/proc``)."""
    return sum(cpu_by_process(pids).values())


def cpu_by_process(pids: list[int]) -> dict[int, float]:
    """Each live process's user and system CPU seconds so far (gone ones are left out)."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    return found


def children_of(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def postgres_pids() -> list[int]:
    """Every PostgreSQL server process on the machine (backends, WAL writer, checkpointer)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


class CpuMeter:
    """CPU time spent per request by the server's workers, by PostgreSQL and by wrk itself,
    over one measured run: where a request's cost lies, beside how fast it was."""

    def __init__(self, server_pid: int | None):
        self.server_pid = server_pid

    def __enter__(self):
        self.workers = children_of(self.server_pid) if self.server_pid else []
        self.postgres = postgres_pids()
        self.app0 = cpu_by_process(self.workers)
        self.pg0 = cpu_by_process(self.postgres)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.wrk0 = usage.ru_utime + usage.ru_stime
        return self

    def __exit__(self, *exc):
        # Per process: one that ended meanwhile takes its time with it, so it counts for
        # neither side (never a negative figure); one that started counts from zero. The
        # workers are recycled after gunicorn.conf.py's max_requests, so a run can see one
        # end and another start: the app's figure is then a little low, never negative.
        workers = set(self.workers) | set(children_of(self.server_pid) if self.server_pid else [])
        self.app = sum(
            cpu - self.app0.get(pid, 0.0) for pid, cpu in cpu_by_process(sorted(workers)).items()
        )
        after = cpu_by_process(sorted(set(self.postgres) | set(postgres_pids())))
        self.pg = sum(cpu - self.pg0.get(pid, 0.0) for pid, cpu in after.items())
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.wrk = usage.ru_utime + usage.ru_stime - self.wrk0
        return False

    def per_request(self, requests: int) -> dict:
        if not requests:
            return {}
        return {
            "app": round(self.app * 1000 / requests, 3),
            "postgres": round(self.pg * 1000 / requests, 3),
            "wrk": round(self.wrk * 1000 / requests, 3),
        }


# --- the benchmark --------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.workdir = Path(tempfile.mkdtemp(prefix="partnership-bench-"))
        self.procs = Processes(self.workdir)
        self.password = os.environ.get("DEMO_PASSWORD") or secrets.token_urlsafe(18)
        self.jwt_secret = secrets.token_urlsafe(36)  # 48 characters
        self.webhook_key = secrets.token_urlsafe(36)  # seals the webhooks' secrets
        self.receiver: events_bench.Receiver | None = None
        self.cpus = os.cpu_count() or 1
        self.workers = 2 * self.cpus + 1
        self.app_port = free_port()
        self.limited_port = free_port()  # the same API with rate limiting on
        self.bare_port = free_port()
        self.tokens: dict[str, str] = {}
        self.refuges: list[dict] = []
        self.bare_runs: list[dict] = []  # every run of the bare app, in order
        self.results: dict = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "cpu_count": self.cpus,
            "gunicorn_workers": self.workers,
            "connections": args.connections,
            "threads": args.threads,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "scenarios": {},
            "scale": {},
            "notes": [],
            "timings_s": {},
        }
        self.db_created = False
        self.wrk = ""

    # environment ---------------------------------------------------------------------------

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in APP_SETTING_NAMES}
        env.update(DATABASE_URL=database_url(), PYTHONDONTWRITEBYTECODE="1")
        redis = os.environ.get("REDIS_URL", "")
        if redis.startswith(("redis://127.0.0.1", "redis://localhost")):
            env["REDIS_URL"] = redis
        return env

    def cli_env(self) -> dict[str, str]:
        return {**self.base_env(), "APP_ENV": "development", "DEMO_PASSWORD": self.password}

    def server_env(self, db_name: str = DB_NAME, rate_limits: bool = False) -> dict[str, str]:
        """The API's settings: at INFO, rate limiting off (``rate_limits``: on, with limits
        too high to refuse the load, so its own cost shows)."""
        return {
            **self.base_env(),
            "DATABASE_URL": database_url(db_name),
            "APP_ENV": "production",
            "JWT_SECRET_KEY": self.jwt_secret,
            "WEBHOOK_SECRET_KEY": self.webhook_key,
            # The production default: the access log is on, one JSON line per request, and it
            # goes to a file (the server's output is redirected to <workdir>/api.log).
            "LOG_LEVEL": "INFO",
            "RATELIMIT_ENABLED": "true" if rate_limits else "false",
            "API_RATE_LIMIT": "1000000 per minute",
            "LOGIN_RATE_LIMIT": "1000000 per minute",
            "ORUK_RATE_LIMIT": "1000000 per minute",
            "ACCESS_TOKEN_MINUTES": "240",
        }

    def worker_env(self) -> dict[str, str]:
        """The delivery workers: the API's settings, but allowed to call the loopback receiver
        (development only: production refuses WEBHOOKS_ALLOW_PRIVATE)."""
        return {
            **self.server_env(),
            "APP_ENV": "development",
            "WEBHOOKS_ALLOW_PRIVATE": "true",
            "LOG_LEVEL": "WARNING",
        }

    def timed(self, name: str, started: float) -> None:
        self.results["timings_s"][name] = round(time.monotonic() - started, 1)

    # steps ---------------------------------------------------------------------------------

    def run(self) -> int:
        run_started = time.monotonic()
        self.results["load_average_at_start"] = os.getloadavg()
        if os.getloadavg()[0] > 0.5 * self.cpus:
            self.results["notes"].append(
                f"the machine was busy when the run started (load average "
                f"{os.getloadavg()[0]:.1f} on {self.cpus} CPUs): expect noisy figures"
            )
        self.wrk = ensure_wrk()
        self.prepare_database()
        self.load_first_size()
        self.time_return("county")
        if not self.args.skip_scale:
            copy_database(DB_NAME, SMALL_DB_NAME)
        self.grow_to(self.args.referrals, "throughput")
        self.time_return("national")
        self.load_funding()
        self.start_servers()
        self.sign_in()
        self.start_events()
        self.throughput()
        self.finish_events()
        self.throughput(alone=True)
        if not self.args.skip_outbox_cost:
            self.outbox_cost()
        self.note_access_log()
        if not self.args.skip_scale:
            self.procs.stop("api")
            self.grow_to(self.args.scale_large, "scale_large")
            self.measure_scale()
        self.collect_versions()
        self.results["data"] = data_counts()
        self.results["load_average_at_end"] = os.getloadavg()
        self.timed("total", run_started)
        return self.report()

    def prepare_database(self) -> None:
        started = time.monotonic()
        step(f"database {DB_NAME} on {HOST}:{PG_PORT}: drop, create, migrate, seed")
        recreate_database()
        self.db_created = True
        flask_cli(["db", "upgrade"], self.cli_env())
        check_schema_matches_models()
        flask_cli(["seed-demo"], self.cli_env())
        self.timed("migrate_and_seed", started)

    def load_first_size(self) -> None:
        started = time.monotonic()
        step(f"loading {self.args.refuges} refuges and {self.args.scale_small:,} referrals")
        with psycopg.connect(CONNINFO) as conn:
            password_hash = conn.execute(
                "SELECT password_hash FROM users WHERE username = 'swa.staff'"
            ).fetchone()
            if password_hash is None:
                raise BenchError("seed-demo made no user swa.staff")
            self.refuges = load_data.load_refuges(conn, self.args.refuges, password_hash[0])
            load_data.add_referrals(conn, self.args.scale_small)
        load_data.vacuum_analyze(CONNINFO)
        self.timed("load_first_size", started)

    def grow_to(self, total: int, label: str) -> None:
        started = time.monotonic()
        with psycopg.connect(CONNINFO) as conn:
            have = load_data.referral_count(conn)
            if total > have:
                step(f"growing the referrals from {have:,} to {total:,}")
                load_data.add_referrals(conn, total - have, seed=0.42 + total / 1e9)
        load_data.vacuum_analyze(CONNINFO)
        self.timed(f"grow_to_{label}", started)

    def time_return(self, label: str) -> None:
        """The safe-accommodation return of the last whole financial year, at this size."""
        today = datetime.now(UTC)
        year = today.year - (2 if today.month < 4 else 1)
        step(f"timing the safe-accommodation return {year} ({label})")
        result = subprocess.run(
            [sys.executable, "-m", "bench.safe_accommodation", str(year)],
            cwd=ROOT,
            env=self.cli_env(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            raise BenchError(f"the return's timing failed:\n{result.stderr[-3000:]}")
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        self.results.setdefault("safe_accommodation_return", {})[label] = figures
        say(
            f"  {figures['referrals_in_year']:,} referrals in {figures['year']} "
            f"({figures['referrals_in_database']:,} in all): median {figures['median_ms']} ms"
        )

    def load_funding(self) -> None:
        with psycopg.connect(CONNINFO) as conn:
            note = load_data.load_funding(conn, self.args.projects)
        if note.startswith("skipped"):
            say(f"  funding: {note}")
            self.results["notes"].append(f"funding projects {note}")

    def start_servers(self) -> None:
        step(
            f"starting the API (rate limiting off, and on), and the bare Flask app "
            f"({self.workers} sync workers each)"
        )
        self.start_app()
        self.procs.start(
            "api-limited",
            self.gunicorn_argv(self.limited_port, "wsgi:app"),
            self.server_env(rate_limits=True),
        )
        wait_until_up(self.procs, "api-limited", self.limited_port, "/readyz")
        self.procs.start(
            "bare",
            self.gunicorn_argv(self.bare_port, "bench.bare_app:app"),
            {k: v for k, v in self.base_env().items() if k != "DATABASE_URL"},
        )
        wait_until_up(self.procs, "bare", self.bare_port, "/")

    def gunicorn_argv(self, port: int, app: str) -> list[str]:
        return [
            str(VENV_BIN / "gunicorn"),
            "-w",
            str(self.workers),
            "-k",
            "sync",
            "-b",
            f"{HOST}:{port}",
            "--log-level",
            "warning",
            # No worker recycled in the middle of a measured run (gunicorn.conf.py recycles
            # each after about 20,000 requests): booting a worker costs the API's far more than
            # the bare app's, and where it falls in a 10-second run moved ratios by a fifth.
            "--max-requests",
            "0",
            app,
        ]

    def start_app(self, name: str = "api", port: int = 0, db_name: str = DB_NAME) -> None:
        port = port or self.app_port
        self.procs.start(name, self.gunicorn_argv(port, "wsgi:app"), self.server_env(db_name))
        # /readyz: the database answers and its schema is at the newest migration.
        wait_until_up(self.procs, name, port, "/readyz")

    def sign_in(self) -> None:
        started = time.monotonic()
        for username in ("police.officer", "swa.staff"):
            self.tokens[username] = login(self.app_port, username, self.password)
        for refuge in self.refuges:
            refuge["token"] = login(self.app_port, refuge["username"], self.password)
        self.timed("sign_in", started)

    # events --------------------------------------------------------------------------------

    def start_events(self) -> None:
        """Webhook endpoints on a loopback receiver, and two delivery workers, for the whole
        throughput step (the scenarios' events are delivered while they run)."""
        if self.args.webhooks <= 0:
            return
        self.receiver = events_bench.Receiver(HOST)
        self.receiver.start()
        organisations = events_bench.bench_organisations(CONNINFO, self.refuges, self.args.webhooks)
        made = events_bench.register_endpoints(
            {
                "SQLALCHEMY_DATABASE_URI": database_url(),
                "JWT_SECRET_KEY": self.jwt_secret,
                "WEBHOOK_SECRET_KEY": self.webhook_key,
                "LOG_LEVEL": "WARNING",
            },
            organisations,
            self.receiver,
        )
        step(f"events: {made} webhook endpoints on a loopback receiver, 2 delivery workers")
        for number in (1, 2):
            self.procs.start(
                f"worker-{number}",
                [str(VENV_BIN / "flask"), "--app", "wsgi", "deliver", "--name", f"bench-{number}"],
                self.worker_env(),
            )
        self.results["events"] = {"endpoints": made, "workers": 2}

    def finish_events(self) -> None:
        if self.receiver is None:
            return
        drained = events_bench.wait_for_drain(CONNINFO, self.receiver)
        for number in (1, 2):
            proc = self.procs.running.get(f"worker-{number}")
            if proc and proc[0].poll() is not None:
                self.results["notes"].append(
                    f"delivery worker {number} exited: {self.procs.log_tail(f'worker-{number}')}"
                )
            self.procs.stop(f"worker-{number}")
        figures = events_bench.summarise(
            self.receiver.snapshot(), self.results["events"]["endpoints"], drained
        )
        self.receiver.stop()
        self.receiver = None
        self.results["events"].update(figures)
        if figures.get("deliveries"):
            say(
                f"  webhook deliveries: {figures['deliveries']:,} ({figures['events']:,} events "
                f"to {figures['endpoints']} endpoints), {figures['events_per_s']:.1f} events/s, "
                f"lag p50 {figures['lag_p50_ms']:.0f} ms p99 {figures['lag_p99_ms']:.0f} ms"
                + ("" if drained else "  (NOT caught up after 120 s)")
            )

    # scale ---------------------------------------------------------------------------------

    def measure_scale(self) -> None:
        """Median latency at both sizes, side by side.

        Two API servers, one on the copy taken at the small size and one on the grown database,
        and the sequential requests alternate between them (in alternating order), so that
        whatever else the machine is doing weighs on both sizes alike.
        """
        started = time.monotonic()
        small_port = free_port()
        self.start_app("api_small", small_port, SMALL_DB_NAME)
        self.start_app("api", self.app_port, DB_NAME)
        sizes = {}
        for size, db_name, port in (
            ("small", SMALL_DB_NAME, small_port),
            ("large", DB_NAME, self.app_port),
        ):
            with psycopg.connect(conninfo(db_name)) as conn:
                count = load_data.referral_count(conn)
            tokens = {u: login(port, u, self.password) for u in ("swa.staff", "police.officer")}
            sizes[size] = (count, port, tokens)
        step(
            f"scale: {sizes['small'][0]:,} vs {sizes['large'][0]:,} referrals, "
            f"{self.args.scale_requests} sequential requests each, alternating"
        )
        for key, user, path in (
            ("inbox", "swa.staff", INBOX_PATH),
            ("bed_search", "police.officer", BED_SEARCH_PATH),
        ):
            samples, statuses = alternate_requests(
                {size: (port, tokens[user]) for size, (_, port, tokens) in sizes.items()},
                path,
                self.args.scale_warmup,
                self.args.scale_requests,
            )
            entry = self.results["scale"].setdefault(key, {"path": path, "user": user})
            for size in ("small", "large"):
                ordered = sorted(samples[size])
                entry[size] = {
                    "referrals": sizes[size][0],
                    "requests": len(ordered),
                    "median_ms": round(statistics.median(ordered), 2),
                    "p90_ms": round(ordered[int(len(ordered) * 0.9) - 1], 2),
                    "statuses": {str(k): v for k, v in sorted(statuses[size].items())},
                    "errors": sum(v for k, v in statuses[size].items() if not 200 <= k < 300),
                }
                say(
                    f"  {key:<11} {sizes[size][0]:>9,} referrals: median "
                    f"{entry[size]['median_ms']:7.2f} ms  p90 {entry[size]['p90_ms']:7.2f} ms  "
                    f"statuses {entry[size]['statuses']}"
                )
        self.procs.stop("api_small")
        self.timed("scale", started)

    # throughput ----------------------------------------------------------------------------

    def scenarios(self) -> list[Scenario]:
        with psycopg.connect(CONNINFO) as conn:
            police = conn.execute(
                "SELECT id FROM organisations WHERE name = 'Staffordshire Police'"
            ).fetchone()
            ids = [
                str(r[0])
                for r in conn.execute(
                    "SELECT id FROM referrals WHERE from_organisation_id = %s "
                    "ORDER BY md5(id::text) LIMIT %s",
                    (police[0] if police else -1, self.args.read_ids),
                ).fetchall()
            ]
        return [
            Scenario(
                "bed_search",
                "bed search (2 filters)",
                Target(0.40, 30),
                user="police.officer",
                paths=[BED_SEARCH_PATH],
            ),
            Scenario(
                "inbox",
                "inbox first page (20)",
                Target(0.15, 60),
                user="swa.staff",
                paths=[INBOX_PATH],
            ),
            Scenario(
                "referral_read",
                "referral read + audit",
                Target(0.18, 60),
                user="police.officer",
                paths=[f"/api/v1/referrals/{i}" for i in ids],
            ),
            Scenario(
                "availability_update",
                "availability update (If-Match)",
                Target(0.12, 100),
                script="availability.lua",
            ),
            Scenario(
                "availability_update_delivering",
                "availability update, 2 workers delivering",
                Target(None, None),
                script="availability.lua",
            ),
            Scenario(
                "beds_page",
                "bed board page (household)",
                Target(None, None, server_median_ms=100),
                user="police.officer",
                paths=[BEDS_PAGE_PATH],
                page=True,
            ),
            Scenario(
                "inbox_page",
                "inbox page (20)",
                Target(None, None, server_median_ms=100),
                user="swa.staff",
                paths=[INBOX_PAGE_PATH],
                page=True,
            ),
        ]

    def probe(self, scenario: Scenario) -> str | None:
        """One request the scenario will make, checked by hand; returns why it cannot run."""
        if scenario.script == "availability.lua":
            return self.probe_availability(scenario)
        if scenario.page:
            return self.probe_page(scenario)
        if not scenario.paths:
            return "no referral the police sent to read"
        status, headers, body = call(
            self.app_port, "GET", scenario.paths[0], self.tokens[scenario.user]
        )
        if status != 200:
            return f"GET {scenario.paths[0]} answered HTTP {status}: {body[:200]!r}"
        # What one answer holds, so that nobody mistakes a fast empty answer for a fast search.
        answer = json.loads(body)
        shape = {"bytes": len(body)}
        if isinstance(answer, list):
            shape["items"] = len(answer)
        pagination = {k.lower(): v for k, v in headers.items()}.get("x-pagination")
        if pagination:
            shape["x_pagination"] = json.loads(pagination)
        scenario.answer = shape
        if isinstance(answer, list) and not answer:
            return f"GET {scenario.paths[0]} answered an empty list: nothing to measure"
        scenario.data = {"token": self.tokens[scenario.user], "paths": scenario.paths}
        return None

    def probe_page(self, scenario: Scenario) -> str | None:
        """Sign in to the pages as the scenario's user (just now: the session's last-use time
        stays within a minute, so no answer rewrites the cookie) and check the page opens."""
        try:
            cookie = pages.page_session(self.app_port, scenario.user, self.password)
        except (pages.PageError, OSError) as error:
            return f"page sign-in as {scenario.user} failed: {error}"
        status, body = pages.get_page(self.app_port, scenario.paths[0], cookie)
        if status != 200:
            return f"GET {scenario.paths[0]} answered HTTP {status}: {body[:200]!r}"
        scenario.answer = {"bytes": len(body)}
        scenario.data = {
            "token": "",
            "cookie": cookie,
            "accept": "text/html",
            "paths": scenario.paths,
        }
        return None

    def probe_availability(self, scenario: Scenario) -> str | None:
        refuges = []
        for refuge in self.refuges:
            path = f"/api/v1/refuges/{refuge['service_id']}/availability"
            status, headers, body = call(self.app_port, "GET", path, refuge["token"])
            if status != 200:
                return f"GET {path} answered HTTP {status}: {body[:200]!r}"
            etag = {k.lower(): v for k, v in headers.items()}.get("etag")
            if not etag:
                return f"GET {path} sent no ETag"
            refuges.append(
                {
                    "id": refuge["service_id"],
                    "token": refuge["token"],
                    "etag": etag,
                    "spaces": [[s["space_type"], s["total"]] for s in refuge["spaces"]],
                }
            )
        per_thread = len(refuges) // self.args.threads
        if per_thread < -(-self.args.connections // self.args.threads):
            return (
                f"{len(refuges)} refuges cannot give each of {self.args.connections} "
                "connections its own refuge"
            )
        scenario.data = {"threads": self.args.threads, "refuges": refuges}
        return None

    def note_access_log(self) -> None:
        """How many access-log lines the API wrote to its log file: proof that it logged."""
        lines = 0
        with open(self.workdir / "api.log", "rb") as log:
            for line in log:
                lines += b'"logger":"partnership_api.access"' in line
        self.results["access_log_lines"] = lines
        self.results["notes"].append(
            f"log level INFO: the API wrote {lines:,} JSON access-log lines to its log file"
        )

    def throughput(self, alone: bool = False) -> None:
        """Each API scenario in ``--rounds`` (3) alternating rounds, each round one run with
        rate limiting off and one with it on (``api-limited``: the same app with
        ``RATELIMIT_ENABLED=true`` and limits too high to refuse the load), their order
        swapped every round, and a run of the bare app after each round; a page once. Every
        ratio uses the mean of the bare runs around the scenario's own runs.

        Other work on the machine can move absolute figures by tens of per cent within a
        minute; measuring the ceiling between the runs and alternating the two settings keeps
        that drift out of the ratios and out of the comparison of the two.

        Called twice: first while the two delivery workers send every event (every scenario
        but those in ``MEASURED_ALONE``, the availability update among them as
        ``availability_update_delivering``), then, with ``alone``, after they have stopped:
        the availability update's own cost, which its target is for (the workers are a
        process of their own, which production runs beside the web servers or elsewhere; on
        this machine they take the same two cores).
        """
        started = time.monotonic()
        args = self.args
        step(
            f"throughput{' (no delivery worker running)' if alone else ''}: wrk "
            f"-t{args.threads} -c{args.connections}, {args.warmup} s warm-up then "
            f"{args.duration} s each; API scenarios in {args.rounds} alternating rounds, "
            "rate limiting off and on"
        )
        bare = Scenario(
            "bare", "bare Flask (ceiling)", None, bare=True, data={"token": "", "paths": ["/"]}
        )
        bare_runs = self.bare_runs
        bare_runs.append(self.wrk_scenario(bare, self.bare_port))
        for scenario in self.scenarios():
            if args.scenarios and scenario.key not in args.scenarios:
                continue
            if (scenario.key in MEASURED_ALONE) != alone:
                continue
            reason = self.probe(scenario)
            if reason:
                say(f"  {scenario.label}: NOT RUN: {reason}")
                self.results["scenarios"][scenario.key] = {
                    "label": scenario.label,
                    "skipped": reason,
                    "target": vars(scenario.target),
                }
                continue
            first_bare = len(bare_runs) - 1
            if scenario.page:
                figures = self.wrk_scenario(scenario, self.app_port)
                bare_runs.append(self.wrk_scenario(bare, self.bare_port))
            else:
                figures = self.rounds(scenario, bare, bare_runs)
            ceiling = statistics.mean(r["rps"] for r in bare_runs[first_bare:])
            figures.update(
                label=scenario.label,
                target=vars(scenario.target),
                bare_rps=ceiling,
                ratio=figures["rps"] / ceiling if ceiling else 0.0,
            )
            limited = figures.get("limits_on")
            if limited:
                limited["ratio"] = limited["rps"] / ceiling if ceiling else 0.0
                say(
                    f"  {scenario.label}: limits off {figures['rps']:.1f} req/s "
                    f"(ratio {figures['ratio']:.3f}, p99 {figures['p99_ms']:.1f} ms), "
                    f"on {limited['rps']:.1f} req/s (ratio {limited['ratio']:.3f}, "
                    f"p99 {limited['p99_ms']:.1f} ms), bare {ceiling:.0f} req/s"
                )
            if scenario.answer:
                figures["answer"] = scenario.answer
            if scenario.paths:
                figures["path"] = (
                    scenario.paths[0]
                    if len(scenario.paths) == 1
                    else (
                        f"/api/v1/referrals/<id> over {len(scenario.paths)} referrals "
                        "the police sent"
                    )
                )
                figures["user"] = scenario.user
            elif scenario.script == "availability.lua":
                figures["path"] = "PUT /api/v1/refuges/<id>/availability"
                figures["user"] = f"each refuge's own staff ({len(self.refuges)} refuges)"
            self.results["scenarios"][scenario.key] = figures
            if args.profile:
                self.profile(scenario)
        if alone:
            self.procs.stop("api-limited")
            order = [s.key for s in self.scenarios()]
            measured = self.results["scenarios"]
            self.results["scenarios"] = {
                key: measured[key]
                for key in sorted(measured, key=lambda k: order.index(k) if k in order else 99)
            }
        else:
            self.results["notes"].append(
                f"API scenarios: the mean of {args.rounds} alternating rounds each; rate "
                "limiting off in the main columns, on (limits too high to refuse the load) in "
                "the last. The availability update's target row is measured after the delivery "
                "workers stopped; the row 'availability update, 2 workers delivering' is the "
                "same update while they send every event on the same two cores"
            )
        rps = [r["rps"] for r in bare_runs]
        self.results["bare"] = {
            "label": bare.label,
            "rps": statistics.mean(rps),
            "rps_runs": rps,
            "rps_spread": (max(rps) - min(rps)) / statistics.mean(rps) if rps else 0.0,
            "p50_ms": statistics.mean(r["p50_ms"] for r in bare_runs),
            "p99_ms": statistics.mean(r["p99_ms"] for r in bare_runs),
            "errors": sum(r["errors"] for r in bare_runs),
            "cpu_ms_per_request": {
                name: statistics.mean(r["cpu_ms_per_request"].get(name, 0.0) for r in bare_runs)
                for name in ("app", "postgres", "wrk")
            },
            "runs": bare_runs,
        }
        self.timed("throughput_alone" if alone else "throughput", started)

    def rounds(self, scenario: Scenario, bare: Scenario, bare_runs: list[dict]) -> dict:
        """``--rounds`` rounds of the scenario with rate limiting off and on (the order swapped
        each round), a bare run after each; the figures with it off, and ``limits_on``."""
        runs: dict[str, list[dict]] = {"off": [], "on": []}
        servers = {"off": (self.app_port, "api"), "on": (self.limited_port, "api-limited")}
        for number in range(self.args.rounds):
            for setting in ("off", "on") if number % 2 == 0 else ("on", "off"):
                port, name = servers[setting]
                if scenario.script == "availability.lua":
                    reason = self.probe_availability(scenario)  # current ETags
                    if reason:
                        raise BenchError(f"availability before a round: {reason}")
                say(f"    round {number + 1}, rate limiting {setting}:")
                runs[setting].append(self.wrk_scenario(scenario, port, name))
            bare_runs.append(self.wrk_scenario(bare, self.bare_port))
        figures = combine_runs(runs["off"])
        figures["limits_on"] = combine_runs(runs["on"])
        return figures

    def outbox_cost(self) -> None:
        """What writing its events costs a change, measured in one run: the availability update
        (a change that writes an event on every request) through the API as it is and through
        the same code with the outbox switched off (``bench/no_outbox.py``), on the same
        database, with no delivery worker running (the deliveries' own cost shows in the
        throughput step, where they run). The two alternate (``--outbox-rounds``, 5), so a
        drift of the machine falls on both alike; the bare app runs before and after give the
        ratios."""
        started = time.monotonic()
        step("the outbox's cost: availability update with and without it, alternately")
        scenario = next(s for s in self.scenarios() if s.key == "availability_update")
        bare = Scenario(
            "bare", "bare Flask (ceiling)", None, bare=True, data={"token": "", "paths": ["/"]}
        )
        port = free_port()
        self.procs.start(
            "api-no-outbox", self.gunicorn_argv(port, "bench.no_outbox:app"), self.server_env()
        )
        wait_until_up(self.procs, "api-no-outbox", port, "/readyz")
        rps: dict[str, list[float]] = {"with": [], "without": []}
        errors = 0
        bare_rps = [self.wrk_scenario(bare, self.bare_port)["rps"]]
        try:
            for _round in range(self.args.outbox_rounds):
                for key, app_port, server in (
                    ("with", self.app_port, "api"),
                    ("without", port, "api-no-outbox"),
                ):
                    reason = self.probe_availability(scenario)
                    if reason:
                        raise BenchError(f"availability before the outbox's cost: {reason}")
                    figures = self.wrk_scenario(scenario, app_port, server)
                    rps[key].append(figures["rps"])
                    errors += figures["errors"]
        finally:
            self.procs.stop("api-no-outbox")
        bare_rps.append(self.wrk_scenario(bare, self.bare_port)["rps"])
        ceiling = statistics.mean(bare_rps)
        with_outbox, without = statistics.mean(rps["with"]), statistics.mean(rps["without"])
        cost = {
            "rps_with": rps["with"],
            "rps_without": rps["without"],
            "bare_rps": bare_rps,
            "ratio_with": with_outbox / ceiling if ceiling else 0.0,
            "ratio_without": without / ceiling if ceiling else 0.0,
            "drop": 1 - with_outbox / without if without else 0.0,
            "target_drop": OUTBOX_COST_TARGET,
            "errors": errors,
        }
        self.results["outbox_cost"] = cost
        say(
            f"  availability update with the outbox {with_outbox:.1f} req/s "
            f"({', '.join(f'{r:.0f}' for r in rps['with'])}), without {without:.1f} "
            f"({', '.join(f'{r:.0f}' for r in rps['without'])}): "
            f"{100 * cost['drop']:+.1f} % drop, errors {errors}"
        )
        self.timed("outbox_cost", started)

    def wrk_scenario(self, scenario: Scenario, port: int, server_name: str = "api") -> dict:
        if self.args.warmup:
            run_wrk(self.wrk, self.workdir, port, scenario, self.args.warmup, self.args)
            if scenario.script == "availability.lua":
                # The warm-up moved every refuge to a new version: start from current ETags,
                # once the updates wrk left in the server's queue when it stopped are done.
                time.sleep(1)
                reason = self.probe_availability(scenario)
                if reason:
                    raise BenchError(f"availability after the warm-up: {reason}")
        server = self.procs.running.get("bare" if scenario.bare else server_name)
        log = self.workdir / "api.log"
        offset = pages.log_size(log)
        with CpuMeter(server[0].pid if server else None) as cpu:
            figures = run_wrk(self.wrk, self.workdir, port, scenario, self.args.duration, self.args)
        figures["cpu_ms_per_request"] = cpu.per_request(figures["requests"])
        extra = ""
        if scenario.page:
            figures["server"] = pages.server_times(log, offset, scenario.paths)
            if figures["server"].get("requests"):
                extra += (
                    f"  server median {figures['server']['median_ms']:.2f} ms"
                    f" p90 {figures['server']['p90_ms']:.2f} ms"
                )
        if scenario.script == "availability.lua":
            extra = (
                f"  puts {figures.get('puts', 0)} gets {figures.get('gets', 0)} "
                f"412s {figures.get('conflicts', 0)}"
            )
        cpu_ms = figures["cpu_ms_per_request"]
        if cpu_ms:
            extra += (
                f"  CPU ms/request: app {cpu_ms['app']:.2f} postgres {cpu_ms['postgres']:.2f}"
                f" wrk {cpu_ms['wrk']:.2f}"
            )
        say(
            f"  {scenario.label:<32} {figures['rps']:8.1f} req/s  p50 {figures['p50_ms']:7.2f} ms"
            f"  p99 {figures['p99_ms']:7.2f} ms  errors {figures['errors']}{extra}"
        )
        if figures["errors"] and figures.get("first_bad"):
            say(f"    first non-2xx answer: {figures['first_bad']}")
        return figures

    # profiling -----------------------------------------------------------------------------

    def profile(self, scenario: Scenario) -> None:
        """py-spy over every API worker while wrk drives the scenario once more (not measured)."""
        pyspy = shutil.which("py-spy") or str(VENV_BIN / "py-spy")
        if not Path(pyspy).exists():
            self.results["notes"].append("--profile: py-spy not found (pip install py-spy)")
            return
        out_dir = RESULTS / "profiles"
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / ".gitignore").write_text("# py-spy output of `make bench` --profile\n*\n")
        raw = out_dir / f"{scenario.key}.folded"
        master = self.procs.running["api"][0].pid
        spy = subprocess.Popen(
            [
                pyspy,
                "record",
                "--pid",
                str(master),
                "--subprocesses",
                "--format",
                "raw",
                "--rate",
                "250",
                "--duration",
                str(self.args.duration),
                "--nonblocking",
                "--output",
                str(raw),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(1)
            run_wrk(self.wrk, self.workdir, self.app_port, scenario, self.args.duration, self.args)
            spy.wait(timeout=60)
        finally:
            if spy.poll() is None:
                spy.terminate()
                spy.wait(timeout=10)
        if raw.exists():
            summary = summarise_profile(raw)
            (out_dir / f"{scenario.key}.txt").write_text(summary)
            say(f"    profile: {out_dir / (scenario.key + '.txt')}")

    # report --------------------------------------------------------------------------------

    def collect_versions(self) -> None:
        def version(dist: str) -> str:
            try:
                return importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                return "?"

        wrk_version = subprocess.run([self.wrk, "-v"], capture_output=True, text=True)
        first = (wrk_version.stdout or wrk_version.stderr).splitlines()
        self.results["versions"] = {
            "python": platform.python_version(),
            "flask": version("flask"),
            "flask-smorest": version("flask-smorest"),
            "marshmallow": version("marshmallow"),
            "sqlalchemy": version("sqlalchemy"),
            "psycopg": version("psycopg"),
            "gunicorn": version("gunicorn"),
            "postgres": server_version(),
            "wrk": first[0].split(" [")[0].removeprefix("wrk ") if first else "?",
        }
        self.results["machine"] = f"{platform.system()} {platform.machine()}, {self.cpus} CPUs"

    def report(self) -> int:
        rows, all_met = table_rows(self.results)
        self.results["all_targets_met"] = all_met
        text = render_table(rows)
        self.results["table"] = text
        say()
        say(text)
        say()
        versions = self.results.get("versions", {})
        say(
            f"{self.results['date']} · {self.results['machine']} · "
            + ", ".join(f"{k} {v}" for k, v in versions.items())
        )
        bare = self.results.get("bare")
        if bare:
            say(
                "bare app runs (before, between and after the scenarios): "
                + ", ".join(f"{r:.0f}" for r in bare["rps_runs"])
                + f" req/s (spread {100 * bare['rps_spread']:.0f} %)"
            )
        for note in self.results["notes"]:
            say(f"note: {note}")
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / "latest.json"
        out.write_text(json.dumps(self.results, indent=2, default=str) + "\n")
        say(f"written to {out.relative_to(ROOT)}")
        if self.args.check and not all_met:
            say("--check: some targets are not met")
            return 3
        return 0

    def cleanup(self) -> None:
        self.procs.stop_all()
        if self.receiver is not None:
            self.receiver.stop()
        if self.db_created and not self.args.keep_db:
            for name in DB_NAMES:
                try:
                    drop_database(name)
                except psycopg.Error as error:
                    say(f"could not drop {name}: {error}")
        elif self.db_created:
            say(f"kept the databases {', '.join(DB_NAMES)} on {HOST}:{PG_PORT}")
        shutil.rmtree(self.workdir, ignore_errors=True)


def combine_runs(runs: list[dict]) -> dict:
    """Several wrk runs of one scenario as one: mean req/s, median p50 and p99, errors summed,
    mean CPU per request; each run kept under ``rounds``."""
    figures = {
        "rps": statistics.mean(r["rps"] for r in runs),
        "rps_rounds": [r["rps"] for r in runs],
        "p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "p99_ms_rounds": [r["p99_ms"] for r in runs],
        "errors": sum(r["errors"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
        "rounds": runs,
    }
    cpu = [r["cpu_ms_per_request"] for r in runs if r.get("cpu_ms_per_request")]
    if cpu:
        figures["cpu_ms_per_request"] = {
            name: statistics.mean(c.get(name, 0.0) for c in cpu)
            for name in ("app", "postgres", "wrk")
        }
    first_bad = next((r["first_bad"] for r in runs if r.get("first_bad")), None)
    if first_bad:
        figures["first_bad"] = first_bad
    return figures


OUTBOX_COST_TARGET = 0.05  # issue 15: no ratio drops by more than 5 % because of the outbox


def fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def table_rows(results: dict) -> tuple[list[list[str]], bool]:
    rows = [
        [
            "scenario",
            "req/s",
            "p50 ms",
            "p99 ms",
            "errors",
            "ratio",
            "target",
            "met?",
            "CPU ms/req: app + postgres",
            "server median ms",
        ]
    ]
    all_met = True
    limits_cells: dict[str, str] = {}
    bare = results.get("bare")
    if bare:
        rows.append(
            [
                bare["label"],
                fmt(bare["rps"]),
                fmt(bare["p50_ms"], 2),
                fmt(bare["p99_ms"], 2),
                str(bare["errors"]),
                "1.00",
                "ceiling",
                "",
                _cpu(bare),
                "—",
            ]
        )
    for figures in results["scenarios"].values():
        target = Target(**figures["target"])
        if "skipped" in figures:
            rows.append(
                [figures["label"], "—", "—", "—", "—", "—", target.describe(), "NOT RUN", "—", "—"]
            )
            all_met = False
            continue
        reported_only = target.ratio is None and target.p99_ms is None
        reported_only = reported_only and target.server_median_ms is None
        met = target.met(figures)
        if not reported_only:
            all_met &= met
        limited = figures.get("limits_on")
        if limited:
            limited_met = target.met({**figures, **limited})
            limits_cells[figures["label"]] = (
                f"{limited['rps']:.1f} · {limited['ratio']:.2f} · {limited['p99_ms']:.1f}"
                f" ({'yes' if limited_met else 'NO'})"
            )
        rows.append(
            [
                figures["label"],
                fmt(figures["rps"]),
                fmt(figures["p50_ms"], 2),
                fmt(figures["p99_ms"], 2),
                str(figures["errors"]),
                fmt(figures["ratio"], 2),
                target.describe(),
                "—" if reported_only and met else ("yes" if met else "NO"),
                _cpu(figures),
                fmt((figures.get("server") or {}).get("median_ms"), 2),
            ]
        )
    for key, label in (("inbox", "inbox latency"), ("bed_search", "bed search latency")):
        scale = results["scale"].get(key, {})
        small, large = scale.get("small"), scale.get("large")
        if not (small and large):
            if small or results.get("skip_scale") is not True:
                rows.append(
                    [
                        f"{label}, large vs small size",
                        "—",
                        "—",
                        "—",
                        "—",
                        "—",
                        f"≤ {SCALE_TARGET}×",
                        "NOT RUN",
                        "—",
                        "—",
                    ]
                )
                all_met = False
            continue
        label = f"{label}, {_size(large['referrals'])} vs {_size(small['referrals'])}"
        ratio = large["median_ms"] / small["median_ms"] if small["median_ms"] else 0.0
        scale["ratio"] = ratio
        errors = small["errors"] + large["errors"]
        met = ratio <= SCALE_TARGET and errors == 0
        all_met &= met
        rows.append(
            [
                label,
                "—",
                f"{small['median_ms']:.2f} → {large['median_ms']:.2f}",
                "—",
                str(errors),
                f"{ratio:.2f}×",
                f"≤ {SCALE_TARGET}×",
                "yes" if met else "NO",
                "—",
                "—",
            ]
        )
    events = results.get("events")
    if events is not None:
        if events.get("deliveries"):
            met = events["lag_p99_ms"] <= events_bench.LAG_TARGET_P99_MS and events["drained"]
            all_met &= met
            rows.append(
                [
                    f"webhook delivery lag, 2 workers, {events['endpoints']} endpoints",
                    f"{fmt(events['events_per_s'])} ev/s",
                    fmt(events["lag_p50_ms"], 0),
                    fmt(events["lag_p99_ms"], 0),
                    str(events.get("duplicates", 0)) + " dup",
                    "—",
                    f"p99 lag ≤ {events_bench.LAG_TARGET_P99_MS:g} ms",
                    "yes" if met else "NO",
                    "—",
                    "—",
                ]
            )
        else:
            target = f"p99 lag ≤ {events_bench.LAG_TARGET_P99_MS:g} ms"
            rows.append(
                ["webhook delivery lag", "—", "—", "—", "—", "—", target, "NOT RUN", "—", "—"]
            )
            all_met = False
    cost = results.get("outbox_cost")
    if cost is not None:
        met = cost["drop"] <= cost["target_drop"] and cost["errors"] == 0
        all_met &= met
        rows.append(
            [
                "availability update without → with the outbox",
                f"{fmt(statistics.mean(cost['rps_without']))} → "
                f"{fmt(statistics.mean(cost['rps_with']))}",
                "—",
                "—",
                str(cost["errors"]),
                f"{cost['ratio_without']:.3f} → {cost['ratio_with']:.3f}",
                f"drop ≤ {100 * cost['target_drop']:g} %",
                ("yes" if met else "NO") + f" ({100 * cost['drop']:+.1f} %)",
                "—",
                "—",
            ]
        )
    if limits_cells:  # rate limiting on, beside: req/s · ratio · p99 ms (target met?)
        rows[0].append("rate limiting on: req/s · ratio · p99 ms")
        for row in rows[1:]:
            row.append(limits_cells.get(row[0], "—"))
    return rows, all_met


def _cpu(figures: dict) -> str:
    cpu = figures.get("cpu_ms_per_request")
    if not cpu:
        return "—"
    return f"{cpu['app']:.2f} + {cpu['postgres']:.2f}"


def _size(count: int) -> str:
    if count >= 1_000_000 and count % 1_000_000 == 0:
        return f"{count // 1_000_000}M"
    return f"{count // 1000}k" if count % 1000 == 0 else f"{count:,}"


def render_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [
            cell.ljust(widths[i]) if i in (0, 6, 7) else cell.rjust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("| " + " | ".join(cells) + " |")
        if n == 0:
            lines.append(
                "|"
                + "|".join(
                    "-" * (w + 1) + ":" if i not in (0, 6, 7) else "-" * (w + 2)
                    for i, w in enumerate(widths)
                )
                + "|"
            )
    return "\n".join(lines)


DB_WAIT_FRAMES = ("Connection.wait", "_send_query_prepared", "_execute_send", "wait_c", "wait_conn")


def summarise_profile(path: Path, top: int = 25) -> str:
    """py-spy's folded stacks → where the workers' time goes.

    Three listings: by the deepest ``partnership_api`` function on the stack (with the share of
    it spent inside psycopg, i.e. sending a query and waiting for PostgreSQL's answer),
    inclusive time of every frame, and self time.
    """
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    by_app: dict[str, list[int]] = {}
    total = in_db = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in (_frame_name(f) for f in stack.split(";")) if f]
        if not frames:
            continue
        total += count
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        waiting = any(f.startswith(DB_WAIT_FRAMES) and "psycopg" in f for f in frames[-4:])
        in_db += count if waiting else 0
        app = next((f for f in reversed(frames) if "partnership_api/" in f), "(outside the app)")
        cell = by_app.setdefault(app, [0, 0])
        cell[0] += count
        cell[1] += count if waiting else 0
    if not total:
        return "no samples\n"

    def pct(count: int) -> str:
        return f"{100 * count / total:5.1f} %"

    def listing(table: dict[str, int], only_app: bool = False) -> list[str]:
        items = [(n, c) for n, c in table.items() if not only_app or "partnership_api" in n]
        items.sort(key=lambda x: -x[1])
        return [f"{pct(c)}  {n}" for n, c in items[:top]]

    app_rows = sorted(by_app.items(), key=lambda x: -x[1][0])[:top]
    parts = [
        f"{total} samples over all workers; {pct(in_db).strip()} inside psycopg "
        "(sending queries, waiting for PostgreSQL)",
        "",
        "by deepest partnership_api function: total, of which inside psycopg",
        *[f"{pct(t)}  {pct(d)}  {name}" for name, (t, d) in app_rows],
        "",
        "inclusive, partnership_api frames:",
        *listing(inclusive, only_app=True),
        "",
        "inclusive, every frame:",
        *listing(inclusive),
        "",
        "self time:",
        *listing(own),
    ]
    return "\n".join(parts) + "\n"


def _frame_name(frame: str) -> str:
    """``func (path/to/module.py:123)`` → ``func (module path from site-packages or repo)``."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    file = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in file:
            file = file.split(marker, 1)[1]
            break
    return f"{name} ({file})" if file else name


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per scenario")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per scenario")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--refuges", type=int, default=50, help="refuges added to the demo")
    parser.add_argument("--referrals", type=int, default=100_000, help="for the throughput runs")
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--scale-small", type=int, default=10_000)
    parser.add_argument("--scale-large", type=int, default=1_000_000)
    parser.add_argument("--scale-requests", type=int, default=200)
    parser.add_argument("--scale-warmup", type=int, default=20)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="alternating rounds of each API scenario, rate limiting off and on (3)",
    )
    parser.add_argument("--read-ids", type=int, default=500, help="referrals the read rotates over")
    parser.add_argument("--skip-scale", action="store_true", help="no 1,000,000-referral step")
    parser.add_argument(
        "--skip-outbox-cost",
        action="store_true",
        help="no step comparing the availability update with and without the outbox",
    )
    parser.add_argument(
        "--outbox-rounds",
        type=int,
        default=5,
        help="rounds of the outbox's cost step (each: one run with the outbox, one without)",
    )
    parser.add_argument(
        "--scenarios",
        type=lambda text: [key.strip() for key in text.split(",") if key.strip()],
        default=[],
        help="only these throughput scenarios (keys, comma-separated: bed_search,inbox,"
        "referral_read,availability_update,beds_page,inbox_page)",
    )
    parser.add_argument(
        "--webhooks",
        type=int,
        default=4,
        help="webhook endpoints delivered to by two workers during the throughput step (0: none)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also run each API scenario under py-spy (bench/results/profiles/)",
    )
    parser.add_argument(
        "--check", action="store_true", help="exit with status 3 when a target is not met"
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the databases afterwards")
    parser.add_argument(
        "--national",
        action="store_true",
        help="run the national simulation instead (bench/national.py; its own options follow)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 3 s scenarios, 1 s warm-up, 200,000 referrals at most",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup = 3, 1
        args.scale_large = min(args.scale_large, 200_000)
        args.scale_requests = 50
    if args.scale_small > args.referrals:
        parser.error("--scale-small must not exceed --referrals")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--national" in argv:  # the national simulation (bench/national.py) instead
        from bench import national

        return national.main([a for a in argv if a != "--national"])
    args = parse_args(argv)
    bench = Bench(args)
    bench.results["skip_scale"] = args.skip_scale

    def on_term(signum, frame):
        raise KeyboardInterrupt

    # SIGINT too: a shell that starts us in the background would have it ignored otherwise.
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_term)
    try:
        return bench.run()
    except KeyboardInterrupt:
        say("\ninterrupted: stopping what the benchmark started")
        return 130
    except (BenchError, load_data.LoadError, psycopg.Error) as error:
        say(f"\nbench failed: {error}")
        return 1
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up
        bench.cleanup()


if __name__ == "__main__":
    sys.exit(main())
