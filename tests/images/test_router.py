from __future__ import annotations

import os
import time

import httpx
import pytest
from fastapi import FastAPI

from proveo.app import create_app
from proveo.config import Settings
from proveo.core.cache import Cache
from proveo.core.db import Connection
from proveo.integrations.storage import ImageStorage, LocalImageStorage, new_image_key
from tests.fixtures.database import PinnedDatabase
from tests.fixtures.servers import SeaweedServer


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, settings: Settings) -> ImageStorage:
    if request.param == "local":
        return LocalImageStorage(settings.images_dir)
    s3: ImageStorage = request.getfixturevalue("s3_storage")
    return s3


@pytest.fixture
def app(settings: Settings, conn: Connection, cache: Cache, storage: ImageStorage) -> FastAPI:
    return create_app(settings, database=PinnedDatabase(conn), cache=cache, storage=storage)


async def _stored(storage: ImageStorage, data: bytes = b"RIFF....WEBP") -> str:
    name = f"{new_image_key()}.webp"
    await storage.put(name, data, "image/webp")
    return name


class TestServeImage:
    async def test_serves_the_stored_bytes_with_immutable_caching_headers(
        self, client: httpx.AsyncClient, app: FastAPI, storage: ImageStorage
    ) -> None:
        data = os.urandom(200_000)  # several chunks: streamed, not loaded whole
        name = await _stored(storage, data)
        response = await client.get(app.url_path_for("images:get", name=name))
        assert response.status_code == 200
        assert response.content == data
        assert response.headers["content-type"] == "image/webp"
        assert response.headers["content-length"] == str(len(data))
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["etag"] == f'"{name.removesuffix(".webp")}"'

    async def test_the_thumbnail_is_served_the_same_way(
        self, client: httpx.AsyncClient, app: FastAPI, storage: ImageStorage
    ) -> None:
        name = f"{new_image_key()}_thumb.webp"
        await storage.put(name, b"thumb", "image/webp")
        response = await client.get(app.url_path_for("images:get", name=name))
        assert (response.status_code, response.content) == (200, b"thumb")

    @pytest.mark.parametrize("etag_form", ["{etag}", "W/{etag}", '"other", {etag}', "*"])
    async def test_a_current_copy_is_answered_304_without_a_body(
        self, client: httpx.AsyncClient, app: FastAPI, storage: ImageStorage, etag_form: str
    ) -> None:
        name = await _stored(storage)
        url = app.url_path_for("images:get", name=name)
        etag = (await client.get(url)).headers["etag"]
        response = await client.get(url, headers={"If-None-Match": etag_form.format(etag=etag)})
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert "immutable" in response.headers["cache-control"]

    async def test_another_etag_gets_the_image(
        self, client: httpx.AsyncClient, app: FastAPI, storage: ImageStorage
    ) -> None:
        name = await _stored(storage)
        response = await client.get(
            app.url_path_for("images:get", name=name), headers={"If-None-Match": '"stale"'}
        )
        assert (response.status_code, response.content) == (200, b"RIFF....WEBP")

    async def test_a_deleted_image_is_404_even_for_a_cached_copy(
        self, client: httpx.AsyncClient, app: FastAPI, storage: ImageStorage
    ) -> None:
        name = await _stored(storage)
        url = app.url_path_for("images:get", name=name)
        etag = (await client.get(url)).headers["etag"]
        await storage.delete(name)
        response = await client.get(url, headers={"If-None-Match": etag})
        assert response.status_code == 404
        assert response.json()["code"] == "image_not_found"

    async def test_head_answers_the_headers_without_the_bytes(
        self, client: httpx.AsyncClient, app: FastAPI, storage: ImageStorage
    ) -> None:
        name = await _stored(storage)
        response = await client.head(app.url_path_for("images:head", name=name))
        assert response.status_code == 200
        assert response.content == b""
        assert response.headers["content-length"] == str(len(b"RIFF....WEBP"))
        assert response.headers["content-type"] == "image/webp"
        assert response.headers["etag"] == f'"{name.removesuffix(".webp")}"'
        conditional = await client.head(
            app.url_path_for("images:head", name=name),
            headers={"If-None-Match": response.headers["etag"]},
        )
        assert conditional.status_code == 304
        missing = await client.head(app.url_path_for("images:head", name=f"{new_image_key()}.webp"))
        assert missing.status_code == 404

    @pytest.mark.parametrize(
        "name",
        [
            "missing-but-valid-key-000000.webp",
            "..%2F..%2Fetc%2Fpasswd",
            "..%2Fdata%2Fserve.lock",
            "x.webp",
            "a.png",
            "%00.webp",
        ],
    )
    async def test_unknown_or_hostile_names_are_404_json(
        self, client: httpx.AsyncClient, name: str
    ) -> None:
        response = await client.get(f"/images/{name}")
        assert response.status_code == 404
        assert response.json()["code"] in {"image_not_found", "not_found"}


class TestS3Down:
    @pytest.fixture
    def storage(self, s3_storage: ImageStorage) -> ImageStorage:
        return s3_storage

    async def test_images_answer_503_while_the_rest_of_the_api_keeps_working(
        self,
        client: httpx.AsyncClient,
        app: FastAPI,
        storage: ImageStorage,
        seaweed: SeaweedServer,
    ) -> None:
        name = await _stored(storage)
        image_url = app.url_path_for("images:get", name=name)
        assert (await client.get(image_url)).status_code == 200
        seaweed.stop()
        try:
            started = time.monotonic()
            response = await client.get(image_url)
            assert time.monotonic() - started < 2
            assert response.status_code == 503
            assert response.json()["code"] == "storage_unavailable"
            assert (await client.head(image_url)).status_code == 503
            products = await client.get(app.url_path_for("products:list"))
            assert products.status_code == 200
            assert products.json()
        finally:
            seaweed.start()
        response = await client.get(image_url)  # the same app, no restart
        assert (response.status_code, response.content) == (200, b"RIFF....WEBP")
