from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from proveo.accounts.schemas import Role
from proveo.app import create_app
from proveo.config import Settings
from proveo.core.cache import Cache
from proveo.core.db import Connection
from proveo.core.http_cache import PUBLIC_REVALIDATE
from tests.factories import create_user, log_in
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

    async def test_private_api_answers_are_never_stored(
        self, client: httpx.AsyncClient, app: FastAPI, conn: Connection
    ) -> None:
        admin = await create_user(conn, role=Role.ADMIN)
        await log_in(client, admin)
        for name in ("users:me", "users:admin_list", "admin:audit_log", "admin:search_stats"):
            response = await client.get(app.url_path_for(name))
            assert response.status_code == 200, (name, response.text)
            assert response.headers["cache-control"] == "no-store", name
        missing = await client.get("/api/v1/missing")
        assert missing.headers["cache-control"] == "no-store"

    async def test_answers_with_their_own_cache_control_keep_it(
        self, client: httpx.AsyncClient
    ) -> None:
        products = await client.get("/api/v1/products/")
        assert products.headers["cache-control"] == PUBLIC_REVALIDATE
        assert "etag" in products.headers
        page = await client.get("/login/")
        assert page.headers["cache-control"] == PUBLIC_REVALIDATE

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


class TestHead:
    """Found by an adversary: HEAD on API reads answered 405 while HEAD / answered 200."""

    async def test_head_on_an_api_read_answers_like_get_without_a_body(
        self, client: httpx.AsyncClient
    ) -> None:
        get = await client.get("/api/v1/communes/")
        head = await client.head("/api/v1/communes/")
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-length"] == get.headers["content-length"]
        assert head.headers["content-type"] == get.headers["content-type"]

    async def test_head_on_a_write_only_route_is_405(self, client: httpx.AsyncClient) -> None:
        response = await client.head("/api/v1/users/login")
        assert response.status_code == 405


class TestTrailingSlashRedirects:
    """Found by an adversary: `PUT /api/v1/health` with `Host: evil.example` got a 307 there."""

    async def test_reads_are_redirected_relative_to_this_server(
        self, client: httpx.AsyncClient
    ) -> None:
        for method in ("GET", "HEAD"):
            response = await client.request(
                method, "/api/v1/health?probe=1", headers={"Host": "evil.example"}
            )
            assert response.status_code == 307
            assert response.headers["location"] == "/api/v1/health/?probe=1"

    async def test_a_path_that_would_redirect_to_another_host_is_a_404(
        self, client: httpx.AsyncClient
    ) -> None:
        """Found by an adversary: `/%2Fevil.example%2F..%2Flogin` got a 307 to
        `//evil.example/../login/`, which browsers follow to evil.example."""
        for path in ("/%2Fevil.example%2F..%2Flogin", "/%2Fevil.example%2F..%2Fcompany%2F."):
            response = await client.get(path)
            assert response.status_code == 404, (path, response.status_code)
            assert "location" not in response.headers, path
        # A backslash stays encoded in the Location: a path on the host asked, not another.
        response = await client.get("/%5Cevil.example%2F..%2Flogin")
        location = urlsplit(response.headers.get("location", "/"))
        assert location.netloc in ("", client.base_url.netloc.decode())
        assert location.path.startswith("/%5C")

    async def test_other_methods_get_the_404_of_an_unknown_route(
        self, client: httpx.AsyncClient
    ) -> None:
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            response = await client.request(
                method, "/api/v1/health", headers={"Host": "evil.example"}
            )
            assert response.status_code == 404, method
            assert response.json()["code"] == "not_found"
            assert "location" not in response.headers
