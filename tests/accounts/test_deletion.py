from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import FastAPI

from proveo.accounts import lifecycle
from proveo.accounts.schemas import Role, SessionUser, UserRecord
from proveo.admin.service import AdminActor
from proveo.app import create_app
from proveo.companies import service as companies_service
from proveo.config import Settings
from proveo.core import migrations
from proveo.core.cache import Cache
from proveo.core.db import Connection, Database
from proveo.core.embedded_pg import EmbeddedPostgres
from proveo.integrations.storage import ImageStorage, new_image_key
from tests.factories import DEFAULT_PASSWORD, create_company, create_user, log_in
from tests.fixtures.database import create_database


async def _give_company_with_image(conn: Connection, app: FastAPI, user_id: int) -> str:
    company = await create_company(conn, user_id, storage=app.state.storage)
    assert company.image_key is not None
    return company.image_key


class TestDeleteOwnAccount:
    async def test_cascades_and_frees_the_email(
        self, client: httpx.AsyncClient, conn: Connection, app: FastAPI
    ) -> None:
        user = await create_user(conn, email="leaving@proveo.cl")
        key = await _give_company_with_image(conn, app, user.id)
        session = await log_in(client, user)

        response = await client.delete("/api/v1/users/me", headers=session.headers)
        assert response.status_code == 200
        assert "access_token" not in client.cookies

        row = await conn.fetchrow(
            "SELECT u.deleted_at AS user_deleted, c.deleted_at AS company_deleted "
            "FROM proveo.user_account u JOIN proveo.company c ON c.user_id = u.id WHERE u.id = $1",
            user.id,
        )
        assert row["user_deleted"] is not None
        assert row["company_deleted"] is not None
        storage: ImageStorage = app.state.storage
        assert await storage.get(f"{key}.webp") is None
        assert await storage.get(f"{key}_thumb.webp") is None
        revoked = await conn.fetchval(
            "SELECT bool_and(revoked_at IS NOT NULL) FROM proveo.user_session WHERE user_id = $1",
            user.id,
        )
        assert revoked is True

        login = await client.post(
            "/api/v1/users/login", json={"email": "leaving@proveo.cl", "password": DEFAULT_PASSWORD}
        )
        assert login.status_code == 401
        again = await client.post(
            "/api/v1/users/signup",
            json={"name": "Back", "email": "leaving@proveo.cl", "password": "Nueva-clave1"},
        )
        assert again.status_code == 201

    async def test_other_sessions_of_the_user_end_too(self, app: FastAPI, conn: Connection) -> None:
        user = await create_user(conn)
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as laptop,
            httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as phone,
        ):
            laptop_session = await log_in(laptop, user)
            await log_in(phone, user)
            await laptop.delete("/api/v1/users/me", headers=laptop_session.headers)
            assert (await phone.get("/api/v1/users/me")).status_code == 401

    async def test_images_awaiting_moderation_go_too(
        self, client: httpx.AsyncClient, conn: Connection, app: FastAPI
    ) -> None:
        user = await create_user(conn)
        await _give_company_with_image(conn, app, user.id)
        storage: ImageStorage = app.state.storage
        pending_key = new_image_key()
        held_names = companies_service.held_object_names(pending_key)
        for name in held_names:
            await storage.put(name, b"webp", "image/webp")
        await conn.execute(
            "INSERT INTO proveo.image_moderation (company_id, image_key, nsfw_score) "
            "SELECT id, $2, 0.5 FROM proveo.company WHERE user_id = $1",
            user.id,
            pending_key,
        )
        session = await log_in(client, user)
        assert (await client.delete("/api/v1/users/me", headers=session.headers)).status_code == 200
        for name in held_names:
            assert await storage.get(name) is None
        status = await conn.fetchval(
            "SELECT status FROM proveo.image_moderation WHERE image_key = $1", pending_key
        )
        assert status == "withdrawn"


class TestAdminDeletesUser:
    async def test_cascade_is_audit_logged(
        self, client: httpx.AsyncClient, conn: Connection, app: FastAPI
    ) -> None:
        admin = await create_user(conn, role=Role.ADMIN)
        target = await create_user(conn, email="target@proveo.cl")
        key = await _give_company_with_image(conn, app, target.id)
        session = await log_in(client, admin)

        response = await client.delete(
            f"/api/v1/users/admin/users/{target.uuid}",
            headers=session.headers | {"X-Request-ID": "admin-req-1"},
        )
        assert response.status_code == 200
        storage: ImageStorage = app.state.storage
        assert await storage.get(f"{key}.webp") is None

        log = await client.get("/api/v1/admin/audit-log", params={"action": "user.delete"})
        assert log.status_code == 200
        assert log.headers["x-total-count"] == "1"
        [entry] = log.json()
        assert entry["actor_uuid"] == str(admin.uuid)
        assert entry["target_uuid"] == str(target.uuid)
        assert entry["target_type"] == "user"
        assert entry["changes"]["before"]["email"] == "target@proveo.cl"
        assert entry["ip"] == "127.0.0.1"
        assert entry["request_id"] == "admin-req-1"

        users = await client.get("/api/v1/users/admin/all-users")
        listed = {u["uuid"]: u for u in users.json()}
        assert listed[str(target.uuid)]["deleted_at"] is not None

    async def test_admin_cannot_delete_self(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        admin = await create_user(conn, role=Role.ADMIN)
        session = await log_in(client, admin)
        response = await client.delete(
            f"/api/v1/users/admin/users/{admin.uuid}", headers=session.headers
        )
        assert response.status_code == 400
        assert response.json()["code"] == "cannot_delete_self"

    async def test_unknown_and_deleted_users_are_404(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        admin = await create_user(conn, role=Role.ADMIN)
        gone = await create_user(conn)
        await conn.execute(
            "UPDATE proveo.user_account SET deleted_at = now() WHERE id = $1", gone.id
        )
        session = await log_in(client, admin)
        for target in ("00000000-0000-4000-8000-000000000000", str(gone.uuid)):
            response = await client.delete(
                f"/api/v1/users/admin/users/{target}", headers=session.headers
            )
            assert response.status_code == 404
            assert response.json()["code"] == "user_not_found"
        bad = await client.delete("/api/v1/users/admin/users/not-a-uuid", headers=session.headers)
        assert bad.status_code == 422

    async def test_list_pages_with_total_and_company(
        self, client: httpx.AsyncClient, conn: Connection, app: FastAPI
    ) -> None:
        admin = await create_user(conn, role=Role.ADMIN)
        owner = await create_user(conn)
        await _give_company_with_image(conn, app, owner.id)
        await log_in(client, admin)
        page = await client.get("/api/v1/users/admin/all-users", params={"limit": 1})
        assert len(page.json()) == 1
        total = int(page.headers["x-total-count"])
        assert total >= 2
        everyone = await client.get("/api/v1/users/admin/all-users", params={"limit": 100})
        listed = {u["uuid"]: u for u in everyone.json()}
        assert listed[str(owner.uuid)]["company_uuid"] is not None
        for bad in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "x"}):
            response = await client.get("/api/v1/users/admin/all-users", params=bad)
            assert response.status_code == 422


class TestAdminDeletesOwnAccount:
    async def test_the_last_admin_cannot_leave(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        admin = await create_user(conn, role=Role.ADMIN)
        session = await log_in(client, admin)
        response = await client.delete("/api/v1/users/me", headers=session.headers)
        assert response.status_code == 409
        assert response.json()["code"] == "last_admin"
        assert (await client.get("/api/v1/users/me")).status_code == 200

    async def test_an_admin_leaving_is_audit_logged_like_the_admin_route(
        self, app: FastAPI, conn: Connection
    ) -> None:
        leaving = await create_user(conn, role=Role.ADMIN, email="leaving-admin@proveo.cl")
        staying = await create_user(conn, role=Role.ADMIN)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as leaver,
            httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as stayer,
        ):
            session = await log_in(leaver, leaving)
            await log_in(stayer, staying)
            response = await leaver.delete(
                "/api/v1/users/me", headers=session.headers | {"X-Request-ID": "self-delete-1"}
            )
            assert response.status_code == 200
            log = await stayer.get("/api/v1/admin/audit-log", params={"action": "user.delete"})
        [entry] = log.json()
        assert entry["actor_uuid"] == entry["target_uuid"] == str(leaving.uuid)
        assert entry["changes"]["before"] == {
            "email": "leaving-admin@proveo.cl",
            "role": "admin",
            "deleted_at": None,
        }
        assert entry["ip"] == "127.0.0.1"
        assert entry["request_id"] == "self-delete-1"

    async def test_a_user_leaving_is_not_an_admin_action(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        user = await create_user(conn)
        session = await log_in(client, user)
        assert (await client.delete("/api/v1/users/me", headers=session.headers)).status_code == 200
        entries = await conn.fetchval(
            "SELECT count(*) FROM proveo.admin_audit_log WHERE target_uuid = $1", user.uuid
        )
        assert entries == 0


@pytest.fixture(scope="module")
async def own_database(pg_server: EmbeddedPostgres) -> AsyncIterator[Database]:
    """A database of this module's own, where commits are real and no other admin exists."""
    name = f"proveo_last_admin_{uuid4().hex[:8]}"
    await create_database(pg_server.dsn("postgres"), name)
    await asyncio.to_thread(migrations.upgrade, pg_server.dsn(name))
    database = Database(pg_server.dsn(name), min_size=1, max_size=4)
    await database.open()
    yield database
    await database.close()


async def _wait_until_blocked_by(
    database: Database, holder: Connection, racing: asyncio.Task[httpx.Response]
) -> None:
    """Return once a query waits for a lock that the holder's open transaction keeps.

    pg_locks is read live, outside any transaction: within one transaction PostgreSQL keeps
    showing the pg_stat_activity it saw first, so a loop polling it there never sees a request
    that starts waiting after its first look.
    """
    holder_pid = holder.get_server_pid()
    deadline = time.monotonic() + 30
    async with database.primary.acquire() as conn:
        while time.monotonic() < deadline:
            if racing.done():
                response = racing.result()
                raise AssertionError(
                    f"the racing request was answered before it waited for the lock: "
                    f"{response.status_code} {response.text}"
                )
            if await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM pg_locks "
                "WHERE NOT granted AND $1 = ANY(pg_blocking_pids(pid)))",
                holder_pid,
            ):
                return
            await asyncio.sleep(0.01)
    raise AssertionError("the second deletion did not wait for the first one's lock")


class TestAtLeastOneAdminRemainsUnderConcurrency:
    """Two admins deleting themselves or each other at once: the second waits, then is refused."""

    @pytest.fixture
    async def two_admins(self, own_database: Database) -> tuple[UserRecord, UserRecord]:
        async with own_database.transaction() as conn:
            # Each test starts with exactly two live admins (a previous test may leave one).
            await conn.execute("UPDATE proveo.user_account SET deleted_at = now()")
            first = await create_user(conn, role=Role.ADMIN)
            second = await create_user(conn, role=Role.ADMIN)
        return first, second

    @pytest.fixture
    async def http(
        self, own_database: Database, settings: Settings, cache: Cache
    ) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings, database=own_database, cache=cache)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield client

    @staticmethod
    def _as_session_user(user: UserRecord) -> SessionUser:
        return SessionUser.model_validate(user.model_dump() | {"session_id": uuid4()})

    @staticmethod
    def _actor(user: UserRecord) -> AdminActor:
        return AdminActor(uuid=user.uuid, ip=None, request_id=None)

    async def _live_admins(self, database: Database) -> list[UUID]:
        async with database.transaction() as conn:
            rows = await conn.fetch(
                "SELECT uuid FROM proveo.user_account WHERE role = 'admin' AND deleted_at IS NULL"
            )
        return [row["uuid"] for row in rows]

    async def test_two_admins_leaving_at_once_leave_one(
        self,
        own_database: Database,
        http: httpx.AsyncClient,
        two_admins: tuple[UserRecord, UserRecord],
    ) -> None:
        first, second = two_admins
        session = await log_in(http, second)
        async with own_database.transaction() as conn:
            await lifecycle.delete_own_account(
                conn, self._as_session_user(first), self._actor(first)
            )
            racing = asyncio.create_task(http.delete("/api/v1/users/me", headers=session.headers))
            await _wait_until_blocked_by(own_database, conn, racing)
        response = await racing
        assert response.status_code == 409
        assert response.json()["code"] == "last_admin"
        assert await self._live_admins(own_database) == [second.uuid]

    async def test_two_admins_deleting_each_other_at_once_leave_one(
        self,
        own_database: Database,
        http: httpx.AsyncClient,
        two_admins: tuple[UserRecord, UserRecord],
    ) -> None:
        first, second = two_admins
        session = await log_in(http, second)
        async with own_database.transaction() as conn:
            await lifecycle.delete_user_as_admin(conn, self._actor(first), second.uuid)
            racing = asyncio.create_task(
                http.delete(f"/api/v1/users/admin/users/{first.uuid}", headers=session.headers)
            )
            await _wait_until_blocked_by(own_database, conn, racing)
        response = await racing
        assert response.status_code == 409
        assert response.json()["code"] == "last_admin"
        assert await self._live_admins(own_database) == [first.uuid]
