"""The OpenAPI document states every error an operation can answer, and how to authenticate.

When a test here fails for a new route, add what it names to the route's decorator:
`summary="..."` and `responses=error_responses(...)` from `proveo.core.openapi`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant

from proveo.core.openapi import api_routes, error_responses
from proveo.core.overload import LIVENESS_PATHS

WRITE_METHODS = {"post", "put", "patch", "delete"}
RATE_LIMIT_EXEMPT = "/api/v1/health"
# The dependencies through which a route reaches the database or needs an administrator.
DATABASE_DEPENDENCIES = {"get_database", "_write_connection"}
ADMIN_DEPENDENCIES = {"admin_user", "admin_user_brief"}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _dependency_names(app: FastAPI) -> dict[tuple[str, str], set[str]]:
    names: dict[tuple[str, str], set[str]] = {}
    for route in api_routes(app):
        called = {getattr(call, "__name__", "") for call in _calls(route.dependant)}
        for method in route.methods or ():
            names[(str(route.path_format), method.lower())] = called
    return names


@pytest.fixture
async def schema(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def _required_errors(
    path: str, method: str, operation: dict[str, Any], dependencies: set[str]
) -> dict[int, str]:
    """The statuses this operation can answer, each with the reason, from its shape."""
    required: dict[int, str] = {}
    if operation.get("parameters") or "requestBody" in operation:
        required[422] = "it takes input"
    if method in WRITE_METHODS:
        required[403] = "writes are refused cross-origin or without the CSRF token"
    if "requestBody" in operation:
        required[408] = "its body can arrive too late"
        required[413] = "it takes a body"
        if any(media.endswith("json") for media in operation["requestBody"]["content"]):
            required[400] = "its JSON body can be malformed"
    if not path.startswith(RATE_LIMIT_EXEMPT):
        required[429] = "the rate limits apply"
    if {} not in operation.get("security", [{}]):
        required[401] = "it needs a session"
    if dependencies & DATABASE_DEPENDENCIES:
        required[503] = "it uses the database"
    if dependencies & ADMIN_DEPENDENCIES:
        required[403] = "it needs an administrator"
    return required


def _is_html_page(operation: dict[str, Any]) -> bool:
    return "text/html" in operation["responses"].get("200", {}).get("content", {})


class TestEveryOperationDocumentsItsErrors:
    async def test_each_operation_lists_the_errors_it_can_answer(
        self, schema: dict[str, Any], app: FastAPI
    ) -> None:
        dependencies = _dependency_names(app)
        problems = []
        for path, method, operation in _operations(schema):
            where = f"{method.upper()} {path} ({operation['operationId']})"
            uses = dependencies.get((path, method), set())
            for status, reason in _required_errors(path, method, operation, uses).items():
                if str(status) not in operation["responses"]:
                    problems.append(
                        f"{where}: document {status} ({reason}): responses=error_responses("
                        f"..., {status})"
                    )
        assert problems == []

    async def test_database_and_overload_503s_are_both_described(
        self, schema: dict[str, Any], app: FastAPI
    ) -> None:
        dependencies = _dependency_names(app)
        problems = []
        for path, method, operation in _operations(schema):
            where = f"{method.upper()} {path}"
            description = operation["responses"].get("503", {}).get("description", "")
            if path not in LIVENESS_PATHS and "overloaded" not in description:
                problems.append(f"{where}: 503 does not mention load shedding (`overloaded`)")
            uses_database = dependencies.get((path, method), set()) & DATABASE_DEPENDENCIES
            if uses_database and "database" not in description:
                problems.append(f"{where}: document 503 (it uses the database)")
        assert problems == []

    async def test_every_error_uses_the_error_response_schema(self, schema: dict[str, Any]) -> None:
        problems = []
        for path, method, operation in _operations(schema):
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                content = response.get("content", {})
                if _is_html_page(operation) and set(content) == {"text/html"}:
                    continue
                ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
                if ref != "#/components/schemas/ErrorResponse":
                    problems.append(
                        f"{method.upper()} {path}: {status} is not ErrorResponse: declare it "
                        "with responses=error_responses(...)"
                    )
        assert problems == []
        error = schema["components"]["schemas"]["ErrorResponse"]
        assert set(error["required"]) == {"detail", "code"}
        assert "HTTPValidationError" not in schema["components"]["schemas"]

    async def test_every_route_behind_a_session_dependency_requires_the_cookie(
        self, schema: dict[str, Any]
    ) -> None:
        # /me/password checks its session with its own dependency (no pooled connection held).
        for path, method in [("/api/v1/users/me", "get"), ("/api/v1/users/me/password", "post")]:
            operation = schema["paths"][path][method]
            assert {} not in operation["security"], f"{method.upper()} {path}"
            assert "401" in operation["responses"]

    async def test_the_rules_see_the_routes_that_use_the_database(self, app: FastAPI) -> None:
        # Guards the detection above against renamed dependencies.
        dependencies = _dependency_names(app)
        assert dependencies[("/api/v1/products/", "get")] & DATABASE_DEPENDENCIES
        assert dependencies[("/api/v1/users/me", "delete")] & DATABASE_DEPENDENCIES
        assert dependencies[("/api/v1/admin/audit-log", "get")] & ADMIN_DEPENDENCIES

    async def test_documented_errors_match_what_the_api_answers(
        self, client: httpx.AsyncClient, schema: dict[str, Any]
    ) -> None:
        operation = schema["paths"]["/api/v1/products/{product_uuid}"]["put"]
        response = await client.put(
            "/api/v1/products/6f1c6b0e-7a51-4c1b-9a59-1e0b0c5b7d11", json={"name_es": "x"}
        )
        assert response.status_code == 401  # no session
        assert response.json()["code"] == "not_authenticated"
        assert "401" in operation["responses"]


class TestReadableOperations:
    def test_every_route_has_a_summary_and_a_domain_name(self, app: FastAPI) -> None:
        problems = []
        for route in api_routes(app):
            where = f"{sorted(route.methods or ())} {route.path_format}"
            if not route.summary:
                problems.append(f"{where}: add summary='...' to its decorator")
            if ":" not in str(route.name):
                problems.append(f"{where}: name it 'domain:action' (name=...)")
        assert problems == []

    async def test_operation_ids_are_the_route_names(self, schema: dict[str, Any]) -> None:
        ids = [operation["operationId"] for _, _, operation in _operations(schema)]
        assert "users_signup" in ids
        assert "products_update" in ids
        assert len(ids) == len(set(ids))


class TestSecuritySchemes:
    async def test_session_cookie_and_csrf_header_are_declared(
        self, schema: dict[str, Any]
    ) -> None:
        schemes = schema["components"]["securitySchemes"]
        assert schemes["sessionCookie"] == schemes["sessionCookie"] | {
            "type": "apiKey",
            "in": "cookie",
            "name": "access_token",
        }
        assert schemes["csrfHeader"] == schemes["csrfHeader"] | {
            "type": "apiKey",
            "in": "header",
            "name": "X-CSRF-Token",
        }

    async def test_operations_state_what_they_need(self, schema: dict[str, Any]) -> None:
        paths = schema["paths"]
        assert paths["/api/v1/users/me"]["get"]["security"] == [{"sessionCookie": []}]
        assert paths["/api/v1/users/me"]["delete"]["security"] == [
            {"sessionCookie": [], "csrfHeader": []}
        ]
        # Logout acts on the session when there is one, and works without.
        assert {} in paths["/api/v1/users/logout"]["post"]["security"]
        for path, method in [
            ("/api/v1/users/login", "post"),
            ("/api/v1/products/", "get"),
            ("/api/v1/health/", "get"),
        ]:
            assert "security" not in paths[path][method], path


class TestErrorResponsesHelper:
    def test_standard_and_specific_descriptions(self) -> None:
        responses = error_responses(503, (404, "No such thing (`thing_not_found`)"))
        assert responses[404]["description"] == "No such thing (`thing_not_found`)"
        assert "database_unavailable" in responses[503]["description"]
        assert {response["model"].__name__ for response in responses.values()} == {"ErrorResponse"}
