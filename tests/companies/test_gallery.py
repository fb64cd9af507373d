"""The gallery: up to six photos, through the logo's pipeline, limits and NSFW screening; held
photos stay out of the public profile until an admin approves them; removed photos (and a
deleted company's) leave no object behind."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from proveo.accounts.schemas import Role
from proveo.core.db import Connection
from proveo.images import service as images_service
from proveo.integrations.storage import ImageStorage
from tests.companies.support import MY_COMPANY_URL, ScoredAnalyser, jpeg, patch_mine, publish
from tests.factories import LoggedIn, create_user, log_in

PHOTOS_URL = f"{MY_COMPANY_URL}/photos"


async def _add(
    client: httpx.AsyncClient, session: LoggedIn, colour: str = "navy"
) -> httpx.Response:
    return await client.post(
        PHOTOS_URL,
        files={"image": ("photo.jpg", jpeg(colour=colour), "image/jpeg")},
        headers=session.headers,
    )


def _key(url: str) -> str:
    return url.removeprefix("/images/").removesuffix(".webp")


@pytest.fixture
async def owner(client: httpx.AsyncClient, conn: Connection) -> LoggedIn:
    session = await log_in(client, await create_user(conn))
    assert (await publish(client, session)).status_code == 201
    return session


class TestAddPhotos:
    async def test_up_to_six_then_the_seventh_is_refused(
        self, client: httpx.AsyncClient, owner: LoggedIn, storage: ImageStorage
    ) -> None:
        for n in range(1, 7):
            response = await _add(client, owner)
            assert response.status_code == 201, response.text
            assert [p["position"] for p in response.json()["photos"]] == list(range(1, n + 1))
        before = await storage.list_names()
        seventh = await _add(client, owner)
        assert seventh.status_code == 409
        assert seventh.json()["code"] == "gallery_full"
        assert await storage.list_names() == before  # nothing stored for it
        assert len((await client.get(MY_COMPANY_URL)).json()["photos"]) == 6

    async def test_a_photo_is_public_with_its_thumbnail(
        self, client: httpx.AsyncClient, owner: LoggedIn, app: FastAPI
    ) -> None:
        body = (await _add(client, owner)).json()
        [photo] = body["photos"]
        assert photo["pending_review"] is False
        assert (await client.get(photo["image_url"])).status_code == 200
        assert (await client.get(photo["thumbnail_url"])).status_code == 200
        public = await client.get(app.url_path_for("companies:get", company_uuid=body["uuid"]))
        assert public.json()["photos"] == [photo]

    async def test_what_is_not_an_image_is_refused_and_nothing_is_kept(
        self, client: httpx.AsyncClient, owner: LoggedIn, storage: ImageStorage
    ) -> None:
        before = await storage.list_names()
        response = await client.post(
            PHOTOS_URL, files={"image": ("x.jpg", b"not an image", "image/jpeg")},
            headers=owner.headers,
        )  # fmt: skip
        assert response.status_code == 415
        assert await storage.list_names() == before

    async def test_another_field_is_refused(
        self, client: httpx.AsyncClient, owner: LoggedIn
    ) -> None:
        response = await client.post(
            PHOTOS_URL, data={"name": "x"},
            files={"image": ("p.jpg", jpeg(), "image/jpeg")}, headers=owner.headers,
        )  # fmt: skip
        assert response.status_code == 422
        assert response.json()["detail"][0]["type"] == "unknown_field"

    async def test_without_a_company_it_is_a_404(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        session = await log_in(client, await create_user(conn))
        response = await _add(client, session)
        assert (response.status_code, response.json()["code"]) == (404, "company_not_found")

    async def test_a_stranger_gets_a_401(self, client: httpx.AsyncClient) -> None:
        response = await client.post(PHOTOS_URL, files={"image": ("p.jpg", jpeg(), "image/jpeg")})
        assert response.status_code == 401

    async def test_a_photo_scored_for_rejection_is_refused(
        self, client: httpx.AsyncClient, owner: LoggedIn, analyser: ScoredAnalyser,
        storage: ImageStorage,
    ) -> None:  # fmt: skip
        before = await storage.list_names()
        analyser.score = 0.9
        response = await _add(client, owner)
        assert (response.status_code, response.json()["code"]) == (422, "image_rejected")
        assert await storage.list_names() == before


class TestHeldPhotos:
    @pytest.fixture
    async def held(
        self, client: httpx.AsyncClient, owner: LoggedIn, analyser: ScoredAnalyser
    ) -> dict[str, Any]:
        analyser.score = 0.5
        body: dict[str, Any] = (await _add(client, owner)).json()
        analyser.score = 0.0
        return body

    async def test_is_hidden_publicly_and_shown_to_the_owner_as_pending(
        self, client: httpx.AsyncClient, held: dict[str, Any], app: FastAPI
    ) -> None:
        [photo] = held["photos"]
        assert photo["pending_review"] is True
        assert (photo["image_url"], photo["thumbnail_url"]) == (None, None)
        assert held["image_pending_review"] is False  # the logo is not the one waiting
        public = await client.get(app.url_path_for("companies:get", company_uuid=held["uuid"]))
        assert public.json()["photos"] == []

    async def test_a_new_logo_leaves_a_held_photo_waiting(
        self, client: httpx.AsyncClient, owner: LoggedIn, held: dict[str, Any], conn: Connection
    ) -> None:
        response = await patch_mine(client, owner, image=jpeg(colour="red"))
        assert response.status_code == 200, response.text
        assert response.json()["photos"][0]["pending_review"] is True
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM proveo.image_moderation WHERE status = 'pending'"
            )
            == 1
        )

    async def test_approved_it_shows_under_a_new_public_key(
        self, client: httpx.AsyncClient, conn: Connection, held: dict[str, Any],
        storage: ImageStorage,
    ) -> None:  # fmt: skip
        client.cookies.clear()
        admin = await log_in(client, await create_user(conn, role=Role.ADMIN))
        [entry] = (await client.get("/api/v1/admin/moderation")).json()
        assert entry["kind"] == "photo"
        response = await client.post(
            f"/api/v1/admin/moderation/{entry['uuid']}/approve", headers=admin.headers
        )
        assert response.status_code == 200, response.text
        public = (await client.get(f"/api/v1/companies/{held['uuid']}")).json()
        [photo] = public["photos"]
        assert photo["uuid"] == held["photos"][0]["uuid"]
        assert (await client.get(photo["image_url"])).status_code == 200
        assert public["image_url"] == held["image_url"]  # the logo is untouched
        assert not [name for name in await storage.list_names() if name.startswith("held/")]

    async def test_rejected_it_leaves_the_gallery(
        self, client: httpx.AsyncClient, conn: Connection, held: dict[str, Any],
        storage: ImageStorage,
    ) -> None:  # fmt: skip
        client.cookies.clear()
        admin = await log_in(client, await create_user(conn, role=Role.ADMIN))
        [entry] = (await client.get("/api/v1/admin/moderation")).json()
        response = await client.post(
            f"/api/v1/admin/moderation/{entry['uuid']}/reject", headers=admin.headers
        )
        assert response.status_code == 200, response.text
        assert await conn.fetchval("SELECT count(*) FROM proveo.company_photo") == 0
        assert not [name for name in await storage.list_names() if name.startswith("held/")]

    async def test_removed_by_the_owner_it_is_withdrawn_and_deleted(
        self, client: httpx.AsyncClient, owner: LoggedIn, conn: Connection,
        held: dict[str, Any], storage: ImageStorage,
    ) -> None:  # fmt: skip
        response = await client.delete(
            f"{PHOTOS_URL}/{held['photos'][0]['uuid']}", headers=owner.headers
        )
        assert response.status_code == 200, response.text
        assert await conn.fetchval("SELECT status FROM proveo.image_moderation") == "withdrawn"
        assert not [name for name in await storage.list_names() if name.startswith("held/")]


class TestRemoveAndReorder:
    async def test_removal_deletes_the_objects_and_closes_ranks(
        self, client: httpx.AsyncClient, owner: LoggedIn, storage: ImageStorage
    ) -> None:
        for colour in ("red", "green", "blue"):
            body = (await _add(client, owner, colour)).json()
        first, second, third = body["photos"]
        response = await client.delete(f"{PHOTOS_URL}/{second['uuid']}", headers=owner.headers)
        assert response.status_code == 200, response.text
        photos = response.json()["photos"]
        assert [(p["uuid"], p["position"]) for p in photos] == [
            (first["uuid"], 1), (third["uuid"], 2),
        ]  # fmt: skip
        names = await storage.list_names()
        assert f"{_key(second['image_url'])}.webp" not in names
        assert f"{_key(second['image_url'])}_thumb.webp" not in names
        assert f"{_key(first['image_url'])}.webp" in names

    async def test_an_unknown_photo_is_a_404(
        self, client: httpx.AsyncClient, owner: LoggedIn
    ) -> None:
        response = await client.delete(
            f"{PHOTOS_URL}/6f1c6b0e-7a51-4c1b-9a59-1e0b0c5b7d11", headers=owner.headers
        )
        assert (response.status_code, response.json()["code"]) == (404, "photo_not_found")

    async def test_reorder(self, client: httpx.AsyncClient, owner: LoggedIn) -> None:
        for colour in ("red", "green", "blue"):
            body = (await _add(client, owner, colour)).json()
        order = [p["uuid"] for p in reversed(body["photos"])]
        response = await client.put(
            f"{PHOTOS_URL}/order", json={"photos": order}, headers=owner.headers
        )
        assert response.status_code == 200, response.text
        assert [p["uuid"] for p in response.json()["photos"]] == order
        assert [p["position"] for p in response.json()["photos"]] == [1, 2, 3]

    @pytest.mark.parametrize("shape", ["missing", "twice", "unknown"])
    async def test_an_order_that_is_not_every_photo_once_is_refused(
        self, client: httpx.AsyncClient, owner: LoggedIn, shape: str
    ) -> None:
        for _ in range(2):
            body = (await _add(client, owner)).json()
        uuids = [p["uuid"] for p in body["photos"]]
        order = {
            "missing": uuids[:1],
            "twice": [uuids[0], uuids[0], uuids[1]],
            "unknown": [uuids[0], "6f1c6b0e-7a51-4c1b-9a59-1e0b0c5b7d11"],
        }[shape]
        response = await client.put(
            f"{PHOTOS_URL}/order", json={"photos": order}, headers=owner.headers
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["type"] == "photo_order"
        mine = (await client.get(MY_COMPANY_URL)).json()
        assert [p["uuid"] for p in mine["photos"]] == uuids


class TestTheCompanyIsUpdatedWithItsGallery:
    """Found by the adversary: the sitemap's lastmod (the company's updated_at) stayed put when
    the gallery changed."""

    @staticmethod
    async def _made_old(conn: Connection) -> None:
        # The test runs in one transaction, where now() stands still: age the row instead,
        # past the trigger that would set it to now().
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("UPDATE proveo.company SET updated_at = '2020-01-01T00:00:00Z'")
        await conn.execute("SET session_replication_role = DEFAULT")

    @staticmethod
    async def _touched(conn: Connection) -> bool:
        stamp = await conn.fetchval("SELECT updated_at FROM proveo.company")
        return bool(stamp.year > 2020)

    async def test_adding_removing_and_reordering_photos_moves_updated_at(
        self, client: httpx.AsyncClient, conn: Connection, owner: LoggedIn
    ) -> None:
        for colour in ("red", "green"):
            await self._made_old(conn)
            body = (await _add(client, owner, colour)).json()
            assert await self._touched(conn)
        await self._made_old(conn)
        order = [p["uuid"] for p in reversed(body["photos"])]
        response = await client.put(
            f"{PHOTOS_URL}/order", json={"photos": order}, headers=owner.headers
        )
        assert response.status_code == 200
        assert await self._touched(conn)
        await self._made_old(conn)
        response = await client.delete(f"{PHOTOS_URL}/{order[0]}", headers=owner.headers)
        assert response.status_code == 200
        assert await self._touched(conn)

    async def test_a_refused_change_leaves_it(
        self, client: httpx.AsyncClient, conn: Connection, owner: LoggedIn
    ) -> None:
        await _add(client, owner)
        await self._made_old(conn)
        response = await client.put(
            f"{PHOTOS_URL}/order", json={"photos": []}, headers=owner.headers
        )
        assert response.status_code == 422
        assert not await self._touched(conn)


class TestTheGalleryGoesWithTheCompany:
    async def test_deleting_the_company_deletes_every_photo(
        self, client: httpx.AsyncClient, owner: LoggedIn, storage: ImageStorage,
        analyser: ScoredAnalyser,
    ) -> None:  # fmt: skip
        await _add(client, owner)
        analyser.score = 0.5
        await _add(client, owner)
        response = await client.delete(MY_COMPANY_URL, headers=owner.headers)
        assert response.status_code == 200, response.text
        assert await storage.list_names() == []

    async def test_the_orphan_cleanup_keeps_a_live_company_s_photos(
        self, client: httpx.AsyncClient, owner: LoggedIn, storage: ImageStorage, app: FastAPI
    ) -> None:
        await _add(client, owner)
        before = await storage.list_names()
        report = await images_service.cleanup_orphan_images(
            app.state.database, storage, min_age_seconds=0
        )
        assert report.removed == ()
        assert await storage.list_names() == before
