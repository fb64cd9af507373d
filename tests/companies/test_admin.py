"""Admins: the list of every company, edits and soft-deletion of any, and the moderation queue;
each write audit-logged with before and after in the same transaction."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from proveo.accounts.schemas import Role
from proveo.core.db import Connection
from proveo.integrations.storage import ImageStorage
from tests.companies.support import ScoredAnalyser, png, publish, raw_multipart
from tests.factories import LoggedIn, QueryCounter, create_company, create_user, log_in

LIST_URL = "/api/v1/companies/admin/all-companies"


def _admin_url(company_uuid: object) -> str:
    return f"/api/v1/companies/admin/companies/{company_uuid}"


@pytest.fixture
async def admin(client: httpx.AsyncClient, conn: Connection) -> LoggedIn:
    return await log_in(client, await create_user(conn, role=Role.ADMIN))


async def _audit(conn: Connection, action: str) -> list[dict[str, Any]]:
    import json

    rows = await conn.fetch(
        "SELECT target_uuid, changes, request_id FROM proveo.admin_audit_log WHERE action = $1",
        action,
    )
    return [{**dict(row), "changes": json.loads(row["changes"])} for row in rows]


class TestAdminList:
    async def test_lists_deleted_companies_too_with_total(
        self, client: httpx.AsyncClient, conn: Connection, admin: LoggedIn
    ) -> None:
        live = await create_company(conn, (await create_user(conn)).id, name="Viva Ltda")
        gone = await create_company(conn, (await create_user(conn)).id, name="Cerrada SpA")
        await conn.execute("UPDATE proveo.company SET deleted_at = now() WHERE id = $1", gone.id)
        response = await client.get(LIST_URL, params={"limit": 100})
        assert response.status_code == 200
        by_uuid = {c["uuid"]: c for c in response.json()}
        assert by_uuid[str(live.uuid)]["deleted_at"] is None
        assert by_uuid[str(gone.uuid)]["deleted_at"] is not None
        assert int(response.headers["X-Total-Count"]) >= 2

    async def test_q_matches_name_without_accents_and_emails(
        self, client: httpx.AsyncClient, conn: Connection, admin: LoggedIn
    ) -> None:
        owner = await create_user(conn, email="dueña@proveo.cl")
        wanted = await create_company(conn, owner.id, name="Panadería Ñuble")
        await create_company(conn, (await create_user(conn)).id, name="Otra Cosa")
        for q in ("panaderia", "ÑUBLE", "dueña@proveo", "%"):
            response = await client.get(LIST_URL, params={"q": q})
            uuids = [c["uuid"] for c in response.json()]
            if q == "%":  # a LIKE wildcard is just a character here
                assert str(wanted.uuid) not in uuids
                continue
            assert uuids == [str(wanted.uuid)], q
            assert response.headers["X-Total-Count"] == "1"

    async def test_runs_a_fixed_number_of_statements(
        self, client: httpx.AsyncClient, conn: Connection, admin: LoggedIn
    ) -> None:
        async def count() -> int:
            with QueryCounter(conn) as counter:
                response = await client.get(LIST_URL, params={"limit": 100})
            assert response.status_code == 200
            return len(counter.statements)

        few = await count()
        for index in range(12):
            await create_company(conn, (await create_user(conn)).id, name=f"Empresa {index}")
        assert await count() == few
        assert few <= 3  # the session, the page, the total


class TestAdminEdit:
    async def test_edit_is_audited_with_before_and_after(
        self, client: httpx.AsyncClient, conn: Connection, admin: LoggedIn
    ) -> None:
        company = await create_company(conn, (await create_user(conn)).id)
        response = await client.patch(
            _admin_url(company.uuid),
            data={"name": "Nombre Corregido", "description_en": "Fixed text"},
            headers=admin.headers | {"X-Request-ID": "admin-edit-1"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["name"] == "Nombre Corregido"
        [entry] = await _audit(conn, "company.update")
        assert entry["target_uuid"] == company.uuid
        assert entry["request_id"] == "admin-edit-1"
        assert entry["changes"]["before"]["name"] == "Servicios Ñandú"
        assert entry["changes"]["after"]["name"] == "Nombre Corregido"
        assert entry["changes"]["after"]["description_en"] == "Fixed text"

    async def test_a_phone_with_an_extension_is_refused_and_not_audited(
        self, client: httpx.AsyncClient, conn: Connection, admin: LoggedIn
    ) -> None:
        company = await create_company(conn, (await create_user(conn)).id)
        response = await client.patch(
            _admin_url(company.uuid), data={"phone": "9 8231 4576 ext 12"}, headers=admin.headers
        )
        assert response.status_code == 422
        assert [(e["loc"][-1], e["type"]) for e in response.json()["detail"]] == [
            ("phone", "phone_extension")
        ]
        assert await _audit(conn, "company.update") == []

    @pytest.mark.parametrize(
        ("fields", "code", "problem"),
        [
            ([], "no_changes", None),
            ([("lang", b"es")], "no_changes", None),
            ([("nmae", b"typo")], "validation_error", ("nmae", "unknown_field")),
            ([("name", b"Uno"), ("name", b"Dos")], "validation_error", ("name", "duplicate_field")),
        ],
        ids=["empty", "only-lang", "unknown", "repeated"],
    )
    async def test_a_form_that_asks_for_no_valid_change_is_a_422_and_not_audited(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        admin: LoggedIn,
        fields: list[tuple[str, bytes]],
        code: str,
        problem: tuple[str, str] | None,
    ) -> None:
        company = await create_company(conn, (await create_user(conn)).id)
        body, content_type = raw_multipart(fields)
        response = await client.patch(
            _admin_url(company.uuid), content=body, headers=admin.headers | content_type
        )
        assert (response.status_code, response.json()["code"]) == (422, code), response.text
        if problem is not None:
            assert [(e["loc"][-1], e["type"]) for e in response.json()["detail"]] == [problem]
        assert await _audit(conn, "company.update") == []

    async def test_an_edit_to_the_same_values_is_not_audited(
        self, client: httpx.AsyncClient, conn: Connection, admin: LoggedIn
    ) -> None:
        company = await create_company(conn, (await create_user(conn)).id)
        response = await client.patch(
            _admin_url(company.uuid),
            data={"name": company.name, "address": company.address},
            headers=admin.headers,
        )
        assert response.status_code == 200, response.text
        assert await _audit(conn, "company.update") == []

    async def test_text_that_is_not_utf8_is_a_400_and_not_audited(
        self, client: httpx.AsyncClient, conn: Connection, admin: LoggedIn
    ) -> None:
        company = await create_company(conn, (await create_user(conn)).id)
        body, content_type = raw_multipart([("name", b"A\xed\xa0\x80B")])
        response = await client.patch(
            _admin_url(company.uuid), content=body, headers=admin.headers | content_type
        )
        assert (response.status_code, response.json()["code"]) == (400, "malformed_form")
        assert await _audit(conn, "company.update") == []

    async def test_edit_with_a_new_logo_deletes_the_old_one(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        admin: LoggedIn,
        storage: ImageStorage,
    ) -> None:
        company = await create_company(conn, (await create_user(conn)).id, storage=storage)
        response = await client.patch(
            _admin_url(company.uuid),
            files={"image": ("clean.png", png(), "image/png")},
            headers=admin.headers,
        )
        assert response.status_code == 200, response.text
        names = await storage.list_names()
        assert len(names) == 2
        assert f"{company.image_key}.webp" not in names

    async def test_unknown_or_deleted_company_is_404_and_not_audited(
        self, client: httpx.AsyncClient, conn: Connection, admin: LoggedIn
    ) -> None:
        gone = await create_company(conn, (await create_user(conn)).id)
        await conn.execute("UPDATE proveo.company SET deleted_at = now() WHERE id = $1", gone.id)
        for uuid in (gone.uuid, "6f1c6b0e-7a51-4c1b-9a59-1e0b0c5b7d11"):
            edit = await client.patch(_admin_url(uuid), data={"name": "x"}, headers=admin.headers)
            assert (edit.status_code, edit.json()["code"]) == (404, "company_not_found")
            delete = await client.delete(_admin_url(uuid), headers=admin.headers)
            assert (delete.status_code, delete.json()["code"]) == (404, "company_not_found")
        assert await _audit(conn, "company.update") == []
        assert await _audit(conn, "company.delete") == []

    async def test_soft_delete_is_audited_and_removes_the_logo(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        admin: LoggedIn,
        storage: ImageStorage,
    ) -> None:
        company = await create_company(conn, (await create_user(conn)).id, storage=storage)
        response = await client.delete(_admin_url(company.uuid), headers=admin.headers)
        assert response.status_code == 200
        assert response.json()["uuid"] == str(company.uuid)
        assert await storage.list_names() == []
        [entry] = await _audit(conn, "company.delete")
        assert entry["changes"]["before"]["deleted_at"] is None
        assert entry["changes"]["before"]["image_key"] == company.image_key
        assert entry["changes"]["after"]["deleted_at"] is not None
        assert (await client.get(f"/api/v1/companies/{company.uuid}")).status_code == 404


class TestModeration:
    @pytest.fixture
    async def held(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        analyser: ScoredAnalyser,
        storage: ImageStorage,
    ) -> dict[str, Any]:
        """A company with a logo and a newer image held for review (score 0.5)."""
        owner = await create_user(conn)
        company = await create_company(conn, owner.id, storage=storage)
        analyser.score = 0.5
        session = await log_in(client, owner)
        response = await client.patch(
            "/api/v1/companies/user/my-company",
            files={"image": ("held.png", png(), "image/png")},
            headers=session.headers,
        )
        assert response.status_code == 200
        client.cookies.clear()
        row = await conn.fetchrow(
            "SELECT uuid, image_key FROM proveo.image_moderation WHERE company_id = $1",
            company.id,
        )
        return {"company": company, "uuid": row["uuid"], "key": row["image_key"]}

    async def test_queue_lists_held_images_with_their_company(
        self, client: httpx.AsyncClient, held: dict[str, Any], admin: LoggedIn
    ) -> None:
        response = await client.get("/api/v1/admin/moderation")
        assert response.status_code == 200
        [entry] = response.json()
        assert entry["uuid"] == str(held["uuid"])
        assert entry["company_uuid"] == str(held["company"].uuid)
        assert entry["nsfw_score"] == pytest.approx(0.5)
        assert entry["image_url"] == f"/api/v1/admin/moderation/{held['uuid']}/image"
        assert entry["thumbnail_url"] == f"/api/v1/admin/moderation/{held['uuid']}/thumbnail"
        assert "image_key" not in entry
        assert response.headers["X-Total-Count"] == "1"
        for url in (entry["image_url"], entry["thumbnail_url"]):
            image = await client.get(url)
            assert image.status_code == 200
            assert image.headers["content-type"] == "image/webp"
            assert image.headers["cache-control"] == "private, no-store"
            assert image.content.startswith(b"RIFF")

    async def test_only_admins_see_a_held_image_and_never_at_images(
        self, client: httpx.AsyncClient, conn: Connection, held: dict[str, Any]
    ) -> None:
        url = f"/api/v1/admin/moderation/{held['uuid']}/image"
        assert (await client.get(url)).status_code == 401
        await log_in(client, await create_user(conn))
        assert (await client.get(url)).status_code == 403
        for name in (
            f"{held['key']}.webp",
            f"held/{held['key']}.webp",
            f"held%2F{held['key']}.webp",
        ):
            assert (await client.get(f"/images/{name}")).status_code == 404, name

    async def test_approve_makes_it_the_logo_and_deletes_the_old_one(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        held: dict[str, Any],
        admin: LoggedIn,
        storage: ImageStorage,
    ) -> None:
        old = held["company"].image_key
        response = await client.post(
            f"/api/v1/admin/moderation/{held['uuid']}/approve", headers=admin.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "approved"
        public = (await client.get(f"/api/v1/companies/{held['company'].uuid}")).json()
        # Published under a new public key; the held objects and the old logo are gone.
        published = public["image_url"].removeprefix("/images/").removesuffix(".webp")
        assert published not in (held["key"], old)
        assert (await client.get(public["image_url"])).status_code == 200
        names = await storage.list_names()
        assert sorted(names) == sorted([f"{published}.webp", f"{published}_thumb.webp"])
        [entry] = await _audit(conn, "moderation.approve")
        assert entry["target_uuid"] == held["uuid"]
        assert entry["changes"]["before"]["logo"] == old
        assert entry["changes"]["after"] == {"status": "approved", "logo": published}
        assert (await client.get("/api/v1/admin/moderation")).json() == []
        [decided] = (
            await client.get("/api/v1/admin/moderation", params={"status": "approved"})
        ).json()
        assert (decided["image_url"], decided["thumbnail_url"]) == (None, None)
        gone = await client.get(f"/api/v1/admin/moderation/{held['uuid']}/image")
        assert (gone.status_code, gone.json()["code"]) == (404, "image_not_found")

    async def test_reject_deletes_the_image_and_keeps_the_logo(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        held: dict[str, Any],
        admin: LoggedIn,
        storage: ImageStorage,
    ) -> None:
        response = await client.post(
            f"/api/v1/admin/moderation/{held['uuid']}/reject", headers=admin.headers
        )
        assert response.status_code == 200
        assert response.json()["status"] == "rejected"
        names = await storage.list_names()
        assert sorted(names) == sorted(
            [f"{held['company'].image_key}.webp", f"{held['company'].image_key}_thumb.webp"]
        )
        [entry] = await _audit(conn, "moderation.reject")
        assert entry["changes"]["after"]["status"] == "rejected"
        decided = await conn.fetchrow(
            "SELECT status, decided_by_uuid FROM proveo.image_moderation WHERE uuid = $1",
            held["uuid"],
        )
        assert decided["status"] == "rejected"
        assert decided["decided_by_uuid"] is not None

    async def test_a_decision_is_taken_once(
        self, client: httpx.AsyncClient, held: dict[str, Any], admin: LoggedIn
    ) -> None:
        url = f"/api/v1/admin/moderation/{held['uuid']}"
        assert (await client.post(f"{url}/reject", headers=admin.headers)).status_code == 200
        again = await client.post(f"{url}/approve", headers=admin.headers)
        assert (again.status_code, again.json()["code"]) == (409, "moderation_decided")
        unknown = await client.post(
            "/api/v1/admin/moderation/6f1c6b0e-7a51-4c1b-9a59-1e0b0c5b7d11/approve",
            headers=admin.headers,
        )
        assert (unknown.status_code, unknown.json()["code"]) == (404, "moderation_not_found")

    async def test_a_company_deleted_meanwhile_cannot_be_given_its_image(
        self, client: httpx.AsyncClient, conn: Connection, held: dict[str, Any], admin: LoggedIn
    ) -> None:
        deleted = await client.delete(_admin_url(held["company"].uuid), headers=admin.headers)
        assert deleted.status_code == 200
        response = await client.post(
            f"/api/v1/admin/moderation/{held['uuid']}/approve", headers=admin.headers
        )
        assert (response.status_code, response.json()["code"]) == (409, "moderation_decided")

    async def test_queue_runs_a_fixed_number_of_statements(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        analyser: ScoredAnalyser,
        app: FastAPI,
    ) -> None:
        admin = await create_user(conn, role=Role.ADMIN)

        async def count() -> int:
            await log_in(client, admin)
            with QueryCounter(conn) as counter:
                response = await client.get("/api/v1/admin/moderation", params={"limit": 100})
            assert response.status_code == 200
            client.cookies.clear()
            return len(counter.statements)

        few = await count()
        analyser.score = 0.4
        for _ in range(4):
            session = await log_in(client, await create_user(conn))
            assert (await publish(client, session)).status_code == 201
            client.cookies.clear()
        assert await count() == few
        assert few <= 3
