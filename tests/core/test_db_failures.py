"""Database failures a request can meet: each is a 503 (or a fallback), never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from starlette.routing import Mount

from proveo.app import create_app
from proveo.config import Settings
from proveo.core.cache import Cache
from proveo.core.db import Connection, Database
from proveo.core.deps import AppDatabase, Conn


def _app_with_probes(database: Database, settings: Settings, cache: Cache) -> FastAPI:
    app = create_app(settings, database=database, cache=cache)

    @app.get("/api/v1/probe/killed-mid-read")
    async def killed_mid_read(database: AppDatabase) -> dict[str, int]:
        async def read(conn: Connection) -> dict[str, int]:
            await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
            return {"unreachable": 1}

        return await database.read(read)

    @app.get("/api/v1/probe/write")
    async def write(conn: Conn) -> dict[str, int]:
        return {"one": await conn.fetchval("SELECT 1")}

    app.router.routes.sort(key=lambda route: isinstance(route, Mount))
    return app


@pytest.fixture
async def small_db(database_dsn: str) -> AsyncIterator[Database]:
    db = Database(database_dsn, min_size=1, max_size=1, connect_timeout=0.3, retry_attempts=2)
    await db.open()
    yield db
    await db.close()


class TestFailuresBecome503:
    async def test_connection_killed_mid_request(
        self, small_db: Database, settings: Settings, cache: Cache
    ) -> None:
        """Found in review: the rollback after a lost connection raised and hid the error."""
        app = _app_with_probes(small_db, settings, cache)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/api/v1/probe/killed-mid-read")
            assert response.status_code == 503
            assert response.json()["code"] == "database_unavailable"
            # The pool recovers by itself on the next request.
            assert (await http.get("/api/v1/probe/write")).json() == {"one": 1}

    async def test_exhausted_pool_answers_at_once(
        self, small_db: Database, settings: Settings, cache: Cache
    ) -> None:
        app = _app_with_probes(small_db, settings, cache)
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://t") as http,
            small_db.transaction(),  # holds the only connection
        ):
            response = await http.get("/api/v1/probe/write")
        assert response.status_code == 503
        assert response.json()["code"] == "database_busy"
        assert response.headers["retry-after"] == "1"


class TestMisconfiguredReplica:
    async def test_reads_fall_back_to_the_primary(self, database_dsn: str) -> None:
        replica_dsn = database_dsn.replace("/proveo_test_", "/no_such_database_", 1)
        db = Database(database_dsn, replica_dsn, min_size=1, max_size=2)
        await db.open()
        try:
            async with db.read_transaction() as conn:
                assert await conn.fetchval("SELECT pg_is_in_recovery()") is False
            assert db.stats()["replica"]["fallbacks"] >= 1
            assert "no_such_database" in str(db.stats()["replica"]["last_error"])
        finally:
            await db.close()
