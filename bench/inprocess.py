"""Where a request's CPU goes, measured in one process: the bench's scenarios as sequential
requests through Flask's test client, with CPU time per request (this process's, and
PostgreSQL's, read from ``/proc``) and, with ``--profile``, cProfile's listing.

CPU time, not wall time: on a machine shared with other work, CPU per request moves far less
than throughput, so a change can be judged before and after in a few minutes (run both,
alternately: ``--rounds``). The figures are relative to a bare Flask app measured the same way
in the same process (``bench/bare_app.py``), so the test client's own cost is in both.

    python -m bench.inprocess --prepare            # database speed_profile, 100,000 referrals
    python -m bench.inprocess --scenarios bed_search,inbox --requests 2000 --rounds 3
    python -m bench.inprocess --scenarios inbox --profile 30

It sets the API's settings as ``make bench`` does (``LOG_LEVEL=INFO``: the access log on,
written to a file; rate limiting off unless ``--rate-limits``).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench import load_data
from bench.run import (
    BED_SEARCH_PATH,
    INBOX_PATH,
    PG_ADMIN,
    flask_cli,
    postgres_pids,
    process_cpu_seconds,
)

DB = "speed_profile"
HOST = "127.0.0.1"
# The demo users' password in this loopback-only throwaway database (kept between runs).
PASSWORD = "bench-inprocess-password"  # noqa: S105
JWT_SECRET, WEBHOOK_SECRET = secrets.token_urlsafe(48), secrets.token_urlsafe(36)


def database_url(name: str = DB) -> str:
    return f"postgresql+psycopg://postgres@{HOST}:5432/{name}"


def conninfo(name: str = DB) -> str:
    return f"postgresql://postgres@{HOST}:5432/{name}"


def env(rate_limits: bool) -> dict[str, str]:
    return {
        "APP_ENV": "production",
        "DATABASE_URL": database_url(),
        "JWT_SECRET_KEY": JWT_SECRET,
        "WEBHOOK_SECRET_KEY": WEBHOOK_SECRET,
        "LOG_LEVEL": "INFO",
        "RATELIMIT_ENABLED": "true" if rate_limits else "false",
        "API_RATE_LIMIT": "1000000 per minute",
        "LOGIN_RATE_LIMIT": "1000000 per minute",
        "ACCESS_TOKEN_MINUTES": "240",
        "DEMO_PASSWORD": PASSWORD,
    }


def prepare(referrals: int, refuges: int) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")
    cli = {**os.environ, **env(False), "APP_ENV": "development"}
    flask_cli(["db", "upgrade"], cli)
    flask_cli(["seed-demo"], cli)
    with psycopg.connect(conninfo()) as conn:
        password_hash = conn.execute(
            "SELECT password_hash FROM users WHERE username = 'swa.staff'"
        ).fetchone()[0]
        load_data.load_refuges(conn, refuges, password_hash)
        load_data.add_referrals(conn, referrals)
    load_data.vacuum_analyze(conninfo())


class Scenario:
    def __init__(self, key: str, user: str, method: str, paths: list[str], body=None):
        self.key, self.user, self.method, self.paths, self.body = key, user, method, paths, body


def scenarios(client) -> dict[str, Scenario]:
    with psycopg.connect(conninfo()) as conn:
        ids = [
            str(r[0])
            for r in conn.execute(
                "SELECT r.id FROM referrals r JOIN organisations o "
                "ON o.id = r.from_organisation_id WHERE o.name = 'Staffordshire Police' "
                "ORDER BY md5(r.id::text) LIMIT 200"
            )
        ]
        refuge = conn.execute(
            "SELECT s.id, u.username FROM services s JOIN users u "
            "ON u.organisation_id = s.organisation_id "
            "WHERE s.kind = 'refuge' AND u.username LIKE 'bench.refuge%' ORDER BY s.id LIMIT 1"
        ).fetchone()
    return {
        "bed_search": Scenario("bed_search", "police.officer", "GET", [BED_SEARCH_PATH]),
        "inbox": Scenario("inbox", "swa.staff", "GET", [INBOX_PATH]),
        "referral_read": Scenario(
            "referral_read", "police.officer", "GET", [f"/api/v1/referrals/{i}" for i in ids]
        ),
        "availability_update": Scenario(
            "availability_update",
            refuge[1],
            "PUT",
            [f"/api/v1/refuges/{refuge[0]}/availability"],
            {"spaces": [{"space_type": "family", "total": 4, "vacant": 2}]},
        ),
    }


def sign_in(client, username: str) -> str:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()["access_token"]


def run_scenario(client, scenario: Scenario, token: str, count: int) -> list[int]:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    statuses = []
    etag = None
    for i in range(count):
        path = scenario.paths[i % len(scenario.paths)]
        if scenario.method == "PUT":
            if etag is None:
                etag = client.get(path, headers=headers).headers["ETag"]
            response = client.put(path, json=scenario.body, headers={**headers, "If-Match": etag})
            etag = response.headers.get("ETag")
        else:
            response = client.get(path, headers=headers)
        statuses.append(response.status_code)
    return statuses


def measure(fn, count: int, backend_pids: list[int]) -> dict:
    pg0 = process_cpu_seconds(backend_pids)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    fn(count)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    pg = process_cpu_seconds(backend_pids) - pg0
    return {
        "app_ms": 1000 * cpu / count,
        "postgres_ms": 1000 * pg / count,
        "wall_ms": 1000 * wall / count,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prepare", action="store_true", help="(re)build the database first")
    parser.add_argument("--referrals", type=int, default=100_000)
    parser.add_argument("--refuges", type=int, default=50)
    parser.add_argument("--scenarios", default="bed_search,inbox,referral_read,availability_update")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate-limits", action="store_true", help="rate limiting on")
    parser.add_argument("--profile", type=int, default=0, help="cProfile: show this many rows")
    parser.add_argument("--sort", default="cumulative", help="cProfile's order (tottime…)")
    parser.add_argument(
        "--dump", default="", help="also write each profile to DUMP.<scenario>.prof (pstats)"
    )
    parser.add_argument(
        "--cpu-profile",
        action="store_true",
        help="profile CPU time (time.process_time), not wall time: round trips' waits drop out",
    )
    parser.add_argument("--json", action="store_true", help="one JSON line of figures at the end")
    args = parser.parse_args(argv)
    if args.prepare:
        prepare(args.referrals, args.refuges)
    os.environ.update(env(args.rate_limits))
    log_file = tempfile.NamedTemporaryFile(prefix="inprocess-access-", suffix=".log", delete=False)
    stderr = sys.stderr
    sys.stderr = open(log_file.name, "w")  # the JSON log lines go to a file, as in production
    try:
        from bench.bare_app import app as bare
        from partnership_api import create_app

        app = create_app()
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(sys.stderr)
        client, bare_client = app.test_client(), bare.test_client()
        found = scenarios(client)
        chosen = [found[key] for key in args.scenarios.split(",") if key]
        tokens = {s.user: sign_in(client, s.user) for s in chosen}
        for s in chosen:  # warm: caches, prepared statements, the pool
            run_scenario(client, s, tokens[s.user], 50)
        backends = [
            pid
            for pid in postgres_pids()
            if "speed_profile" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
        ]
        results: dict[str, list[dict]] = {"bare": []}
        for _round in range(args.rounds):
            results["bare"].append(
                measure(lambda n: [bare_client.get("/") for _ in range(n)], args.requests, [])
            )
            for s in chosen:
                statuses = []

                def go(n, s=s, statuses=statuses):
                    statuses.extend(run_scenario(client, s, tokens[s.user], n))

                figures = measure(go, args.requests, backends)
                bad = [code for code in statuses if not 200 <= code < 300]
                figures["errors"] = len(bad)
                results.setdefault(s.key, []).append(figures)
        if args.profile:
            for s in chosen:
                profiler = (
                    cProfile.Profile(time.process_time) if args.cpu_profile else cProfile.Profile()
                )
                profiler.enable()
                run_scenario(client, s, tokens[s.user], args.requests)
                profiler.disable()
                if args.dump:
                    profiler.dump_stats(f"{args.dump}.{s.key}.prof")
                out = io.StringIO()
                stats = pstats.Stats(profiler, stream=out).sort_stats(args.sort)
                stats.print_stats(args.profile)
                print(
                    f"--- {s.key}: cProfile, {args.requests} requests, by {args.sort} time",
                    file=stderr,
                )
                print(out.getvalue(), file=stderr)
    finally:
        sys.stderr.close()
        sys.stderr = stderr
    bare_ms = statistics.median(r["app_ms"] for r in results["bare"])
    summary = {}
    print(
        f"{'scenario':<22} {'app ms/req':>10} {'pg ms/req':>10} {'wall ms':>8} "
        f"{'ratio (bare app CPU / app+pg CPU)':>34}  errors"
    )
    for key, runs in results.items():
        app_ms = statistics.median(r["app_ms"] for r in runs)
        pg_ms = statistics.median(r["postgres_ms"] for r in runs)
        wall = statistics.median(r["wall_ms"] for r in runs)
        ratio = bare_ms / (app_ms + pg_ms) if app_ms + pg_ms else 0.0
        errors = sum(r.get("errors", 0) for r in runs)
        summary[key] = {
            "app_ms": app_ms,
            "postgres_ms": pg_ms,
            "wall_ms": wall,
            "ratio": ratio,
            "runs": runs,
            "errors": errors,
        }
        print(f"{key:<22} {app_ms:10.3f} {pg_ms:10.3f} {wall:8.2f} {ratio:34.3f}  {errors}")
    lines = sum(1 for line in open(log_file.name) if '"partnership_api.access"' in line)
    print(
        f"(medians of {args.rounds} rounds of {args.requests} requests; "
        f"{lines:,} access-log lines written to {log_file.name})"
    )
    os.unlink(log_file.name)
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
