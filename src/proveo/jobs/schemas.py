"""Typed rows and results of the scheduled jobs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel


class JobOutcome(StrEnum):
    RAN = "ran"
    LOCKED = "locked"  # another replica holds the job's lock: this run is skipped
    DELEGATED = "delegated"  # pg_cron runs this SQL job: the app leaves it alone
    FAILED = "failed"


@dataclass(frozen=True)
class JobRun:
    """One run started by hand: what the job returned (rows removed, for a SQL job)."""

    outcome: JobOutcome
    result: object
    duration_ms: float


class PgCronStatus(BaseModel):
    available: bool  # the server has the extension's files
    installed: bool  # CREATE EXTENSION was run in this database
    cron_database: str | None  # None: pg_cron is not in shared_preload_libraries
    database: str


class CronJobRow(BaseModel):
    jobname: str
    schedule: str
    command: str
    active: bool


class CronSetup(BaseModel):
    """What `proveo migrate` did with pg_cron."""

    in_pg_cron: bool  # pg_cron runs the SQL jobs; otherwise the app scheduler does
    available: bool  # the server has pg_cron (so not using it is worth a warning)
    reason: str | None = None  # why not, when it does not
    scheduled: list[str] = []  # new or changed jobs
    unscheduled: list[str] = []  # jobs no longer in the registry
    unchanged: list[str] = []
