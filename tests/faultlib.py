"""Private servers for the tests that need real processes: PostgreSQL, Redis and the API itself.

Nothing here touches the machine's shared PostgreSQL (5432) or Redis (6379): every server is
started on a free loopback port with its data in a temporary directory, and stopped again by
the fixture that started it, even when the test fails.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DEMO_PASSWORD = "demo-password-for-fault-tests"
JWT_SECRET = "fault-test-secret-key-that-is-long-enough-0123456789"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not come up within {timeout:.0f} s")


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# --- PostgreSQL --------------------------------------------------------------------------------


def _postgres_bin() -> Path:
    root = Path("/usr/lib/postgresql")
    versions = sorted(
        (p for p in root.iterdir() if (p / "bin" / "initdb").exists()),
        key=lambda p: int(p.name) if p.name.isdigit() else 0,
    )
    if not versions:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return versions[-1] / "bin"


class PrivatePostgres:
    """A throwaway PostgreSQL cluster of our own (trust auth, loopback only, no fsync)."""

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="partnership-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self._as_postgres: list[str] = []
        if os.geteuid() == 0:  # the server refuses to run as root: run it as `postgres`
            shutil.chown(self.base, "postgres", "postgres")
            self._as_postgres = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            [*self._as_postgres, *args],
            check=True,
            capture_output=True,
            timeout=timeout,
            cwd=self.base,
        )

    def init(self) -> PrivatePostgres:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "--no-sync", "-E", "UTF8",
        )  # fmt: skip
        return self

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
            # No fsync (a crash of the server process loses nothing the OS has), but commits
            # are synchronous: an acknowledged commit must survive ``stop -m immediate``.
            "-c fsync=off -c full_page_writes=off"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.log), "-w", "-t", "30", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``immediate`` is a crash (no clean shutdown of sessions)."""
        if not self.running():
            return
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists() and _port_open(self.port)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import sqlalchemy as sa

        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


# --- Redis -------------------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of our own, in memory only."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="partnership-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_for(lambda: _port_open(self.port), 15, "redis-server")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# --- the API as real processes -----------------------------------------------------------------


def app_environment(database_url: str, **extra: str | None) -> dict[str, str]:
    """The environment of an API process: this run's settings, nothing inherited by accident."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PARTNERSHIP_TEST_DB", "DATABASE_SCHEMA", "REDIS_URL", "CORS_ORIGINS")
        and not key.startswith(("PYTEST", "FLASK_"))
    }
    env.update(
        APP_ENV="development",
        DATABASE_URL=database_url,
        JWT_SECRET_KEY=JWT_SECRET,
        DEMO_PASSWORD=DEMO_PASSWORD,
        ARGON2_TIME_COST="1",
        ARGON2_MEMORY_COST="1024",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def flask_command(env: dict[str, str], *args: str) -> str:
    """Run ``flask --app wsgi …`` with this environment; its output, or an error with stderr."""
    result = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "wsgi", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def prepare_database(env: dict[str, str]) -> None:
    """Migrate to the newest schema (migrations are the only way it is made) and load the demo."""
    flask_command(env, "db", "upgrade")
    flask_command(env, "seed-demo")


@functools.cache
def _no_control_socket() -> tuple[str, ...]:
    """Newer gunicorns open a control socket in ~/.gunicorn: two servers would share it."""
    help_text = subprocess.run(
        [str(VENV_BIN / "gunicorn"), "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    return ("--no-control-socket",) if "--no-control-socket" in help_text else ()


class AppServer:
    """The API under gunicorn on a free loopback port; its stderr is kept for reading."""

    def __init__(
        self, env: dict[str, str], workers: int = 2, threads: int = 4, config: bool = False
    ) -> None:
        self.env = env
        self.config = config  # with gunicorn.conf.py, as deployed (its hooks: metrics)
        self.port = free_port()
        self.workers = workers
        self.threads = threads
        self.dir = Path(tempfile.mkdtemp(prefix="partnership-app-"))
        self.log_path = self.dir / "stderr.log"
        self.process: subprocess.Popen | None = None
        self._log = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AppServer:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}",
                "--workers", str(self.workers), "--threads", str(self.threads),
                "--timeout", "30", "--graceful-timeout", "5", *_no_control_socket(),
                *(("--config", str(REPO / "gunicorn.conf.py")) if self.config else ()), "wsgi:app",
            ],
            env=self.env,
            cwd=REPO,
            stdout=self._log,
            stderr=self._log,
            start_new_session=True,
        )  # fmt: skip

        def healthy() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.stderr()[-3000:]}")
            try:
                return request("GET", self.url("/healthz"), timeout=2)[0] == 200
            except OSError:
                return False

        _wait_for(healthy, 30, "gunicorn")
        return self

    def url(self, path: str) -> str:
        return self.base_url + path

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stderr(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# --- a small HTTP client with a hard timeout ---------------------------------------------------


class Answer:
    """What came back: status, headers and the decoded JSON body (None when not JSON)."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    @property
    def is_json(self) -> bool:
        return self.headers.get("content-type", "").startswith("application/json")

    def __repr__(self) -> str:
        return f"<Answer {self.status} {self.body[:200]!r}>"


def request(
    method: str,
    url: str,
    *,
    json_body: object = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, Answer]:
    """Send one request; HTTP errors are answers too. Raises only when no answer came."""
    data = None
    sent = dict(headers or {})
    if json_body is not None:
        data = json.dumps(json_body).encode()
        sent["Content-Type"] = "application/json"
    if token:
        sent["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=sent)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310
            answer = Answer(
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as error:
        answer = Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())
    return answer.status, answer


def sign_in(server: AppServer, username: str, password: str = DEMO_PASSWORD) -> dict:
    status, answer = request(
        "POST",
        server.url("/api/v1/auth/login"),
        json_body={"username": username, "password": password},
    )
    if status != 200:
        raise AssertionError(f"sign-in of {username} failed: {answer!r}")
    return answer.json
