"""Load a realistic partnership at scale with server-side SQL (``INSERT … SELECT generate_series``).

On top of the demo partnership (``flask seed-demo``) this adds:

* 50 refuges, each run by its own provider organisation with one staff user, with facilities,
  areas, bed spaces, a current availability report and its first history entry;
* referrals in batches (``add_referrals``): spread over three years and over the receiving
  services with realistic weights (Staffordshire Women's Aid's refuge gets about 9 % of them),
  statuses that depend on age, DASH risk levels with matching scores, and their timeline events;
* funds and 200 funding projects with delivery partners, areas, milestones and spend lines.

Nothing here goes through the ORM: a million referrals take about a minute. Every insert first
checks that it fills each NOT NULL column without a default, so a model change that this file
does not know about fails loudly instead of loading something the app would not write.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable

import psycopg
from psycopg import sql

AREAS = [
    "E07000192",
    "E07000193",
    "E07000194",
    "E07000195",
    "E07000196",
    "E07000197",
    "E07000198",
    "E07000199",
    "E06000021",
]
LANGUAGES = ["Urdu", "Polish", "Punjabi", "Romanian", "Arabic", "Bengali", "Gujarati"]
SPACE_TYPES = ("single", "family", "accessible")
BENCH_REFUGE_PREFIX = "Bench refuge provider"
BENCH_USER_PREFIX = "bench.refuge"
BENCH_FORCE_PREFIX = "Bench police force"
BENCH_STAFF_PREFIX = "bench.user"


class LoadError(RuntimeError):
    """The database does not look like what this loader knows how to fill."""


def log(message: str) -> None:
    print(f"  [load] {message}", flush=True)


def check_insertable(conn: psycopg.Connection, table: str, columns: Iterable[str]) -> None:
    """Fail if ``table`` has a NOT NULL column without a default that ``columns`` leaves out."""
    rows = conn.execute(
        """
        SELECT column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = %s
          AND is_nullable = 'NO' AND column_default IS NULL
        """,
        (table,),
    ).fetchall()
    if (
        not rows
        and not conn.execute(
            "SELECT 1 FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name = %s",
            (table,),
        ).fetchone()
    ):
        raise LoadError(f"table {table!r} does not exist (are the migrations up to date?)")
    missing = sorted({name for (name,) in rows} - set(columns))
    if missing:
        raise LoadError(
            f"bench/load_data.py does not fill the NOT NULL column(s) {missing} of {table!r}: "
            "update the loader to match the model"
        )


def table_exists(conn: psycopg.Connection, table: str) -> bool:
    return bool(
        conn.execute(
            "SELECT 1 FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name = %s",
            (table,),
        ).fetchone()
    )


def _session(conn: psycopg.Connection) -> None:
    conn.execute("SET TIME ZONE 'UTC'")
    conn.execute("SET synchronous_commit = off")
    conn.execute("SET work_mem = '64MB'")


# --- refuges --------------------------------------------------------------------------------

ORG_COLUMNS = ("name", "kind", "areas", "public_id", "created_at", "updated_at")
SERVICE_COLUMNS = (
    "organisation_id",
    "name",
    "kind",
    "phone",
    "hours",
    "facilities",
    "address",
    "active",
    "public_id",
    "languages",
    "opening_hours",
    "created_at",
    "updated_at",
)
# The users table belongs to sign-in and changes with it: insert the columns that exist.
USER_VALUES = {
    "id": "gen_random_uuid()",
    "username": "%(username)s",
    "full_name": "%(full_name)s",
    "organisation_id": "%(org)s",
    "role": "'staff'",
    "partnership_admin": "false",
    "active": "true",
    "password_hash": "%(hash)s",
    "failed_logins": "0",
    "created_at": "now()",
    "updated_at": "now()",
}


def existing_columns(conn: psycopg.Connection, table: str) -> set[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s",
        (table,),
    ).fetchall()
    return {name for (name,) in rows}


def _users_insert(conn: psycopg.Connection) -> sql.Composed:
    have = existing_columns(conn, "users")
    columns = [c for c in USER_VALUES if c in have]
    check_insertable(conn, "users", columns)
    return sql.SQL("INSERT INTO users ({}) VALUES ({}) RETURNING id").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        sql.SQL(", ").join(sql.SQL(USER_VALUES[c]) for c in columns),
    )


def _refuge_spec(rng: random.Random, number: int) -> dict:
    areas = sorted(rng.sample(AREAS, rng.choice((1, 1, 2, 2, 3))))
    languages = ["English"] + rng.sample(LANGUAGES, rng.choice((0, 1, 1, 2)))
    facilities = {
        "max_children": rng.choice((0, 1, 2, 2, 3, 3, 4, 5)),
        "max_son_age": rng.choice((10, 12, 12, 14, 16, 18)),
        "wheelchair_accessible": rng.random() < 0.3,
        "accepts_nrpf": rng.random() < 0.25,
        "accepts_pets": rng.random() < 0.15,
        "women_only": rng.random() < 0.9,
        "languages": languages,
    }
    totals = {"single": rng.randint(2, 8)}
    if facilities["max_children"] > 0:
        totals["family"] = rng.randint(1, 6)
    if facilities["wheelchair_accessible"]:
        totals["accessible"] = rng.randint(1, 2)
    # Most refuges are full most of the time.
    spaces = [
        {
            "space_type": kind,
            "total": total,
            "vacant": 0 if rng.random() < 0.55 else rng.randint(1, total),
        }
        for kind, total in totals.items()
    ]
    return {
        "number": number,
        "org": f"{BENCH_REFUGE_PREFIX} {number:02d}",
        "name": f"Bench refuge {number:02d}",
        "username": f"{BENCH_USER_PREFIX}{number:02d}",
        "areas": areas,
        "facilities": facilities,
        "spaces": spaces,
        "hours_ago": rng.uniform(0.2, 40.0),  # a few are stale (over 24 hours)
    }


def load_refuges(conn: psycopg.Connection, count: int, password_hash: str, seed: int = 7) -> list:
    """``count`` refuges, one provider organisation and one staff user each.

    Returns ``[{"service_id", "organisation_id", "username", "spaces": [...]}, …]``.
    """
    from psycopg.types.json import Json

    _session(conn)
    for table, columns in (
        ("organisations", ORG_COLUMNS),
        ("services", SERVICE_COLUMNS),
        ("service_areas", ("service_id", "gss_code")),
        ("bed_spaces", ("service_id", "space_type", "total", "vacant")),
        (
            "refuge_availability",
            ("service_id", "version", "updated_at", "updated_by_user_id", "updated_by"),
        ),
        (
            "availability_reports",
            (
                "service_id",
                "reported_at",
                "reported_by_user_id",
                "reported_by",
                "spaces",
                "version",
            ),
        ),
    ):
        check_insertable(conn, table, columns)
    users_insert = _users_insert(conn)
    rng = random.Random(seed)
    refuges = []
    with conn.cursor() as cur:
        for number in range(1, count + 1):
            spec = _refuge_spec(rng, number)
            cur.execute(
                "INSERT INTO organisations (name, kind, areas, public_id, created_at, updated_at) "
                "VALUES (%s, 'provider', %s, gen_random_uuid(), now(), now()) RETURNING id",
                (spec["org"], Json(spec["areas"])),
            )
            org_id = cur.fetchone()[0]
            cur.execute(
                "INSERT INTO services (organisation_id, name, kind, phone, hours, facilities, "
                "address, active, public_id, languages, opening_hours, created_at, updated_at) "
                "VALUES (%s, %s, 'refuge', %s, '24 hours', %s, %s, true, gen_random_uuid(), "
                "'[\"en\"]', '[]', now(), now()) "
                "RETURNING id",
                (
                    org_id,
                    spec["name"],
                    f"01785 {600000 + number:06d}",
                    Json(spec["facilities"]),
                    f"{number} Bench Secret Road, Staffordshire ST{number:02d} 9ZZ",
                ),
            )
            service_id = cur.fetchone()[0]
            cur.executemany(
                "INSERT INTO service_areas (service_id, gss_code) VALUES (%s, %s)",
                [(service_id, code) for code in spec["areas"]],
            )
            cur.execute(
                users_insert,
                {
                    "username": spec["username"],
                    "org": org_id,
                    "full_name": f"Bench Refuge Worker {number:02d}",
                    "hash": password_hash,
                },
            )
            user_id = cur.fetchone()[0]
            cur.executemany(
                "INSERT INTO bed_spaces (service_id, space_type, total, vacant) "
                "VALUES (%s, %s, %s, %s)",
                [(service_id, s["space_type"], s["total"], s["vacant"]) for s in spec["spaces"]],
            )
            at = f"{spec['hours_ago']} hours"
            cur.execute(
                "INSERT INTO refuge_availability (service_id, version, updated_at, "
                "updated_by_user_id, updated_by) VALUES (%s, 1, now() - %s::interval, %s, %s)",
                (service_id, at, user_id, spec["username"]),
            )
            cur.execute(
                "INSERT INTO availability_reports (service_id, reported_at, reported_by_user_id, "
                "reported_by, spaces, version) VALUES (%s, now() - %s::interval, %s, %s, %s, 1)",
                (service_id, at, user_id, spec["username"], Json(spec["spaces"])),
            )
            refuges.append(
                {
                    "service_id": service_id,
                    "organisation_id": org_id,
                    "username": spec["username"],
                    "spaces": spec["spaces"],
                }
            )
    _demo_bed_spaces(conn)
    conn.commit()
    log(f"{count} refuges with their organisations, staff users, bed spaces and availability")
    return refuges


def _demo_bed_spaces(conn: psycopg.Connection) -> None:
    """Bed spaces and a current report for the demo refuges, where the seed made none."""
    conn.execute(
        """
        INSERT INTO bed_spaces (service_id, space_type, total, vacant)
        SELECT s.id, t.space_type, t.total, t.vacant
        FROM services s
        CROSS JOIN (VALUES ('single', 6, 1), ('family', 4, 2), ('accessible', 1, 0))
            AS t(space_type, total, vacant)
        WHERE s.kind = 'refuge'
          AND NOT EXISTS (SELECT 1 FROM bed_spaces b WHERE b.service_id = s.id)
        """
    )
    conn.execute(
        """
        INSERT INTO refuge_availability (service_id, version, updated_at, updated_by)
        SELECT s.id, 1, now() - interval '3 hours', 'seed'
        FROM services s
        WHERE s.kind = 'refuge'
          AND NOT EXISTS (SELECT 1 FROM refuge_availability r WHERE r.service_id = s.id)
        """
    )


# --- referrals ------------------------------------------------------------------------------

REFERRAL_COLUMNS = (
    "id",
    "reference",
    "kind",
    "status",
    "version",
    "from_organisation_id",
    "from_user_id",
    "to_service_id",
    "to_organisation_id",
    "risk_level",
    "dash_score",
    "marac",
    "subject_area",
    "do_not_contact",
    "subject",
    "safe_contact",
    "household",
    "needs",
    "consent",
    "summary",
    "decline_reason",
    "outcome",
    "created_at",
    "updated_at",
    "status_changed_at",
    "response_due_at",
)
EVENT_COLUMNS = (
    "referral_id",
    "at",
    "kind",
    "user_id",
    "organisation_id",
    "from_status",
    "to_status",
    "reason_code",
    "note",
    "details",
)

# Shares (out of 1000) of the referrals each demo service receives; the 50 bench refuges share
# what is left. Perpetrator programmes receive perpetrator referrals, the rest victims.
DEMO_TARGET_WEIGHTS = {
    "Staffordshire Women's Aid refuge": 90,
    "Glow refuge": 60,
    "Pathway refuge": 50,
    "New Era victim support": 220,
    "New Era perpetrator service": 90,
    "Glow perpetrator service": 50,
}
# Who sends (out of 100): mostly the police; providers pass referrals on.
DEMO_SENDER_WEIGHTS = {
    "Staffordshire Police": 70,
    "New Era": 12,
    "Staffordshire Women's Aid": 4,
    "Glow": 4,
    "Pathway": 3,
}
BENCH_SENDER_WEIGHT = 7
SENDER_BUCKETS = 1000  # GENERATE_SQL draws a sender bucket in [0, 1000)


def _buckets(weights: list[tuple[object, int]], size: int) -> list[object]:
    """Spread ``weights`` over exactly ``size`` buckets (largest remainders get the rest)."""
    total = sum(w for _, w in weights)
    exact = [(item, w * size / total) for item, w in weights]
    counts = [int(x) for _, x in exact]
    order = sorted(range(len(exact)), key=lambda i: exact[i][1] - counts[i], reverse=True)
    for i in order[: size - sum(counts)]:
        counts[i] += 1
    out: list[object] = []
    for (item, _), count in zip(exact, counts, strict=True):
        out.extend([item] * count)
    return out


def _prepare_targets(conn: psycopg.Connection) -> None:
    """Temp tables mapping 1000 buckets to receiving services and 100 to sending organisations."""
    services = conn.execute(
        """
        SELECT s.id, s.organisation_id, s.kind, s.name, o.name,
               coalesce((SELECT array_agg(a.gss_code ORDER BY a.gss_code)
                         FROM service_areas a WHERE a.service_id = s.id), ARRAY['E07000197'])
        FROM services s JOIN organisations o ON o.id = s.organisation_id
        WHERE s.kind IN ('refuge', 'victim_support', 'perpetrator_programme') AND s.active
        ORDER BY s.id
        """
    ).fetchall()
    targets: list[tuple[object, int]] = []
    bench = []
    for service_id, org_id, kind, name, org_name, areas in services:
        row = (service_id, org_id, kind, list(areas))
        if org_name.startswith(BENCH_REFUGE_PREFIX):
            bench.append(row)
        else:
            targets.append((row, DEMO_TARGET_WEIGHTS.get(name, 20)))
    used = sum(w for _, w in targets)
    if bench:
        share = max(1000 - used, len(bench)) / len(bench)
        targets.extend((row, share) for row in bench)
    if not targets:
        raise LoadError("no service can receive referrals: was seed-demo run?")
    users = dict(
        conn.execute(
            """
            SELECT DISTINCT ON (organisation_id) organisation_id, id FROM users
            WHERE role IN ('staff', 'admin') AND active
            ORDER BY organisation_id, role DESC, username
            """
        ).fetchall()
    )
    orgs = dict(conn.execute("SELECT name, id FROM organisations").fetchall())
    senders: list[tuple[object, int]] = [
        (orgs[name], weight) for name, weight in DEMO_SENDER_WEIGHTS.items() if name in orgs
    ]
    bench_orgs = [oid for name, oid in orgs.items() if name.startswith(BENCH_REFUGE_PREFIX)]
    senders.extend((oid, BENCH_SENDER_WEIGHT / len(bench_orgs)) for oid in bench_orgs)
    forces = [oid for name, oid in orgs.items() if name.startswith(BENCH_FORCE_PREFIX)]
    if forces and "Staffordshire Police" in orgs:
        # The national world: the police's share is spread over every force alike.
        share = DEMO_SENDER_WEIGHTS["Staffordshire Police"] / (len(forces) + 1)
        senders = [
            (oid, share if oid == orgs["Staffordshire Police"] else weight)
            for oid, weight in senders
        ]
        senders.extend((oid, share) for oid in forces)
    police = orgs.get("Staffordshire Police") or senders[0][0]

    conn.execute("DROP TABLE IF EXISTS bench_targets, bench_senders")
    conn.execute(
        "CREATE TEMP TABLE bench_targets (bucket int PRIMARY KEY, service_id int, org_id int, "
        "kind text, areas text[])"
    )
    conn.execute(
        "CREATE TEMP TABLE bench_senders (bucket int PRIMARY KEY, org_id int, user_id uuid, "
        "fallback_org int, fallback_user uuid)"
    )
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO bench_targets VALUES (%s, %s, %s, %s, %s)",
            [(i, *row) for i, row in enumerate(_buckets(targets, 1000))],
        )
        cur.executemany(
            "INSERT INTO bench_senders VALUES (%s, %s, %s, %s, %s)",
            [
                (i, org, users.get(org), police, users.get(police))
                for i, org in enumerate(_buckets(senders, SENDER_BUCKETS))
            ],
        )
    conn.execute("ANALYZE bench_targets")
    conn.execute("ANALYZE bench_senders")


# Every value of a referral, drawn once per row into a temp table, then inserted from it.
GENERATE_SQL = """
CREATE TEMP TABLE bench_gen AS
WITH raw AS MATERIALIZED (
    SELECT g AS n,
           floor(random() * 1000)::int AS tb,
           floor(random() * 1000)::int AS sb,
           date_trunc('second', now() - random() * interval '{days} days') AS created_at,
           random() AS r_status, random() AS r_risk, random() AS r_area, random() AS r_misc,
           random() AS r_kids, random() AS r_hours
    FROM generate_series(1, {n}) AS g
), drawn AS (
    SELECT raw.*, t.service_id, t.org_id AS to_org, t.kind AS service_kind, t.areas,
           CASE WHEN s.org_id = t.org_id THEN s.fallback_org ELSE s.org_id END AS from_org,
           CASE WHEN s.org_id = t.org_id THEN s.fallback_user ELSE s.user_id END AS from_user,
           extract(epoch FROM now() - raw.created_at) / 86400 AS age_days
    FROM raw
    JOIN bench_targets t ON t.bucket = raw.tb
    JOIN bench_senders s ON s.bucket = raw.sb
), shaped AS (
    SELECT d.*,
           CASE WHEN d.service_kind = 'perpetrator_programme' THEN 'perpetrator' ELSE 'victim' END
               AS kind,
           CASE WHEN d.r_risk < 0.45 THEN 'standard' WHEN d.r_risk < 0.80 THEN 'medium'
                ELSE 'high' END AS risk_level,
           CASE
             WHEN d.age_days < 3 THEN
               CASE WHEN d.r_status < 0.60 THEN 'submitted' WHEN d.r_status < 0.85 THEN 'accepted'
                    WHEN d.r_status < 0.93 THEN 'declined' WHEN d.r_status < 0.97 THEN 'redirected'
                    ELSE 'withdrawn' END
             WHEN d.age_days < 90 THEN
               CASE WHEN d.r_status < 0.02 THEN 'submitted' WHEN d.r_status < 0.50 THEN 'accepted'
                    WHEN d.r_status < 0.70 THEN 'closed' WHEN d.r_status < 0.85 THEN 'declined'
                    WHEN d.r_status < 0.93 THEN 'redirected' ELSE 'withdrawn' END
             ELSE
               CASE WHEN d.r_status < 0.05 THEN 'accepted' WHEN d.r_status < 0.70 THEN 'closed'
                    WHEN d.r_status < 0.85 THEN 'declined' WHEN d.r_status < 0.93 THEN 'redirected'
                    ELSE 'withdrawn' END
           END AS status,
           d.areas[1 + floor(d.r_area * cardinality(d.areas))::int] AS subject_area,
           CASE WHEN d.r_kids < 0.45 THEN 0 WHEN d.r_kids < 0.70 THEN 1 WHEN d.r_kids < 0.88
                THEN 2 WHEN d.r_kids < 0.96 THEN 3 ELSE 4 END AS children
    FROM drawn d
)
SELECT gen_random_uuid() AS id,
       sh.*,
       extract(year FROM sh.created_at)::int AS year,
       row_number() OVER (PARTITION BY extract(year FROM sh.created_at) ORDER BY sh.created_at,
                          sh.n) AS year_seq,
       CASE sh.risk_level WHEN 'standard' THEN floor(sh.r_misc * 10)::int
                          WHEN 'medium' THEN 10 + floor(sh.r_misc * 4)::int
                          ELSE 14 + floor(sh.r_misc * 11)::int END AS dash_score,
       CASE WHEN sh.status = 'submitted' THEN sh.created_at
            ELSE least(sh.created_at + (1 + sh.r_hours * 70) * interval '1 hour',
                       now() - interval '1 minute') END AS status_changed_at,
       sh.created_at + CASE sh.risk_level WHEN 'high' THEN interval '1 day'
                                          ELSE interval '3 days' END AS response_due_at,
       coalesce(c.last_number, 0) AS year_offset
FROM shaped sh
-- Numbered after the year's highest numbered reference already there (the loader's own, from
-- an earlier call); the app's references are random characters (REF-2026-7GQ2M9XK).
LEFT JOIN (
    SELECT substr(reference, 5, 4)::int AS year, max(substr(reference, 10)::bigint) AS last_number
    FROM referrals WHERE reference ~ '^REF-[0-9][0-9][0-9][0-9]-[0-9]+$' GROUP BY 1
) c ON c.year = extract(year FROM sh.created_at)::int
"""

INSERT_REFERRALS_SQL = """
INSERT INTO referrals (id, reference, kind, status, version, from_organisation_id, from_user_id,
    to_service_id, to_organisation_id, risk_level, dash_score, marac, subject_area,
    do_not_contact, subject, safe_contact, household, needs, consent, summary, decline_reason,
    outcome, created_at, updated_at, status_changed_at, response_due_at)
SELECT g.id,
       'REF-' || g.year || '-'
           || lpad((g.year_seq + g.year_offset)::text,
                   greatest(6, length((g.year_seq + g.year_offset)::text)), '0'),
       g.kind, g.status,
       CASE g.status WHEN 'submitted' THEN 1 WHEN 'closed' THEN 3 ELSE 2 END,
       g.from_org, g.from_user, g.service_id, g.to_org, g.risk_level, g.dash_score,
       g.risk_level = 'high' AND g.r_misc > 0.2, g.subject_area, g.r_hours < 0.03,
       json_build_object(
           'name', 'Bench Person ' || g.n,
           'date_of_birth', to_char(date '1962-01-01' + floor(g.r_area * 16000)::int,
                                    'YYYY-MM-DD'),
           'gender', CASE WHEN g.kind = 'perpetrator' THEN
                            CASE WHEN g.r_kids < 0.9 THEN 'male' ELSE 'female' END
                          ELSE CASE WHEN g.r_kids < 0.93 THEN 'female' ELSE 'male' END END,
           'area', g.subject_area),
       json_build_object(
           'phone', '07700 9' || lpad((g.n % 100000)::text, 5, '0'),
           'safe_to_call', g.r_hours >= 0.03, 'may_leave_message', g.r_misc < 0.3,
           'safe_times', 'weekdays 10:00-12:00', 'do_not_contact', g.r_hours < 0.03),
       json_build_object(
           'children', g.children,
           'child_ages', CASE g.children WHEN 0 THEN json_build_array()
                            WHEN 1 THEN json_build_array(1 + g.n % 15)
                            WHEN 2 THEN json_build_array(1 + g.n % 15, 3 + g.n % 13)
                            WHEN 3 THEN json_build_array(1 + g.n % 15, 3 + g.n % 13, 2 + g.n % 9)
                            ELSE json_build_array(1 + g.n % 15, 3 + g.n % 13, 2 + g.n % 9,
                                                  g.n % 4) END),
       json_build_object(
           'wheelchair', g.r_misc < 0.05,
           'interpreter_language', CASE WHEN g.r_area < 0.08 THEN 'Polish'
                                        WHEN g.r_area < 0.12 THEN 'Urdu' END,
           'nrpf', g.r_hours > 0.96),
       json_build_object(
           'given', g.r_status < 0.8,
           'lawful_basis', CASE WHEN g.r_status < 0.8 THEN 'consent' ELSE 'safeguarding' END,
           'rationale', CASE WHEN g.r_status < 0.8 THEN 'Agreed at the scene.'
                             ELSE 'High risk of serious harm; shared without consent.' END),
       'Bench referral ' || g.n || ': ' || g.risk_level || ' risk, ' || g.children
           || ' child(ren); see the attending officer''s notes.',
       CASE WHEN g.status = 'declined' THEN
            (ARRAY['no_capacity', 'not_eligible', 'outside_area', 'declined_by_person',
                   'unable_to_contact', 'other'])[1 + floor(g.r_misc * 6)::int] END,
       CASE WHEN g.status = 'closed' THEN 'Support completed; case closed.' END,
       g.created_at, g.status_changed_at, g.status_changed_at, g.response_due_at
FROM bench_gen g
ORDER BY g.created_at
"""

INSERT_EVENTS_SQL = """
INSERT INTO referral_events (referral_id, at, kind, user_id, organisation_id, from_status,
    to_status, reason_code, note, details)
SELECT id, created_at, 'created', from_user, from_org, NULL, 'submitted', NULL, NULL,
       json_build_object('to_service_id', service_id)
FROM bench_gen
UNION ALL
SELECT id, status_changed_at,
       CASE status WHEN 'closed' THEN 'closed' WHEN 'accepted' THEN 'accepted'
                   WHEN 'declined' THEN 'declined' WHEN 'redirected' THEN 'redirected'
                   ELSE 'withdrawn' END,
       NULL, CASE WHEN status = 'withdrawn' THEN from_org ELSE to_org END,
       CASE WHEN status = 'closed' THEN 'accepted' ELSE 'submitted' END, status,
       CASE WHEN status = 'declined' THEN 'no_capacity' END, NULL, NULL
FROM bench_gen WHERE status <> 'submitted'
"""


def _drop_secondary(conn: psycopg.Connection, tables: tuple[str, ...]) -> list[str]:
    """Drop the tables' foreign keys and plain indexes; return the DDL that puts them back.

    The usual bulk-load recipe: building an index once from sorted rows and validating a
    foreign key with one join is far faster than maintaining them row by row. Primary keys and
    unique constraints stay. Runs in the load's transaction, so a failure restores everything.
    """
    restore: list[str] = []
    indexes = conn.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        (list(tables),),
    ).fetchall()
    fkeys = conn.execute(
        """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])
        """,
        (list(tables),),
    ).fetchall()
    for table, name, definition in fkeys:
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(table), sql.Identifier(name)
            )
        )
        restore.append(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ")
            .format(sql.Identifier(table), sql.Identifier(name))
            .as_string(conn)
            + definition
        )
    for name, definition in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        restore.insert(0, definition)  # indexes first: the foreign keys' checks use them
    return restore


def add_referrals(
    conn: psycopg.Connection,
    n: int,
    seed: float = 0.42,
    bulk: bool | None = None,
    days: int = 1095,
) -> float:
    """Add ``n`` referrals (and their timeline events) made over the last ``days`` days, in one
    transaction; returns seconds.

    ``bulk`` (default: for 50,000 rows or more) drops the two tables' plain indexes and foreign
    keys for the insert and recreates them from their own definitions afterwards.
    """
    started = time.monotonic()
    _session(conn)
    check_insertable(conn, "referrals", REFERRAL_COLUMNS)
    check_insertable(conn, "referral_events", EVENT_COLUMNS)
    if bulk is None:
        bulk = n >= 50_000
    conn.execute("SELECT setseed(%s)", (seed,))
    _prepare_targets(conn)
    conn.execute("DROP TABLE IF EXISTS bench_gen")
    conn.execute(sql.SQL(GENERATE_SQL).format(n=sql.Literal(int(n)), days=sql.Literal(int(days))))
    restore = _drop_secondary(conn, ("referrals", "referral_events")) if bulk else []
    conn.execute(INSERT_REFERRALS_SQL)
    conn.execute(INSERT_EVENTS_SQL)
    conn.execute("DROP TABLE bench_gen")
    if restore:
        conn.execute("SET maintenance_work_mem = '512MB'")
        for statement in restore:
            conn.execute(statement)
    conn.commit()
    seconds = time.monotonic() - started
    log(f"{n:,} referrals and their events in {seconds:.1f} s")
    return seconds


def referral_count(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM referrals").fetchone()[0]


def vacuum_analyze(conninfo: str) -> float:
    """VACUUM (ANALYZE) the database, as autovacuum would have on a long-lived system."""
    started = time.monotonic()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    seconds = time.monotonic() - started
    log(f"VACUUM (ANALYZE) in {seconds:.1f} s")
    return seconds


# --- funding --------------------------------------------------------------------------------

FUND_COLUMNS = (
    "name",
    "funder",
    "round",
    "description",
    "starts_on",
    "ends_on",
    "version",
    "created_at",
    "updated_at",
)
PROJECT_COLUMNS = (
    "fund_id",
    "title",
    "description",
    "category",
    "lead_organisation_id",
    "amount_awarded_pence",
    "awarded_on",
    "planned_start",
    "planned_end",
    "actual_start",
    "status",
    "rag_delivery",
    "rag_spend",
    "rag_risk",
    "rag_commentary",
    "version",
    "created_at",
    "updated_at",
    "last_update_at",
)
FUNDS = [
    ("Safer Streets Fund round 4", "Home Office", "4", "2022-10-01", "2023-09-30"),
    ("Safer Streets Fund round 5", "Home Office", "5", "2023-10-01", "2025-03-31"),
    ("Safety of Women at Night Fund", "Home Office", "1", "2021-10-01", "2022-09-30"),
    ("Violence Against Women and Girls fund", "Home Office", "2", "2024-04-01", "2026-03-31"),
]

PROJECTS_SQL = """
INSERT INTO projects (fund_id, title, description, category, lead_organisation_id,
    amount_awarded_pence, awarded_on, planned_start, planned_end, actual_start, status,
    rag_delivery, rag_spend, rag_risk, rag_commentary, version, created_at, updated_at,
    last_update_at)
SELECT f.id,
       initcap(replace(c.category, '_', ' ')) || ' project ' || g,
       'Bench project ' || g || ' bought with ' || f.name || '.',
       c.category, %(lead)s,
       (5000000 + floor(random() * 45000000))::bigint,
       f.starts_on, f.starts_on + 30, f.ends_on,
       CASE WHEN g %% 5 <> 0 THEN f.starts_on + 45 END,
       (ARRAY['planned', 'in_delivery', 'in_delivery', 'completed', 'completed', 'cancelled'])
           [1 + g %% 6],
       (ARRAY['green', 'green', 'amber', 'red'])[1 + g %% 4],
       (ARRAY['green', 'amber', 'green', 'red'])[1 + (g / 4) %% 4],
       (ARRAY['green', 'amber', 'amber', 'green'])[1 + (g / 16) %% 4],
       CASE WHEN g %% 4 = 3 THEN 'Supplier delays; recovery plan agreed.' END,
       1, now() - (g || ' days')::interval, now() - (g %% 90 || ' days')::interval,
       now() - (g %% 120 || ' days')::interval
FROM generate_series(1, %(n)s) AS g
JOIN (SELECT id, name, starts_on, ends_on, row_number() OVER (ORDER BY id) - 1 AS i
      FROM funds) f ON f.i = g %% %(funds)s
JOIN (SELECT category, row_number() OVER () - 1 AS i
      FROM unnest(ARRAY['street_lighting', 'cctv', 'education_campaign',
                        'vulnerability_training', 'safe_space', 'target_hardening', 'other'])
           AS category) c ON c.i = g %% 7
"""


def load_funding(conn: psycopg.Connection, n: int = 200) -> str:
    """Four funds and ``n`` projects with delivery partners, areas, milestones and spend."""
    _session(conn)
    if not (table_exists(conn, "funds") and table_exists(conn, "projects")):
        return "skipped: no funds/projects tables (funding models not migrated yet)"
    check_insertable(conn, "funds", FUND_COLUMNS)
    check_insertable(conn, "projects", PROJECT_COLUMNS)
    lead = conn.execute(
        "SELECT id FROM organisations WHERE kind = 'commissioner' ORDER BY id LIMIT 1"
    ).fetchone()
    if lead is None:
        raise LoadError("no commissioner organisation: was seed-demo run?")
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO funds (name, funder, round, description, starts_on, ends_on, version, "
            "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, 1, now(), now()) "
            "ON CONFLICT (name) DO NOTHING",
            [(name, funder, rnd, f"{name}.", s, e) for name, funder, rnd, s, e in FUNDS],
        )
    conn.execute("SELECT setseed(0.17)")
    conn.execute(PROJECTS_SQL, {"lead": lead[0], "n": n, "funds": len(FUNDS)})
    parts = [f"{n} projects over {len(FUNDS)} funds"]
    if table_exists(conn, "project_delivery_organisations"):
        check_insertable(conn, "project_delivery_organisations", ("project_id", "organisation_id"))
        conn.execute(
            """
            INSERT INTO project_delivery_organisations (project_id, organisation_id)
            SELECT p.id, o.id FROM projects p
            JOIN LATERAL (SELECT id FROM organisations WHERE kind IN ('provider', 'police')
                          ORDER BY md5(p.id::text || id::text) LIMIT 1 + p.id % 2) o ON true
            ON CONFLICT DO NOTHING
            """
        )
        parts.append("delivery partners")
    if table_exists(conn, "project_areas"):
        check_insertable(conn, "project_areas", ("project_id", "gss_code"))
        conn.execute(
            """
            INSERT INTO project_areas (project_id, gss_code)
            SELECT p.id, a.code FROM projects p
            JOIN LATERAL (SELECT code FROM unnest(%s::text[]) AS code
                          ORDER BY md5(p.id::text || code) LIMIT 1 + p.id %% 3) a ON true
            ON CONFLICT DO NOTHING
            """,
            (AREAS,),
        )
        parts.append("areas")
    if table_exists(conn, "project_milestones"):
        check_insertable(
            conn,
            "project_milestones",
            ("project_id", "title", "due_on", "version", "created_at", "updated_at"),
        )
        conn.execute(
            """
            INSERT INTO project_milestones (project_id, title, due_on, completed_on, version,
                                            created_at, updated_at)
            SELECT p.id, m.title, p.planned_start + m.days,
                   CASE WHEN p.status = 'completed' THEN p.planned_start + m.days END,
                   1, p.created_at, p.updated_at
            FROM projects p
            CROSS JOIN (VALUES ('Contract signed', 14), ('Installation complete', 120),
                               ('Evaluation report', 300)) AS m(title, days)
            """
        )
        parts.append("milestones")
    if table_exists(conn, "project_spend_lines"):
        check_insertable(
            conn,
            "project_spend_lines",
            ("project_id", "period", "version", "created_at", "updated_at"),
        )
        conn.execute(
            """
            INSERT INTO project_spend_lines (project_id, period, actual_pence, forecast_pence,
                                             version, created_at, updated_at)
            SELECT p.id,
                   to_char(p.planned_start + q * 91, 'YYYY') || '-Q'
                       || to_char(p.planned_start + q * 91, 'Q'),
                   p.amount_awarded_pence / 5, p.amount_awarded_pence / 4, 1, p.created_at,
                   p.updated_at
            FROM projects p CROSS JOIN generate_series(0, 2) AS q
            WHERE p.status <> 'planned'
            ON CONFLICT DO NOTHING
            """
        )
        parts.append("spend lines")
    conn.commit()
    message = ", ".join(parts)
    log(message)
    return message


# --- the national world (bench/national.py) --------------------------------------------------

# The users table's columns for a set-based insert of many staff users (``load_staff``).
STAFF_VALUES = {
    "id": "gen_random_uuid()",
    "username": "%(prefix)s || lpad(g::text, 5, '0')",
    "full_name": "'Bench Staff Member ' || g",
    "organisation_id": "(%(orgs)s::int[])[1 + (g - 1) %% cardinality(%(orgs)s::int[])]",
    "role": "'staff'",
    "partnership_admin": "false",
    "active": "true",
    "password_hash": "%(hash)s",
    "failed_logins": "0",
    "created_at": "now()",
    "updated_at": "now()",
}


def police_forces(conn: psycopg.Connection) -> list[int]:
    rows = conn.execute("SELECT id FROM organisations WHERE kind = 'police' ORDER BY id").fetchall()
    return [oid for (oid,) in rows]


def load_forces(conn: psycopg.Connection, total: int) -> list[int]:
    """Police forces (``BENCH_FORCE_PREFIX`` NN) until there are ``total`` police
    organisations in all (the demo has one); returns the new ones' ids."""
    _session(conn)
    check_insertable(conn, "organisations", ORG_COLUMNS)
    missing = max(0, total - len(police_forces(conn)))
    rows = conn.execute(
        """
        INSERT INTO organisations (name, kind, areas, public_id, created_at, updated_at)
        SELECT %(prefix)s || ' ' || lpad(g::text, 2, '0'), 'police',
               json_build_array((%(areas)s::text[])[1 + g %% cardinality(%(areas)s::text[])]),
               gen_random_uuid(), now(), now()
        FROM generate_series(1, %(n)s) AS g
        RETURNING id
        """,
        {"prefix": BENCH_FORCE_PREFIX, "areas": AREAS, "n": missing},
    ).fetchall()
    conn.commit()
    log(f"{missing} police forces ({total} in all)")
    return [oid for (oid,) in rows]


def load_staff(conn: psycopg.Connection, total: int, password_hash: str) -> int:
    """Staff users (``bench.userNNNNN``) until the users table holds ``total``: in the bench's
    police forces (four shares each: officers) and refuges' providers (one share each).
    Returns how many were added."""
    _session(conn)
    have = existing_columns(conn, "users")
    columns = [c for c in STAFF_VALUES if c in have]
    check_insertable(conn, "users", columns)
    missing = max(0, total - conn.execute("SELECT count(*) FROM users").fetchone()[0])
    orgs = [
        oid
        for (oid, name) in conn.execute(
            "SELECT id, name FROM organisations WHERE name LIKE %s OR name LIKE %s ORDER BY id",
            (f"{BENCH_FORCE_PREFIX}%", f"{BENCH_REFUGE_PREFIX}%"),
        ).fetchall()
        for _ in range(4 if name.startswith(BENCH_FORCE_PREFIX) else 1)
    ]
    if missing and not orgs:
        raise LoadError("no bench force or refuge to give users to: load them first")
    statement = sql.SQL(
        "INSERT INTO users ({}) SELECT {} FROM generate_series(1, %(n)s) AS g"
    ).format(
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        sql.SQL(", ").join(sql.SQL(STAFF_VALUES[c]) for c in columns),
    )
    if missing:
        conn.execute(
            statement,
            {"prefix": BENCH_STAFF_PREFIX, "orgs": orgs, "hash": password_hash, "n": missing},
        )
    conn.commit()
    log(f"{missing} staff users ({total} users in all)")
    return missing


AVAILABILITY_HISTORY_SQL = """
INSERT INTO availability_reports (service_id, reported_at, reported_by_user_id, reported_by,
                                  spaces, version)
SELECT s.id,
       now() - make_interval(days => d) - random() * interval '20 hours',
       u.id, coalesce(u.username, 'seed'), sp.spaces, 1
FROM services s
CROSS JOIN generate_series(1, %(days)s) AS d
JOIN LATERAL (SELECT json_agg(json_build_object('space_type', b.space_type, 'total', b.total,
                                                'vacant', (b.vacant + d) %% (b.total + 1))
                              ORDER BY b.space_type) AS spaces
              FROM bed_spaces b WHERE b.service_id = s.id) sp ON sp.spaces IS NOT NULL
LEFT JOIN LATERAL (SELECT id, username FROM users WHERE organisation_id = s.organisation_id
                   ORDER BY username LIMIT 1) u ON true
WHERE s.kind = 'refuge'
"""


def add_availability_history(conn: psycopg.Connection, days: int) -> int:
    """One availability report a day for each refuge over the last ``days`` days."""
    _session(conn)
    check_insertable(
        conn,
        "availability_reports",
        ("service_id", "reported_at", "reported_by_user_id", "reported_by", "spaces", "version"),
    )
    added = conn.execute(AVAILABILITY_HISTORY_SQL, {"days": days}).rowcount
    conn.commit()
    log(f"{added:,} availability reports over {days} days")
    return added


# The outbox as the events' retention leaves it: every referral's steps and every availability
# report of the last ``days`` days, in time order, after any event already there.
OUTBOX_SQL = """
CREATE TEMP TABLE bench_outbox AS
WITH happened AS (
    SELECT r.created_at AS at, 'referral.created' AS type, 'referral' AS audience,
           json_build_object('referral_id', r.id, 'from_organisation_id', r.from_organisation_id,
                             'to_organisation_id', r.to_organisation_id,
                             'to_service_id', r.to_service_id) AS data,
           r.from_organisation_id AS party_a, r.to_organisation_id AS party_b
    FROM referrals r WHERE r.created_at > now() - make_interval(days => %(days)s)
    UNION ALL
    SELECT r.status_changed_at, 'referral.' || r.status, 'referral',
           json_build_object('referral_id', r.id, 'from_organisation_id', r.from_organisation_id,
                             'to_organisation_id', r.to_organisation_id),
           r.from_organisation_id, r.to_organisation_id
    FROM referrals r
    WHERE r.status <> 'submitted'
      AND r.status_changed_at > now() - make_interval(days => %(days)s)
    UNION ALL
    SELECT a.reported_at, 'availability.reported', 'everyone',
           json_build_object('refuge_id', s.id, 'organisation_id', s.organisation_id),
           NULL, NULL
    FROM availability_reports a JOIN services s ON s.id = a.service_id
    WHERE a.reported_at > now() - make_interval(days => %(days)s)
)
SELECT (SELECT coalesce(max(last_position), 0) FROM event_head)
           + row_number() OVER (ORDER BY at, type) AS position,
       gen_random_uuid() AS id, type, at, audience, data, party_a, party_b
FROM happened
"""


def add_outbox(conn: psycopg.Connection, days: int) -> int:
    """The events of the last ``days`` days (``EVENT_RETENTION_DAYS``: older ones are pruned),
    with their parties, and the head moved past them; returns how many."""
    _session(conn)
    check_insertable(conn, "events", ("position", "id", "type", "occurred_at", "audience", "data"))
    check_insertable(conn, "event_organisations", ("position", "organisation_id"))
    check_insertable(conn, "event_head", ("id", "last_position"))
    conn.execute("DROP TABLE IF EXISTS bench_outbox")
    conn.execute(OUTBOX_SQL, {"days": days})
    added = conn.execute(
        "INSERT INTO events (position, id, type, occurred_at, audience, data) "
        "SELECT position, id, type, at, audience, data FROM bench_outbox"
    ).rowcount
    conn.execute(
        """
        INSERT INTO event_organisations (position, organisation_id)
        SELECT position, party_a FROM bench_outbox WHERE party_a IS NOT NULL
        UNION
        SELECT position, party_b FROM bench_outbox WHERE party_b IS NOT NULL
        """
    )
    conn.execute(
        """
        INSERT INTO event_head (id, last_position)
        SELECT 1, coalesce(max(position), 0) FROM events
        ON CONFLICT (id) DO UPDATE SET last_position = excluded.last_position
        """
    )
    conn.execute("DROP TABLE bench_outbox")
    conn.commit()
    log(f"{added:,} events of the last {days} days in the outbox")
    return added
