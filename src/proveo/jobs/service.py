"""Running one job under its lock, and handing the SQL jobs to pg_cron."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import asyncpg
import structlog

from proveo.core.db import TRANSIENT_ERRORS, Connection, Database
from proveo.jobs import repository
from proveo.jobs.registry import CRON_JOB_PREFIX, Job, JobContext, SqlJob
from proveo.jobs.schemas import CronSetup, JobOutcome, JobRun

log = structlog.get_logger(__name__)

# How long a job waits for a pooled connection to take its lock before the run counts as failed.
LOCK_CONNECTION_TIMEOUT = 10.0


@asynccontextmanager
async def job_lock(database: Database, name: str) -> AsyncIterator[bool]:
    """Yields whether this process got the job's lock; no other holder runs it meanwhile.

    The lock lives on one pooled connection held for the whole run, so that it is released
    with the connection if the process dies. The job itself uses other connections.
    """
    async with database.primary.acquire(timeout=LOCK_CONNECTION_TIMEOUT) as conn:
        acquired = await repository.try_job_lock(conn, name)
        try:
            yield acquired
        finally:
            if acquired:
                # A lost connection has released the lock already; the pool discards it. Any
                # other failure closes the connection, and the lock with it: the pool keeps
                # sessions as they are (`core.db`), so a lock left on one would stay.
                try:
                    await repository.release_job_lock(conn, name)
                except TRANSIENT_ERRORS:
                    pass
                except BaseException:
                    conn.terminate()
                    raise


async def run_sql_job(conn: Connection, job: SqlJob) -> int | None:
    """The rows the job removed, or None when pg_cron runs it in this database."""
    if await repository.cron_job_exists(conn, job.cron_name):
        return None
    return await repository.run_counting_sql(conn, job.sql)


async def run_job(job: Job, context: JobContext) -> JobOutcome:
    """One run, never raising: a failure is logged and the next run tries again."""
    started = time.monotonic()
    try:
        async with job_lock(context.database, job.name) as acquired:
            if not acquired:
                log.info("job_skipped_locked", job=job.name)
                return JobOutcome.LOCKED
            if isinstance(job, SqlJob):
                async with context.database.transaction() as conn:
                    result: object = await run_sql_job(conn, job)
                if result is None:
                    log.debug("job_delegated_to_pg_cron", job=job.name)
                    return JobOutcome.DELEGATED
            else:
                result = await job.func(context)
    except asyncio.CancelledError:
        log.warning("job_cancelled", job=job.name)
        raise
    except Exception:
        log.exception("job_failed", job=job.name)
        return JobOutcome.FAILED
    log.info(
        "job_finished",
        job=job.name,
        result=result if isinstance(result, int | str | float | bool) else repr(result),
        duration_ms=round((time.monotonic() - started) * 1000, 1),
    )
    return JobOutcome.RAN


async def run_job_now(job: Job, context: JobContext) -> JobRun:
    """One run on an operator's request (`proveo run-job`), under the scheduler's lock.

    Unlike a scheduled run, a SQL job runs here even when pg_cron schedules it too (its
    statements only delete what is due, so an extra run is harmless), and a failure raises for
    the caller to report (the caller logs the outcome too).
    """
    started = time.monotonic()
    async with job_lock(context.database, job.name) as acquired:
        if not acquired:
            return JobRun(outcome=JobOutcome.LOCKED, result=None, duration_ms=0.0)
        if isinstance(job, SqlJob):
            async with context.database.transaction() as conn:
                result: object = await repository.run_counting_sql(conn, job.sql)
        else:
            result = await job.func(context)
    duration_ms = round((time.monotonic() - started) * 1000, 1)
    return JobRun(outcome=JobOutcome.RAN, result=result, duration_ms=duration_ms)


def _reason_not_in_pg_cron(available: bool, cron_database: str | None, database: str) -> str:
    if not available:
        return "the pg_cron extension is not installed on this server"
    if cron_database is None:
        return "pg_cron is not in shared_preload_libraries"
    return (
        f"pg_cron runs jobs in database {cron_database!r} (cron.database_name), not in {database!r}"
    )


async def schedule_sql_jobs_in_pg_cron(conn: Connection, jobs: Sequence[SqlJob]) -> CronSetup:
    """Install pg_cron where it can run here and make its `proveo.*` jobs match `jobs` exactly.

    Idempotent: unchanged jobs are left alone, changed ones rescheduled, ones no longer
    registered unscheduled. Never commits; `proveo migrate` owns the transaction.
    """
    await repository.lock_cron_setup(conn)
    status = await repository.select_pg_cron_status(conn)
    if not status.available or status.cron_database != status.database:
        return CronSetup(
            in_pg_cron=False,
            available=status.available,
            reason=_reason_not_in_pg_cron(status.available, status.cron_database, status.database),
        )
    if not status.installed:
        await repository.create_pg_cron(conn)
    setup = CronSetup(in_pg_cron=True, available=True)
    existing = {
        row.jobname: row for row in await repository.select_own_cron_jobs(conn, CRON_JOB_PREFIX)
    }
    for job in jobs:
        row = existing.pop(job.cron_name, None)
        if row is not None and (row.schedule, row.command) == (job.schedule, job.sql):
            setup.unchanged.append(job.cron_name)
            continue
        await repository.schedule_cron_job(conn, job.cron_name, job.schedule, job.sql)
        setup.scheduled.append(job.cron_name)
    for name in existing:
        await repository.unschedule_cron_job(conn, name)
        setup.unscheduled.append(name)
    return setup


async def set_up_pg_cron(dsn: str, jobs: Sequence[SqlJob]) -> CronSetup:
    """`schedule_sql_jobs_in_pg_cron` in its own transaction; a refusal is a reason, not a crash.

    Creating the extension needs a superuser: a role without that right leaves the SQL jobs to
    the app scheduler, and says why.
    """
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            return await schedule_sql_jobs_in_pg_cron(conn, jobs)
    except asyncpg.InsufficientPrivilegeError as exc:
        return CronSetup(
            in_pg_cron=False, available=True, reason=f"pg_cron could not be set up: {exc}"
        )
    finally:
        await conn.close()
