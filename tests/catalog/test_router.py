from __future__ import annotations

import json

import httpx
from fastapi import FastAPI

from proveo.catalog.service import COMMUNES_CACHE_KEY, PRODUCTS_CACHE_KEY
from proveo.core.cache import Cache


class TestListProducts:
    async def test_lists_bilingual_products_sorted(
        self, client: httpx.AsyncClient, app: FastAPI
    ) -> None:
        response = await client.get(app.url_path_for("products:list"))
        assert response.status_code == 200
        products = response.json()
        assert len(products) >= 30
        assert set(products[0]) == {"uuid", "name_es", "name_en"}
        names = [p["name_es"] for p in products]
        assert "Construcción" in names

    async def test_serves_from_cache_after_first_read(
        self, client: httpx.AsyncClient, app: FastAPI, cache: Cache
    ) -> None:
        first = await client.get(app.url_path_for("products:list"))
        cached = await cache.get_bytes(PRODUCTS_CACHE_KEY)
        assert cached is not None
        assert json.loads(cached) == first.json()
        second = await client.get(app.url_path_for("products:list"))
        assert second.json() == first.json()


class TestListCommunes:
    async def test_lists_all_346_communes_with_regions(
        self, client: httpx.AsyncClient, app: FastAPI, cache: Cache
    ) -> None:
        response = await client.get(app.url_path_for("communes:list"))
        assert response.status_code == 200
        communes = response.json()
        assert len(communes) == 346
        by_name = {c["name"]: c["region"] for c in communes}
        assert by_name["Ñuñoa"] == "Metropolitana de Santiago"
        assert by_name["Concepción"] == "Biobío"
        assert await cache.get_bytes(COMMUNES_CACHE_KEY) is not None

    async def test_keeps_answering_when_redis_is_down(
        self, client: httpx.AsyncClient, app: FastAPI, cache: Cache, redis_server: object
    ) -> None:
        from tests.fixtures.servers import RedisServer

        assert isinstance(redis_server, RedisServer)
        redis_server.stop()
        try:
            for _ in range(2):
                response = await client.get(app.url_path_for("communes:list"))
                assert response.status_code == 200
                assert len(response.json()) == 346
        finally:
            redis_server.start()
        assert await cache.ping() is True
