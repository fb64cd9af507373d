"""Every client mistake becomes a precise 4xx JSON error, never a 500."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field
from starlette.routing import Mount

from proveo.core.deps import Conn
from proveo.core.errors import Conflict


class _Item(BaseModel):
    name: str = Field(min_length=1, max_length=10)
    count: int


class _ItemExists(Conflict):
    code = "item_exists"


@pytest.fixture
def probe_app(app: FastAPI) -> FastAPI:
    """The real app plus probe routes that exercise the shared parsing and error rendering."""

    @app.post("/api/v1/probe/{item_uuid}", name="probe:create")
    async def create(item_uuid: UUID, item: _Item) -> dict[str, str]:
        if item.name == "taken":
            raise _ItemExists("That item exists")
        return {"uuid": str(item_uuid), "name": item.name}

    @app.get("/api/v1/probe-crash", name="probe:crash")
    async def crash() -> None:
        raise RuntimeError("a bug, not the client's fault")

    # The front end's catch-all mount must stay last, behind the probe routes.
    app.router.routes.sort(key=lambda route: isinstance(route, Mount))
    return app


def _create_url(app: FastAPI) -> str:
    return app.url_path_for("probe:create", item_uuid="6f1c6b0e-7a51-4c1b-9a59-1e0b0c5b7d11")


def _assert_error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert "detail" in body
    return dict(body)


async def _call_probe(app: FastAPI, method: str, name: str) -> httpx.Response:
    """Call a probe route added to `app`, its exceptions rendered as the app renders them."""
    app.router.routes.sort(key=lambda route: isinstance(route, Mount))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        return await http.request(method, app.url_path_for(name))


class TestErrorRendering:
    async def test_malformed_json_is_400(
        self, client: httpx.AsyncClient, probe_app: FastAPI
    ) -> None:
        url = _create_url(probe_app)
        response = await client.post(
            url, content=b'{"name": "x", "count":', headers={"content-type": "application/json"}
        )
        _assert_error(response, 400, "malformed_json")

    async def test_invalid_utf8_body_is_400_malformed_json(
        self, client: httpx.AsyncClient, probe_app: FastAPI
    ) -> None:
        url = _create_url(probe_app)
        response = await client.post(
            url, content=b'{"name": "\xff\xfe", "count": 1}',
            headers={"content-type": "application/json"},
        )  # fmt: skip
        _assert_error(response, 400, "malformed_json")

    async def test_json_nested_too_deep_is_400_malformed_json(
        self, client: httpx.AsyncClient, probe_app: FastAPI
    ) -> None:
        url = _create_url(probe_app)
        depth = 30_000  # within the 64 KiB a JSON body may have
        response = await client.post(
            url, content=b"[" * depth + b"]" * depth, headers={"content-type": "application/json"}
        )
        _assert_error(response, 400, "malformed_json")

    async def test_wrong_types_are_422_with_field_list(
        self, client: httpx.AsyncClient, probe_app: FastAPI
    ) -> None:
        url = _create_url(probe_app)
        response = await client.post(url, json={"name": ["not", "a", "string"], "count": "many"})
        body = _assert_error(response, 422, "validation_error")
        fields = {tuple(error["loc"]) for error in body["detail"]}  # type: ignore[attr-defined]
        assert ("body", "name") in fields
        assert ("body", "count") in fields

    async def test_bad_uuid_in_path_is_422(
        self, client: httpx.AsyncClient, probe_app: FastAPI
    ) -> None:
        response = await client.post("/api/v1/probe/not-a-uuid", json={"name": "a", "count": 1})
        body = _assert_error(response, 422, "validation_error")
        assert body["detail"][0]["loc"] == ["path", "item_uuid"]  # type: ignore[index]

    async def test_field_errors_do_not_echo_huge_input(
        self, client: httpx.AsyncClient, probe_app: FastAPI
    ) -> None:
        url = _create_url(probe_app)
        response = await client.post(url, json={"name": "x" * 60_000, "count": 1})
        _assert_error(response, 422, "validation_error")
        assert len(response.content) < 2000

    async def test_app_error_carries_status_and_code(
        self, client: httpx.AsyncClient, probe_app: FastAPI
    ) -> None:
        url = _create_url(probe_app)
        response = await client.post(url, json={"name": "taken", "count": 1})
        body = _assert_error(response, 409, "item_exists")
        assert body["detail"] == "That item exists"

    async def test_unknown_route_is_404_json(self, client: httpx.AsyncClient) -> None:
        _assert_error(await client.get("/api/v1/nothing-here"), 404, "not_found")

    @pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
    async def test_unknown_api_route_is_404_json_for_every_method(
        self, client: httpx.AsyncClient, method: str
    ) -> None:
        response = await client.request(method, "/api/v1/nothing-here", json={})
        _assert_error(response, 404, "not_found")

    @pytest.mark.parametrize("path", ["/images/", "/images/a/b.webp"])
    async def test_unknown_image_path_is_404_json(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        _assert_error(await client.get(path), 404, "not_found")

    async def test_unknown_page_is_404_json_for_writes_too(self, client: httpx.AsyncClient) -> None:
        _assert_error(await client.post("/no-such-page.html"), 404, "not_found")

    async def test_write_to_a_static_page_is_405(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/index.html")
        _assert_error(response, 405, "method_not_allowed")
        assert response.headers["allow"] == "GET, HEAD"

    async def test_wrong_method_is_405_json(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        response = await client.delete(app.url_path_for("products:list"))
        _assert_error(response, 405, "method_not_allowed")

    async def test_body_over_limit_is_413(
        self, client: httpx.AsyncClient, probe_app: FastAPI
    ) -> None:
        url = _create_url(probe_app)
        response = await client.post(
            url, content=b"x" * (7 * 1024 * 1024), headers={"content-type": "application/json"}
        )
        _assert_error(response, 413, "payload_too_large")

    async def test_streamed_body_over_limit_is_413(
        self, client: httpx.AsyncClient, probe_app: FastAPI
    ) -> None:
        url = _create_url(probe_app)

        async def chunks():  # type: ignore[no-untyped-def]
            for _ in range(8):
                yield b"x" * (1024 * 1024)

        response = await client.post(
            url, content=chunks(), headers={"content-type": "application/json"}
        )
        _assert_error(response, 413, "payload_too_large")

    async def test_a_json_body_over_64_kib_is_413_before_it_is_parsed(
        self, client: httpx.AsyncClient, app: FastAPI
    ) -> None:
        # Found by a review: a 5.6 MB login of 480,000 unknown keys answered 43 MB of errors
        # after 18 s, and /health waited 17 s meanwhile.
        body = "{" + ",".join(f'"k{i}": 0' for i in range(20_000)) + "}"
        assert len(body) > 64 * 1024
        response = await client.post(
            app.url_path_for("users:login"),
            content=body,
            headers={"content-type": "application/json"},
        )
        body_error = _assert_error(response, 413, "payload_too_large")
        assert "JSON" in str(body_error["detail"])

    async def test_many_unknown_keys_answer_a_short_list_of_errors(
        self, client: httpx.AsyncClient, app: FastAPI
    ) -> None:
        body = "{" + ",".join(f'"k{i}": 0' for i in range(3_000)) + "}"
        response = await client.post(
            app.url_path_for("users:login"),
            content=body,
            headers={"content-type": "application/json"},
        )
        errors = _assert_error(response, 422, "validation_error")["detail"]
        assert len(errors) == 21
        assert errors[-1]["type"] == "too_many_errors"

    async def test_unexpected_bug_is_opaque_500_json(self, probe_app: FastAPI) -> None:
        response = await _call_probe(probe_app, "GET", "probe:crash")
        body = _assert_error(response, 500, "internal_error")
        assert "bug" not in str(body["detail"])


class TestLostDatabase:
    async def test_a_connection_out_of_step_with_its_ended_server_is_503(
        self, app: FastAPI
    ) -> None:
        # Found in review: a terminated backend surfaced as asyncpg's InternalClientError
        # ("another operation is in progress") and answered 500.
        @app.get("/api/v1/probe-out-of-step", name="probe:out_of_step")
        async def out_of_step() -> None:
            raise asyncpg.InternalClientError("cannot switch to state 12")

        response = await _call_probe(app, "GET", "probe:out_of_step")
        _assert_error(response, 503, "database_unavailable")
        assert response.headers["retry-after"] == "1"


class TestUnstorableText:
    """Found by schemathesis: a NUL in a query parameter reached PostgreSQL and became a 500."""

    async def test_nul_in_query_parameter_is_400(
        self, client: httpx.AsyncClient, conn: object
    ) -> None:
        from proveo.accounts.schemas import Role
        from tests.factories import create_user, log_in

        admin = await create_user(conn, role=Role.ADMIN)  # type: ignore[arg-type]
        await log_in(client, admin)
        response = await client.get("/api/v1/admin/audit-log", params={"action": "a\x00b"})
        _assert_error(response, 400, "invalid_characters")

    async def test_nul_in_login_email_is_422(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/users/login", json={"email": "a\u0000@proveo.cl", "password": "whatever1"}
        )
        _assert_error(response, 422, "validation_error")


class TestTransactionConflicts:
    """A deadlock or serialization failure is the server's to resolve, never a 500."""

    @pytest.mark.parametrize("sqlstate", ["deadlock_detected", "serialization_failure"])
    async def test_postgres_conflict_is_503_transaction_conflict(
        self, app: FastAPI, sqlstate: str
    ) -> None:
        @app.post("/api/v1/probe-conflict", name="probe:conflict")
        async def conflict(conn: Conn) -> None:
            await conn.execute(
                f"DO $$ BEGIN RAISE EXCEPTION 'probe' USING ERRCODE = '{sqlstate}'; END $$"
            )

        response = await _call_probe(app, "POST", "probe:conflict")
        _assert_error(response, 503, "transaction_conflict")
        assert response.headers["retry-after"] == "1"
