"""The reference deployment (deploy/), checked without Docker, as the operator who will bring it
up would want: the Compose file's structure and every reference in it, the image's Dockerfile,
Prometheus's targets, Grafana's dashboard against the metrics and routes that exist, the
gunicorn configuration under gunicorn's own validators, the proxy settings the app servers get,
and secrets read from files. Where Docker's Compose plugin exists, ``docker compose config``
validates the file as well."""

from __future__ import annotations

import json
import logging
import os
import re
import runpy
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from tests.conftest import is_postgres

pytestmark = pytest.mark.no_demo  # files and settings only: no demo partnership needed

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
APP_SERVERS = ("app1", "app2")
WORKERS = ("worker1", "worker2")
SERVICES = {"proxy", *APP_SERVERS, "migrate", *WORKERS, "postgres", "redis", "prometheus"}
SERVICES |= {"grafana"}
# An image pinned to an exact release: name:MAJOR.MINOR[.PATCH]… (PostgreSQL's releases have
# two numbers), never a floating major or `latest`; optionally with a digest.
PINNED = re.compile(r"^[a-z0-9./-]+:v?\d+\.\d+(\.\d+)?(-[\w.-]+)?(@sha256:[0-9a-f]{64})?$")


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def service(name: str) -> dict:
    return compose()["services"][name]


# --- the Compose file: its shape ----------------------------------------------------------------

# The part of the Compose specification this deployment uses; anything else (a typo, a key
# from another tool) fails, as `docker compose config` would fail on it.
SERVICE_KEYS = {
    "build", "image", "command", "environment", "secrets", "volumes", "ports", "depends_on",
    "healthcheck", "restart", "networks", "read_only", "tmpfs", "cap_drop", "security_opt",
}  # fmt: skip
TOP_KEYS = {"name", "services", "secrets", "volumes", "networks"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def test_the_compose_file_uses_only_keys_compose_knows():
    found = compose()
    assert set(found) - {k for k in found if k.startswith("x-")} <= TOP_KEYS
    assert set(found["services"]) == SERVICES
    for name, spec in found["services"].items():
        assert set(spec) <= SERVICE_KEYS, (name, set(spec) - SERVICE_KEYS)
        assert "image" in spec, name
        assert spec.get("restart", "no") in {"no", "always", "on-failure", "unless-stopped"}
        if isinstance(spec.get("environment"), dict):
            assert all(isinstance(v, str) for v in spec["environment"].values()), name
        if "healthcheck" in spec:
            check = spec["healthcheck"]
            assert check == {"disable": True} or check["test"][0] in ("CMD", "CMD-SHELL"), name


def test_every_reference_in_the_compose_file_resolves():
    found = compose()
    for name, spec in found["services"].items():
        for secret in spec.get("secrets", []):
            assert secret in found["secrets"], (name, secret)
        for network in spec.get("networks", []):
            assert network in found["networks"], (name, network)
        for volume in spec.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):  # a file of the repository, mounted read-only
                assert (DEPLOY / source).exists(), (name, source)
                assert volume.endswith(":ro"), (name, volume)
            else:
                assert source in found["volumes"], (name, source)
        after = spec.get("depends_on") or {}
        if isinstance(after, list):
            after = dict.fromkeys(after)
        for target, condition in after.items():
            assert target in found["services"], (name, target)
            if isinstance(condition, dict):
                assert condition["condition"] in CONDITIONS, (name, target)
                if condition["condition"] == "service_healthy":
                    assert "test" in found["services"][target].get("healthcheck", {}) or (
                        "build" in found["services"][target]  # the Dockerfile's HEALTHCHECK
                    ), (name, target)
        if "build" in spec:
            assert (DEPLOY / spec["build"]["context"] / spec["build"]["dockerfile"]).exists()
    for secret in found["secrets"].values():
        assert secret["file"].startswith("./secrets/")  # made by `make deploy-secrets`


def test_every_image_is_pinned_to_a_version():
    for name, spec in compose()["services"].items():
        if "build" in spec:
            continue  # built here, from deploy/Dockerfile
        assert PINNED.match(spec["image"]), (name, spec["image"])


def test_the_services_start_in_order_and_only_the_proxy_faces_outside():
    found = compose()["services"]
    assert found["postgres"]["healthcheck"]["test"][1] == "pg_isready"
    assert found["migrate"]["command"][-2:] == ["db", "upgrade"]
    assert found["migrate"]["restart"] == "no"
    for name in (*APP_SERVERS, *WORKERS):
        after = found[name]["depends_on"]
        assert after["migrate"] == {"condition": "service_completed_successfully"}, name
        assert after["postgres"] == {"condition": "service_healthy"}, name
    for name in WORKERS:
        assert found[name]["command"][3] == "deliver", name
    assert set(found["proxy"]["depends_on"]) == set(APP_SERVERS)
    for name, spec in found.items():
        for port in spec.get("ports", []):
            if name != "proxy":
                assert port.startswith("127.0.0.1:"), (name, port)
    networks = compose()["networks"]
    for name in ("postgres", "redis"):
        assert "ports" not in found[name]
        assert all(networks[n] and networks[n].get("internal") for n in found[name]["networks"])


def test_the_app_containers_get_only_real_settings_and_their_secrets_from_files():
    from partnership_api.settings import SETTINGS

    known = {s.name for s in SETTINGS} | {"PROMETHEUS_MULTIPROC_DIR"}
    known |= {"GUNICORN_WORKERS", "GUNICORN_THREADS", "GUNICORN_BIND", "GUNICORN_TIMEOUT"}
    for name in (*APP_SERVERS, "migrate", *WORKERS):
        spec = service(name)
        env = spec["environment"]
        assert env["APP_ENV"] == "production"
        for variable, value in env.items():
            setting = variable.removesuffix("_FILE")
            assert setting in known, (name, variable)
            if variable.endswith("_FILE"):
                secret = value.removeprefix("/run/secrets/")
                assert value.startswith("/run/secrets/") and secret in spec["secrets"], variable
        for secret in ("JWT_SECRET_KEY", "WEBHOOK_SECRET_KEY", "DATABASE_URL", "METRICS_TOKEN"):
            assert f"{secret}_FILE" in env and secret not in env, (name, secret)
        assert spec["read_only"] is True and spec["cap_drop"] == ["ALL"]
    for name in APP_SERVERS:
        assert service(name)["environment"]["TRUSTED_PROXIES"] == "1"  # Caddy, one hop
    for name in WORKERS:
        assert service(name)["environment"]["WORKER_METRICS_ADDRESS"].endswith(":9101")


def test_docker_compose_config_accepts_it_where_docker_has_compose(tmp_path):
    docker = shutil.which("docker")
    if not docker or subprocess.run([docker, "compose", "version"], capture_output=True).returncode:
        pytest.skip("no Docker Compose here: the checks above stand in for it")
    copy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy, ignore=shutil.ignore_patterns("secrets"))
    (copy / "secrets").mkdir()
    for secret in compose()["secrets"]:
        (copy / "secrets" / secret).write_text("not-a-real-secret\n")
    result = subprocess.run(
        [docker, "compose", "-f", str(copy / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# --- the image ------------------------------------------------------------------------------------


def dockerfile() -> DockerfileParser:
    return DockerfileParser(str(DEPLOY / "Dockerfile"))


def test_the_image_is_built_from_pinned_bases_and_runs_as_an_unprivileged_user():
    parsed = dockerfile()
    for base in parsed.parent_images:
        assert PINNED.match(base), base
    steps = [(s["instruction"], s["value"]) for s in parsed.structure]
    final = max(i for i, (what, _) in enumerate(steps) if what == "FROM")
    users = [value for what, value in steps[final:] if what == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    last_run = max(i for i, (what, _) in enumerate(steps) if what == "RUN")
    last_user = max(i for i, (what, _) in enumerate(steps) if what == "USER")
    assert last_user > last_run  # nothing runs as root after the user is set
    assert steps[-1][0] == "CMD" and "gunicorn.conf.py" in steps[-1][1]


def test_the_image_installs_exactly_the_locked_packages():
    runs = [s["value"] for s in dockerfile().structure if s["instruction"] == "RUN"]
    pip = next(run for run in runs if "pip install" in run)
    assert "--require-hashes" in pip and "--no-deps" in pip and "-r /tmp/requirements.lock" in pip
    npm = next(run for run in runs if "npm " in run)
    assert "npm ci" in npm and "--ignore-scripts" in npm
    for step in dockerfile().structure:
        if step["instruction"] == "COPY" and "--from=" not in step["value"]:
            for source in step["value"].split()[:-1]:
                assert (REPO / source).exists(), source


def _pins(path: Path) -> set[tuple[str, str, frozenset[str]]]:
    """(package, version, hashes) of each pin of a hashed requirements file (its platform
    markers aside: the runtime lock may need a package on fewer platforms)."""
    pins: list = []
    for line in path.read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            name, _, rest = line.rstrip(" \\").partition("==")
            pins.append((name.strip().lower(), rest.partition(";")[0].strip(), set()))
        elif "--hash=" in line and pins:
            pins[-1][2].add(line.split("--hash=")[1].rstrip(" \\"))
    return {(name, version, frozenset(hashes)) for name, version, hashes in pins}


def test_the_runtime_lock_is_the_runtime_part_of_requirements_lock():
    everything = _pins(REPO / "requirements.lock")
    runtime = _pins(DEPLOY / "requirements.runtime.lock")
    names = {name for name, _, _ in runtime}
    assert {"flask", "gunicorn", "prometheus-client", "psycopg"} <= names
    assert not {"pytest", "schemathesis", "playwright"} & names  # no test tools in the image
    for pin in runtime:
        assert pin in everything, f"{pin[0]} {pin[1]}: not as in requirements.lock; `make lock`"


@pytest.mark.skipif(is_postgres(), reason="its own SQLite database: run once, on the SQLite run")
def test_the_image_layout_migrates_and_serves_as_its_cmd_says(tmp_path):
    """Without Docker: the files deploy/Dockerfile copies, laid out as it lays them out, run
    as the image runs them (the migration job's command, then its CMD: gunicorn with
    gunicorn.conf.py) in production with its secrets from files. Nothing outside that layout
    is importable first, so a file the Dockerfile forgot to copy fails here."""
    from tests.faultlib import _wait_for, free_port, request

    app_dir = tmp_path / "app"
    for step in dockerfile().structure:
        if step["instruction"] != "COPY":
            continue
        *sources, target = step["value"].split()
        from_assets = sources[0].startswith("--from=")
        for source in sources[1:] if from_assets else sources:
            origin = REPO / source.removeprefix("/build/")  # the assets stage ran npm ci
            into_folder = target.endswith("/") or target == "."
            destination = app_dir / target / origin.name if into_folder else app_dir / target
            if origin.is_dir():
                shutil.copytree(origin, destination, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(origin, destination)
    secret_dir = tmp_path / "secrets"
    secret_dir.mkdir()
    for name, text in {
        "database_url": f"sqlite:///{tmp_path}/partnership.db",
        "jwt_secret_key": secrets.token_urlsafe(48),
        "webhook_secret_key": secrets.token_urlsafe(48),
        "metrics_token": "m" * 48,
    }.items():
        (secret_dir / name).write_text(text + "\n")
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(app_dir),
        "PYTHONDONTWRITEBYTECODE": "1",
        "APP_ENV": "production",
        "DATABASE_URL_FILE": str(secret_dir / "database_url"),
        "JWT_SECRET_KEY_FILE": str(secret_dir / "jwt_secret_key"),
        "WEBHOOK_SECRET_KEY_FILE": str(secret_dir / "webhook_secret_key"),
        "METRICS_TOKEN_FILE": str(secret_dir / "metrics_token"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "LOG_LEVEL": "WARNING",
    }
    bin_dir = Path(sys.executable).parent
    # The migration job's command (`flask --app wsgi db upgrade`), in a process that first
    # says where it imports the app from.
    migrate = subprocess.run(
        [
            sys.executable, "-c",
            "import sys, partnership_api; print(partnership_api.__file__); "
            "from flask.cli import main; "
            "sys.argv = ['flask', '--app', 'wsgi', 'db', 'upgrade']; main()",
        ],
        cwd=app_dir, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    assert migrate.stdout.startswith(str(app_dir)), migrate.stdout
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "--config", "gunicorn.conf.py", "wsgi:app"],
        cwd=app_dir, env=env, stdout=log, stderr=log, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()[-2000:]
            try:
                return request("GET", f"{base}/healthz", timeout=2)[0] == 200
            except OSError:
                return False

        _wait_for(up, 60, "the image's gunicorn")
        assert request("GET", f"{base}/readyz")[0] == 200  # migrated by the job's command
        for path in ("/docs", "/docs/assets/swagger-ui.css", "/sign-in"):
            assert request("GET", base + path)[0] == 200, path
        assert request("GET", f"{base}/assets/govuk-frontend.min.css")[0] == 200
        status, answer = request("GET", f"{base}/metrics", token="m" * 48)
        assert status == 200 and b"partnership_http_requests_total" in answer.body
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        log.close()


# --- Prometheus, Grafana and the proxy --------------------------------------------------------


def test_prometheus_reads_every_app_server_and_worker_with_the_metrics_token():
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    targets = {
        name: {t for group in job["static_configs"] for t in group["targets"]}
        for name, job in jobs.items()
    }
    assert targets["app"] == {f"{name}:8000" for name in APP_SERVERS}
    assert targets["delivery-worker"] == {f"{name}:9101" for name in WORKERS}
    for name in ("app", "delivery-worker"):
        auth = jobs[name]["authorization"]
        assert auth["type"] == "Bearer"
        assert auth["credentials_file"] == "/run/secrets/metrics_token"
    assert "metrics_token" in service("prometheus")["secrets"]


def _dashboard() -> dict:
    return json.loads((DEPLOY / "grafana" / "dashboards" / "partnership.json").read_text())


def test_the_dashboard_asks_only_for_metrics_and_routes_that_exist(app):
    from prometheus_client import REGISTRY

    from partnership_api import metrics  # noqa: F401 - its families are in the registry

    names = set()
    for family in REGISTRY.collect():
        names |= {family.name} | {sample.name for sample in family.samples}
        names |= {f"{family.name}_bucket", f"{family.name}_total"}
    routes = {rule.rule for rule in app.url_map.iter_rules()}
    panels = [p for p in _dashboard()["panels"] if p["type"] != "row"]
    titles = " ".join(p["title"] for p in panels)
    for needed in ("Request rate", "Errors", "Latency", "Events behind", "Delivery lag", "holds"):
        assert needed in titles, needed
    for panel in panels:
        assert panel["datasource"]["uid"] == "prometheus"
        for target in panel["targets"]:
            expr = target["expr"]
            for metric in re.findall(r"\b(partnership_[a-z_]+)", expr):
                assert metric in names, (panel["title"], metric)
            for route in re.findall(r'route="([^"]+)"', expr):
                assert route in routes, (panel["title"], route)
    source = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yaml").read_text()
    )
    assert source["datasources"][0]["uid"] == "prometheus"
    assert source["datasources"][0]["url"] == "http://prometheus:9090"


def test_the_proxy_terminates_tls_sends_to_both_app_servers_and_hides_metrics():
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    assert "tls internal" in caddyfile
    assert re.search(r"reverse_proxy app1:8000 app2:8000", caddyfile)
    assert re.search(r"@metrics path /metrics", caddyfile) and "respond @metrics 404" in caddyfile


# --- gunicorn, in-process -----------------------------------------------------------------------


def _gunicorn_settings(monkeypatch, **env: str) -> dict:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return runpy.run_path(str(REPO / "gunicorn.conf.py"))


def test_gunicorns_own_validators_accept_the_configuration(monkeypatch, tmp_path):
    from gunicorn.config import Config

    found = _gunicorn_settings(
        monkeypatch, GUNICORN_WORKERS="3", PROMETHEUS_MULTIPROC_DIR=str(tmp_path)
    )
    config = Config()
    used = {k: v for k, v in found.items() if k in config.settings}
    for key, value in used.items():
        config.set(key, value)  # raises on a value gunicorn would refuse
    assert config.workers == 3 and config.bind == ["0.0.0.0:8000"]
    assert config.accesslog is None  # the app writes its own JSON access log
    assert callable(config.on_starting) and callable(config.child_exit)
    assert {"on_starting", "child_exit", "workers", "bind", "timeout"} <= set(used)


def test_a_restart_starts_the_metrics_from_nothing(monkeypatch, tmp_path):
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_123.db").write_bytes(b"old")
    found = _gunicorn_settings(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(folder))
    found["on_starting"](None)
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_a_dead_worker_stops_counting_in_live_gauges_but_its_counts_stay(monkeypatch, tmp_path):
    from prometheus_client import CollectorRegistry, multiprocess

    folder = tmp_path / "metrics"
    folder.mkdir()
    child = subprocess.run(
        [
            sys.executable, "-c",
            "import os; from partnership_api import metrics; "
            "metrics.DB_CONNECTIONS_IN_USE.inc(2); metrics.bed_search_cache(hit=True); "
            "print(os.getpid())",
        ],
        cwd=REPO,
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert child.returncode == 0, child.stderr

    def read() -> dict:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, str(folder))
        return {s.name: s.value for f in registry.collect() for s in f.samples if not s.labels}

    def hits() -> float:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, str(folder))
        return sum(
            s.value
            for f in registry.collect()
            for s in f.samples
            if s.name == "partnership_bed_search_cache_total" and s.labels["result"] == "hit"
        )

    assert read()["partnership_db_pool_connections_in_use"] == 2
    found = _gunicorn_settings(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(folder))

    class Worker:
        pid = int(child.stdout.strip())

    found["child_exit"](None, Worker())
    assert read().get("partnership_db_pool_connections_in_use", 0) == 0
    assert hits() == 1


# --- the app servers' settings, as the Compose file gives them --------------------------------


def _compose_environment(tmp_path: Path, name: str) -> dict[str, str]:
    """The service's environment, its /run/secrets/ files made in tmp_path."""
    env = {}
    for variable, value in service(name)["environment"].items():
        if value.startswith("/run/secrets/"):
            secret = tmp_path / value.removeprefix("/run/secrets/")
            made = {
                "database_url": "postgresql://partnership:pw@postgres:5432/partnership",
            }.get(secret.name, secrets.token_urlsafe(48))  # as `make deploy-secrets` makes them
            secret.write_text(made + "\n")
            value = str(secret)
        env[variable] = value
    return env


def test_the_app_servers_settings_load_from_their_secret_files(tmp_path, monkeypatch):
    from partnership_api.settings import check_settings, load_settings

    env = _compose_environment(tmp_path, "app1")
    for key in [k for k in os.environ if k in env or k.removesuffix("_FILE") in env]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config = load_settings()
    check_settings(config)  # production accepts them
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://partnership:pw@")
    written = (tmp_path / "metrics_token").read_text()
    assert config["METRICS_TOKEN"] == written.removesuffix("\n")  # its final newline dropped
    assert config["JWT_SECRET_KEY"] == (tmp_path / "jwt_secret_key").read_text().strip()
    assert config["TRUSTED_PROXIES"] == 1


def test_a_setting_given_twice_or_from_a_missing_file_is_refused(tmp_path, monkeypatch):
    from partnership_api.settings import ConfigError, load_settings

    monkeypatch.setenv("METRICS_TOKEN", "a" * 40)
    monkeypatch.setenv("METRICS_TOKEN_FILE", str(tmp_path / "token"))
    with pytest.raises(ConfigError, match="both set"):
        load_settings()
    monkeypatch.delenv("METRICS_TOKEN")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_settings()


def test_behind_caddy_the_app_sees_the_callers_address_not_the_proxys(database):
    """TRUSTED_PROXIES=1 as the Compose file sets it: the address Caddy adds last is believed,
    one a caller forged in front of it is not."""
    from partnership_api import create_app
    from tests.conftest import TEST_SETTINGS

    lines: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record)

    access = logging.getLogger("partnership_api.access")
    root = logging.getLogger("partnership_api")
    level = root.level
    keep = Keep()
    access.addHandler(keep)
    try:
        settings = {**TEST_SETTINGS, **database, "TRUSTED_PROXIES": 1, "LOG_LEVEL": "INFO"}
        client = create_app(settings).test_client()
        client.get(
            "/healthz",
            headers={"X-Forwarded-For": "198.51.100.9, 203.0.113.66", "X-Forwarded-Proto": "https"},
            environ_base={"REMOTE_ADDR": "172.18.0.5"},  # Caddy's address on the edge network
        )
    finally:
        access.removeHandler(keep)
        root.setLevel(level)
    assert [r.__dict__["remote_addr"] for r in lines] == ["203.0.113.66"]
