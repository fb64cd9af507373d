"""POST /companies: who may publish, what is stored, and the NSFW thresholds."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from proveo.core.db import Connection
from proveo.imaging.schemas import AnalysedImage
from proveo.integrations.storage import ImageStorage
from tests.companies.support import ScoredAnalyser, jpeg, png, publish
from tests.factories import create_company, create_user, log_in
from tests.imaging.images import encode, hidden_in_alpha, high_score_grey, transparent_logo


async def _live_companies(conn: Connection, user_id: int) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM proveo.company WHERE user_id = $1 AND deleted_at IS NULL", user_id
    )
    return count


class TestPublishCompany:
    async def test_publishes_with_logo_and_normalised_fields(
        self, client: httpx.AsyncClient, conn: Connection, storage: ImageStorage
    ) -> None:
        user = await create_user(conn)
        session = await log_in(client, user)
        response = await publish(client, session, image=png())
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["name"] == "Servicios Ñandú"
        assert body["phone"] == "+56982314576"  # "9 8231 4576", Chilean by default
        assert body["commune_name"] == "Santiago"
        assert body["product_name_es"] == "Construcción"
        assert body["owner_uuid"] == str(user.uuid)
        assert (body["description_original_lang"], body["description_es_source"]) == (
            "es",
            "original",
        )
        assert body["description_en_source"] == "human"
        assert body["image_pending_review"] is False
        logo = await client.get(body["image_url"])
        assert logo.status_code == 200
        assert logo.content[:4] == b"RIFF"
        assert (await client.get(body["thumbnail_url"])).status_code == 200
        assert len(await storage.list_names()) == 2
        public = await client.get(f"/api/v1/companies/{body['uuid']}")
        assert public.status_code == 200
        assert public.json()["image_url"] == body["image_url"]
        assert "owner_uuid" not in public.json()

    async def test_passes_the_request_id_to_the_image_service(
        self, client: httpx.AsyncClient, conn: Connection, analyser: ScoredAnalyser
    ) -> None:
        session = await log_in(client, await create_user(conn))
        client.headers["X-Request-ID"] = "publish-req-1"
        assert (await publish(client, session)).status_code == 201
        assert analyser.request_ids == ["publish-req-1"]

    async def test_accepts_international_numbers_and_uuids_for_references(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        session = await log_in(client, await create_user(conn))
        commune = await conn.fetchval("SELECT uuid FROM proveo.commune WHERE name = 'Ñuñoa'")
        product = await conn.fetchval("SELECT uuid FROM proveo.product ORDER BY id LIMIT 1")
        response = await publish(
            client, session, phone="+1 650 253 0000", commune_name=None, product_name=None,
            commune_uuid=str(commune), product_uuid=str(product),
        )  # fmt: skip
        assert response.status_code == 201, response.text
        assert response.json()["phone"] == "+16502530000"
        assert response.json()["commune_uuid"] == str(commune)

    async def test_names_match_without_accents_or_case(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        session = await log_in(client, await create_user(conn))
        response = await publish(client, session, commune_name="nunoa", product_name="CONSTRUCCION")
        assert response.status_code == 201, response.text
        assert response.json()["commune_name"] == "Ñuñoa"

    async def test_rejects_second_company_for_same_user(
        self, client: httpx.AsyncClient, conn: Connection, storage: ImageStorage
    ) -> None:
        user = await create_user(conn)
        session = await log_in(client, user)
        assert (await publish(client, session)).status_code == 201
        second = await publish(client, session, name="Otra")
        assert second.status_code == 409
        assert second.json()["code"] == "company_exists"
        assert await _live_companies(conn, user.id) == 1
        assert len(await storage.list_names()) == 2

    async def test_unverified_user_cannot_publish(
        self, client: httpx.AsyncClient, conn: Connection, storage: ImageStorage
    ) -> None:
        session = await log_in(client, await create_user(conn, verified=False))
        response = await publish(client, session)
        assert response.status_code == 403
        assert response.json()["code"] == "email_not_verified"
        assert await storage.list_names() == []

    async def test_needs_a_session_and_the_csrf_token(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        anonymous = await publish(client, None)
        assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
        session = await log_in(client, await create_user(conn))
        session.csrf_token = "forged"
        forged = await publish(client, session)
        assert (forged.status_code, forged.json()["code"]) == (403, "csrf_failed")

    async def test_a_new_company_after_deleting_the_old_one(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        user = await create_user(conn)
        await create_company(conn, user.id)
        session = await log_in(client, user)
        assert (await client.delete(
            "/api/v1/companies/user/my-company", headers=session.headers
        )).status_code == 200  # fmt: skip
        assert (await publish(client, session)).status_code == 201


class TestNsfwThresholds:
    @pytest.mark.parametrize("score", [0.0, 0.19])
    async def test_below_the_hold_threshold_the_image_is_the_logo(
        self, client: httpx.AsyncClient, conn: Connection, analyser: ScoredAnalyser, score: float
    ) -> None:
        analyser.score = score
        session = await log_in(client, await create_user(conn))
        response = await publish(client, session)
        assert response.status_code == 201
        assert response.json()["image_url"] is not None

    @pytest.mark.parametrize("score", [0.2, 0.5, 0.79])
    async def test_between_thresholds_publishes_without_logo_and_holds_the_image(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        analyser: ScoredAnalyser,
        storage: ImageStorage,
        score: float,
    ) -> None:
        analyser.score = score
        session = await log_in(client, await create_user(conn))
        response = await publish(client, session)
        assert response.status_code == 201
        body = response.json()
        assert body["image_url"] is None
        assert body["image_pending_review"] is True
        held = await conn.fetchrow(
            "SELECT m.image_key, m.status, m.nsfw_score FROM proveo.image_moderation m "
            "JOIN proveo.company c ON c.id = m.company_id WHERE c.uuid = $1",
            body["uuid"],
        )
        assert held["status"] == "pending"
        assert held["nsfw_score"] == pytest.approx(score)
        # Stored under the held prefix, linked to no company until an admin approves it, and
        # not served at /images even to someone who learns its key.
        assert sorted(await storage.list_names()) == sorted(
            [f"held/{held['image_key']}.webp", f"held/{held['image_key']}_thumb.webp"]
        )
        public = await client.get(f"/api/v1/companies/{body['uuid']}")
        assert public.json()["image_url"] is None
        for url in (
            f"/images/{held['image_key']}.webp",
            f"/images/held/{held['image_key']}.webp",
            f"/images/held%2F{held['image_key']}.webp",
        ):
            assert (await client.get(url)).status_code == 404, url

    @pytest.mark.parametrize("score", [0.8, 0.97])
    async def test_at_the_reject_threshold_nothing_is_stored(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        analyser: ScoredAnalyser,
        storage: ImageStorage,
        score: float,
    ) -> None:
        analyser.score = score
        user = await create_user(conn)
        session = await log_in(client, user)
        response = await publish(client, session)
        assert response.status_code == 422
        assert response.json()["code"] == "image_rejected"
        assert await _live_companies(conn, user.id) == 0
        assert await storage.list_names() == []

    async def test_a_logo_hiding_its_content_in_the_alpha_channel_is_rejected(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        analyser: ScoredAnalyser,
        storage: ImageStorage,
    ) -> None:
        analyser.score = None
        user = await create_user(conn)
        session = await log_in(client, user)
        logo = encode(hidden_in_alpha(high_score_grey()), "PNG")
        response = await publish(client, session, image=logo)
        assert response.status_code == 422
        assert response.json()["code"] == "image_rejected"
        assert await _live_companies(conn, user.id) == 0
        assert await storage.list_names() == []

    async def test_an_ordinary_transparent_logo_is_published(
        self, client: httpx.AsyncClient, conn: Connection, analyser: ScoredAnalyser
    ) -> None:
        analyser.score = None
        session = await log_in(client, await create_user(conn))
        response = await publish(client, session, image=encode(transparent_logo(), "PNG"))
        assert response.status_code == 201, response.text
        assert response.json()["image_url"] is not None


class TestNothingHalfWritten:
    async def test_a_failed_database_write_deletes_the_stored_image(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        app: FastAPI,
        storage: ImageStorage,
    ) -> None:
        """A publish of the same user lands while this one's image is being processed: the
        write is refused (409) and the image it stored is removed again."""
        user = await create_user(conn)
        session = await log_in(client, user)
        real = app.state.image_analyser

        class ConcurrentPublish(ScoredAnalyser):
            async def analyse(self, data: bytes, *, request_id: str | None = None) -> AnalysedImage:
                image = await real.analyse(data, request_id=request_id)
                await create_company(conn, user.id, name="Llegó primero")
                return image

        app.state.image_analyser = ConcurrentPublish()
        response = await publish(client, session)
        assert response.status_code == 409
        assert response.json()["code"] == "company_exists"
        assert await storage.list_names() == []
        assert await _live_companies(conn, user.id) == 1

    async def test_a_product_deleted_meanwhile_is_a_422_and_removes_the_image(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        app: FastAPI,
        storage: ImageStorage,
    ) -> None:
        user = await create_user(conn)
        session = await log_in(client, user)
        product = await conn.fetchval(
            "INSERT INTO proveo.product (name_es, name_en) VALUES ('Efímero', 'Ephemeral') "
            "RETURNING uuid"
        )
        real = app.state.image_analyser

        class CatalogueChange(ScoredAnalyser):
            async def analyse(self, data: bytes, *, request_id: str | None = None) -> AnalysedImage:
                image = await real.analyse(data, request_id=request_id)
                await conn.execute("DELETE FROM proveo.product WHERE uuid = $1", product)
                return image

        app.state.image_analyser = CatalogueChange()
        response = await publish(client, session, product_name=None, product_uuid=str(product))
        assert response.status_code == 422
        assert response.json()["code"] == "validation_error"
        assert await storage.list_names() == []
        assert await _live_companies(conn, user.id) == 0


class TestSmallImages:
    async def test_jpeg_png_and_webp_are_accepted(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        session = await log_in(client, await create_user(conn))
        response = await publish(client, session, image=jpeg((2000, 1200)), filename="x.jpeg")
        assert response.status_code == 201, response.text
