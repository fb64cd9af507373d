"""Search reads from the replica when one is configured, and sees the primary's writes there."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from proveo.catalog import service as catalog_service
from proveo.core import migrations
from proveo.core.db import Connection, Database
from proveo.core.embedded_pg import EmbeddedPostgres
from proveo.search import service
from proveo.search.service import SearchCaches, SearchRequest
from tests.factories import create_company, create_user
from tests.fixtures.replica import ReplicaPair, running_replica_pair

pytestmark = pytest.mark.slow

DB_NAME = "proveo_search_replica"


async def _migrated(primary: EmbeddedPostgres) -> None:
    admin = await asyncpg.connect(primary.dsn("postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    finally:
        await admin.close()
    await asyncio.to_thread(migrations.upgrade, primary.dsn(DB_NAME))
    conn = await asyncpg.connect(primary.dsn(DB_NAME))
    try:
        await catalog_service.seed_catalog(conn)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ReplicaPair]:
    async with running_replica_pair(
        tmp_path_factory.mktemp("search-replica"), DB_NAME, _migrated
    ) as found:
        yield found


async def _standby(conn: Connection) -> bool:
    return bool(await conn.fetchval("SELECT pg_is_in_recovery()"))


async def test_search_reads_the_replica_and_sees_a_publish_there(pair: ReplicaPair) -> None:
    database = Database(pair.primary_dsn, pair.replica_dsn, min_size=1, max_size=2)
    await database.open()
    try:
        async with database.transaction() as conn:
            owner = await create_user(conn)
            await create_company(conn, owner.id, name="Replicada Norte")
        caches = SearchCaches.create(ttl=0)
        request = SearchRequest("replicada", None, None, "es")
        deadline = time.monotonic() + 5
        while not (page := await service.search_companies(database, caches, None, request)).items:
            assert time.monotonic() < deadline, "the publish never reached the replica"
            await asyncio.sleep(0.05)
        assert [hit.name for hit in page.items] == ["Replicada Norte"]
        stats = database.stats()["replica"]
        assert stats["search_pool"]["size"] >= 1  # search's planned reads: on the standby
        assert stats["fallbacks"] == 0
        assert await database.read_planned(_standby) is True
    finally:
        await database.close()
