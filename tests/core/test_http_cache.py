"""A second view downloads nothing again: static files and the catalogue answer 304."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from proveo.accounts.schemas import Role
from proveo.core.db import Connection
from tests.factories import create_user, log_in

CATALOGUE = ["products:list", "communes:list"]
STATIC = ["/", "/css/app.css", "/js/api.js", "/login/"]


class TestCatalogueValidators:
    @pytest.mark.parametrize("route", CATALOGUE)
    async def test_list_carries_an_etag_and_public_revalidation(
        self, client: httpx.AsyncClient, app: FastAPI, route: str
    ) -> None:
        response = await client.get(app.url_path_for(route))
        assert response.status_code == 200
        assert response.headers["etag"].startswith('"')
        assert response.headers["cache-control"] == "public, no-cache"

    @pytest.mark.parametrize("route", CATALOGUE)
    async def test_a_known_etag_gets_304_without_a_body(
        self, client: httpx.AsyncClient, app: FastAPI, route: str
    ) -> None:
        first = await client.get(app.url_path_for(route))
        again = await client.get(
            app.url_path_for(route), headers={"If-None-Match": f'W/"x", {first.headers["etag"]}'}
        )
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == first.headers["etag"]

    async def test_an_admin_change_gives_the_list_a_new_etag(
        self, client: httpx.AsyncClient, app: FastAPI, conn: Connection
    ) -> None:
        path = app.url_path_for("products:list")
        before = (await client.get(path)).headers["etag"]
        admin = await log_in(client, await create_user(conn, role=Role.ADMIN))
        created = await client.post(
            path, json={"name_es": "Drones agrícolas", "name_en": "Farm drones"},
            headers=admin.headers,
        )  # fmt: skip
        assert created.status_code == 201, created.text
        after = await client.get(path, headers={"If-None-Match": before})
        assert after.status_code == 200
        assert after.headers["etag"] != before


class TestStaticFileValidators:
    @pytest.mark.parametrize("path", STATIC)
    async def test_file_carries_validators_and_is_revalidated_each_view(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        response = await client.get(path)
        assert response.status_code == 200
        assert response.headers["etag"]
        assert response.headers["last-modified"]
        assert response.headers["cache-control"] == "public, no-cache"

    @pytest.mark.parametrize("path", STATIC)
    async def test_a_known_etag_gets_304_without_a_body(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        first = await client.get(path)
        again = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["cache-control"] == "public, no-cache"
