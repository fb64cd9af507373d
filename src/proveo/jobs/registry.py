"""Every scheduled job, in one place: SQL jobs (pg_cron, else the app) and Python jobs (the app).

Add a Python job in `build_registry`:

    registry.register_python_job("retry-translations", 300, retry_translations)

where `async def retry_translations(context: JobContext) -> object` does the work (the value it
returns is logged). A job opens its own transactions through `context.database`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from apscheduler.triggers.cron import CronTrigger

from proveo.config import Settings
from proveo.core.db import Database
from proveo.integrations.storage import ImageStorage
from proveo.integrations.translation import Translator
from proveo.jobs import repository

# pg_cron job names are this prefix plus the job's name; `proveo migrate` owns every such job.
CRON_JOB_PREFIX = "proveo."
_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class JobContext:
    """What a Python job may use: the app's own shared resources."""

    database: Database
    storage: ImageStorage
    translator: Translator
    settings: Settings


JobFunc = Callable[[JobContext], Awaitable[object]]


@dataclass(frozen=True)
class PythonJob:
    name: str
    interval_seconds: float
    func: JobFunc


@dataclass(frozen=True)
class SqlJob:
    """One SQL statement answering a count, on a cron schedule (minutes, UTC)."""

    name: str
    schedule: str
    sql: str
    description: str

    @property
    def cron_name(self) -> str:
        return CRON_JOB_PREFIX + self.name


Job = PythonJob | SqlJob


def cron_trigger(schedule: str) -> CronTrigger:
    """The app scheduler's trigger for a pg_cron schedule (both read it in UTC)."""
    return CronTrigger.from_crontab(schedule, timezone="UTC")


class JobRegistry:
    def __init__(self, jobs: Iterable[Job] = ()) -> None:
        self._jobs: dict[str, Job] = {}
        for job in jobs:
            self._add(job)

    def _add(self, job: Job) -> None:
        if not _NAME.match(job.name):
            raise ValueError(f"job name {job.name!r}: use lowercase words joined by '-'")
        if job.name in self._jobs:
            raise ValueError(f"job {job.name!r} is already registered")
        if isinstance(job, SqlJob):
            fields = job.schedule.split()
            # APScheduler numbers weekdays from Monday and cron from Sunday: refuse the
            # ambiguity rather than run a job on different days in the two schedulers.
            if len(fields) != 5 or fields[4] != "*":
                raise ValueError(f"job {job.name!r}: give five cron fields, weekday '*'")
            cron_trigger(job.schedule)  # raises on anything else it cannot read
        elif job.interval_seconds <= 0:
            raise ValueError(f"job {job.name!r}: the interval must be positive")
        self._jobs[job.name] = job

    def register_python_job(self, name: str, interval_seconds: float, func: JobFunc) -> PythonJob:
        job = PythonJob(name=name, interval_seconds=interval_seconds, func=func)
        self._add(job)
        return job

    def register_sql_job(self, name: str, schedule: str, sql: str, description: str) -> SqlJob:
        job = SqlJob(name=name, schedule=schedule, sql=sql, description=description)
        self._add(job)
        return job

    @property
    def jobs(self) -> list[Job]:
        return list(self._jobs.values())

    @property
    def python_jobs(self) -> list[PythonJob]:
        return [job for job in self._jobs.values() if isinstance(job, PythonJob)]

    @property
    def sql_jobs(self) -> list[SqlJob]:
        return [job for job in self._jobs.values() if isinstance(job, SqlJob)]


SQL_JOBS: tuple[SqlJob, ...] = (
    SqlJob(
        name="purge-expired-sessions",
        schedule="7 * * * *",
        sql=repository.PURGE_EXPIRED_SESSIONS,
        description="delete sessions that have expired or were revoked",
    ),
    SqlJob(
        name="purge-expired-tokens",
        schedule="17 * * * *",
        sql=repository.PURGE_EXPIRED_TOKENS,
        description="delete verification and password reset links a week after they expire",
    ),
    SqlJob(
        name="purge-unverified-accounts",
        schedule="37 3 * * *",
        sql=repository.PURGE_UNVERIFIED_ACCOUNTS,
        description="delete accounts whose address was never confirmed, 7 days after signup",
    ),
    SqlJob(
        name="refresh-directory-statistics",
        schedule="* * * * *",
        sql=repository.REFRESH_DIRECTORY_STATISTICS,
        description="recount live companies per product and per commune (materialized view)",
    ),
    SqlJob(
        name="purge-old-search-stats",
        schedule="47 3 * * *",
        sql=repository.PURGE_OLD_SEARCH_STATS,
        description="delete search analytics older than the 90 days the admin can ask for",
    ),
    SqlJob(
        name="expire-quote-requests",
        schedule="*/10 * * * *",
        sql=repository.EXPIRE_QUOTE_REQUESTS,
        description="mark open quote requests expired once their 30 days are over",
    ),
    SqlJob(
        name="purge-unconfirmed-quote-requests",
        schedule="23 4 * * *",
        sql=repository.PURGE_UNCONFIRMED_QUOTE_REQUESTS,
        description="delete quote requests never confirmed, 7 days after they were sent",
    ),
    SqlJob(
        name="erase-quote-contacts",
        schedule="43 4 * * *",
        sql=repository.ERASE_QUOTE_CONTACTS,
        description="erase buyers' contact data 12 months after their request expired",
    ),
)


async def retry_translations(context: JobContext) -> int:
    """Descriptions left 'pending' when the provider failed get another try."""
    from proveo.companies import service as companies_service

    return await companies_service.retry_pending_translations(context.database, context.translator)


async def clean_up_orphan_images(context: JobContext) -> object:
    """Stored images no company or held upload refers to, older than an hour, are removed."""
    from proveo.images import service as images_service

    return await images_service.cleanup_orphan_images(context.database, context.storage)


# How often the backup job looks at the newest backup (taking one when it is due).
BACKUP_CHECK_SECONDS = 300


async def back_up(context: JobContext) -> str:
    """With PROVEO_BACKUP_TO set: a backup there once the newest is PROVEO_BACKUP_INTERVAL_HOURS
    old, then only the newest PROVEO_BACKUP_KEEP kept (the metrics learn the newest's time)."""
    from proveo.backups import service as backups_service

    return await backups_service.back_up_when_due(
        context.settings, context.storage, check_seconds=BACKUP_CHECK_SECONDS
    )


def build_registry(settings: Settings | None = None) -> JobRegistry:
    """The jobs the app and `proveo migrate` know about (backups only when configured)."""
    registry = JobRegistry(SQL_JOBS)
    registry.register_python_job("retry-translations", 600, retry_translations)
    registry.register_python_job("clean-up-orphan-images", 3600, clean_up_orphan_images)
    if settings is not None and settings.backup_to:
        registry.register_python_job("back-up", BACKUP_CHECK_SECONDS, back_up)
    return registry
