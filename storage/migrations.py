"""Named schema migrations, recorded in a table, each applied in its own transaction.

Applying twice is a no-op; a failing step rolls back whole and stops the run. New steps are
appended to MIGRATIONS, never edited once released. Instants are stored as ISO-8601 text in UTC
("2024-08-04T17:00:00+00:00") so that they sort and compare as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bot.errors import N_, TranslatableError
from storage.db import Database
from storage.timefmt import to_db


@dataclass(frozen=True, slots=True)
class Migration:
    """`statements` are SQLite's; PostgreSQL runs them translated (storage/pg.py: identity keys, 64-bit
    integers, byte-order text), or its own `postgresql` statements where a translation is not clean."""

    name: str
    statements: tuple[str, ...]
    postgresql: tuple[str, ...] | None = None

    def for_dialect(self, dialect: str) -> tuple[str, ...]:
        return self.postgresql if dialect == "postgresql" and self.postgresql is not None else self.statements


def _referenced_first(statements: tuple[str, ...], table: str, before: str) -> tuple[str, ...]:
    """The statements with `table`'s CREATE TABLE and indexes moved before `before`'s CREATE TABLE: SQLite
    accepts a reference to a table created later, PostgreSQL does not."""
    def about(s: str, name: str) -> bool:
        return s.startswith(f"CREATE TABLE {name} ") or f" ON {name}(" in s

    moved = tuple(s for s in statements if about(s, table))
    rest = [s for s in statements if not about(s, table)]
    at = next(i for i, s in enumerate(rest) if s.startswith(f"CREATE TABLE {before} "))
    return (*rest[:at], *moved, *rest[at:])


INITIAL_SCHEMA = Migration(
    "0001_initial_schema",
    (
        # --- organisation ---------------------------------------------------------------
        """CREATE TABLE units (
            id          INTEGER PRIMARY KEY,
            code        TEXT NOT NULL UNIQUE,
            name        TEXT NOT NULL CHECK (length(trim(name)) > 0),
            kind        TEXT NOT NULL CHECK (kind IN ('province', 'upper', 'enterprise_state',
                                                       'enterprise_private', 'public_agency')),
            parent_id   INTEGER REFERENCES units(id),
            active      INTEGER NOT NULL DEFAULT 1,
            created_at  TEXT NOT NULL,
            updated_at  TEXT NOT NULL
        )""",
        "CREATE INDEX units_parent ON units(parent_id)",
        """CREATE TABLE people (
            id          INTEGER PRIMARY KEY,
            full_name   TEXT NOT NULL,
            locale      TEXT NOT NULL DEFAULT 'vi',
            active      INTEGER NOT NULL DEFAULT 1,
            preferred_channel TEXT,
            created_at  TEXT NOT NULL
        )""",
        # A person's accounts on each channel; blocked_at is set when the channel refuses us.
        """CREATE TABLE identities (
            id           INTEGER PRIMARY KEY,
            person_id    INTEGER NOT NULL REFERENCES people(id),
            channel      TEXT NOT NULL CHECK (channel IN ('telegram', 'zalo', 'terminal')),
            external_id  TEXT NOT NULL,
            chat_id      TEXT,
            username     TEXT,
            display_name TEXT,
            blocked_at   TEXT,
            last_seen_at TEXT,
            created_at   TEXT NOT NULL,
            UNIQUE (channel, external_id)
        )""",
        "CREATE INDEX identities_person ON identities(person_id)",
        """CREATE TABLE memberships (
            id          INTEGER PRIMARY KEY,
            person_id   INTEGER NOT NULL REFERENCES people(id),
            unit_id     INTEGER NOT NULL REFERENCES units(id),
            role        TEXT NOT NULL CHECK (role IN ('chair', 'officer', 'department', 'admin')),
            invite_id   INTEGER REFERENCES invites(id),
            granted_at  TEXT NOT NULL,
            revoked_at  TEXT
        )""",
        """CREATE UNIQUE INDEX memberships_active ON memberships(person_id, unit_id, role)
            WHERE revoked_at IS NULL""",
        "CREATE INDEX memberships_unit ON memberships(unit_id)",
        # Invite codes are stored only as a SHA-256 hash.
        """CREATE TABLE invites (
            id          INTEGER PRIMARY KEY,
            code_hash   TEXT NOT NULL UNIQUE,
            unit_id     INTEGER NOT NULL REFERENCES units(id),
            role        TEXT NOT NULL CHECK (role IN ('chair', 'officer', 'department', 'admin')),
            created_by  TEXT NOT NULL,
            created_at  TEXT NOT NULL,
            expires_at  TEXT NOT NULL,
            used_at     TEXT,
            used_by     INTEGER REFERENCES people(id),
            revoked_at  TEXT
        )""",
        "CREATE INDEX invites_unit ON invites(unit_id)",
        # One person on several channels: a short-lived code made on one channel links the other.
        """CREATE TABLE link_codes (
            code_hash   TEXT PRIMARY KEY,
            person_id   INTEGER NOT NULL REFERENCES people(id),
            created_at  TEXT NOT NULL,
            expires_at  TEXT NOT NULL,
            used_at     TEXT
        )""",
        # --- campaigns ------------------------------------------------------------------
        """CREATE TABLE campaigns (
            id          TEXT PRIMARY KEY,
            title       TEXT NOT NULL,
            status      TEXT NOT NULL DEFAULT 'live' CHECK (status IN ('draft', 'live', 'archived')),
            definition  TEXT NOT NULL,
            sha256      TEXT NOT NULL,
            source_path TEXT,
            loaded_at   TEXT NOT NULL
        )""",
        """CREATE TABLE periods (
            id          INTEGER PRIMARY KEY,
            campaign_id TEXT NOT NULL REFERENCES campaigns(id),
            key         TEXT NOT NULL,
            name        TEXT NOT NULL,
            covers_start TEXT NOT NULL,
            covers_end  TEXT NOT NULL,
            due_at      TEXT NOT NULL,
            closes_at   TEXT NOT NULL,
            due_source  TEXT NOT NULL CHECK (due_source IN ('plan', 'department')),
            UNIQUE (campaign_id, key)
        )""",
        "CREATE INDEX periods_due ON periods(due_at)",
        # --- the dialog and what it collects ----------------------------------------------
        # One open draft per person and conversation; state is the dialog engine's JSON.
        """CREATE TABLE drafts (
            id          INTEGER PRIMARY KEY,
            person_id   INTEGER NOT NULL REFERENCES people(id),
            unit_id     INTEGER REFERENCES units(id),
            period_id   INTEGER REFERENCES periods(id),
            state       TEXT NOT NULL,
            step        INTEGER NOT NULL DEFAULT 0,
            steps_total INTEGER NOT NULL DEFAULT 0,
            version     INTEGER NOT NULL DEFAULT 0,
            created_at  TEXT NOT NULL,
            updated_at  TEXT NOT NULL,
            UNIQUE (person_id)
        )""",
        "CREATE INDEX drafts_unit_period ON drafts(unit_id, period_id)",
        """CREATE TABLE submissions (
            id          INTEGER PRIMARY KEY,
            period_id   INTEGER NOT NULL REFERENCES periods(id),
            unit_id     INTEGER NOT NULL REFERENCES units(id),
            reference   TEXT NOT NULL UNIQUE,
            revision    INTEGER NOT NULL DEFAULT 1,
            first_submitted_at TEXT NOT NULL,
            last_submitted_at  TEXT NOT NULL,
            late        INTEGER NOT NULL DEFAULT 0,
            -- the latest revision's answers as one JSON object, for summaries over thousands of units;
            -- every revision's answers stay in the answers table
            latest_answers TEXT NOT NULL DEFAULT '{}',
            UNIQUE (period_id, unit_id)
        )""",
        "CREATE INDEX submissions_unit ON submissions(unit_id)",
        """CREATE TABLE submission_revisions (
            id            INTEGER PRIMARY KEY,
            submission_id INTEGER NOT NULL REFERENCES submissions(id),
            revision      INTEGER NOT NULL,
            submitted_at  TEXT NOT NULL,
            submitted_by  INTEGER REFERENCES people(id),
            channel       TEXT NOT NULL,
            late          INTEGER NOT NULL DEFAULT 0,
            idempotency_key TEXT UNIQUE,
            UNIQUE (submission_id, revision)
        )""",
        """CREATE TABLE answers (
            revision_id INTEGER NOT NULL REFERENCES submission_revisions(id),
            field       TEXT NOT NULL,
            value       TEXT NOT NULL,
            PRIMARY KEY (revision_id, field)
        ) WITHOUT ROWID""",
        """CREATE TABLE attachments (
            id            INTEGER PRIMARY KEY,
            person_id     INTEGER REFERENCES people(id),
            unit_id       INTEGER REFERENCES units(id),
            period_id     INTEGER REFERENCES periods(id),
            field         TEXT NOT NULL,
            channel       TEXT NOT NULL,
            file_id       TEXT,
            file_unique_id TEXT,
            file_name     TEXT,
            mime_type     TEXT,
            size_bytes    INTEGER,
            sha256        TEXT,
            local_path    TEXT,
            created_at    TEXT NOT NULL
        )""",
        # --- reminders and the clock --------------------------------------------------------
        # Every message the clock decides to send is a row under a unique key before it is sent.
        """CREATE TABLE outbox (
            id          INTEGER PRIMARY KEY,
            key         TEXT NOT NULL UNIQUE,
            kind        TEXT NOT NULL,
            person_id   INTEGER REFERENCES people(id),
            unit_id     INTEGER REFERENCES units(id),
            period_id   INTEGER REFERENCES periods(id),
            channel     TEXT,
            payload     TEXT NOT NULL,
            planned_for TEXT NOT NULL,
            status      TEXT NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'superseded', 'skipped')),
            attempts    INTEGER NOT NULL DEFAULT 0,
            next_try_at TEXT,
            last_error  TEXT,
            created_at  TEXT NOT NULL,
            sent_at     TEXT
        )""",
        "CREATE INDEX outbox_pending ON outbox(status, planned_for, id)",
        # Updates already handled, so a re-delivered update is not acted on twice.
        """CREATE TABLE processed_updates (
            channel     TEXT NOT NULL,
            update_key  TEXT NOT NULL,
            at          TEXT NOT NULL,
            PRIMARY KEY (channel, update_key)
        ) WITHOUT ROWID""",
        # --- who did what ------------------------------------------------------------------
        """CREATE TABLE audit_log (
            id          INTEGER PRIMARY KEY,
            at          TEXT NOT NULL,
            actor       TEXT NOT NULL,
            action      TEXT NOT NULL,
            entity      TEXT NOT NULL,
            entity_id   TEXT,
            detail      TEXT
        )""",
        "CREATE INDEX audit_entity ON audit_log(entity, entity_id)",
    ),
)

# A period removed from its campaign file is retired, not deleted: drafts, submissions and the outbox keep
# pointing at its row, but reminders, menus and summaries no longer offer it. Reloading a file that has the
# key again brings the same row back.
INITIAL_SCHEMA = Migration(INITIAL_SCHEMA.name, INITIAL_SCHEMA.statements,
                           _referenced_first(INITIAL_SCHEMA.statements, "invites", before="memberships"))

RETIRED_PERIODS = Migration(
    "0002_retired_periods",
    ("ALTER TABLE periods ADD COLUMN retired_at TEXT",),
)

# An outbox row may end "uncertain": the request left and no clear answer came back (a 5xx, a time-out),
# so the message may or may not have been delivered and is not retried blindly (scheduler/sender.py).
# SQLite cannot change a CHECK in place: the table is rebuilt with the same columns and rows.
OUTBOX_UNCERTAIN = Migration(
    "0003_outbox_uncertain",
    (
        """CREATE TABLE outbox_new (
            id          INTEGER PRIMARY KEY,
            key         TEXT NOT NULL UNIQUE,
            kind        TEXT NOT NULL,
            person_id   INTEGER REFERENCES people(id),
            unit_id     INTEGER REFERENCES units(id),
            period_id   INTEGER REFERENCES periods(id),
            channel     TEXT,
            payload     TEXT NOT NULL,
            planned_for TEXT NOT NULL,
            status      TEXT NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'superseded', 'skipped',
                                          'uncertain')),
            attempts    INTEGER NOT NULL DEFAULT 0,
            next_try_at TEXT,
            last_error  TEXT,
            created_at  TEXT NOT NULL,
            sent_at     TEXT
        )""",
        "INSERT INTO outbox_new SELECT id, key, kind, person_id, unit_id, period_id, channel, payload, planned_for, "
        "status, attempts, next_try_at, last_error, created_at, sent_at FROM outbox",
        "DROP TABLE outbox",
        "ALTER TABLE outbox_new RENAME TO outbox",
        "CREATE INDEX outbox_pending ON outbox(status, planned_for, id)",
    ),
    # PostgreSQL changes a CHECK in place.
    postgresql=(
        "ALTER TABLE outbox DROP CONSTRAINT outbox_status_check",
        "ALTER TABLE outbox ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'sending', 'sent', "
        "'failed', 'superseded', 'skipped', 'uncertain'))",
    ),
)

# Several processes on one database (issue 14): a claimed outbox row carries its claimer and a lease; recovery puts
# back only rows whose lease ran out, never a live process's in-flight ones (storage/outbox.py). `leases` holds
# named roles with one holder at a time, such as the one sender of a bot token (storage/leases.py). A row claimed
# before this migration has no lease: it counts as expired.
OUTBOX_LEASES = Migration(
    "0004_outbox_leases",
    (
        "ALTER TABLE outbox ADD COLUMN owner TEXT",
        "ALTER TABLE outbox ADD COLUMN lease_until TEXT",
        """CREATE TABLE leases (
            name        TEXT PRIMARY KEY,
            owner       TEXT NOT NULL,
            expires_at  TEXT NOT NULL,
            acquired_at TEXT NOT NULL
        )""",
    ),
)

# The marks the reminder tick reads every minute to tell that nothing changed (storage.reminders.audience_marks):
# the newest unit update, and the few inactive people, blocked identities and revoked memberships, each read
# through an index instead of a scan of the whole table. The partial indexes cover only those few rows, so no
# other query is tempted to use them.
PLANNING_MARKS = Migration(
    "0005_planning_marks",
    (
        "CREATE INDEX units_updated ON units(updated_at)",
        "CREATE INDEX people_inactive ON people(id) WHERE active = 0",
        "CREATE INDEX identities_blocked ON identities(blocked_at, id) WHERE blocked_at IS NOT NULL",
        "CREATE INDEX memberships_revoked ON memberships(revoked_at) WHERE revoked_at IS NOT NULL",
    ),
)

# `python -m bot health` (issue 14): each bot process's start and last tick of its reminder clock
# (storage/beats.py), one row per process, next to the sender role's holder in `leases`.
PROCESS_BEATS = Migration(
    "0006_process_beats",
    (
        """CREATE TABLE process_beats (
            owner        TEXT PRIMARY KEY,
            started_at   TEXT NOT NULL,
            last_tick_at TEXT NOT NULL
        )""",
    ),
)

# Review and approval (issue 15): a report's state for its current revision (submissions.revision), when that state
# began, and every transition as a row that is never deleted (storage/reviews.py). Lock exceptions and excuses serve
# the close-date locks and the roll-up rule. Plain SQL for SQLite and PostgreSQL alike.
REVIEW_STATES = Migration(
    "0007_review_states",
    (
        "ALTER TABLE submissions ADD COLUMN review_state TEXT NOT NULL DEFAULT 'submitted' "
        "CHECK (review_state IN ('submitted', 'approved', 'returned'))",
        "ALTER TABLE submissions ADD COLUMN review_since TEXT",
        "CREATE INDEX submissions_review ON submissions(review_state, unit_id)",
        """CREATE TABLE review_events (
            id            INTEGER PRIMARY KEY,
            submission_id INTEGER NOT NULL REFERENCES submissions(id),
            revision      INTEGER NOT NULL,
            action        TEXT NOT NULL CHECK (action IN ('approved', 'returned', 'resubmitted', 'reopened')),
            state_after   TEXT NOT NULL CHECK (state_after IN ('submitted', 'approved', 'returned')),
            actor_id      INTEGER REFERENCES people(id),
            reason        TEXT,
            fields        TEXT NOT NULL DEFAULT '[]',
            at            TEXT NOT NULL
        )""",
        "CREATE INDEX review_events_submission ON review_events(submission_id, id)",
        """CREATE TABLE lock_exceptions (
            id          INTEGER PRIMARY KEY,
            period_id   INTEGER NOT NULL REFERENCES periods(id),
            unit_id     INTEGER NOT NULL REFERENCES units(id),
            until       TEXT NOT NULL,
            reason      TEXT NOT NULL,
            granted_by  INTEGER REFERENCES people(id),
            granted_at  TEXT NOT NULL
        )""",
        "CREATE INDEX lock_exceptions_unit ON lock_exceptions(period_id, unit_id, until)",
        """CREATE TABLE review_excuses (
            period_id   INTEGER NOT NULL REFERENCES periods(id),
            unit_id     INTEGER NOT NULL REFERENCES units(id),
            reason      TEXT NOT NULL,
            excused_by  INTEGER REFERENCES people(id),
            at          TEXT NOT NULL,
            UNIQUE (period_id, unit_id)
        )""",
    ),
)

# The dashboard (issue 16): single-use sign-in links (/bangtheodoi) and the sessions they and Telegram's signed
# initData open (storage/dashboard_access.py). Only the SHA-256 of each token is kept: a copy of the database gives
# no sign-in. A link is used once (used_at); a session ends when it expires or its holder signs out (ended_at).
DASHBOARD_ACCESS = Migration(
    "0008_dashboard_access",
    (
        """CREATE TABLE dashboard_links (
            id          INTEGER PRIMARY KEY,
            token_hash  TEXT NOT NULL UNIQUE,
            person_id   INTEGER NOT NULL REFERENCES people(id),
            created_at  TEXT NOT NULL,
            expires_at  TEXT NOT NULL,
            used_at     TEXT
        )""",
        "CREATE INDEX dashboard_links_expiry ON dashboard_links(expires_at)",
        """CREATE TABLE dashboard_sessions (
            id          INTEGER PRIMARY KEY,
            token_hash  TEXT NOT NULL UNIQUE,
            person_id   INTEGER NOT NULL REFERENCES people(id),
            via         TEXT NOT NULL CHECK (via IN ('link', 'telegram')),
            created_at  TEXT NOT NULL,
            expires_at  TEXT NOT NULL,
            ended_at    TEXT
        )""",
        "CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions(expires_at)",
    ),
)

MIGRATIONS: tuple[Migration, ...] = (INITIAL_SCHEMA, RETIRED_PERIODS, OUTBOX_UNCERTAIN, OUTBOX_LEASES,
                                      PLANNING_MARKS, PROCESS_BEATS, REVIEW_STATES, DASHBOARD_ACCESS)

_LEDGER = """CREATE TABLE IF NOT EXISTS schema_migrations (
    name       TEXT PRIMARY KEY,
    applied_at TEXT NOT NULL
)"""


class MigrationError(TranslatableError):
    msgid = N_("Migration {name} failed and was rolled back: {cause}")

    def __init__(self, name: str, cause: Exception) -> None:
        super().__init__(name=name, cause=cause)
        self.name = name
        self.cause = cause


async def applied_migrations(db: Database) -> list[str]:
    async with db.transaction() as tx:
        await tx.execute(_LEDGER)
        rows = await tx.fetchall("SELECT name FROM schema_migrations ORDER BY name")
    return [r["name"] for r in rows]


async def migrate(db: Database, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[str]:
    """Apply the pending migrations in order; return the names applied now (empty: nothing to do)."""
    done = set(await applied_migrations(db))
    applied: list[str] = []
    for migration in migrations:
        if migration.name in done:
            continue
        try:
            async with db.transaction() as tx:
                # Another process may have applied it since the ledger was read (transactions are serialised).
                if await tx.fetchone("SELECT 1 FROM schema_migrations WHERE name = ?", (migration.name,)):
                    continue
                for statement in migration.for_dialect(db.dialect):
                    await tx.execute(statement)
                await tx.execute(
                    "INSERT INTO schema_migrations(name, applied_at) VALUES (?, ?)",
                    (migration.name, to_db(datetime.now(UTC))),
                )
        except Exception as exc:
            raise MigrationError(migration.name, exc) from exc
        applied.append(migration.name)
    return applied
