"""Every prebuilt statement the application runs straight through the driver (``direct``), in
one place: the session check every request makes, a referral and its live hold, a refuge's
availability report, and the statements the commit sends (the audit chain's link, the
bed-search generation, the events' positions). The inbox's page statements are built from the
policy's scope by ``direct.referral_page``.

Each is built once, with named bind parameters for what varies; a time parameter has the
columns' type (``UTCDateTime``), so ``direct`` refuses a naive one and sends it in UTC.
``tests/test_direct_parity.py`` runs each against SQLAlchemy's own answer on SQLite and
PostgreSQL; a statement added here without a case there fails that test.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from partnership_api import transactions
from partnership_api.models.audit import AuditChainHead
from partnership_api.models.beds import (
    SPACE_TYPES,
    AvailabilityReport,
    BedHold,
    BedSearchGeneration,
    BedSpace,
    RefugeAvailability,
    held_by_type,
    live_hold,
)
from partnership_api.models.partnership import AuthSession, Organisation, Service, User
from partnership_api.models.referrals import Referral

_USERS = User.__table__
_ORGANISATIONS = Organisation.__table__
_SESSIONS = AuthSession.__table__
_GENERATION = BedSearchGeneration.__table__
_REFERRALS = Referral.__table__
_HOLDS = BedHold.__table__
_SERVICES = Service.__table__
_SPACES = BedSpace.__table__
_AVAILABILITY = RefugeAvailability.__table__
_REPORTS = AvailabilityReport.__table__

# "now", typed as every time column is: refused when naive, sent in UTC.
NOW = sa.bindparam("now", type_=_REFERRALS.c.created_at.type)

# --- the session check: every signed-in request -------------------------------------------------

# The user, organisation and live session named by a token, and (in the same round trip) the
# bed-search generation, which bed search validates its cache against.
SIGNED_IN = (
    sa.select(
        _USERS.c.username,
        _USERS.c.role,
        _USERS.c.partnership_admin,
        _USERS.c.organisation_id,
        _ORGANISATIONS.c.kind,
        _ORGANISATIONS.c.name,
        sa.select(_GENERATION.c.generation)
        .where(_GENERATION.c.id == 1)
        .scalar_subquery()
        .label("bed_search_generation"),
    )
    .select_from(
        _USERS.join(_ORGANISATIONS, _ORGANISATIONS.c.id == _USERS.c.organisation_id).join(
            _SESSIONS, _SESSIONS.c.user_id == _USERS.c.id
        )
    )
    .where(
        _USERS.c.id == sa.bindparam("user_id", type_=_USERS.c.id.type),
        _USERS.c.active.is_(True),
        _SESSIONS.c.id == sa.bindparam("session_id", type_=_SESSIONS.c.id.type),
        _SESSIONS.c.revoked_at.is_(None),
        _SESSIONS.c.expires_at > NOW,
    )
)

# --- a referral with its live hold (a read, every row of the inbox) --------------------------

ROW_COLUMNS = (
    *_REFERRALS.c,
    _HOLDS.c.id.label("hold_id"),
    _HOLDS.c.service_id.label("hold_service_id"),
    _HOLDS.c.space_type.label("hold_space_type"),
    _HOLDS.c.expires_at.label("hold_expires_at"),
)


def with_live_hold(stmt: sa.Select, now: sa.BindParameter = NOW) -> sa.Select:
    """``stmt`` (over referrals) joined to each referral's live hold, if it has one (there is
    at most one: ``uq_bed_holds_active_referral``)."""
    return stmt.outerjoin(_HOLDS, sa.and_(_HOLDS.c.referral_id == _REFERRALS.c.id, live_hold(now)))


READ_ONE = with_live_hold(sa.select(*ROW_COLUMNS)).where(
    _REFERRALS.c.id == sa.bindparam("referral_id", type_=_REFERRALS.c.id.type)
)

# --- a refuge's availability report (the hottest write) --------------------------------------

REFUGE_FOR_REPORT = sa.select(_SERVICES.c.id, _SERVICES.c.organisation_id, _SERVICES.c.kind).where(
    _SERVICES.c.id == sa.bindparam("service_id", type_=sa.Integer)
)
TAKE_VERSION = (
    sa.update(_AVAILABILITY)
    .where(
        _AVAILABILITY.c.service_id == sa.bindparam("refuge", type_=sa.Integer),
        _AVAILABILITY.c.version == sa.bindparam("seen", type_=sa.Integer),
    )
    .values(
        version=_AVAILABILITY.c.version + 1,
        updated_at=sa.bindparam("now", type_=_AVAILABILITY.c.updated_at.type),
        updated_by_user_id=sa.bindparam("user", type_=_AVAILABILITY.c.updated_by_user_id.type),
        updated_by=sa.bindparam("name", type_=sa.String),
    )
)


def _upsert_spaces(insert) -> sa.Insert:
    stmt = insert(_SPACES)
    return stmt.on_conflict_do_update(
        index_elements=[_SPACES.c.service_id, _SPACES.c.space_type],
        set_={"total": stmt.excluded.total, "vacant": stmt.excluded.vacant},
    )


UPSERT_SPACE = {"postgresql": _upsert_spaces(pg_insert), "sqlite": _upsert_spaces(sqlite_insert)}
# The types kept, always one parameter per type: no expanding list, so it compiles once.
DROP_OTHER_SPACES = sa.delete(_SPACES).where(
    _SPACES.c.service_id == sa.bindparam("refuge", type_=sa.Integer),
    _SPACES.c.space_type.not_in(
        [sa.bindparam(f"kept_{i}", type_=sa.String) for i in range(len(SPACE_TYPES))]
    ),
)
INSERT_REPORT = sa.insert(_REPORTS).values(
    service_id=sa.bindparam("refuge", type_=sa.Integer),
    reported_at=sa.bindparam("at", type_=_REPORTS.c.reported_at.type),
    reported_by_user_id=sa.bindparam("user", type_=_REPORTS.c.reported_by_user_id.type),
    reported_by=sa.bindparam("name", type_=sa.String),
    spaces=sa.bindparam("reported", type_=_REPORTS.c.spaces.type),
    version=sa.bindparam("new_version", type_=sa.Integer),
)
HELD_AT = held_by_type(_HOLDS.c.service_id == sa.bindparam("service_id", type_=sa.Integer), NOW)


def _report_in_one_statement() -> sa.Select:
    """A report on PostgreSQL in one statement: ``TAKE_VERSION``, and only if it moved the
    version (``taken``), the spaces upserted, the other types dropped and the report inserted
    (data-modifying CTEs). One row: ``taken`` (0 or 1). The live holds are not counted here
    but by ``HELD_AT`` sent after it in the same round trip: a statement's snapshot is taken
    before it waits for a row lock, so a hold committed while the upsert waited for that
    hold's lock on the space row would be missed; the next statement sees it."""
    taken = TAKE_VERSION.returning(_AVAILABILITY.c.service_id).cte("taken")
    reported = sa.bindparam("reported", type_=_REPORTS.c.spaces.type)
    given_rows = sa.func.json_to_recordset(reported).table_valued(
        sa.column("space_type", sa.String),
        sa.column("total", sa.Integer),
        sa.column("vacant", sa.Integer),
    )
    given = sa.select(given_rows.render_derived(with_types=True)).cte("given")
    upsert = pg_insert(_SPACES).from_select(
        ["service_id", "space_type", "total", "vacant"],
        sa.select(taken.c.service_id, given.c.space_type, given.c.total, given.c.vacant).join_from(
            taken, given, sa.true()
        ),
    )
    upserted = upsert.on_conflict_do_update(
        index_elements=[_SPACES.c.service_id, _SPACES.c.space_type],
        set_={"total": upsert.excluded.total, "vacant": upsert.excluded.vacant},
    ).returning(_SPACES.c.service_id)
    dropped = (
        sa.delete(_SPACES)
        .where(
            _SPACES.c.service_id.in_(sa.select(taken.c.service_id)),
            _SPACES.c.space_type.not_in(sa.select(given.c.space_type)),
        )
        .returning(_SPACES.c.service_id)
    )
    report = (
        sa.insert(_REPORTS)
        .from_select(
            [
                "service_id",
                "reported_at",
                "reported_by_user_id",
                "reported_by",
                "spaces",
                "version",
            ],
            sa.select(
                taken.c.service_id,
                sa.bindparam("at", type_=_REPORTS.c.reported_at.type),
                sa.bindparam("user", type_=_REPORTS.c.reported_by_user_id.type),
                sa.bindparam("name", type_=sa.String),
                reported,
                sa.bindparam("new_version", type_=sa.Integer),
            ),
        )
        .returning(_REPORTS.c.id)
    )
    return sa.select(
        sa.select(sa.func.count()).select_from(taken).scalar_subquery().label("taken")
    ).add_cte(
        upserted.cte("upserted"),
        dropped.cte("dropped"),
        report.cte("report"),
    )


REPORT_IN_ONE = _report_in_one_statement()
CURRENT_SPACES = (
    sa.select(_SPACES.c.space_type, _SPACES.c.total, _SPACES.c.vacant)
    .where(_SPACES.c.service_id == sa.bindparam("service_id", type_=sa.Integer))
    .order_by(_SPACES.c.space_type)
)

# --- sent at commit, in one round trip (``direct.at_commit``; PostgreSQL only) ----------------

# The bed-search generation, made when it is missing: no second try needed.
BUMP_OR_MAKE_GENERATION = (
    pg_insert(_GENERATION)
    .values(id=1, generation=sa.bindparam("first", type_=sa.BigInteger))
    .on_conflict_do_update(index_elements=["id"], set_={"generation": _GENERATION.c.generation + 1})
)

# The audit chain: lock the head, link the events in order (the hash computed by the database
# exactly as ``audit.link_hash`` does), insert them and move the head: one statement.
# ``json_to_recordset`` (not jsonb) keeps each event's details as the very text sent.
AUDIT_APPEND = sa.text(
    """
WITH RECURSIVE
incoming AS (
    SELECT * FROM json_to_recordset(CAST(:events AS json)) AS e(
        ord integer, content text, public_id uuid, at timestamptz, user_id uuid, username text,
        organisation_id integer, action text, resource_type text, resource_id text,
        subject_organisation_id integer, related_organisation_id integer, request_id text,
        client_address text, outcome text, details json)
),
head AS (
    SELECT last_seq, last_hash FROM audit_chain_head WHERE id = 1 FOR UPDATE
),
chain (ord, seq, prev_hash, hash) AS (
    SELECT 0, last_seq, NULL::text, last_hash::text FROM head
    UNION ALL
    SELECT e.ord, c.seq + 1, c.hash,
           encode(sha256(convert_to((c.seq + 1)::text || '|' || c.hash || '|' || e.content,
                                    'UTF8')), 'hex')
    FROM chain c JOIN incoming e ON e.ord = c.ord + 1
),
written AS (
    INSERT INTO audit_events (
        id, public_id, at, user_id, username, organisation_id, action, resource_type,
        resource_id, subject_organisation_id, related_organisation_id, request_id,
        client_address, outcome, details, prev_hash, hash)
    SELECT c.seq, e.public_id, e.at, e.user_id, e.username, e.organisation_id, e.action,
           e.resource_type, e.resource_id, e.subject_organisation_id, e.related_organisation_id,
           e.request_id, e.client_address, e.outcome, e.details, c.prev_hash, c.hash
    FROM chain c JOIN incoming e ON e.ord = c.ord
    RETURNING id
)
UPDATE audit_chain_head SET last_seq = newest.seq, last_hash = newest.hash
FROM (SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1) AS newest
WHERE audit_chain_head.id = 1 AND (SELECT count(*) FROM written) = (SELECT count(*) FROM incoming)
"""
)
_CHAIN_HEAD = AuditChainHead.__table__
AUDIT_MAKE_HEAD = (
    pg_insert(_CHAIN_HEAD)
    .values(id=1, last_seq=0, last_hash=sa.bindparam("genesis", type_=sa.String))
    .on_conflict_do_nothing()
)

# The outbox: lock the events' head and move it (making it when it is missing), write the
# events and their organisations, in one statement that needs no second try.
EVENTS_APPEND = sa.text(
    """
WITH
incoming AS (
    SELECT * FROM json_to_recordset(CAST(:events AS json)) AS e(
        ord integer, id uuid, type text, occurred_at timestamptz, audience text, data json,
        key text)
),
parties AS (
    SELECT * FROM json_to_recordset(CAST(:parties AS json)) AS p(
        ord integer, organisation_id integer)
),
head AS (
    INSERT INTO event_head (id, last_position) VALUES (1, :count)
    ON CONFLICT (id) DO UPDATE SET last_position = event_head.last_position + :count
    RETURNING last_position
),
written AS (
    INSERT INTO events (position, id, type, occurred_at, audience, data, key)
    SELECT head.last_position - :count + e.ord, e.id, e.type, e.occurred_at, e.audience,
           e.data, e.key
    FROM head, incoming e
    RETURNING position
),
heard AS (
    INSERT INTO event_organisations (position, organisation_id)
    SELECT head.last_position - :count + p.ord, p.organisation_id
    FROM head, parties p
    RETURNING position
)
SELECT last_position FROM head
"""
)

# Each of these is atomic alone, so it may run on a read's connection, without a transaction.
transactions.ATOMIC_ALONE.update({AUDIT_APPEND, AUDIT_MAKE_HEAD})

# Every prebuilt statement by name (the parity test runs each).
ALL = {
    "SIGNED_IN": SIGNED_IN,
    "READ_ONE": READ_ONE,
    "REFUGE_FOR_REPORT": REFUGE_FOR_REPORT,
    "TAKE_VERSION": TAKE_VERSION,
    "UPSERT_SPACE.postgresql": UPSERT_SPACE["postgresql"],
    "UPSERT_SPACE.sqlite": UPSERT_SPACE["sqlite"],
    "DROP_OTHER_SPACES": DROP_OTHER_SPACES,
    "INSERT_REPORT": INSERT_REPORT,
    "HELD_AT": HELD_AT,
    "REPORT_IN_ONE": REPORT_IN_ONE,
    "CURRENT_SPACES": CURRENT_SPACES,
    "BUMP_OR_MAKE_GENERATION": BUMP_OR_MAKE_GENERATION,
    "AUDIT_APPEND": AUDIT_APPEND,
    "AUDIT_MAKE_HEAD": AUDIT_MAKE_HEAD,
    "EVENTS_APPEND": EVENTS_APPEND,
}
