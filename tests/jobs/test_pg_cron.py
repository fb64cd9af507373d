"""pg_cron on Debian's PostgreSQL 15: `proveo migrate` hands it the SQL jobs, idempotently."""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from proveo.config import Settings
from proveo.core.db import Connection, Database
from proveo.integrations.storage import LocalImageStorage
from proveo.integrations.translation import NoTranslator
from proveo.jobs.registry import SQL_JOBS, JobContext, SqlJob
from proveo.jobs.schemas import JobOutcome
from proveo.jobs.service import run_job, schedule_sql_jobs_in_pg_cron, set_up_pg_cron
from tests.fixtures.database import create_database
from tests.fixtures.servers import (
    PG_CRON_DATABASE,
    PgCronServer,
    free_port,
    proveo_command,
    proveo_env,
)

pytestmark = pytest.mark.slow

WANTED = {job.cron_name: (job.schedule, job.sql) for job in SQL_JOBS}


@pytest.fixture(scope="module")
async def cron_dsn(pg_cron_server: PgCronServer) -> str:
    """The database pg_cron serves (cron.database_name), empty: `proveo migrate` fills it."""
    await create_database(pg_cron_server.dsn("postgres"), PG_CRON_DATABASE)
    return pg_cron_server.dsn()


async def cron_jobs(dsn: str) -> dict[str, tuple[str, str]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT jobname, schedule, command FROM cron.job ORDER BY jobid")
    finally:
        await conn.close()
    names = [row["jobname"] for row in rows]
    assert len(names) == len(set(names)), f"a job is scheduled twice: {names}"
    return {row["jobname"]: (row["schedule"], row["command"]) for row in rows}


def migrate(dsn: str, data_dir: Path) -> list[str]:
    env = proveo_env(
        data_dir,
        free_port(),
        PROVEO_DATABASE_URL=dsn,
        PROVEO_LOG_FORMAT="json",
        PROVEO_LOG_LEVEL="INFO",
    )
    result = subprocess.run(
        proveo_command("migrate"), env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [json.loads(line)["event"] for line in result.stderr.splitlines() if line.strip()]


@pytest.fixture(scope="module")
async def migrated(cron_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> list[list[str]]:
    """`proveo migrate` run twice, as two deployments would; each run's log events."""
    data_dir = tmp_path_factory.mktemp("data")
    return [migrate(cron_dsn, data_dir), migrate(cron_dsn, data_dir)]


@pytest.fixture
async def cron_conn(cron_dsn: str, migrated: list[list[str]]) -> AsyncIterator[Connection]:
    conn = await asyncpg.connect(cron_dsn)
    try:
        yield conn
    finally:
        await conn.close()


class TestMigrateSchedulesSqlJobs:
    async def test_installs_pg_cron_and_schedules_each_sql_job_once(
        self, cron_dsn: str, migrated: list[list[str]]
    ) -> None:
        first, second = migrated
        assert "pg_cron_jobs_scheduled" in first
        assert "pg_cron_jobs_scheduled" not in second
        assert "pg_cron_jobs_unchanged" in second
        assert await cron_jobs(cron_dsn) == WANTED

    async def test_reschedules_a_changed_job_and_unschedules_a_removed_one(
        self, cron_dsn: str, cron_conn: Connection
    ) -> None:
        first, *others = SQL_JOBS
        moved = SqlJob(first.name, "9 * * * *", first.sql, first.description)
        extra = SqlJob("retired-job", "0 4 * * *", "SELECT 0", "a job a later version drops")
        try:
            async with cron_conn.transaction():
                setup = await schedule_sql_jobs_in_pg_cron(cron_conn, [moved, *others, extra])
            assert setup.scheduled == [moved.cron_name, extra.cron_name]
            assert setup.unchanged == [job.cron_name for job in others]
            jobs = await cron_jobs(cron_dsn)
            assert jobs[moved.cron_name] == ("9 * * * *", first.sql)
            assert extra.cron_name in jobs
        finally:
            async with cron_conn.transaction():
                setup = await schedule_sql_jobs_in_pg_cron(cron_conn, SQL_JOBS)
        assert setup.scheduled == [first.cron_name]
        assert setup.unscheduled == [extra.cron_name]
        assert await cron_jobs(cron_dsn) == WANTED

    async def test_leaves_the_jobs_to_the_app_where_pg_cron_serves_another_database(
        self, pg_cron_server: PgCronServer, migrated: list[list[str]]
    ) -> None:
        await create_database(pg_cron_server.dsn("postgres"), "elsewhere")
        setup = await set_up_pg_cron(pg_cron_server.dsn("elsewhere"), SQL_JOBS)
        assert not setup.in_pg_cron
        assert setup.available
        assert setup.reason is not None
        assert "cron.database_name" in setup.reason


class TestAppSchedulerDefersToPgCron:
    async def test_the_app_does_not_run_sql_jobs_pg_cron_owns(
        self, cron_dsn: str, cron_conn: Connection, settings: Settings
    ) -> None:
        user_id = await cron_conn.fetchval(
            "INSERT INTO proveo.user_account (name, email, password_hash) "
            "VALUES ('Ana', 'ana@proveo.cl', 'x') RETURNING id"
        )
        expired = await cron_conn.fetchval(
            "INSERT INTO proveo.user_session (user_id, expires_at) "
            "VALUES ($1, now() - interval '1 hour') RETURNING id",
            user_id,
        )
        database = Database(cron_dsn, min_size=0, max_size=2)
        await database.open()
        try:
            ctx = JobContext(
                database=database,
                storage=LocalImageStorage(settings.images_dir),
                translator=NoTranslator(),
                settings=settings,
            )
            for job in SQL_JOBS:
                assert await run_job(job, ctx) is JobOutcome.DELEGATED
        finally:
            await database.close()
        sessions = "SELECT count(*) FROM proveo.user_session WHERE id = $1"
        assert await cron_conn.fetchval(sessions, expired) == 1

        # The command pg_cron stored is valid SQL on this server, and does the purge.
        command = await cron_conn.fetchval(
            "SELECT command FROM cron.job WHERE jobname = 'proveo.purge-expired-sessions'"
        )
        await cron_conn.execute(command)
        assert await cron_conn.fetchval(sessions, expired) == 0
        for job in SQL_JOBS:
            await cron_conn.execute(job.sql)

    async def test_pg_cron_refreshes_the_directory_statistics_every_minute(
        self, cron_dsn: str, cron_conn: Connection
    ) -> None:
        schedule, command = (await cron_jobs(cron_dsn))["proveo.refresh-directory-statistics"]
        assert schedule == "* * * * *"
        tx = cron_conn.transaction()
        await tx.start()
        try:
            await self._refreshes_on_pg15(cron_conn, command)
        finally:
            await tx.rollback()

    async def _refreshes_on_pg15(self, cron_conn: Connection, command: str) -> None:
        product, commune = await cron_conn.fetchrow(
            "WITH p AS (INSERT INTO proveo.product (name_es, name_en) "
            "VALUES ('Auditoría', 'Auditing') RETURNING id), "
            "m AS (INSERT INTO proveo.commune (name, region) "
            "VALUES ('Ollagüe', 'Antofagasta') RETURNING id) "
            "SELECT (SELECT id FROM p), (SELECT id FROM m)"
        )
        user_id = await cron_conn.fetchval(
            "INSERT INTO proveo.user_account (name, email, password_hash, email_verified) "
            "VALUES ('Eva', 'eva@proveo.cl', 'x', true) RETURNING id"
        )
        await cron_conn.execute(
            "INSERT INTO proveo.company (user_id, product_id, commune_id, name, description_es, "
            "description_original_lang, description_es_source, description_en_source, address, "
            "phone, email) VALUES ($1, $2, $3, 'Auditores Eva', 'Auditoría', 'es', 'original', "
            "'pending', 'Calle 1', '+56912345678', 'a@b.cl')",
            user_id, product, commune,
        )  # fmt: skip
        counts = (
            "SELECT companies FROM proveo.directory_statistics "
            "WHERE dimension = $1 AND entry_id = $2"
        )
        assert await cron_conn.fetchval(counts, "commune", commune) is None  # not refreshed yet
        await cron_conn.execute(command)  # what pg_cron runs, on PostgreSQL 15
        assert await cron_conn.fetchval(counts, "commune", commune) == 1
        assert await cron_conn.fetchval(counts, "product", product) == 1


class TestWithoutPgCron:
    async def test_the_embedded_server_keeps_the_sql_jobs_in_the_app(
        self, conn: Connection
    ) -> None:
        setup = await schedule_sql_jobs_in_pg_cron(conn, SQL_JOBS)
        assert not setup.in_pg_cron
        assert not setup.available
        assert setup.reason == "the pg_cron extension is not installed on this server"
        assert not await conn.fetchval("SELECT to_regclass('cron.job') IS NOT NULL")
