"""Images held for moderation are never public (found in review: /images served them to
anyone holding the key). They live under the held prefix, only admins see them through the
moderation routes, an approval publishes a copy under a new public key, and a rejection deletes
them; on local disk and on S3 (SeaweedFS) alike."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from proveo.accounts.schemas import Role
from proveo.app import create_app
from proveo.config import Settings
from proveo.core.cache import Cache
from proveo.core.db import Connection
from proveo.integrations.storage import (
    ImageStorage,
    LocalImageStorage,
    held_object_names,
    image_object_names,
)
from tests.companies.support import FakeTranslator, ScoredAnalyser, publish
from tests.factories import create_user, log_in
from tests.fixtures.database import PinnedDatabase

QUEUE_URL = "/api/v1/admin/moderation"


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, settings: Settings) -> ImageStorage:
    if request.param == "local":
        return LocalImageStorage(settings.images_dir)
    s3: ImageStorage = request.getfixturevalue("s3_storage")
    return s3


@pytest.fixture
def app(
    settings: Settings,
    conn: Connection,
    cache: Cache,
    storage: ImageStorage,
    translator: FakeTranslator,
) -> FastAPI:
    return create_app(
        settings,
        database=PinnedDatabase(conn),
        cache=cache,
        storage=storage,
        image_analyser=ScoredAnalyser(score=0.5),
        translator=translator,
    )


@pytest.fixture
async def held(client: httpx.AsyncClient, conn: Connection) -> dict[str, Any]:
    """A company published with a logo scored 0.5, then an admin logged in."""
    response = await publish(client, await log_in(client, await create_user(conn)))
    assert response.status_code == 201, response.text
    client.cookies.clear()
    admin = await log_in(client, await create_user(conn, role=Role.ADMIN))
    [entry] = (await client.get(QUEUE_URL)).json()
    key = await conn.fetchval(
        "SELECT image_key FROM proveo.image_moderation WHERE uuid = $1", entry["uuid"]
    )
    return {"company": response.json()["uuid"], "entry": entry, "key": key, "admin": admin}


async def test_a_held_image_is_stored_under_the_held_prefix_and_not_at_images(
    client: httpx.AsyncClient, storage: ImageStorage, held: dict[str, Any]
) -> None:
    assert await storage.list_names() == sorted(held_object_names(held["key"]))
    for name in (f"{held['key']}.webp", f"held/{held['key']}.webp"):
        assert (await client.get(f"/images/{name}")).status_code == 404
        assert (await client.head(f"/images/{name}")).status_code == 404
    image = await client.get(held["entry"]["image_url"])
    assert image.status_code == 200
    assert image.content == await storage.get(held_object_names(held["key"])[0])


async def test_approve_publishes_a_copy_and_removes_the_held_objects(
    client: httpx.AsyncClient, storage: ImageStorage, held: dict[str, Any]
) -> None:
    held_bytes = await storage.get(held_object_names(held["key"])[0])
    response = await client.post(
        f"{QUEUE_URL}/{held['entry']['uuid']}/approve", headers=held["admin"].headers
    )
    assert response.status_code == 200, response.text
    company = (await client.get(f"/api/v1/companies/{held['company']}")).json()
    published = company["image_url"].removeprefix("/images/").removesuffix(".webp")
    served = await client.get(company["image_url"])
    assert served.status_code == 200
    assert served.content == held_bytes
    assert (await client.get(company["thumbnail_url"])).status_code == 200
    assert await storage.list_names() == sorted(image_object_names(published))


async def test_reject_deletes_the_held_objects(
    client: httpx.AsyncClient, storage: ImageStorage, held: dict[str, Any]
) -> None:
    response = await client.post(
        f"{QUEUE_URL}/{held['entry']['uuid']}/reject", headers=held["admin"].headers
    )
    assert response.status_code == 200, response.text
    assert await storage.list_names() == []
    assert (await client.get(held["entry"]["image_url"])).status_code == 404


async def test_a_held_image_gone_from_storage_is_not_approved(
    client: httpx.AsyncClient, conn: Connection, storage: ImageStorage, held: dict[str, Any]
) -> None:
    for name in held_object_names(held["key"]):
        await storage.delete(name)
    response = await client.post(
        f"{QUEUE_URL}/{held['entry']['uuid']}/approve", headers=held["admin"].headers
    )
    assert (response.status_code, response.json()["code"]) == (409, "held_image_missing")
    assert await storage.list_names() == []
    status = await conn.fetchval(
        "SELECT status FROM proveo.image_moderation WHERE uuid = $1", held["entry"]["uuid"]
    )
    assert status == "pending"  # it can still be rejected
    rejected = await client.post(
        f"{QUEUE_URL}/{held['entry']['uuid']}/reject", headers=held["admin"].headers
    )
    assert rejected.status_code == 200
