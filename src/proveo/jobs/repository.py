"""SQL for scheduled jobs: the SQL jobs themselves, job locks, and pg_cron's job table."""

from __future__ import annotations

from proveo.core.db import Connection
from proveo.jobs.schemas import CronJobRow, PgCronStatus

# --- The SQL jobs -----------------------------------------------------------------------------
# Each is one statement answering one count, so that the same text runs in pg_cron (which
# ignores the answer) and in the app scheduler (which logs it). Names are schema-qualified:
# pg_cron runs them with the role's default search_path.

# Nothing reads a session row once it has expired or been revoked: a token naming a missing
# session is refused exactly like one naming a revoked session.
PURGE_EXPIRED_SESSIONS = """
WITH gone AS (
    DELETE FROM proveo.user_session
    WHERE expires_at < now() OR revoked_at IS NOT NULL
    RETURNING 1
)
SELECT count(*) FROM gone
"""

# Tokens are kept a week past their expiry: a used verification link opened again within that
# week still answers "address already confirmed" rather than "invalid link".
PURGE_EXPIRED_TOKENS = """
WITH verification AS (
    DELETE FROM proveo.email_verification_token
    WHERE expires_at < now() - interval '7 days'
    RETURNING 1
), reset AS (
    DELETE FROM proveo.password_reset_token
    WHERE expires_at < now() - interval '7 days'
    RETURNING 1
)
SELECT (SELECT count(*) FROM verification) + (SELECT count(*) FROM reset)
"""

# Hard delete: an account that never proved its address may hold someone else's email (a
# squat), and nothing refers to it once it goes. Its sessions and tokens cascade; the audit log
# names users by uuid, without a foreign key. A company row (publishing needs a verified
# address, so there should be none) or the admin role keeps the account, never an error.
# A concurrent verification commits first or makes the row fail the re-checked WHERE.
PURGE_UNVERIFIED_ACCOUNTS = """
WITH gone AS (
    DELETE FROM proveo.user_account u
    WHERE NOT u.email_verified
      AND u.role = 'user'
      AND u.created_at < now() - interval '7 days'
      AND NOT EXISTS (SELECT 1 FROM proveo.company c WHERE c.user_id = u.id)
    RETURNING 1
)
SELECT count(*) FROM gone
"""

# Companies per product and per commune for the directory's overview. CONCURRENTLY: readers
# keep the previous figures while it runs, never wait. It answers no count (pg_cron ignores the
# answer anyway; the app logs 0).
REFRESH_DIRECTORY_STATISTICS = "REFRESH MATERIALIZED VIEW CONCURRENTLY proveo.directory_statistics"

# The admin statistics read at most 90 days back (GET /admin/search-stats?days=1..90).
PURGE_OLD_SEARCH_STATS = """
WITH gone AS (
    DELETE FROM proveo.search_query_stat
    WHERE day < (now() AT TIME ZONE 'UTC')::date - 90
    RETURNING 1
)
SELECT count(*) FROM gone
"""

# Quote requests (quotes/): an open request past its 30 days is expired (reads treat it so at
# once; this makes it durable); one never confirmed is deleted after 7 days (its link died
# after 48 hours); the buyer's contact is erased 12 months after the request expired, and a
# request that never got an expiry (removed before confirmation) 13 months after it was made.
EXPIRE_QUOTE_REQUESTS = """
WITH expired AS (
    UPDATE proveo.quote_request SET status = 'expired'
    WHERE status = 'open' AND expires_at <= now()
    RETURNING 1
)
SELECT count(*) FROM expired
"""

PURGE_UNCONFIRMED_QUOTE_REQUESTS = """
WITH gone AS (
    DELETE FROM proveo.quote_request
    WHERE status = 'pending' AND created_at < now() - interval '7 days'
    RETURNING 1
)
SELECT count(*) FROM gone
"""

ERASE_QUOTE_CONTACTS = """
WITH erased AS (
    UPDATE proveo.quote_request
    SET contact_name = NULL, contact_email = NULL, contact_phone = NULL,
        contact_company = NULL, user_id = NULL, contact_erased_at = now()
    WHERE contact_erased_at IS NULL
      AND (expires_at < now() - interval '12 months'
           OR (expires_at IS NULL AND created_at < now() - interval '13 months'))
    RETURNING 1
)
SELECT count(*) FROM erased
"""

# --- Job locks --------------------------------------------------------------------------------
# Session-level advisory locks keyed by the job's name, in a namespace of their own. A lock dies
# with its connection, so a replica that crashes mid-job never blocks the others.
TRY_JOB_LOCK = "SELECT pg_try_advisory_lock(hashtextextended('proveo.jobs:' || $1, 0))"
RELEASE_JOB_LOCK = "SELECT pg_advisory_unlock(hashtextextended('proveo.jobs:' || $1, 0))"
# Serialises `proveo migrate` runs of several replicas around CREATE EXTENSION and scheduling.
LOCK_CRON_SETUP = "SELECT pg_advisory_xact_lock(hashtextextended('proveo.jobs:pg_cron-setup', 0))"

# --- pg_cron ------------------------------------------------------------------------------------
# `cron.database_name` reads NULL unless pg_cron is in shared_preload_libraries.
SELECT_PG_CRON_STATUS = """
SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_cron') AS available,
       EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') AS installed,
       current_setting('cron.database_name', true) AS cron_database,
       current_database() AS database
"""

CREATE_PG_CRON = "CREATE EXTENSION IF NOT EXISTS pg_cron"

# cron.job's row security shows a role its own jobs only; superusers see all, hence the filter.
SELECT_OWN_CRON_JOBS = """
SELECT jobname, schedule, command, active FROM cron.job
WHERE jobname LIKE $1 || '%' AND username = current_user AND database = current_database()
ORDER BY jobname
"""

# Inserts, or updates the schedule and command of the job with this name (pg_cron >= 1.3).
SCHEDULE_CRON_JOB = "SELECT cron.schedule($1, $2, $3)"

UNSCHEDULE_CRON_JOB = "SELECT cron.unschedule($1)"

HAS_CRON_JOB_TABLE = "SELECT to_regclass('cron.job') IS NOT NULL"

# Whether active or paused: a job pg_cron owns is never run by the app as well, so pausing it
# in pg_cron (cron.alter_job ... active => false) pauses it everywhere.
SELECT_CRON_JOB_EXISTS = """
SELECT EXISTS (SELECT 1 FROM cron.job WHERE jobname = $1 AND database = current_database())
"""


async def run_counting_sql(conn: Connection, sql: str) -> int:
    """A SQL job's statement; the number of rows it removed."""
    count = await conn.fetchval(sql)
    return int(count or 0)


async def try_job_lock(conn: Connection, name: str) -> bool:
    return bool(await conn.fetchval(TRY_JOB_LOCK, name))


async def release_job_lock(conn: Connection, name: str) -> None:
    await conn.fetchval(RELEASE_JOB_LOCK, name)


async def lock_cron_setup(conn: Connection) -> None:
    await conn.fetchval(LOCK_CRON_SETUP)


async def select_pg_cron_status(conn: Connection) -> PgCronStatus:
    row = await conn.fetchrow(SELECT_PG_CRON_STATUS)
    return PgCronStatus.model_validate(dict(row))  # type: ignore[arg-type]


async def create_pg_cron(conn: Connection) -> None:
    await conn.execute(CREATE_PG_CRON)


async def select_own_cron_jobs(conn: Connection, prefix: str) -> list[CronJobRow]:
    rows = await conn.fetch(SELECT_OWN_CRON_JOBS, prefix)
    return [CronJobRow.model_validate(dict(row)) for row in rows]


async def schedule_cron_job(conn: Connection, name: str, schedule: str, command: str) -> None:
    await conn.fetchval(SCHEDULE_CRON_JOB, name, schedule, command)


async def unschedule_cron_job(conn: Connection, name: str) -> None:
    await conn.fetchval(UNSCHEDULE_CRON_JOB, name)


async def cron_job_exists(conn: Connection, name: str) -> bool:
    """Whether pg_cron owns the job named `name` in this database."""
    if not await conn.fetchval(HAS_CRON_JOB_TABLE):
        return False
    return bool(await conn.fetchval(SELECT_CRON_JOB_EXISTS, name))
