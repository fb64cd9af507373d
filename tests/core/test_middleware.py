from __future__ import annotations

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from proveo.app import create_app
from proveo.config import Settings
from proveo.core.cache import Cache
from proveo.core.db import Connection
from tests.fixtures.database import PinnedDatabase


class TestRequestId:
    async def test_generates_a_request_id(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        response = await client.get(app.url_path_for("health:live"))
        assert len(response.headers["x-request-id"]) == 32

    async def test_propagates_a_valid_incoming_id(
        self, client: httpx.AsyncClient, app: FastAPI
    ) -> None:
        response = await client.get(
            app.url_path_for("health:live"), headers={"X-Request-ID": "trace-abc.123"}
        )
        assert response.headers["x-request-id"] == "trace-abc.123"

    async def test_replaces_a_hostile_incoming_id(
        self, client: httpx.AsyncClient, app: FastAPI
    ) -> None:
        response = await client.get(
            app.url_path_for("health:live"), headers={"X-Request-ID": "evil\tinjected {json}"}
        )
        assert response.headers["x-request-id"] != "evil\tinjected {json}"
        assert len(response.headers["x-request-id"]) == 32


class TestSecurityHeaders:
    async def test_api_responses_carry_strict_headers(
        self, client: httpx.AsyncClient, app: FastAPI
    ) -> None:
        response = await client.get(app.url_path_for("health:live"))
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self';" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "camera=()" in response.headers["permissions-policy"]
        assert "strict-transport-security" not in response.headers

    async def test_error_responses_carry_them_too(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/missing")
        assert response.status_code == 404
        assert response.headers["x-content-type-options"] == "nosniff"

    async def test_hsts_in_production(
        self, settings: Settings, conn: Connection, cache: Cache
    ) -> None:
        production = settings.model_copy(
            update={
                "env": "production",
                "secret_key": SecretStr("x" * 40),
                "public_base_url": "https://p.cl",
            }
        )
        app = create_app(production, database=PinnedDatabase(conn), cache=cache)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get(app.url_path_for("health:live"))
        assert "max-age=" in response.headers["strict-transport-security"]

    async def test_docs_pages_alone_allow_inline_styles(self, client: httpx.AsyncClient) -> None:
        docs = (await client.get("/docs")).headers["content-security-policy"]
        assert "style-src 'self' 'unsafe-inline'" in docs
        assert "script-src 'self';" in docs


class TestCors:
    async def test_allows_only_configured_origins(
        self, settings: Settings, conn: Connection, cache: Cache
    ) -> None:
        configured = settings.model_copy(update={"cors_origins": ["https://app.proveo.cl"]})
        app = create_app(configured, database=PinnedDatabase(conn), cache=cache)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            allowed = await http.get("/api/v1/health/", headers={"Origin": "https://app.proveo.cl"})
            other = await http.get("/api/v1/health/", headers={"Origin": "https://evil.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://app.proveo.cl"
        assert "access-control-allow-origin" not in other.headers

    async def test_no_cors_headers_without_configuration(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/health/", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in response.headers
