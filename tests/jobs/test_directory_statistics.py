"""The directory statistics view: refreshed concurrently by the every-minute SQL job."""

from __future__ import annotations

import asyncio

from proveo.config import Settings
from proveo.core.db import Connection, Database
from proveo.integrations.storage import LocalImageStorage
from proveo.integrations.translation import NoTranslator
from proveo.jobs.registry import SQL_JOBS, JobContext, build_registry
from proveo.jobs.schemas import JobOutcome
from proveo.jobs.service import run_job, run_sql_job
from tests.factories import create_company, create_user

REFRESH = next(job for job in SQL_JOBS if job.name == "refresh-directory-statistics")

COUNTS = """
SELECT s.companies FROM proveo.directory_statistics s
JOIN proveo.{table} t ON t.id = s.entry_id
WHERE s.dimension = $1 AND t.{column} = $2
"""


async def count(conn: Connection, dimension: str, name: str) -> int:
    table, column = ("product", "name_es") if dimension == "product" else ("commune", "name")
    value: int = await conn.fetchval(COUNTS.format(table=table, column=column), dimension, name)
    return value


class TestRefreshDirectoryStatistics:
    def test_is_registered_every_minute_as_a_sql_job(self) -> None:
        assert REFRESH in build_registry().sql_jobs
        assert REFRESH.schedule == "* * * * *"
        assert "CONCURRENTLY" in REFRESH.sql

    async def test_counts_live_companies_per_product_and_commune_after_a_refresh(
        self, conn: Connection
    ) -> None:
        await run_sql_job(conn, REFRESH)

        async def figures() -> tuple[int, int]:
            return await count(conn, "commune", "Ollagüe"), await count(
                conn, "product", "Auditoría"
            )

        before = await figures()
        owners = [await create_user(conn) for _ in range(3)]
        for owner in owners:
            await create_company(conn, owner.id, commune_name="Ollagüe", product_name="Auditoría")
        await conn.execute(
            "UPDATE proveo.company SET deleted_at = now() WHERE user_id = $1", owners[0].id
        )
        # Not on the write path: the figures move at the next refresh only.
        assert await figures() == before

        assert await run_sql_job(conn, REFRESH) == 0  # no pg_cron here: the app ran it
        assert await figures() == (before[0] + 2, before[1] + 2)

    async def test_lists_every_product_and_commune_including_empty_ones(
        self, conn: Connection
    ) -> None:
        await run_sql_job(conn, REFRESH)
        rows = await conn.fetch(
            "SELECT dimension, count(*) AS entries FROM proveo.directory_statistics "
            "GROUP BY dimension"
        )
        entries = {row["dimension"]: row["entries"] for row in rows}
        assert entries == {
            "product": await conn.fetchval("SELECT count(*) FROM proveo.product"),
            "commune": await conn.fetchval("SELECT count(*) FROM proveo.commune"),
        }

    async def test_the_app_scheduler_runs_it_and_readers_never_wait_for_it(
        self, database: Database, settings: Settings
    ) -> None:
        context = JobContext(
            database=database,
            storage=LocalImageStorage(settings.images_dir),
            translator=NoTranslator(),
            settings=settings,
        )
        async with database.transaction() as reader:
            # A reader holding the view open (ACCESS SHARE) while the job refreshes it:
            # CONCURRENTLY takes only EXCLUSIVE, which lets reads through.
            await reader.fetchval("SELECT count(*) FROM proveo.directory_statistics")
            outcome = await asyncio.wait_for(run_job(REFRESH, context), timeout=30)
        assert outcome is JobOutcome.RAN
