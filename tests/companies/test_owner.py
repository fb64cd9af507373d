"""Reading, editing and deleting: the public profile, and an owner's own company."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from proveo.core.db import Connection
from proveo.integrations.storage import ImageStorage
from tests.companies.support import (
    MY_COMPANY_URL,
    ScoredAnalyser,
    patch_mine,
    png,
    publish,
    raw_multipart,
)
from tests.factories import create_company, create_user, log_in


class TestReadCompany:
    async def test_public_profile_by_uuid(
        self, client: httpx.AsyncClient, conn: Connection, app: FastAPI
    ) -> None:
        company = await create_company(conn, (await create_user(conn)).id)
        response = await client.get(app.url_path_for("companies:get", company_uuid=company.uuid))
        assert response.status_code == 200
        body = response.json()
        assert (body["uuid"], body["description_es"], body["description_en"]) == (
            str(company.uuid), "Hola", "Hello",
        )  # fmt: skip
        assert {"created_at", "updated_at", "commune_region", "product_name_en"} <= set(body)
        assert "deleted_at" not in body

    async def test_unknown_and_soft_deleted_companies_are_404(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        company = await create_company(conn, (await create_user(conn)).id)
        await conn.execute("UPDATE proveo.company SET deleted_at = now() WHERE id = $1", company.id)
        for uuid in (company.uuid, "6f1c6b0e-7a51-4c1b-9a59-1e0b0c5b7d11"):
            response = await client.get(f"/api/v1/companies/{uuid}")
            assert response.status_code == 404
            assert response.json()["code"] == "company_not_found"

    async def test_a_bad_uuid_is_a_422(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/companies/not-a-uuid")
        assert response.status_code == 422
        assert response.json()["code"] == "validation_error"

    async def test_my_company_is_mine_or_404(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        owner = await create_user(conn)
        company = await create_company(conn, owner.id)
        await log_in(client, owner)
        mine = await client.get(MY_COMPANY_URL)
        assert mine.status_code == 200
        assert mine.json()["uuid"] == str(company.uuid)
        client.cookies.clear()
        await log_in(client, await create_user(conn))
        none = await client.get(MY_COMPANY_URL)
        assert none.status_code == 404
        assert none.json()["code"] == "company_not_found"


class TestEditMyCompany:
    async def test_only_the_fields_sent_change(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        owner = await create_user(conn)
        company = await create_company(conn, owner.id)
        session = await log_in(client, owner)
        response = await patch_mine(client, session, name="Ñandú Renovado", phone="+56 2 2274 8190")
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["name"], body["phone"]) == ("Ñandú Renovado", "+56222748190")
        assert (body["address"], body["email"]) == (company.address, company.email)
        assert body["commune_uuid"] == str(company.commune_uuid)

    async def test_an_unknown_lang_is_422_as_when_publishing_and_changes_nothing(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        owner = await create_user(conn)
        company = await create_company(conn, owner.id)
        session = await log_in(client, owner)
        response = await patch_mine(client, session, name="Otro Nombre", lang="fr")
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"][-1] == "lang"
        mine = await client.get("/api/v1/companies/user/my-company")
        assert mine.json()["name"] == company.name

    async def test_a_new_image_replaces_the_logo_and_the_old_objects_go(
        self, client: httpx.AsyncClient, conn: Connection, storage: ImageStorage
    ) -> None:
        owner = await create_user(conn)
        company = await create_company(conn, owner.id, storage=storage)
        old = company.image_key
        session = await log_in(client, owner)
        response = await patch_mine(client, session, image=png())
        assert response.status_code == 200, response.text
        new_url = response.json()["image_url"]
        assert new_url is not None
        assert old not in new_url
        names = await storage.list_names()
        assert not {f"{old}.webp", f"{old}_thumb.webp"} & set(names)
        assert len(names) == 2
        assert (await client.get(new_url)).status_code == 200

    async def test_a_held_image_leaves_the_logo_until_decided(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        storage: ImageStorage,
        analyser: ScoredAnalyser,
    ) -> None:
        owner = await create_user(conn)
        company = await create_company(conn, owner.id, storage=storage)
        session = await log_in(client, owner)
        analyser.score = 0.5
        first = await patch_mine(client, session, image=png())
        assert first.status_code == 200
        assert first.json()["image_url"] == f"/images/{company.image_key}.webp"
        assert first.json()["image_pending_review"] is True
        # A second upload withdraws the first one from the queue, and its objects go.
        second = await patch_mine(client, session, image=png((90, 90)))
        assert second.status_code == 200
        statuses = await conn.fetch(
            "SELECT status FROM proveo.image_moderation WHERE company_id = $1 ORDER BY id",
            company.id,
        )
        assert [row["status"] for row in statuses] == ["withdrawn", "pending"]
        assert len(await storage.list_names()) == 4  # the logo and the one held image

    async def test_a_failed_edit_changes_nothing_and_keeps_no_new_object(
        self, client: httpx.AsyncClient, conn: Connection, storage: ImageStorage
    ) -> None:
        owner = await create_user(conn)
        await create_company(conn, owner.id, storage=storage)
        before = sorted(await storage.list_names())
        session = await log_in(client, owner)
        response = await patch_mine(client, session, image=png(), commune_name="Gotham", name="X")
        assert response.status_code == 422
        assert sorted(await storage.list_names()) == before
        assert (await client.get(MY_COMPANY_URL)).json()["name"] == "Servicios Ñandú"

    async def test_refused_image_changes_nothing(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        storage: ImageStorage,
        analyser: ScoredAnalyser,
    ) -> None:
        owner = await create_user(conn)
        await create_company(conn, owner.id, storage=storage)
        before = sorted(await storage.list_names())
        session = await log_in(client, owner)
        analyser.score = 0.85
        response = await patch_mine(client, session, image=png(), name="Nuevo")
        assert (response.status_code, response.json()["code"]) == (422, "image_rejected")
        assert sorted(await storage.list_names()) == before
        assert (await client.get(MY_COMPANY_URL)).json()["name"] == "Servicios Ñandú"

    async def test_without_a_company_it_is_404(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        session = await log_in(client, await create_user(conn))
        response = await patch_mine(client, session, name="Nada")
        assert (response.status_code, response.json()["code"]) == (404, "company_not_found")

    async def test_invalid_fields_are_422(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        owner = await create_user(conn)
        await create_company(conn, owner.id)
        session = await log_in(client, owner)
        response = await patch_mine(client, session, phone="123", address="a" * 201)
        assert response.status_code == 422
        assert {e["loc"][-1] for e in response.json()["detail"]} == {"phone", "address"}

    async def test_a_phone_with_an_extension_is_refused_not_truncated(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        owner = await create_user(conn)
        await create_company(conn, owner.id)
        session = await log_in(client, owner)
        response = await patch_mine(client, session, phone="+56 9 8231 4576;ext=99")
        assert response.status_code == 422
        assert [(e["loc"][-1], e["type"]) for e in response.json()["detail"]] == [
            ("phone", "phone_extension")
        ]


class TestEditsThatChangeNothing:
    """A typo's edit, or an empty one, answered 200 having changed nothing."""

    @pytest.mark.parametrize(
        ("fields", "files"),
        [
            ([], []),
            ([("lang", b"en")], []),
            ([], [("image", b"")]),  # a browser's file input left empty
        ],
        ids=["empty", "only-lang", "empty-file"],
    )
    async def test_a_form_with_nothing_to_change_is_a_422(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        fields: list[tuple[str, bytes]],
        files: list[tuple[str, bytes]],
    ) -> None:
        owner = await create_user(conn)
        company = await create_company(conn, owner.id)
        session = await log_in(client, owner)
        body, content_type = raw_multipart(fields, files)
        response = await client.patch(
            MY_COMPANY_URL, content=body, headers=session.headers | content_type
        )
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "no_changes"
        after = await conn.fetchval(
            "SELECT updated_at FROM proveo.company WHERE id = $1", company.id
        )
        assert after == company.updated_at

    async def test_an_unknown_field_is_a_422_naming_it_and_changes_nothing(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        owner = await create_user(conn)
        company = await create_company(conn, owner.id)
        session = await log_in(client, owner)
        for fields in ({"nmae": "typo"}, {"nmae": "typo", "address": "Calle Nueva 1"}):
            response = await client.patch(MY_COMPANY_URL, data=fields, headers=session.headers)
            assert response.status_code == 422, response.text
            body = response.json()
            assert body["code"] == "validation_error"
            assert [(e["loc"], e["type"]) for e in body["detail"]] == [
                (["body", "nmae"], "unknown_field")
            ]
        mine = (await client.get(MY_COMPANY_URL)).json()
        assert (mine["name"], mine["address"]) == (company.name, company.address)

    async def test_a_repeated_field_is_a_422_naming_it_and_changes_nothing(
        self, client: httpx.AsyncClient, conn: Connection, storage: ImageStorage
    ) -> None:
        owner = await create_user(conn)
        company = await create_company(conn, owner.id)
        session = await log_in(client, owner)
        for fields, files in (
            ([("name", b"Uno"), ("name", b"Dos")], []),
            ([], [("image", b"junk"), ("image", png())]),
        ):
            body, content_type = raw_multipart(fields, files)
            response = await client.patch(
                MY_COMPANY_URL, content=body, headers=session.headers | content_type
            )
            assert response.status_code == 422, response.text
            [error] = response.json()["detail"]
            assert (error["loc"][-1], error["type"]) in {
                ("name", "duplicate_field"),
                ("image", "duplicate_field"),
            }
        mine = (await client.get(MY_COMPANY_URL)).json()
        assert (mine["name"], mine["image_url"]) == (company.name, None)
        assert await storage.list_names() == []

    async def test_text_that_is_not_utf8_is_a_400_and_changes_nothing(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        owner = await create_user(conn)
        company = await create_company(conn, owner.id)
        session = await log_in(client, owner)
        body, content_type = raw_multipart([("name", b"Caf\xe9 \xff")])
        response = await client.patch(
            MY_COMPANY_URL, content=body, headers=session.headers | content_type
        )
        assert (response.status_code, response.json()["code"]) == (400, "malformed_form")
        assert (await client.get(MY_COMPANY_URL)).json()["name"] == company.name


class TestDeleteMyCompany:
    async def test_soft_deletes_and_removes_the_logo(
        self, client: httpx.AsyncClient, conn: Connection, storage: ImageStorage
    ) -> None:
        owner = await create_user(conn)
        company = await create_company(conn, owner.id, storage=storage)
        session = await log_in(client, owner)
        response = await client.delete(MY_COMPANY_URL, headers=session.headers)
        assert response.status_code == 200
        assert response.json() == {"message": "Company deleted", "uuid": str(company.uuid)}
        assert await storage.list_names() == []
        assert (await client.get(f"/api/v1/companies/{company.uuid}")).status_code == 404
        assert (await client.get(MY_COMPANY_URL)).status_code == 404
        again = await client.delete(MY_COMPANY_URL, headers=session.headers)
        assert again.status_code == 404
        row = await conn.fetchrow(
            "SELECT deleted_at, image_key FROM proveo.company WHERE id = $1", company.id
        )
        assert row["deleted_at"] is not None
        assert row["image_key"] is None

    async def test_withdraws_images_awaiting_moderation(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        storage: ImageStorage,
        analyser: ScoredAnalyser,
    ) -> None:
        owner = await create_user(conn)
        session = await log_in(client, owner)
        analyser.score = 0.3
        assert (await publish(client, session)).status_code == 201
        assert len(await storage.list_names()) == 2
        assert (await client.delete(MY_COMPANY_URL, headers=session.headers)).status_code == 200
        assert await storage.list_names() == []
        status = await conn.fetchval(
            "SELECT m.status FROM proveo.image_moderation m "
            "JOIN proveo.company c ON c.id = m.company_id WHERE c.user_id = $1",
            owner.id,
        )
        assert status == "withdrawn"

    async def test_other_users_cannot_touch_it(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        owner = await create_user(conn)
        company = await create_company(conn, owner.id)
        intruder = await log_in(client, await create_user(conn))
        assert (await client.delete(MY_COMPANY_URL, headers=intruder.headers)).status_code == 404
        assert (await patch_mine(client, intruder, name="Mío")).status_code == 404
        still = await conn.fetchrow(
            "SELECT name, deleted_at FROM proveo.company WHERE id = $1", company.id
        )
        assert (still["name"], still["deleted_at"]) == ("Servicios Ñandú", None)
