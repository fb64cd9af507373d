"""Logins must not hold a pooled connection while bcrypt runs (found in review).

With one pooled connection, other requests finish while the hashing is still under way. The
proof is that order, not a short acquire timeout: on a loaded machine a query alone can take
longer than 0.1 s, and that turned a brief, legitimate wait into a 503.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import uuid4

import httpx
import pytest

from proveo.accounts import repository
from proveo.accounts.schemas import Role
from proveo.app import create_app
from proveo.config import Settings
from proveo.core.cache import Cache
from proveo.core.db import Database
from proveo.core.security import hash_password_sync

PASSWORD = "Slow-hash-123"


@pytest.fixture
async def one_connection_db(database_dsn: str) -> AsyncIterator[Database]:
    """A real pool with a single connection, waited for as long as load may need."""
    db = Database(database_dsn, min_size=1, max_size=1, connect_timeout=10, retry_attempts=1)
    await db.open()
    yield db
    await db.close()


@pytest.fixture
async def slow_hash_email(database: Database) -> AsyncIterator[str]:
    email = f"slow-{uuid4().hex[:8]}@proveo.cl"
    password_hash = await asyncio.to_thread(hash_password_sync, PASSWORD, 12)
    async with database.transaction() as conn:
        await repository.insert_user(
            conn, name="Slow", email=email, password_hash=password_hash,
            role=Role.USER, email_verified=True, lang="es",
        )  # fmt: skip
    yield email
    async with database.transaction() as conn:
        await conn.execute(
            "DELETE FROM proveo.user_session WHERE user_id IN "
            "(SELECT id FROM proveo.user_account WHERE email = $1)",
            email,
        )
        await conn.execute("DELETE FROM proveo.user_account WHERE email = $1", email)


async def test_other_requests_get_the_only_connection_while_logins_hash(
    one_connection_db: Database, slow_hash_email: str, settings: Settings, cache: Cache
) -> None:
    app = create_app(
        settings.model_copy(update={"password_hash_threads": 1}),
        database=one_connection_db,
        cache=cache,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        logins = [
            asyncio.create_task(
                http.post(
                    "/api/v1/users/login",
                    json={"email": slow_hash_email, "password": PASSWORD},
                )
            )
            for _ in range(3)
        ]
        await asyncio.sleep(0.05)  # the logins are now queued on bcrypt (~250 ms each)
        during = [(await http.get("/api/v1/users/me")).status_code for _ in range(5)]
        # A connection held through bcrypt would have kept them waiting for a login to end.
        hashing_still = not any(login.done() for login in logins)
        statuses = [response.status_code for response in await asyncio.gather(*logins)]
    assert statuses == [200, 200, 200]
    assert hashing_still
    # 401: the request got the connection and checked the (absent) session.
    assert during == [401] * 5


async def test_other_requests_get_the_only_connection_while_a_password_change_hashes(
    one_connection_db: Database, slow_hash_email: str, settings: Settings, cache: Cache
) -> None:
    app = create_app(
        settings.model_copy(update={"password_hash_threads": 1, "bcrypt_rounds": 12}),
        database=one_connection_db,
        cache=cache,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        login = await http.post(
            "/api/v1/users/login", json={"email": slow_hash_email, "password": PASSWORD}
        )
        assert login.status_code == 200
        change = asyncio.create_task(
            http.post(
                "/api/v1/users/me/password",
                json={"current_password": PASSWORD, "new_password": "Slower-hash-456"},
                headers={"X-CSRF-Token": login.json()["csrf_token"]},
            )
        )
        await asyncio.sleep(0.05)  # the change is now in bcrypt (two hashes at cost 12)
        during = [(await http.get("/api/v1/users/me")).status_code for _ in range(5)]
        # A connection held through bcrypt would have kept them waiting for the change to end.
        hashing_still = not change.done()
        assert (await change).status_code == 200
    assert hashing_still
    assert during == [200] * 5
