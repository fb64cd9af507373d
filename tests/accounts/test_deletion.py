from __future__ import annotations

import httpx
from fastapi import FastAPI

from proveo.accounts.schemas import Role
from proveo.companies import service as companies_service
from proveo.core.db import Connection
from proveo.integrations.storage import ImageStorage, new_image_key
from tests.factories import DEFAULT_PASSWORD, create_user, log_in


async def _give_company_with_image(conn: Connection, app: FastAPI, user_id: int) -> str:
    storage: ImageStorage = app.state.storage
    key = new_image_key()
    for name in companies_service.image_object_names(key):
        await storage.put(name, b"webp", "image/webp")
    product = await conn.fetchval("SELECT uuid FROM proveo.product ORDER BY id LIMIT 1")
    commune = await conn.fetchval("SELECT uuid FROM proveo.commune ORDER BY id LIMIT 1")
    await companies_service.create_bilingual_company(
        conn,
        owner_id=user_id,
        product_uuid=product,
        commune_uuid=commune,
        name="Servicios Ñandú",
        description_es="Hola",
        description_en="Hello",
        address="Calle 1",
        phone="+56912345678",
        email="contacto@nandu.cl",
        image_key=key,
    )
    return key


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
        for name in companies_service.image_object_names(pending_key):
            await storage.put(name, b"webp", "image/webp")
        await conn.execute(
            "INSERT INTO proveo.image_moderation (company_id, image_key, nsfw_score) "
            "SELECT id, $2, 0.5 FROM proveo.company WHERE user_id = $1",
            user.id,
            pending_key,
        )
        session = await log_in(client, user)
        assert (await client.delete("/api/v1/users/me", headers=session.headers)).status_code == 200
        assert await storage.get(f"{pending_key}.webp") is None
        assert await storage.get(f"{pending_key}_thumb.webp") is None
        status = await conn.fetchval(
            "SELECT status FROM proveo.image_moderation WHERE image_key = $1", pending_key
        )
        assert status == "rejected"


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
