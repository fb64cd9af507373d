"""One live company per user under real concurrency: requests on their own connections, with
real commits, in a database of this module's own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import uuid4

import httpx
import pytest

from proveo.accounts import lifecycle
from proveo.accounts.schemas import SessionUser, UserRecord
from proveo.admin.service import AdminActor
from proveo.app import create_app
from proveo.catalog import service as catalog_service
from proveo.config import Settings
from proveo.core import migrations
from proveo.core.cache import Cache
from proveo.core.db import Database
from proveo.core.embedded_pg import EmbeddedPostgres
from proveo.integrations.storage import ImageStorage, LocalImageStorage
from tests.companies.support import FakeTranslator, ScoredAnalyser, publish
from tests.factories import create_user, log_in
from tests.fixtures.database import create_database, wait_until_a_query_waits_for_a_lock


@pytest.fixture(scope="module")
async def own_database(pg_server: EmbeddedPostgres) -> AsyncIterator[Database]:
    name = f"proveo_company_race_{uuid4().hex[:8]}"
    await create_database(pg_server.dsn("postgres"), name)
    await asyncio.to_thread(migrations.upgrade, pg_server.dsn(name))
    database = Database(pg_server.dsn(name), min_size=1, max_size=6)
    await database.open()
    async with database.transaction() as conn:
        await catalog_service.seed_catalog(conn)
    yield database
    await database.close()


@pytest.fixture
def storage(settings: Settings) -> ImageStorage:
    return LocalImageStorage(settings.images_dir)


@pytest.fixture
async def http(
    own_database: Database, settings: Settings, cache: Cache, storage: ImageStorage
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        # Two uploads of one account at once: the database's rules are what is raced here,
        # not the upload limit (tests/companies/test_upload_limits.py).
        settings.model_copy(update={"uploads_at_once": 2}),
        database=own_database,
        cache=cache,
        storage=storage,
        image_analyser=ScoredAnalyser(0.0),
        translator=FakeTranslator(),
    )
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture
async def user(own_database: Database) -> UserRecord:
    async with own_database.transaction() as conn:
        return await create_user(conn)


async def _live_companies(database: Database, user: UserRecord) -> int:
    async with database.transaction() as conn:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM proveo.company WHERE user_id = $1 AND deleted_at IS NULL",
            user.id,
        )
        return count


class TestOneCompanyPerUserUnderConcurrency:
    async def test_two_concurrent_publishes_make_one_company(
        self,
        http: httpx.AsyncClient,
        own_database: Database,
        user: UserRecord,
        storage: ImageStorage,
    ) -> None:
        session = await log_in(http, user)
        responses = await asyncio.gather(
            publish(http, session, name="Primera"), publish(http, session, name="Segunda")
        )
        assert sorted(r.status_code for r in responses) == [201, 409]
        loser = next(r for r in responses if r.status_code == 409)
        assert loser.json()["code"] == "company_exists"
        assert await _live_companies(own_database, user) == 1
        # The loser's image, stored before its write was refused, is gone again.
        assert len(await storage.list_names()) == 2

    async def test_a_publish_racing_the_account_deletion_leaves_no_live_company(
        self,
        http: httpx.AsyncClient,
        own_database: Database,
        user: UserRecord,
        storage: ImageStorage,
    ) -> None:
        session = await log_in(http, user)
        as_session_user = SessionUser.model_validate(user.model_dump() | {"session_id": uuid4()})
        actor = AdminActor(uuid=user.uuid, ip=None, request_id=None)
        async with own_database.transaction() as conn:
            await lifecycle.delete_own_account(conn, as_session_user, actor)
            racing = asyncio.create_task(publish(http, session))
            await wait_until_a_query_waits_for_a_lock(own_database)
        response = await racing
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
        assert await _live_companies(own_database, user) == 0
        assert await storage.list_names() == []
