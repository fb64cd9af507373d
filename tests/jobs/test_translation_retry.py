"""The translation retry job never holds a database connection while the provider answers.

A provider may take its whole timeout per description. Found in review: the job read the
pending rows and called the provider inside one transaction, so a slow provider kept a pooled
connection (and its row snapshot) for the length of the run. The proof below is the order of
events on a pool just large enough for the job's lock: an edit made while the provider is
still answering gets a connection and commits, and the translation of the old text is then
not written over it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from proveo.companies import repository as companies_repository
from proveo.config import Settings
from proveo.core.db import Database
from proveo.integrations.storage import LocalImageStorage
from proveo.integrations.translation import Lang
from proveo.jobs.registry import JobContext, build_registry
from proveo.jobs.schemas import JobOutcome
from proveo.jobs.service import run_job
from tests.factories import create_company, create_user


class SlowTranslator:
    """A provider that answers only when the test lets it."""

    name = "slow-fake"
    enabled = True

    def __init__(self) -> None:
        self.called = asyncio.Event()
        self.release = asyncio.Event()

    async def translate(self, text: str, *, source: Lang, target: Lang) -> str:
        self.called.set()
        await self.release.wait()
        return f"[{target}] {text}"

    async def close(self) -> None:
        return None


@pytest.fixture
async def two_connection_db(database_dsn: str) -> AsyncIterator[Database]:
    """One connection for the job's advisory lock, one for everything else."""
    db = Database(database_dsn, min_size=1, max_size=2, connect_timeout=10, retry_attempts=1)
    await db.open()
    yield db
    await db.close()


@pytest.fixture
async def pending_company_id(database: Database) -> AsyncIterator[int]:
    async with database.transaction() as conn:
        user = await create_user(conn)
        company = await create_company(
            conn, user.id, description_es="Texto viejo", description_en=None
        )
    assert company.description_en_source == "pending"
    yield company.id
    async with database.transaction() as conn:
        await conn.execute("DELETE FROM proveo.company WHERE id = $1", company.id)
        await conn.execute("DELETE FROM proveo.user_account WHERE id = $1", user.id)


def _context(database: Database, translator: SlowTranslator, settings: Settings) -> JobContext:
    return JobContext(
        database=database,
        storage=LocalImageStorage(settings.images_dir),
        translator=translator,
        settings=settings,
    )


async def test_an_edit_commits_while_the_provider_answers_and_is_not_overwritten(
    two_connection_db: Database, pending_company_id: int, settings: Settings
) -> None:
    translator = SlowTranslator()
    [job] = [job for job in build_registry().python_jobs if job.name == "retry-translations"]
    run = asyncio.create_task(run_job(job, _context(two_connection_db, translator, settings)))
    try:
        await asyncio.wait_for(translator.called.wait(), timeout=30)
        # The job holds its lock's connection; a transaction held across the call would hold
        # the other one, and this edit would wait for it (and fail as `database_busy`).
        async with two_connection_db.transaction() as conn:
            await conn.execute(
                "UPDATE proveo.company SET description_es = 'Texto nuevo' WHERE id = $1",
                pending_company_id,
            )
        edited_while_translating = not translator.release.is_set()
    finally:
        translator.release.set()
        outcome = await run
    assert outcome == JobOutcome.RAN
    assert edited_while_translating
    async with two_connection_db.transaction() as conn:
        company = await companies_repository.select_company_by_id(conn, pending_company_id)
    assert company is not None
    assert (company.description_es, company.description_en, company.description_en_source) == (
        "Texto nuevo", None, "pending",
    )  # fmt: skip


async def test_an_unchanged_original_gets_its_translation(
    two_connection_db: Database, pending_company_id: int, settings: Settings
) -> None:
    translator = SlowTranslator()
    translator.release.set()
    [job] = [job for job in build_registry().python_jobs if job.name == "retry-translations"]
    assert await run_job(job, _context(two_connection_db, translator, settings)) == JobOutcome.RAN
    async with two_connection_db.transaction() as conn:
        company = await companies_repository.select_company_by_id(conn, pending_company_id)
    assert company is not None
    assert (company.description_en, company.description_en_source) == (
        "[en] Texto viejo", "machine",
    )  # fmt: skip
