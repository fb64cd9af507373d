from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from proveo import __version__
from proveo.app import create_app
from proveo.config import Settings
from proveo.core.cache import Cache
from proveo.core.db import Database
from proveo.core.embedded_pg import EmbeddedPostgres


class TestLiveness:
    async def test_reports_version(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        response = await client.get(app.url_path_for("health:live"))
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "version": __version__}


@pytest.fixture
def standalone_pg(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    """A server of its own, so the test can stop it without disturbing the others."""
    server = EmbeddedPostgres(tmp_path / "pg", port=5433)
    server.start()
    yield server
    server.destroy()


@pytest.fixture
async def standalone_client(
    standalone_pg: EmbeddedPostgres, settings: Settings, cache: Cache
) -> AsyncIterator[tuple[httpx.AsyncClient, Database]]:
    database = Database(
        standalone_pg.dsn(), min_size=1, max_size=2, connect_timeout=1.0, retry_attempts=2
    )
    await database.open()
    app = create_app(settings, database=database, cache=cache)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http, database
    await database.close()


class TestDatabaseReadiness:
    async def test_reports_pool_stats(
        self, standalone_client: tuple[httpx.AsyncClient, Database]
    ) -> None:
        http, _ = standalone_client
        response = await http.get("/api/v1/health/database")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert body["primary"]["reachable"] is True
        assert body["primary"]["pool"]["max_size"] == 2
        assert body["replica"] == {"reachable": None, "configured": False}
        assert body["redis"] == {"reachable": True}

    async def test_503_while_primary_is_down_then_recovers(
        self,
        standalone_client: tuple[httpx.AsyncClient, Database],
        standalone_pg: EmbeddedPostgres,
    ) -> None:
        http, _ = standalone_client
        standalone_pg.stop("immediate")
        try:
            down = await http.get("/api/v1/health/database")
            assert down.status_code == 503
            assert down.json()["code"] == "database_unavailable"
            assert down.json()["primary"]["reachable"] is False
            # Endpoints that need the database answer 503 JSON too, never 500.
            products = await http.get("/api/v1/products/")
            assert products.status_code == 503
            assert products.json()["code"] == "database_unavailable"
        finally:
            standalone_pg.start()
        recovered = await http.get("/api/v1/health/database")
        assert recovered.status_code == 200
