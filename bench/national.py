"""`make bench-national`: the API at national size against county size, on one machine, in one run.

Two worlds, built by the same loader (``build_world``) from the same migrated, seeded database
(``flask seed-demo``, copied), and served side by side by the same code:

- **county**: the demo's one police force, 50 refuges, 150 users, a year of referrals
  (4,000, about a forty-third of the nation's) and of availability reports (one a day per
  refuge), 30 days of events in the outbox (``EVENT_RETENTION_DAYS``' default: older ones are
  pruned in production), 4 webhook endpoints;
- **national**: 43 police forces, 300 refuges (each its own provider with its staff), 2,000
  users, a year of referrals (150,000) and of availability reports, 30 days of events,
  300 webhook endpoints.

``--scale`` multiplies the referrals of both worlds (0.1: 15,000 national) for a quicker run;
the organisations, users and endpoints stay at their sizes.

What a run measures, with the API served by gunicorn from ``gunicorn.conf.py`` (sync workers,
2 × cores + 1 each, ``APP_ENV=production``, metrics in multiprocess mode, ``METRICS_TOKEN``
set), one server per world:

1. **latency**: sequential requests alternating between the two servers (``run.
   alternate_requests``, as the scale step of ``make bench``), after a warm-up: bed search as a
   police officer, the first page (20) of Staffordshire Women's Aid's referral inbox, the first
   page (20) of its event feed; p50, p90, p99 per world and the national ÷ county ratio;
2. **throughput**: ``wrk`` (the same scripts and settings as ``make bench``), each scenario
   ``--rounds`` times per world, alternating, a warm-up before each run: requests a second
   and wrk's p50 and p99 per world, and the ratios;
3. **delivery lag with 300 endpoints**: 300 webhook endpoints (registered by the webhooks
   service, one per force and refuge provider) on the loopback receiver of ``bench/events.py``,
   two delivery workers (``flask deliver``, each serving its metrics), and availability updates
   at ``--event-rate`` a second for ``--event-seconds`` (each one event heard by every
   endpoint); the lag p50 and p99 once the workers have caught up;
4. **metrics**: ``/metrics`` of the national server and of both delivery workers is scraped
   every two seconds throughout, with the token; the families present in the last scrape, and
   their sample counts, go into the report.

Writes ``bench/results/national.json`` and prints a table; drops its databases at the end
(``--keep-db`` keeps them).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import threading
import time
from dataclasses import asdict, dataclass, replace

import psycopg

from bench import events as events_bench
from bench import load_data
from bench.run import (
    BED_SEARCH_PATH,
    CONNINFO,
    DB_NAME,
    HOST,
    INBOX_PATH,
    RESULTS,
    ROOT,
    SMALL_DB_NAME,
    VENV_BIN,
    Bench,
    BenchError,
    Scenario,
    alternate_requests,
    call,
    conninfo,
    copy_database,
    database_url,
    ensure_wrk,
    free_port,
    login,
    percentile,
    render_table,
    run_wrk,
    say,
    step,
)

EVENTS_PATH = "/api/v1/events?page_size=20"
SCENARIOS = (
    ("bed_search", "bed search (2 filters)", "police.officer", BED_SEARCH_PATH),
    ("inbox", "referral inbox, first page (20)", "swa.staff", INBOX_PATH),
    ("event_feed", "event feed, first page (20)", "swa.staff", EVENTS_PATH),
)


@dataclass(frozen=True)
class World:
    """What ``build_world`` loads on top of the seeded demo partnership."""

    name: str
    forces: int  # police organisations in all (the demo has one)
    refuges: int  # in all: the demo's, and bench refuges each with its provider and one user
    users: int  # users in all
    referrals: int  # made over the last ``days`` days
    endpoints: int  # webhook endpoints (registered by the bench, not the loader)
    days: int = 365  # referrals made over, and daily availability reports kept for
    event_days: int = 30  # events in the outbox (EVENT_RETENTION_DAYS' default)

    def scaled(self, factor: float) -> World:
        return replace(self, referrals=max(1, round(self.referrals * factor)))


COUNTY = World("county", forces=1, refuges=50, users=150, referrals=4_000, endpoints=4)
NATIONAL = World("national", forces=43, refuges=300, users=2_000, referrals=150_000, endpoints=300)


def build_world(conn: psycopg.Connection, world: World, password_hash: str) -> list[dict]:
    """Load ``world`` into a migrated, seeded database; returns the refuges loaded."""
    load_data.load_forces(conn, world.forces)
    demo_refuges = conn.execute("SELECT count(*) FROM services WHERE kind = 'refuge'").fetchone()
    refuges = load_data.load_refuges(conn, max(0, world.refuges - demo_refuges[0]), password_hash)
    load_data.load_staff(conn, world.users, password_hash)
    load_data.add_referrals(conn, world.referrals, days=world.days)
    load_data.add_availability_history(conn, world.days)
    load_data.add_outbox(conn, world.event_days)
    return refuges


def world_counts(conn: psycopg.Connection) -> dict[str, int]:
    """What a world holds, as the report (and the loader's test) states it."""

    def one(statement: str) -> int:
        return conn.execute(statement).fetchone()[0]

    return {
        "police_forces": one("SELECT count(*) FROM organisations WHERE kind = 'police'"),
        "refuges": one("SELECT count(*) FROM services WHERE kind = 'refuge'"),
        "users": one("SELECT count(*) FROM users"),
        "referrals": one("SELECT count(*) FROM referrals"),
        "referrals_last_year": one(
            "SELECT count(*) FROM referrals WHERE created_at > now() - interval '365 days'"
        ),
        "forces_that_referred": one(
            "SELECT count(DISTINCT r.from_organisation_id) FROM referrals r "
            "JOIN organisations o ON o.id = r.from_organisation_id WHERE o.kind = 'police'"
        ),
        "services_referred_to": one("SELECT count(DISTINCT to_service_id) FROM referrals"),
        "availability_reports": one("SELECT count(*) FROM availability_reports"),
        "events": one("SELECT count(*) FROM events"),
        "webhook_endpoints": one("SELECT count(*) FROM webhook_endpoints"),
    }


def endpoint_organisations(conn: psycopg.Connection, count: int) -> list[tuple[int, str]]:
    """(organisation id, a user id of it): police forces first, then refuges' providers."""
    rows = conn.execute(
        """
        SELECT DISTINCT ON (o.id) o.id, u.id::text, o.kind
        FROM organisations o JOIN users u ON u.organisation_id = o.id
        WHERE o.kind IN ('police', 'provider') AND u.active
        ORDER BY o.id, u.username
        """
    ).fetchall()
    rows.sort(key=lambda r: (r[2] != "police", r[0]))
    return [(org_id, user_id) for org_id, user_id, _ in rows[:count]]


# --- /metrics while the bench runs -----------------------------------------------------------


class Scraper:
    """Scrapes ``/metrics`` of each target every ``every`` seconds, as Prometheus would."""

    def __init__(self, token: str, every: float = 2.0):
        self.token = token
        self.every = every
        self.targets: dict[str, int] = {}
        self.last: dict[str, str] = {}
        self.statuses: dict[str, dict[int, int]] = {}
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def add(self, name: str, port: int) -> None:
        with self.lock:
            self.targets[name] = port

    def start(self) -> None:
        self.thread.start()

    def scrape_once(self) -> None:
        with self.lock:
            targets = dict(self.targets)
        for name, port in targets.items():
            try:
                status, _, body = call(
                    port, "GET", "/metrics", self.token, headers={"Accept": "text/plain"}
                )
            except OSError:
                status, body = 0, b""
            with self.lock:
                counts = self.statuses.setdefault(name, {})
                counts[status] = counts.get(status, 0) + 1
                if status == 200:
                    self.last[name] = body.decode()

    def _loop(self) -> None:
        while not self.stopping.wait(self.every):
            self.scrape_once()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)

    def summary(self) -> dict:
        from prometheus_client.parser import text_string_to_metric_families

        out = {}
        with self.lock:
            for name in self.targets:
                families = {}
                for family in text_string_to_metric_families(self.last.get(name, "")):
                    if family.name.startswith("partnership_"):
                        families[family.name] = len(family.samples)
                out[name] = {
                    "scrapes": {str(k): v for k, v in sorted(self.statuses.get(name, {}).items())},
                    "families": dict(sorted(families.items())),
                }
        return out


# --- the national bench ----------------------------------------------------------------------


def latency_figures(samples: list[float], statuses: dict[int, int]) -> dict:
    ordered = sorted(samples)
    return {
        "requests": len(ordered),
        "p50_ms": round(percentile(ordered, 50), 2),
        "p90_ms": round(percentile(ordered, 90), 2),
        "p99_ms": round(percentile(ordered, 99), 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": sum(v for k, v in statuses.items() if not 200 <= k < 300),
    }


class NationalBench(Bench):
    def __init__(self, args: argparse.Namespace):
        super().__init__(args)
        self.worlds = {"county": COUNTY.scaled(args.scale), "national": NATIONAL.scaled(args.scale)}
        self.databases = {"county": SMALL_DB_NAME, "national": DB_NAME}
        self.ports = {"county": free_port(), "national": self.app_port}
        self.metrics_token = os.urandom(32).hex()
        self.scraper = Scraper(self.metrics_token)
        self.world_tokens: dict[str, dict[str, str]] = {}
        self.world_refuges: dict[str, list[dict]] = {}
        self.results = {
            "date": self.results["date"],
            "command": "make bench-national" + (f" BENCH_ARGS='{args.raw}'" if args.raw else ""),
            "scale": args.scale,
            "cpu_count": self.cpus,
            "gunicorn_workers_per_server": self.workers,
            "worlds": {name: asdict(world) for name, world in self.worlds.items()},
            "latency": {},
            "throughput": {},
            "notes": [],
            "timings_s": {},
        }

    # servers with the production config: gunicorn.conf.py, metrics in multiprocess mode ------

    def gunicorn_argv(self, port: int, app: str) -> list[str]:
        return [
            str(VENV_BIN / "gunicorn"),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "-w",
            str(self.workers),
            "-b",
            f"{HOST}:{port}",
            "--log-level",
            "warning",
            app,
        ]

    def server_env(self, db_name: str = DB_NAME, rate_limits: bool = False) -> dict[str, str]:
        return {
            **super().server_env(db_name, rate_limits),
            "METRICS_TOKEN": self.metrics_token,
            "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / f"metrics-{db_name}"),
        }

    def worker_env(self) -> dict[str, str]:
        env = super().worker_env()
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # the workers have none of the app's
        return env

    # steps ------------------------------------------------------------------------------------

    def run(self) -> int:
        run_started = time.monotonic()
        load = os.getloadavg()
        self.results["load_average_at_start"] = load
        if load[0] > 0.5 * self.cpus:
            self.results["notes"].append(
                f"the machine was busy when the run started (load average {load[0]:.1f} on "
                f"{self.cpus} CPUs): expect noisy absolute figures; the ratios alternate sizes"
            )
        self.wrk = ensure_wrk()
        self.prepare_database()
        copy_database(DB_NAME, SMALL_DB_NAME)  # both worlds start from the same seeded copy
        for name in ("county", "national"):
            self.build(name)
        self.start_worlds()
        self.scraper.add("api (national)", self.ports["national"])
        self.scraper.start()
        self.measure_latency()
        self.measure_throughput()
        self.measure_delivery()
        self.scraper.scrape_once()
        self.scraper.stop()
        self.results["metrics"] = self.scraper.summary()
        self.stop_workers()
        self.collect_versions()
        self.results["load_average_at_end"] = os.getloadavg()
        self.timed("total", run_started)
        return self.report()

    def build(self, name: str) -> None:
        started = time.monotonic()
        world = self.worlds[name]
        db_name = self.databases[name]
        step(
            f"{name}: {world.forces} police forces, {world.refuges} refuges, {world.users:,} "
            f"users, {world.referrals:,} referrals over {world.days} days ({db_name})"
        )
        with psycopg.connect(conninfo(db_name)) as conn:
            password_hash = conn.execute(
                "SELECT password_hash FROM users WHERE username = 'swa.staff'"
            ).fetchone()
            if password_hash is None:
                raise BenchError("seed-demo made no user swa.staff")
            self.world_refuges[name] = build_world(conn, world, password_hash[0])
        load_data.vacuum_analyze(conninfo(db_name))
        with psycopg.connect(conninfo(db_name)) as conn:
            self.results["worlds"][name]["counts"] = world_counts(conn)
        self.timed(f"build_{name}", started)

    def start_worlds(self) -> None:
        step(f"serving both worlds (gunicorn.conf.py, {self.workers} sync workers each)")
        for name in ("county", "national"):
            server = "api" if name == "national" else "api_small"
            self.start_app(server, self.ports[name], self.databases[name])
            self.world_tokens[name] = {
                user: login(self.ports[name], user, self.password)
                for user in ("police.officer", "swa.staff")
            }
        for name in ("county", "national"):
            for _key, _, user, path in SCENARIOS:
                status, _, body = call(self.ports[name], "GET", path, self.world_tokens[name][user])
                if status != 200 or not json.loads(body):
                    raise BenchError(f"{name}: GET {path} answered {status} {body[:200]!r}")

    def measure_latency(self) -> None:
        started = time.monotonic()
        args = self.args
        step(
            f"latency: {args.requests} sequential requests per world after {args.requests_warmup}"
            " warm-up, alternating county and national"
        )
        for key, label, user, path in SCENARIOS:
            servers = {n: (self.ports[n], self.world_tokens[n][user]) for n in self.ports}
            samples, statuses = alternate_requests(
                servers, path, args.requests_warmup, args.requests
            )
            entry = {"label": label, "path": path, "user": user}
            for name in ("county", "national"):
                entry[name] = latency_figures(samples[name], statuses[name])
            for p in ("p50_ms", "p99_ms"):
                entry[f"ratio_{p[:3]}"] = round(entry["national"][p] / entry["county"][p], 2)
            self.results["latency"][key] = entry
            say(
                f"  {label:<32} p50 {entry['county']['p50_ms']:7.2f} → "
                f"{entry['national']['p50_ms']:7.2f} ms ({entry['ratio_p50']:.2f}×)  p99 "
                f"{entry['county']['p99_ms']:7.2f} → {entry['national']['p99_ms']:7.2f} ms "
                f"({entry['ratio_p99']:.2f}×)  statuses {entry['county']['statuses']} "
                f"{entry['national']['statuses']}"
            )
        self.timed("latency", started)

    def measure_throughput(self) -> None:
        started = time.monotonic()
        args = self.args
        step(
            f"throughput: wrk -t{args.threads} -c{args.connections}, {args.rounds} rounds per "
            f"world, {args.warmup} s warm-up then {args.duration} s each, alternating"
        )
        for key, label, user, path in SCENARIOS:
            runs: dict[str, list[dict]] = {"county": [], "national": []}
            for round_ in range(args.rounds):
                order = ("county", "national") if round_ % 2 == 0 else ("national", "county")
                for name in order:
                    scenario = Scenario(
                        f"{key}-{name}",
                        label,
                        None,
                        data={"token": self.world_tokens[name][user], "paths": [path]},
                    )
                    port = self.ports[name]
                    if args.warmup:
                        run_wrk(self.wrk, self.workdir, port, scenario, args.warmup, args)
                    runs[name].append(
                        run_wrk(self.wrk, self.workdir, port, scenario, args.duration, args)
                    )
            entry = {"label": label, "path": path, "user": user}
            for name in ("county", "national"):
                rps = [r["rps"] for r in runs[name]]
                entry[name] = {
                    "rps": round(statistics.mean(rps), 1),
                    "rps_runs": [round(r, 1) for r in rps],
                    "p50_ms": round(statistics.median(r["p50_ms"] for r in runs[name]), 2),
                    "p99_ms": round(statistics.median(r["p99_ms"] for r in runs[name]), 2),
                    "errors": sum(r["errors"] for r in runs[name]),
                }
            entry["ratio_rps"] = round(entry["national"]["rps"] / entry["county"]["rps"], 2)
            entry["ratio_p99"] = round(entry["national"]["p99_ms"] / entry["county"]["p99_ms"], 2)
            self.results["throughput"][key] = entry
            say(
                f"  {label:<32} {entry['county']['rps']:7.1f} → {entry['national']['rps']:7.1f} "
                f"req/s ({entry['ratio_rps']:.2f}×)  p99 {entry['county']['p99_ms']:.1f} → "
                f"{entry['national']['p99_ms']:.1f} ms  errors {entry['county']['errors']} "
                f"{entry['national']['errors']}"
            )
        self.timed("throughput", started)

    def measure_delivery(self) -> None:
        """300 endpoints, two workers, availability updates at a steady rate."""
        started = time.monotonic()
        args = self.args
        world = self.worlds["national"]
        self.receiver = events_bench.Receiver(HOST)
        self.receiver.start()
        with psycopg.connect(CONNINFO) as conn:
            organisations = endpoint_organisations(conn, world.endpoints)
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
        self.results["worlds"]["national"]["counts"]["webhook_endpoints"] = made
        step(
            f"delivery: {made} webhook endpoints, 2 delivery workers, {args.event_rate:g} "
            f"availability updates a second for {args.event_seconds} s"
        )
        for number in (1, 2):
            port = free_port()
            self.procs.start(
                f"worker-{number}",
                [str(VENV_BIN / "flask"), "--app", "wsgi", "deliver", "--name", f"bench-{number}"],
                {**self.worker_env(), "WORKER_METRICS_ADDRESS": f"{HOST}:{port}"},
            )
            self.scraper.add(f"delivery worker {number}", port)
        updates = self.paced_updates(args.event_rate, args.event_seconds)
        drained = events_bench.wait_for_drain(CONNINFO, self.receiver, limit_s=300)
        figures = events_bench.summarise(self.receiver.snapshot(), made, drained)
        figures.update(workers=2, updates=updates, event_rate=args.event_rate)
        self.results["events"] = figures
        self.receiver.stop()
        self.receiver = None
        if figures.get("deliveries"):
            say(
                f"  {figures['deliveries']:,} deliveries ({figures['events']:,} events to "
                f"{made} endpoints), lag p50 {figures['lag_p50_ms']:.0f} ms p99 "
                f"{figures['lag_p99_ms']:.0f} ms, duplicates {figures['duplicates']}"
                + ("" if drained else "  (NOT caught up after 300 s)")
            )
        self.timed("delivery", started)

    def paced_updates(self, rate: float, seconds: int) -> dict:
        """Availability updates (If-Match) by refuges' own staff, one every 1/``rate`` s."""
        port = self.ports["national"]
        refuges = []
        for refuge in self.world_refuges["national"][:10]:
            token = login(port, refuge["username"], self.password)
            path = f"/api/v1/refuges/{refuge['service_id']}/availability"
            status, headers, body = call(port, "GET", path, token)
            if status != 200:
                raise BenchError(f"GET {path} answered {status} {body[:200]!r}")
            etag = {k.lower(): v for k, v in headers.items()}["etag"]
            refuges.append([path, token, etag, refuge["spaces"]])
        counts: dict[str, int] = {}
        start = time.monotonic()
        for n in range(int(rate * seconds)):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            refuge = refuges[n % len(refuges)]
            path, token, etag, spaces = refuge
            body = {
                "spaces": [
                    {
                        "space_type": s["space_type"],
                        "total": s["total"],
                        "vacant": (n + i) % (s["total"] + 1),
                    }
                    for i, s in enumerate(spaces)
                ]
            }
            status, headers, _ = call(port, "PUT", path, token, body, {"If-Match": etag})
            counts[str(status)] = counts.get(str(status), 0) + 1
            if status == 200:
                refuge[2] = {k.lower(): v for k, v in headers.items()}.get("etag", etag)
        return counts

    def stop_workers(self) -> None:
        for number in (1, 2):
            entry = self.procs.running.get(f"worker-{number}")
            if entry and entry[0].poll() is not None:
                self.results["notes"].append(
                    f"delivery worker {number} exited: {self.procs.log_tail(f'worker-{number}')}"
                )
            self.procs.stop(f"worker-{number}")

    # report -----------------------------------------------------------------------------------

    def report(self) -> int:
        text = render_table(national_rows(self.results))
        self.results["table"] = text
        say()
        say(text)
        say()
        for name, figures in self.results.get("metrics", {}).items():
            families = figures["families"]
            say(
                f"/metrics of {name}: scrapes {figures['scrapes']}, {len(families)} families: "
                + ", ".join(f"{k} ({v})" for k, v in families.items())
            )
        versions = self.results.get("versions", {})
        say(
            f"{self.results['date']} · {self.results['machine']} · "
            + ", ".join(f"{k} {v}" for k, v in versions.items())
        )
        for note in self.results["notes"]:
            say(f"note: {note}")
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / "national.json"
        out.write_text(json.dumps(self.results, indent=2, default=str) + "\n")
        say(f"written to {out.relative_to(ROOT)}")
        return 0


def national_rows(results: dict) -> list[list[str]]:
    counts = {n: w.get("counts", {}) for n, w in results["worlds"].items()}
    county, national = counts.get("county", {}), counts.get("national", {})
    rows = [["measure", "county", "national", "national ÷ county"]]
    rows.append(
        [
            "referrals (last year) / forces / refuges / users",
            _world(county),
            _world(national),
            "",
        ]
    )
    for entry in results["latency"].values():
        rows.append(
            [
                f"{entry['label']}: latency p50 / p99 ms",
                f"{entry['county']['p50_ms']:.2f} / {entry['county']['p99_ms']:.2f}",
                f"{entry['national']['p50_ms']:.2f} / {entry['national']['p99_ms']:.2f}",
                f"{entry['ratio_p50']:.2f}× / {entry['ratio_p99']:.2f}×",
            ]
        )
    for entry in results["throughput"].values():
        rows.append(
            [
                f"{entry['label']}: wrk req/s (p99 ms)",
                f"{entry['county']['rps']:.0f} ({entry['county']['p99_ms']:.0f})",
                f"{entry['national']['rps']:.0f} ({entry['national']['p99_ms']:.0f})",
                f"{entry['ratio_rps']:.2f}× ({entry['ratio_p99']:.2f}×)",
            ]
        )
    events = results.get("events")
    if events and events.get("deliveries"):
        rows.append(
            [
                f"webhook delivery lag p50 / p99 ms, {events['endpoints']} endpoints, 2 workers",
                "—",
                f"{events['lag_p50_ms']:.0f} / {events['lag_p99_ms']:.0f}",
                f"{events['deliveries']:,} deliveries, {events['duplicates']} dup",
            ]
        )
    return rows


def _world(counts: dict) -> str:
    if not counts:
        return "—"
    return (
        f"{counts['referrals_last_year']:,} / {counts['police_forces']} / {counts['refuges']} / "
        f"{counts['users']:,}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiplies both worlds' referrals (0.1: quick)"
    )
    parser.add_argument("--requests", type=int, default=200, help="sequential, per world")
    parser.add_argument("--requests-warmup", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per scenario and world")
    parser.add_argument("--duration", type=int, default=5, help="seconds measured per wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--event-rate",
        type=float,
        default=0.5,
        help="availability updates a second in the delivery step, each heard by every endpoint "
        "(0.5: 1,800 an hour, about fifty times a national average of three a day per refuge)",
    )
    parser.add_argument("--event-seconds", type=int, default=40)
    parser.add_argument("--keep-db", action="store_true", help="keep the databases afterwards")
    args = parser.parse_args(argv)
    args.raw = " ".join(argv if argv is not None else sys.argv[1:])
    if args.scale <= 0:
        parser.error("--scale must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bench = NationalBench(args)

    def on_term(signum, frame):
        raise KeyboardInterrupt

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
            signal.signal(signum, signal.SIG_IGN)
        bench.scraper.stopping.set()
        bench.cleanup()


if __name__ == "__main__":
    sys.exit(main())
