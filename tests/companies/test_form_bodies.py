"""The company forms take a whole form and read every field sent (found in review).

Before: an edit's empty field was read as "not sent", a JSON body to the multipart routes as an
empty form (200 with nothing changed), and a truncated multipart body as whatever fields came
before the cut (a 422 "field required", or a 200 that applied half an edit).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from proveo.accounts.schemas import Role, UserRecord
from proveo.companies.schemas import CompanyRecord
from proveo.core.db import Connection
from tests.companies.support import COMPANIES_URL, MY_COMPANY_URL, form, jpeg
from tests.factories import LoggedIn, create_company, create_user, log_in


@pytest.fixture
async def owner_user(conn: Connection) -> UserRecord:
    return await create_user(conn)


@pytest.fixture
async def company(conn: Connection, owner_user: UserRecord) -> CompanyRecord:
    return await create_company(conn, owner_user.id)


@pytest.fixture
async def owner(client: httpx.AsyncClient, owner_user: UserRecord) -> LoggedIn:
    return await log_in(client, owner_user)


@pytest.fixture
async def admin(client: httpx.AsyncClient, conn: Connection) -> LoggedIn:
    return await log_in(client, await create_user(conn, role=Role.ADMIN))


def _admin_url(company: CompanyRecord) -> str:
    return f"/api/v1/companies/admin/companies/{company.uuid}"


async def _unchanged(conn: Connection, company: CompanyRecord) -> bool:
    row = await conn.fetchrow(
        "SELECT name, address, description_es, description_en, updated_at "
        "FROM proveo.company WHERE id = $1",
        company.id,
    )
    assert row is not None
    return tuple(row) == (
        company.name, company.address, company.description_es, company.description_en,
        company.updated_at,
    )  # fmt: skip


def _multipart(fields: dict[str, str], *, image: bytes | None = None) -> tuple[bytes, str]:
    """A multipart form's bytes and Content-Type, as a browser sends it."""
    boundary = "----proveo-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    if image is not None:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="logo.jpg"'
            "\r\nContent-Type: image/jpeg\r\n\r\n".encode()
            + image
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class TestEmptyFieldsInAnEdit:
    @pytest.mark.parametrize(
        "field",
        ["description_es", "description_en", "name", "address", "phone", "email",
         "commune_name", "product_uuid", "lang"],
    )  # fmt: skip
    async def test_an_empty_field_sent_is_a_422_on_it_not_ignored(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        company: CompanyRecord,
        owner: LoggedIn,
        field: str,
    ) -> None:
        response = await client.patch(MY_COMPANY_URL, data={field: ""}, headers=owner.headers)
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == "validation_error"
        assert [(e["loc"], e["type"]) for e in body["detail"]] == [(["body", field], "blank")]
        assert await _unchanged(conn, company)

    @pytest.mark.parametrize("value", ["   ", "\u200b", "\n\n"])
    async def test_a_description_blank_after_cleaning_is_a_422(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        company: CompanyRecord,
        owner: LoggedIn,
        value: str,
    ) -> None:
        response = await client.patch(
            MY_COMPANY_URL, data={"description_es": value}, headers=owner.headers
        )
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["type"] == "blank"
        assert await _unchanged(conn, company)

    async def test_the_admin_edit_refuses_it_too(
        self, client: httpx.AsyncClient, conn: Connection, company: CompanyRecord, admin: LoggedIn
    ) -> None:
        response = await client.patch(
            _admin_url(company), data={"description_en": ""}, headers=admin.headers
        )
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", "description_en"]
        assert await _unchanged(conn, company)

    async def test_an_empty_file_part_is_still_no_new_logo(
        self, client: httpx.AsyncClient, company: CompanyRecord, owner: LoggedIn
    ) -> None:
        # What a browser sends for a file input left empty.
        response = await client.patch(
            MY_COMPANY_URL,
            data={"name": "Otro Nombre"},
            files={"image": ("", b"", "application/octet-stream")},
            headers=owner.headers,
        )
        assert response.status_code == 200, response.text
        assert response.json()["name"] == "Otro Nombre"


class TestBodiesThatAreNotForms:
    @pytest.mark.parametrize(
        ("content", "content_type"),
        [
            (b'{"name": "Otro Nombre"}', "application/json"),
            (b"name=Otro Nombre", "text/plain"),
            (b"", None),
        ],
    )
    @pytest.mark.parametrize("as_admin", [False, True])
    async def test_an_edit_that_is_not_a_form_is_a_415(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        company: CompanyRecord,
        owner_user: UserRecord,
        content: bytes,
        content_type: str | None,
        as_admin: bool,
    ) -> None:
        if as_admin:
            session = await log_in(client, await create_user(conn, role=Role.ADMIN))
            url = _admin_url(company)
        else:
            session, url = await log_in(client, owner_user), MY_COMPANY_URL
        headers = session.headers | ({"Content-Type": content_type} if content_type else {})
        response = await client.patch(url, content=content, headers=headers)
        assert response.status_code == 415, response.text
        assert response.json()["code"] == "unsupported_media_type"
        assert await _unchanged(conn, company)

    async def test_a_publish_that_is_not_a_form_is_a_415(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        session = await log_in(client, await create_user(conn))
        response = await client.post(COMPANIES_URL, json=form(), headers=session.headers)
        assert response.status_code == 415, response.text
        assert response.json()["code"] == "unsupported_media_type"

    async def test_an_urlencoded_edit_still_works(
        self, client: httpx.AsyncClient, company: CompanyRecord, owner: LoggedIn
    ) -> None:
        response = await client.patch(
            MY_COMPANY_URL, data={"name": "Otro Nombre"}, headers=owner.headers
        )
        assert response.status_code == 200, response.text

    async def test_openapi_documents_the_415(self, app: FastAPI) -> None:
        paths: dict[str, Any] = app.openapi()["paths"]
        for path, method in (
            ("/api/v1/companies", "post"),
            ("/api/v1/companies/user/my-company", "patch"),
            ("/api/v1/companies/admin/companies/{company_uuid}", "patch"),
        ):
            description = paths[path][method]["responses"]["415"]["description"]
            assert "unsupported_media_type" in description


class TestTruncatedForms:
    async def test_a_truncated_edit_is_a_400_and_applies_nothing(
        self, client: httpx.AsyncClient, conn: Connection, company: CompanyRecord, owner: LoggedIn
    ) -> None:
        body, content_type = _multipart({"name": "Otro Nombre", "address": "Calle Nueva 99"})
        cut = body[: body.index(b"Calle Nueva") + 5]  # the name part is whole, the rest is not
        response = await client.patch(
            MY_COMPANY_URL, content=cut, headers=owner.headers | {"Content-Type": content_type}
        )
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "malformed_form"
        assert await _unchanged(conn, company)

    @pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
    async def test_a_truncated_publish_is_a_400_not_a_missing_field(
        self, client: httpx.AsyncClient, conn: Connection, keep: float
    ) -> None:
        user = await create_user(conn)
        session = await log_in(client, user)
        body, content_type = _multipart(form(), image=jpeg())
        response = await client.post(
            COMPANIES_URL,
            content=body[: int(len(body) * keep)],
            headers=session.headers | {"Content-Type": content_type},
        )
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "malformed_form"
        count = await conn.fetchval(
            "SELECT count(*) FROM proveo.company WHERE user_id = $1", user.id
        )
        assert count == 0

    async def test_a_garbled_body_is_a_400(
        self, client: httpx.AsyncClient, company: CompanyRecord, owner: LoggedIn
    ) -> None:
        response = await client.patch(
            MY_COMPANY_URL,
            content=b"\x00\xffgarbage without any boundary\r\n",
            headers=owner.headers | {"Content-Type": "multipart/form-data; boundary=zzz"},
        )
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "malformed_form"

    async def test_a_whole_form_with_an_epilogue_is_accepted(
        self, client: httpx.AsyncClient, owner: LoggedIn, company: CompanyRecord
    ) -> None:
        body, content_type = _multipart({"name": "Otro Nombre"})
        response = await client.patch(
            MY_COMPANY_URL,
            content=body + b"an epilogue the parser ignores\r\n",
            headers=owner.headers | {"Content-Type": content_type},
        )
        assert response.status_code == 200, response.text
        assert response.json()["name"] == "Otro Nombre"
