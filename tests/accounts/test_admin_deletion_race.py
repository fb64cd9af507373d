"""Admins deleting each other in truly concurrent transactions (no scripted interleaving).

Found by an adversary: A deleting B while B deleted A deadlocked in half the rounds and
answered 500. Every deletion now locks the live admin rows in one order before changing any row.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI

from proveo.accounts.schemas import Role, UserRecord
from proveo.app import create_app
from proveo.config import Settings
from proveo.core import migrations
from proveo.core.cache import Cache
from proveo.core.db import Database
from proveo.core.embedded_pg import EmbeddedPostgres
from tests.factories import LoggedIn, create_user, log_in
from tests.fixtures.database import create_database

ROUNDS = 5


@pytest.fixture(scope="module")
async def own_database(pg_server: EmbeddedPostgres) -> AsyncIterator[Database]:
    """A database of this module's own, where commits are real and no other admin exists."""
    name = f"proveo_admin_race_{uuid4().hex[:8]}"
    await create_database(pg_server.dsn("postgres"), name)
    await asyncio.to_thread(migrations.upgrade, pg_server.dsn(name))
    database = Database(pg_server.dsn(name), min_size=1, max_size=6)
    await database.open()
    yield database
    await database.close()


@pytest.fixture
def race_app(own_database: Database, settings: Settings, cache: Cache) -> FastAPI:
    return create_app(settings, database=own_database, cache=cache)


async def _two_admins_logged_in(
    database: Database, app: FastAPI, clients: list[httpx.AsyncClient]
) -> list[tuple[UserRecord, LoggedIn]]:
    async with database.transaction() as conn:
        await conn.execute(
            "UPDATE proveo.user_account SET deleted_at = now() WHERE deleted_at IS NULL"
        )
        admins = [await create_user(conn, role=Role.ADMIN) for _ in clients]
    return [
        (admin, await log_in(client, admin)) for admin, client in zip(admins, clients, strict=True)
    ]


async def _live_admins(database: Database) -> int:
    async with database.transaction() as conn:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM proveo.user_account WHERE role = 'admin' AND deleted_at IS NULL"
        )
    return count


def _clients(app: FastAPI) -> list[httpx.AsyncClient]:
    return [
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(f"192.0.2.{n}", 4000)),
            base_url="http://127.0.0.1",
        )
        for n in (1, 2)
    ]


class TestConcurrentAdminDeletions:
    async def test_two_admins_deleting_each_other_get_one_200_and_one_last_admin(
        self, own_database: Database, race_app: FastAPI
    ) -> None:
        for _ in range(ROUNDS):
            clients = _clients(race_app)
            try:
                (a, a_session), (b, b_session) = await _two_admins_logged_in(
                    own_database, race_app, clients
                )
                responses = await asyncio.gather(
                    clients[0].delete(
                        f"/api/v1/users/admin/users/{b.uuid}", headers=a_session.headers
                    ),
                    clients[1].delete(
                        f"/api/v1/users/admin/users/{a.uuid}", headers=b_session.headers
                    ),
                )
            finally:
                for client in clients:
                    await client.aclose()
            outcomes = sorted((r.status_code, r.json().get("code")) for r in responses)
            # Under load one deletion may finish before the other request's session check: that
            # admin is gone, so the loser's answer is 401 instead of 409. Never two 200s, never 5xx.
            assert outcomes in (
                [(200, None), (409, "last_admin")],
                [(200, None), (401, "not_authenticated")],
            )
            assert await _live_admins(own_database) == 1

    async def test_two_admins_leaving_at_once_get_one_200_and_one_last_admin(
        self, own_database: Database, race_app: FastAPI
    ) -> None:
        for _ in range(ROUNDS):
            clients = _clients(race_app)
            try:
                sessions = await _two_admins_logged_in(own_database, race_app, clients)
                responses = await asyncio.gather(
                    *(
                        client.delete("/api/v1/users/me", headers=session.headers)
                        for client, (_, session) in zip(clients, sessions, strict=True)
                    )
                )
            finally:
                for client in clients:
                    await client.aclose()
            outcomes = sorted((r.status_code, r.json().get("code")) for r in responses)
            assert outcomes == [(200, None), (409, "last_admin")]
            assert await _live_admins(own_database) == 1
