from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from proveo import __version__
from proveo.accounts.schemas import Role
from proveo.app import create_app
from proveo.config import Settings
from proveo.core.cache import Cache
from proveo.core.db import Connection, Database
from proveo.core.embedded_pg import EmbeddedPostgres
from tests.factories import create_user, log_in


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
    async def test_public_answer_is_up_only(
        self, standalone_client: tuple[httpx.AsyncClient, Database]
    ) -> None:
        http, _ = standalone_client
        response = await http.get("/api/v1/health/database")
        assert response.status_code == 200
        # Pool sizes, hosts and replica errors are for admins (the details route).
        assert response.json() == {"status": "ok"}

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
            assert down.json() == {
                "detail": "The primary database is unreachable",
                "code": "database_unavailable",
            }
            assert down.headers["retry-after"] == "1"
            # Endpoints that need the database answer 503 JSON too, never 500.
            products = await http.get("/api/v1/products/")
            assert products.status_code == 503
            assert products.json()["code"] == "database_unavailable"
        finally:
            standalone_pg.start()
        recovered = await http.get("/api/v1/health/database")
        assert recovered.status_code == 200


class TestReadyToServe:
    async def test_ready_while_the_primary_answers(
        self, standalone_client: tuple[httpx.AsyncClient, Database]
    ) -> None:
        http, _ = standalone_client
        response = await http.get("/api/v1/health/ready")
        assert (response.status_code, response.json()) == (200, {"status": "ok"})

    async def test_not_ready_when_no_database_answers(
        self,
        standalone_client: tuple[httpx.AsyncClient, Database],
        standalone_pg: EmbeddedPostgres,
    ) -> None:
        http, _ = standalone_client
        standalone_pg.stop("immediate")
        try:
            down = await http.get("/api/v1/health/ready")
            assert down.status_code == 503
            assert down.json()["code"] == "database_unavailable"
        finally:
            standalone_pg.start()
        assert (await http.get("/api/v1/health/ready")).status_code == 200

    async def test_still_ready_on_a_replica_while_the_primary_is_down(
        self, standalone_pg: EmbeddedPostgres, settings: Settings, cache: Cache, tmp_path: Path
    ) -> None:
        # Reads keep working from the replica: pulling the API out of rotation would turn a
        # primary outage into a whole-site outage.
        replica = EmbeddedPostgres(tmp_path / "replica-pg", port=5434)
        replica.start()
        database = Database(
            standalone_pg.dsn(), replica_dsn=replica.dsn(), min_size=1, max_size=2,
            connect_timeout=1.0, retry_attempts=2,
        )  # fmt: skip
        await database.open()
        try:
            app = create_app(settings, database=database, cache=cache)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                standalone_pg.stop("immediate")
                try:
                    assert (await http.get("/api/v1/health/ready")).status_code == 200
                    assert (await http.get("/api/v1/health/database")).status_code == 503
                finally:
                    standalone_pg.start()
        finally:
            await database.close()
            replica.destroy()


class TestDatabaseDetails:
    async def test_admins_see_pools_replica_and_redis(
        self, client: httpx.AsyncClient, conn: Connection, app: FastAPI
    ) -> None:
        await log_in(client, await create_user(conn, role=Role.ADMIN))
        response = await client.get(app.url_path_for("health:database_details"))
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert body["primary"]["reachable"] is True
        assert body["replica"] == {"reachable": None, "configured": False}
        assert body["redis"] == {"reachable": True}

    async def test_others_do_not(
        self, client: httpx.AsyncClient, conn: Connection, app: FastAPI
    ) -> None:
        url = app.url_path_for("health:database_details")
        anonymous = await client.get(url)
        assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
        await log_in(client, await create_user(conn))
        user = await client.get(url)
        assert (user.status_code, user.json()["code"]) == (403, "admin_required")
