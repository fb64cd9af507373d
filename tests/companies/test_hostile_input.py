"""Hostile publishes: each answered with its 4xx, and nothing half-written (no row without its
image, no image without its row)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image

from proveo.accounts.schemas import UserRecord
from proveo.core.db import Connection
from proveo.integrations.storage import ImageStorage
from tests.companies.support import (
    COMPANIES_URL,
    form,
    form_parts,
    jpeg,
    publish,
    raw_multipart,
)
from tests.factories import LoggedIn, create_user, log_in


@pytest.fixture
async def owner(conn: Connection) -> UserRecord:
    return await create_user(conn)


@pytest.fixture
async def session(client: httpx.AsyncClient, owner: UserRecord) -> LoggedIn:
    return await log_in(client, owner)


async def _assert_nothing_written(
    conn: Connection, storage: ImageStorage, owner: UserRecord
) -> None:
    assert (
        await conn.fetchval("SELECT count(*) FROM proveo.company WHERE user_id = $1", owner.id) == 0
    )
    assert await storage.list_names() == []


def _field_types(response: httpx.Response) -> dict[str, str]:
    body = response.json()
    assert body["code"] == "validation_error", body
    return {error["loc"][-1]: error["type"] for error in body["detail"]}


class TestFieldLimits:
    @pytest.mark.parametrize(
        ("field", "value", "error"),
        [
            ("name", "x" * 101, "string_too_long"),
            ("name", " \u200b ", "blank"),
            ("name", "Acme\u202egnp.exe", "invalid_characters"),
            ("address", "a" * 201, "string_too_long"),
            ("description_es", "d" * 1001, "string_too_long"),
            ("description_en", "\n\n\u200b\n", "blank"),
            ("description_es", "Hola \u2066mundo", "invalid_characters"),
            ("phone", "12345", "invalid_phone"),
            ("phone", "+56 9 8231 4576 ext. 9999999999999999999999999999", "string_too_long"),
            ("phone", "call me", "invalid_phone"),
            ("phone", "9 8231 4576 ext 12", "phone_extension"),
            ("phone", "+56 9 8231 4576;ext=99", "phone_extension"),
            ("phone", "+56 2 2274 8190 anexo 3", "phone_extension"),
            ("phone", "+56 9 8231 4576 x12", "phone_extension"),
            ("email", "not-an-email", "value_error"),
            ("email", "a@" + "b" * 250 + ".cl", "value_error"),
            ("lang", "fr", "literal_error"),
            ("commune_uuid", "not-a-uuid", "uuid_parsing"),
        ],
    )
    async def test_invalid_field_is_a_422_naming_it(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        storage: ImageStorage,
        owner: UserRecord,
        session: LoggedIn,
        field: str,
        value: str,
        error: str,
    ) -> None:
        overrides: dict[str, str | None] = {field: value}
        if field == "commune_uuid":
            overrides["commune_name"] = None
        response = await publish(client, session, **overrides)
        assert response.status_code == 422, response.text
        assert _field_types(response).get(field) == error
        await _assert_nothing_written(conn, storage, owner)

    async def test_a_phone_extension_is_refused_saying_so(
        self, client: httpx.AsyncClient, session: LoggedIn
    ) -> None:
        response = await publish(client, session, phone="9 8231 4576 ext 12")
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert error["loc"][-1] == "phone"
        assert "without an extension" in error["msg"]

    @pytest.mark.parametrize("field", ["name", "address", "phone", "email", "lang"])
    async def test_missing_required_field_is_a_422(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        storage: ImageStorage,
        owner: UserRecord,
        session: LoggedIn,
        field: str,
    ) -> None:
        response = await publish(client, session, **{field: None})
        assert response.status_code == 422
        assert _field_types(response)[field] == "missing"
        await _assert_nothing_written(conn, storage, owner)

    async def test_limits_are_inclusive(self, client: httpx.AsyncClient, session: LoggedIn) -> None:
        response = await publish(
            client, session, name="n" * 100, address="a" * 200, description_es="d" * 1000,
            description_en="e",
        )  # fmt: skip
        assert response.status_code == 201, response.text
        assert len(response.json()["description_es"]) == 1000

    async def test_both_descriptions_missing_is_a_422_on_both(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        storage: ImageStorage,
        owner: UserRecord,
        session: LoggedIn,
    ) -> None:
        response = await publish(client, session, description_es=None, description_en="")
        assert response.status_code == 422
        assert _field_types(response) == {"description_es": "missing", "description_en": "missing"}
        await _assert_nothing_written(conn, storage, owner)

    @pytest.mark.parametrize(
        ("overrides", "errors"),
        [
            ({"commune_name": "Gotham"}, {"commune_name": "unknown_commune"}),
            ({"product_name": "Alquimia"}, {"product_name": "unknown_product"}),
            (
                {"commune_name": None, "commune_uuid": "00000000-0000-4000-8000-000000000000"},
                {"commune_uuid": "unknown_commune"},
            ),
            (
                {"product_name": None, "product_uuid": "00000000-0000-4000-8000-000000000000"},
                {"product_uuid": "unknown_product"},
            ),
            ({"commune_name": None}, {"commune_name": "missing"}),
            (
                {"product_uuid": "00000000-0000-4000-8000-000000000000"},
                {"product_uuid": "conflicting_fields"},
            ),
        ],
    )
    async def test_unknown_or_ambiguous_references_are_422(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        storage: ImageStorage,
        owner: UserRecord,
        session: LoggedIn,
        overrides: dict[str, str | None],
        errors: dict[str, str],
    ) -> None:
        response = await publish(client, session, **overrides)
        assert response.status_code == 422
        assert _field_types(response) == errors
        await _assert_nothing_written(conn, storage, owner)


class TestTextIsStoredAsText:
    async def test_html_and_script_are_kept_verbatim(
        self, client: httpx.AsyncClient, conn: Connection, session: LoggedIn
    ) -> None:
        script = '<script>alert("x")</script><img src=x onerror=alert(1)>'
        response = await publish(client, session, name=script[:100], description_es=script)
        assert response.status_code == 201
        stored = await conn.fetchrow(
            "SELECT name, description_es FROM proveo.company WHERE uuid = $1",
            response.json()["uuid"],
        )
        assert stored["description_es"] == script
        assert stored["name"] == script[:100]
        assert response.headers["content-type"] == "application/json"

    async def test_control_characters_are_removed_and_lines_kept(
        self, client: httpx.AsyncClient, session: LoggedIn
    ) -> None:
        response = await publish(
            client, session, name="  Acme\x07 Ltda\u200b ", address="Calle\t1\x1b[31m",
            description_es="Línea uno\r\n\r\n\r\n\r\nLínea\x0b dos  \n",
        )  # fmt: skip
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["name"] == "Acme Ltda"
        assert body["address"] == "Calle1[31m"
        assert body["description_es"] == "Línea uno\n\nLínea dos"


class TestHostileUploads:
    @pytest.mark.parametrize(
        ("data", "filename"),
        [
            (b"just some text, renamed\n" * 20, "logo.jpg"),
            (
                b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script>'
                b'<rect width="10" height="10"/></svg>',
                "logo.svg",
            ),
            (b"GIF89a" + b"\x00" * 64, "logo.gif"),
            (jpeg()[:600], "truncated.jpg"),
        ],
        ids=["text-as-jpg", "svg", "gif", "truncated-jpeg"],
    )
    async def test_what_is_not_a_jpeg_png_or_webp_is_a_415(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        storage: ImageStorage,
        owner: UserRecord,
        session: LoggedIn,
        data: bytes,
        filename: str,
    ) -> None:
        response = await publish(client, session, image=data, filename=filename)
        assert response.status_code == 415, response.text
        assert response.json()["code"] == "unsupported_image"
        await _assert_nothing_written(conn, storage, owner)

    async def test_missing_or_empty_image_is_a_422(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        storage: ImageStorage,
        owner: UserRecord,
        session: LoggedIn,
    ) -> None:
        missing = await client.post(COMPANIES_URL, data=form(), headers=session.headers)
        assert missing.status_code == 422
        assert _field_types(missing) == {"image": "missing"}
        empty = await publish(client, session, image=b"")
        assert empty.status_code == 422
        assert _field_types(empty) == {"image": "missing"}
        as_text = await client.post(
            COMPANIES_URL, data=form() | {"image": "not a file"}, headers=session.headers
        )
        assert as_text.status_code == 422
        await _assert_nothing_written(conn, storage, owner)

    async def test_an_image_over_5_mb_is_a_413(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        storage: ImageStorage,
        owner: UserRecord,
        session: LoggedIn,
    ) -> None:
        out = io.BytesIO()
        Image.effect_noise((1400, 1400), 120).convert("RGB").save(out, "PNG")
        big = out.getvalue() + b"\x00" * max(0, 5 * 1024 * 1024 + 1 - len(out.getvalue()))
        response = await publish(client, session, image=big, filename="big.png")
        assert response.status_code == 413
        assert response.json()["code"] == "image_too_large"
        await _assert_nothing_written(conn, storage, owner)

    async def test_an_oversized_multipart_body_is_a_413(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        storage: ImageStorage,
        owner: UserRecord,
        session: LoggedIn,
    ) -> None:
        response = await publish(client, session, image=b"\xff\xd8" + b"\x00" * (7 * 1024 * 1024))
        assert response.status_code == 413
        assert response.json()["code"] == "payload_too_large"
        await _assert_nothing_written(conn, storage, owner)

    async def test_a_streamed_body_without_length_is_cut_at_the_limit(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        storage: ImageStorage,
        owner: UserRecord,
        session: LoggedIn,
    ) -> None:
        boundary = "proveo-boundary"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; '
            'filename="x.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()

        async def body() -> AsyncIterator[bytes]:
            yield head
            for _ in range(8):
                yield b"\x00" * (1024 * 1024)

        response = await client.post(
            COMPANIES_URL,
            content=body(),
            headers=session.headers | {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert response.status_code == 413
        await _assert_nothing_written(conn, storage, owner)

    async def test_an_oversized_text_part_is_refused(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        storage: ImageStorage,
        owner: UserRecord,
        session: LoggedIn,
    ) -> None:
        response = await publish(client, session, description_es="d" * (2 * 1024 * 1024))
        assert response.status_code == 413
        assert response.json()["code"] == "payload_too_large"
        await _assert_nothing_written(conn, storage, owner)

    async def test_a_malformed_multipart_body_is_a_400(
        self, client: httpx.AsyncClient, session: LoggedIn
    ) -> None:
        response = await client.post(
            COMPANIES_URL,
            content=b"--x\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--x--\r\n",
            headers=session.headers | {"Content-Type": "multipart/form-data; boundary=x"},
        )
        assert response.status_code == 400
        assert response.json()["code"] == "malformed_form"

    async def test_a_nul_byte_in_a_field_is_refused_and_nothing_is_written(
        self, client: httpx.AsyncClient, session: LoggedIn
    ) -> None:
        response = await publish(client, session, address="Calle \x00 1")
        assert response.status_code == 422
        assert response.json()["detail"][0]["type"] == "invalid_characters"
        assert (await client.get("/api/v1/companies/user/my-company")).status_code == 404


class TestFormText:
    """Starlette reads a text part that is not UTF-8 as Latin-1: it was stored garbled."""

    @pytest.mark.parametrize(
        "name", [b"Caf\xe9 \xff", b"A\xed\xa0\x80B", b"\xc3", b"Caf\xc3\xa9\x80"]
    )
    async def test_a_text_part_that_is_not_utf8_is_a_400_and_nothing_is_written(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        storage: ImageStorage,
        owner: UserRecord,
        session: LoggedIn,
        name: bytes,
    ) -> None:
        body, content_type = raw_multipart(
            [*form_parts(name=None), ("name", name)], [("image", jpeg())]
        )
        response = await client.post(
            COMPANIES_URL, content=body, headers=session.headers | content_type
        )
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "malformed_form"
        assert "'name'" in response.json()["detail"]
        await _assert_nothing_written(conn, storage, owner)

    async def test_utf8_text_sent_raw_is_stored_as_sent(
        self, client: httpx.AsyncClient, session: LoggedIn
    ) -> None:
        body, content_type = raw_multipart(
            [*form_parts(name=None), ("name", "Café Ñandú 漢字 🙂".encode())], [("image", jpeg())]
        )
        response = await client.post(
            COMPANIES_URL, content=body, headers=session.headers | content_type
        )
        assert response.status_code == 201, response.text
        assert response.json()["name"] == "Café Ñandú 漢字 🙂"

    async def test_a_field_name_that_is_not_utf8_is_a_400(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        storage: ImageStorage,
        owner: UserRecord,
        session: LoggedIn,
    ) -> None:
        body, content_type = raw_multipart([*form_parts(), ("nX", b"x")], [("image", jpeg())])
        body = body.replace(b'name="nX"', b'name="n\xe9"')
        response = await client.post(
            COMPANIES_URL, content=body, headers=session.headers | content_type
        )
        assert (response.status_code, response.json()["code"]) == (400, "malformed_form")
        await _assert_nothing_written(conn, storage, owner)

    @pytest.mark.parametrize("raw", [b"name=Caf%E9", b"name=Caf\xc3\xa9"])
    async def test_an_urlencoded_form_must_be_percent_encoded_utf8(
        self, client: httpx.AsyncClient, session: LoggedIn, raw: bytes
    ) -> None:
        response = await client.post(
            COMPANIES_URL,
            content=raw,
            headers=session.headers | {"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert (response.status_code, response.json()["code"]) == (400, "malformed_form")

    async def test_an_unknown_charset_is_a_400_not_read_as_latin1(
        self, client: httpx.AsyncClient, session: LoggedIn
    ) -> None:
        body, content_type = raw_multipart(form_parts(), [("image", jpeg())])
        headers = {"Content-Type": content_type["Content-Type"] + "; charset=klingon"}
        response = await client.post(COMPANIES_URL, content=body, headers=session.headers | headers)
        assert (response.status_code, response.json()["code"]) == (400, "malformed_form")


class TestFieldNames:
    """The form parser kept the last of repeated parts and dropped unknown ones, silently."""

    @pytest.mark.parametrize(
        ("extra_parts", "files", "field"),
        [
            ([("name", b"Otro Nombre")], [("image", jpeg())], "name"),
            ([], [("image", b"not an image at all"), ("image", jpeg())], "image"),
        ],
        ids=["text-part", "image-even-when-the-last-is-good"],
    )
    async def test_a_repeated_part_is_a_422_naming_it(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        storage: ImageStorage,
        owner: UserRecord,
        session: LoggedIn,
        extra_parts: list[tuple[str, bytes]],
        files: list[tuple[str, bytes]],
        field: str,
    ) -> None:
        body, content_type = raw_multipart([*form_parts(), *extra_parts], files)
        response = await client.post(
            COMPANIES_URL, content=body, headers=session.headers | content_type
        )
        assert response.status_code == 422, response.text
        assert _field_types(response) == {field: "duplicate_field"}
        await _assert_nothing_written(conn, storage, owner)

    async def test_an_unknown_field_is_a_422_naming_it(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        storage: ImageStorage,
        owner: UserRecord,
        session: LoggedIn,
    ) -> None:
        response = await publish(client, session, descripton_es="typo")
        assert response.status_code == 422, response.text
        assert _field_types(response) == {"descripton_es": "unknown_field"}
        await _assert_nothing_written(conn, storage, owner)

    async def test_a_stranger_is_told_to_log_in_first(self, client: httpx.AsyncClient) -> None:
        response = await publish(client, None, nmae="typo")
        assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
