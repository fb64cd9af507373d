"""Schemathesis over the OpenAPI schema against a running `proveo serve`: never a 5xx.

Run anonymously and as a logged-in admin (with a valid CSRF token), so the generated input
reaches the handlers behind authentication too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.apidocs.test_pages import DOC_PAGES, assert_page_loads_its_own_assets
from tests.fixtures.servers import running_proveo


@pytest.fixture(scope="module")
def proveo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    unlimited = {
        name: "1000000"
        for name in (
            "PROVEO_LOGIN_ATTEMPTS_PER_IP_PER_MINUTE",
            "PROVEO_LOGIN_FAILURES_PER_ACCOUNT",
            "PROVEO_SIGNUP_PER_IP_PER_HOUR",
            "PROVEO_RESEND_PER_EMAIL_PER_HOUR",
        )
    }
    with running_proveo(data_dir, PROVEO_RATE_LIMIT_ENABLED="false", **unlimited) as url:
        yield url


@pytest.fixture(scope="module")
def api_schema(proveo_url: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{proveo_url}/openapi.json")


@pytest.fixture(scope="module")
def admin_session(proveo_url: str) -> tuple[dict[str, str], dict[str, str]]:
    response = httpx.post(
        f"{proveo_url}/api/v1/users/login",
        json={"email": "admin_test@mail.com", "password": "password"},
    )
    assert response.status_code == 200
    cookies = dict(response.cookies)
    return cookies, {"X-CSRF-Token": response.json()["csrf_token"]}


CHECKS = [not_a_server_error, response_schema_conformance]
FUZZ_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
SESSION_ENDING = {("POST", "/api/v1/users/logout"), ("DELETE", "/api/v1/users/me")}


def _fuzz_every_operation(
    api_schema: schemathesis.BaseSchema,
    *,
    cookies: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> list[str]:
    """Run each operation's generated cases; return a description of every failure."""
    failures: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if cookies and (operation.method.upper(), operation.path) in SESSION_ENDING:
            continue  # would end the shared session for the operations after it

        @given(case=operation.as_strategy())
        @FUZZ_SETTINGS
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=CHECKS, cookies=cookies, headers=headers)

        try:
            run()
        except Exception as exc:  # collect all operations' failures, not just the first
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    return failures


def test_anonymous_requests_never_fail_the_server(api_schema: schemathesis.BaseSchema) -> None:
    assert _fuzz_every_operation(api_schema) == []


def test_admin_requests_never_fail_the_server(
    api_schema: schemathesis.BaseSchema, admin_session: tuple[dict[str, str], dict[str, str]]
) -> None:
    cookies, headers = admin_session
    assert _fuzz_every_operation(api_schema, cookies=cookies, headers=headers) == []


@pytest.mark.parametrize("path", DOC_PAGES)
async def test_doc_pages_load_from_the_running_server(proveo_url: str, path: str) -> None:
    """The documentation pages and each asset they name, over real HTTP: no CDN involved."""
    async with httpx.AsyncClient(base_url=proveo_url) as http:
        await assert_page_loads_its_own_assets(http, path)
