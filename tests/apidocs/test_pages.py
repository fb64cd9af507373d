"""/docs and /redoc: their assets come from this server, under a CSP without inline scripts."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from proveo.app import create_app
from proveo.config import Settings
from proveo.core.cache import Cache
from proveo.core.db import Connection
from tests.fixtures.database import PinnedDatabase

DOC_PAGES = ["/docs", "/redoc"]


class _Page(HTMLParser):
    """The URLs a page loads, and the text of any inline script."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            self._in_script = values.get("src") is None
            if values.get("src"):
                self.assets.append(str(values["src"]))
        elif tag == "link" and values.get("href"):
            self.assets.append(str(values["href"]))
        if any(name.startswith("on") for name in values):
            self.inline_scripts.append(f"<{tag}> event handler attribute")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_scripts.append(data)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


async def assert_page_loads_its_own_assets(http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(path)
    assert response.status_code == 200, response.text
    page = parse(response.text)
    assert page.inline_scripts == []
    assert page.assets, "the page loads nothing"
    for asset in page.assets:
        assert asset.startswith("/"), f"{asset} is not served by us"
        loaded = await http.get(asset)
        assert loaded.status_code == 200, asset
        assert loaded.content, asset
    csp = response.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert "http" not in csp


def _app(settings: Settings, conn: Connection, cache: Cache, **changes: object) -> FastAPI:
    return create_app(
        settings.model_copy(update=changes), database=PinnedDatabase(conn), cache=cache
    )


async def _status(app: FastAPI, path: str) -> int:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        return (await http.get(path)).status_code


PRODUCTION = {"env": "production", "secret_key": SecretStr("x" * 40)}


class TestDocPages:
    @pytest.mark.parametrize("path", DOC_PAGES)
    async def test_pages_load_their_assets_from_this_server_without_inline_script(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        await assert_page_loads_its_own_assets(client, path)

    async def test_swagger_is_started_by_our_script_with_the_schema_url(
        self, client: httpx.AsyncClient
    ) -> None:
        page = (await client.get("/docs")).text
        assert 'data-openapi-url="/openapi.json"' in page
        script = await client.get("/docs/static/swagger-init.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert "X-CSRF-Token" in script.text  # writes from "Try it out" carry the token

    async def test_schema_is_served(self, client: httpx.AsyncClient) -> None:
        schema = (await client.get("/openapi.json")).json()
        assert schema["info"]["title"] == "Proveo API"


class TestDocsSetting:
    @pytest.mark.parametrize("path", [*DOC_PAGES, "/openapi.json", "/docs/static/swagger-init.js"])
    async def test_off_in_production_by_default(
        self, settings: Settings, conn: Connection, cache: Cache, path: str
    ) -> None:
        assert await _status(_app(settings, conn, cache, **PRODUCTION), path) == 404

    async def test_production_serves_them_when_enabled(
        self, settings: Settings, conn: Connection, cache: Cache
    ) -> None:
        app = _app(settings, conn, cache, **PRODUCTION, docs_enabled=True)
        assert [await _status(app, path) for path in [*DOC_PAGES, "/openapi.json"]] == [200] * 3

    async def test_development_can_turn_them_off(
        self, settings: Settings, conn: Connection, cache: Cache
    ) -> None:
        app = _app(settings, conn, cache, docs_enabled=False)
        assert [await _status(app, path) for path in [*DOC_PAGES, "/openapi.json"]] == [404] * 3
