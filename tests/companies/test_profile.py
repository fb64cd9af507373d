"""A profile a buyer can trust: website, RUT, year founded, size band, up to three categories and
the regions served; through publishing, the owner's edits and an admin's (audit-logged)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import TypeAdapter, ValidationError

from proveo.accounts.schemas import Role
from proveo.catalog.data import REGION_METROPOLITANA, REGION_VALPARAISO, REGIONS
from proveo.companies import repository as companies_repository
from proveo.companies.schemas import (
    Rut,
    Website,
    format_rut,
    match_region,
    normalise_rut,
    rut_check_digit,
)
from proveo.core.db import Connection
from tests.companies.support import MY_COMPANY_URL, jpeg
from tests.factories import LoggedIn, create_company, create_user, log_in

COMPANIES_URL = "/api/v1/companies"


class TestRutCheckDigit:
    @pytest.mark.parametrize(
        ("number", "digit"),
        [(12345678, "5"), (76086428, "5"), (11111111, "1"), (10000013, "K"), (1, "9"), (6, "K")],
    )
    def test_modulo_11(self, number: int, digit: str) -> None:
        assert rut_check_digit(number) == digit

    @pytest.mark.parametrize(
        "written", ["12.345.678-5", "12345678-5", "123456785", " 12 345 678-5 ", "012.345.678-5"]
    )
    def test_every_usual_spelling_is_stored_the_same_way(self, written: str) -> None:
        assert normalise_rut(written) == "12345678-5"

    def test_a_lower_case_k_is_upper_case(self) -> None:
        assert normalise_rut("10.000.013-k") == "10000013-K"
        assert normalise_rut("10000013k") == "10000013-K"

    def test_a_wrong_check_digit_says_which_is_right(self) -> None:
        with pytest.raises(ValidationError) as caught:
            TypeAdapter(Rut).validate_python("12.345.678-9")
        [error] = caught.value.errors()
        assert error["type"] == "invalid_rut"
        assert "the check digit of 12.345.678 is 5" in error["msg"]

    @pytest.mark.parametrize("written", ["abc", "12.345.678", "1-", "123456789-0", "0-0", "-5"])
    def test_what_is_no_rut_is_refused(self, written: str) -> None:
        with pytest.raises(ValidationError) as caught:
            TypeAdapter(Rut).validate_python(written)
        assert caught.value.errors()[0]["type"] in {"invalid_rut", "string_too_short"}

    def test_formatted_with_dots_and_dash(self) -> None:
        assert format_rut("12345678-5") == "12.345.678-5"
        assert format_rut("1000013-K") == "1.000.013-K"
        assert format_rut("9-9") == "9-9"


class TestWebsite:
    @pytest.mark.parametrize(
        ("written", "stored"),
        [
            ("https://www.empresa.cl", "https://www.empresa.cl"),
            ("http://empresa.cl/contacto?x=1", "http://empresa.cl/contacto?x=1"),
            ("www.empresa.cl", "https://www.empresa.cl"),
            ("empresa.cl", "https://empresa.cl"),
            ("https://ñandú.cl", "https://ñandú.cl"),
            ("HTTPS://Empresa.CL/Contacto", "https://empresa.cl/Contacto"),
            ("https://empresa.cl:8443/#precios", "https://empresa.cl:8443/#precios"),
            # Found by the adversary: look-alike hosts shown as the real ones. Another script
            # or a look-alike letter is kept in its ASCII form; full-width letters and dots
            # are the plain ones a browser goes to.
            ("https://\u0430pple.com/login", "https://xn--pple-43d.com/login"),
            ("https://\u0251pple.com", "https://xn--pple-p5b.com"),
            ("https://\uff45\uff56\uff49\uff4c.cl", "https://evil.cl"),
            ("https://evil.cl\u3002com", "https://evil.cl.com"),
            ("https://xn--and-6ma2c.cl", "https://ñandú.cl"),
            # Found in the re-attack: a dot below is an accent nobody sees.
            ("https://bancoestad\u1ecd.cl/login", "https://xn--bancoestad-hx3e.cl/login"),
        ],
    )
    def test_http_and_https_addresses(self, written: str, stored: str) -> None:
        assert TypeAdapter(Website).validate_python(written) == stored

    @pytest.mark.parametrize(
        "written",
        [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "ftp://files.empresa.cl",
            "https://",
            "https://empresa",
            "https://bank.cl@evil.cl",
            "https://empresa .cl",
            "mailto:a@b.cl",
            # Found by the adversary: hosts a browser refuses, and invisible or direction
            # characters that make an address read as another.
            "https://goog\u200dle.com",
            "https://ex\u200bample.cl",
            "https://a.cl/\u202eexe.moc",
        ],
    )
    def test_other_schemes_and_no_host_are_refused(self, written: str) -> None:
        with pytest.raises(ValidationError) as caught:
            TypeAdapter(Website).validate_python(written)
        assert caught.value.errors()[0]["type"] == "invalid_website"

    def test_a_host_is_read_as_browsers_read_it(self) -> None:
        # UTS #46, non-transitional: "ß" stays "ß" (xn--zca), as Chromium goes there.
        assert TypeAdapter(Website).validate_python("https://ß.de") == "https://xn--zca.de"

    @pytest.mark.parametrize(
        ("written", "region"),
        [("RM", REGION_METROPOLITANA), ("rm", REGION_METROPOLITANA), ("Bío Bío", "Biobío")],
    )
    def test_served_regions_take_the_names_search_takes(self, written: str, region: str) -> None:
        """Found by the adversary: `RM` worked in search and not in a profile."""
        assert match_region(written) == region

    def test_at_most_300_characters(self) -> None:
        TypeAdapter(Website).validate_python("https://e.cl/" + "a" * 287)
        with pytest.raises(ValidationError):
            TypeAdapter(Website).validate_python("https://e.cl/" + "a" * 288)


# --- Through the API ----------------------------------------------------------------------

BASE_FORM: dict[str, Any] = {
    "name": "Servicios Ñandú",
    "commune_name": "Santiago",
    "product_name": "Construcción",
    "address": "Av. Providencia 1234",
    "phone": "9 8231 4576",
    "email": "contacto@nandu.cl",
    "description_es": "Obras menores.",
    "lang": "es",
}


async def _publish(client: httpx.AsyncClient, session: LoggedIn, **fields: Any) -> httpx.Response:
    data = {**BASE_FORM, **fields}
    data = {key: value for key, value in data.items() if value is not None}
    return await client.post(
        COMPANIES_URL,
        data=data,
        files={"image": ("logo.jpg", jpeg(), "image/jpeg")},
        headers=session.headers,
    )


async def _product_uuids(conn: Connection, *names: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT name_es, uuid FROM proveo.product WHERE name_es = ANY($1::text[])", list(names)
    )
    by_name = {row["name_es"]: str(row["uuid"]) for row in rows}
    return [by_name[name] for name in names]


def _field_error(response: httpx.Response) -> tuple[str, str]:
    body = response.json()
    assert response.status_code == 422, response.text
    assert body["code"] == "validation_error"
    first = body["detail"][0]
    return first["loc"][-1], first["type"]


@pytest.fixture
async def owner(client: httpx.AsyncClient, conn: Connection) -> LoggedIn:
    return await log_in(client, await create_user(conn))


class TestPublishProfile:
    async def test_every_new_field_is_stored_and_shown(
        self, client: httpx.AsyncClient, conn: Connection, owner: LoggedIn, app: FastAPI
    ) -> None:
        extra = await _product_uuids(conn, "Mantención eléctrica", "Gasfitería")
        response = await _publish(
            client, owner,
            website="www.nandu.cl", rut="12.345.678-5", year_founded="1998", size_band="10-49",
            extra_product_uuids=extra, served_regions=["region de valparaiso", "METROPOLITANA"],
        )  # fmt: skip
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["website"] == "https://www.nandu.cl"
        assert (body["rut"], body["rut_formatted"]) == ("12345678-5", "12.345.678-5")
        assert (body["year_founded"], body["size_band"]) == (1998, "10-49")
        # In the order chosen, not by name (found by the newcomer).
        assert [p["uuid"] for p in body["extra_products"]] == extra
        assert body["served_regions"] == [REGION_METROPOLITANA, REGION_VALPARAISO]
        assert body["serves_all_chile"] is False
        assert body["slug"] == "servicios-nandu"
        stored = await conn.fetchval(
            "SELECT served_regions FROM proveo.company WHERE uuid = $1", body["uuid"]
        )
        assert stored == [REGION_VALPARAISO]  # besides the commune's own
        public = await client.get(app.url_path_for("companies:get", company_uuid=body["uuid"]))
        assert public.json()["rut_formatted"] == "12.345.678-5"
        assert public.json()["extra_products"] == body["extra_products"]

    async def test_by_default_the_own_region_only_and_no_optional_field(
        self, client: httpx.AsyncClient, owner: LoggedIn
    ) -> None:
        body = (await _publish(client, owner)).json()
        assert body["served_regions"] == [REGION_METROPOLITANA]
        assert body["serves_all_chile"] is False
        for name in ("website", "rut", "rut_formatted", "year_founded", "size_band"):
            assert body[name] is None
        assert (body["extra_products"], body["photos"]) == ([], [])

    async def test_all_of_chile(self, client: httpx.AsyncClient, owner: LoggedIn) -> None:
        body = (await _publish(client, owner, serves_all_chile="true")).json()
        assert body["serves_all_chile"] is True
        assert body["served_regions"][0] == REGION_METROPOLITANA
        assert sorted(body["served_regions"]) == sorted(REGIONS)

    async def test_every_region_named_is_all_of_chile(
        self, client: httpx.AsyncClient, owner: LoggedIn
    ) -> None:
        body = (await _publish(client, owner, served_regions=list(REGIONS))).json()
        assert body["serves_all_chile"] is True

    async def test_all_of_chile_and_a_list_conflict(
        self, client: httpx.AsyncClient, owner: LoggedIn
    ) -> None:
        response = await _publish(
            client, owner, serves_all_chile="true", served_regions=[REGION_VALPARAISO]
        )
        assert _field_error(response) == ("served_regions", "conflicting_fields")

    async def test_an_unknown_region_is_refused(
        self, client: httpx.AsyncClient, owner: LoggedIn
    ) -> None:
        response = await _publish(client, owner, served_regions=["Patagonia Norte"])
        assert _field_error(response)[1] == "unknown_region"

    @pytest.mark.parametrize(
        ("website"), ["javascript:alert(1)", "data:text/html,hi", "ftp://empresa.cl"]
    )
    async def test_a_website_that_is_not_http_is_refused(
        self, client: httpx.AsyncClient, owner: LoggedIn, conn: Connection, website: str
    ) -> None:
        response = await _publish(client, owner, website=website)
        assert _field_error(response) == ("website", "invalid_website")
        assert await conn.fetchval("SELECT count(*) FROM proveo.company") == 0

    async def test_a_bad_rut_check_digit_is_invalid_rut(
        self, client: httpx.AsyncClient, owner: LoggedIn
    ) -> None:
        response = await _publish(client, owner, rut="12.345.678-9")
        assert _field_error(response) == ("rut", "invalid_rut")
        assert "check digit" in response.json()["detail"][0]["msg"]

    @pytest.mark.parametrize("year", ["1799", str(datetime.now(UTC).year + 1)])
    async def test_a_year_outside_1800_to_now_is_refused(
        self, client: httpx.AsyncClient, owner: LoggedIn, year: str
    ) -> None:
        response = await _publish(client, owner, year_founded=year)
        assert _field_error(response) == ("year_founded", "year_out_of_range")

    async def test_an_unknown_size_band_is_refused(
        self, client: httpx.AsyncClient, owner: LoggedIn
    ) -> None:
        response = await _publish(client, owner, size_band="5000+")
        assert _field_error(response)[0] == "size_band"


class TestRutUniqueness:
    async def test_a_rut_taken_by_a_live_company_is_a_409(
        self, client: httpx.AsyncClient, conn: Connection, owner: LoggedIn
    ) -> None:
        await create_company(conn, (await create_user(conn)).id, rut="12345678-5")
        response = await _publish(client, owner, rut="12.345.678-5")
        assert response.status_code == 409
        assert response.json()["code"] == "rut_taken"
        assert await conn.fetchval("SELECT count(*) FROM proveo.company") == 1

    async def test_a_rut_taken_meanwhile_is_still_a_409_not_a_500(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        owner: LoggedIn,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Two publishes with one RUT at once both pass the look-up; the unique index stops
        the second, and the answer is the same 409."""
        await create_company(conn, (await create_user(conn)).id, rut="12345678-5")

        async def not_taken(*_: object, **__: object) -> bool:
            return False

        monkeypatch.setattr(companies_repository, "select_rut_taken", not_taken)
        response = await _publish(client, owner, rut="12.345.678-5")
        assert (response.status_code, response.json()["code"]) == (409, "rut_taken")
        assert await conn.fetchval("SELECT count(*) FROM proveo.company") == 1

    async def test_a_deleted_company_s_rut_can_be_used_again(
        self, client: httpx.AsyncClient, conn: Connection, owner: LoggedIn
    ) -> None:
        gone = await create_company(conn, (await create_user(conn)).id, rut="12345678-5")
        await conn.execute("UPDATE proveo.company SET deleted_at = now() WHERE id = $1", gone.id)
        response = await _publish(client, owner, rut="123456785")
        assert response.status_code == 201, response.text

    async def test_an_edit_to_a_taken_rut_is_a_409_and_writes_nothing(
        self, client: httpx.AsyncClient, conn: Connection, owner: LoggedIn
    ) -> None:
        await create_company(conn, (await create_user(conn)).id, rut="12345678-5")
        await _publish(client, owner, rut="76086428-5")
        response = await client.patch(
            MY_COMPANY_URL, data={"rut": "12345678-5", "name": "Otro"}, headers=owner.headers
        )
        assert response.status_code == 409
        assert response.json()["code"] == "rut_taken"
        mine = (await client.get(MY_COMPANY_URL)).json()
        assert (mine["rut"], mine["name"]) == ("76086428-5", "Servicios Ñandú")

    async def test_an_edit_keeping_its_own_rut_is_fine(
        self, client: httpx.AsyncClient, owner: LoggedIn
    ) -> None:
        await _publish(client, owner, rut="76086428-5")
        response = await client.patch(
            MY_COMPANY_URL, data={"rut": "76.086.428-5"}, headers=owner.headers
        )
        assert response.status_code == 200, response.text


class TestCategories:
    async def test_more_than_two_extra_categories_is_refused(
        self, client: httpx.AsyncClient, conn: Connection, owner: LoggedIn
    ) -> None:
        extra = await _product_uuids(conn, "Mantención eléctrica", "Gasfitería", "Climatización")
        response = await _publish(client, owner, extra_product_uuids=extra)
        assert _field_error(response) == ("extra_product_uuids", "too_many_categories")

    async def test_the_same_category_twice_is_refused(
        self, client: httpx.AsyncClient, conn: Connection, owner: LoggedIn
    ) -> None:
        [electricity] = await _product_uuids(conn, "Mantención eléctrica")
        response = await _publish(client, owner, extra_product_uuids=[electricity, electricity])
        assert _field_error(response) == ("extra_product_uuids", "duplicate_category")

    async def test_the_primary_category_cannot_be_an_extra_one(
        self, client: httpx.AsyncClient, conn: Connection, owner: LoggedIn
    ) -> None:
        [primary] = await _product_uuids(conn, "Construcción")
        response = await _publish(
            client, owner, product_name=None, product_uuid=primary, extra_product_uuids=[primary]
        )
        assert _field_error(response) == ("extra_product_uuids", "duplicate_category")

    async def test_an_unknown_category_is_refused(
        self, client: httpx.AsyncClient, owner: LoggedIn
    ) -> None:
        response = await _publish(
            client, owner, extra_product_uuids=["6f1c6b0e-7a51-4c1b-9a59-1e0b0c5b7d11"]
        )
        assert _field_error(response) == ("extra_product_uuids", "unknown_product")

    async def test_an_edit_replaces_them_and_an_empty_part_removes_them(
        self, client: httpx.AsyncClient, conn: Connection, owner: LoggedIn
    ) -> None:
        electricity, plumbing = await _product_uuids(conn, "Mantención eléctrica", "Gasfitería")
        await _publish(client, owner, extra_product_uuids=[electricity])
        response = await client.patch(
            MY_COMPANY_URL, data={"extra_product_uuids": [plumbing]}, headers=owner.headers
        )
        assert [p["uuid"] for p in response.json()["extra_products"]] == [plumbing]
        response = await client.patch(
            MY_COMPANY_URL, data={"extra_product_uuids": ""}, headers=owner.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["extra_products"] == []

    async def test_an_extra_category_made_primary_leaves_the_extras(
        self, client: httpx.AsyncClient, conn: Connection, owner: LoggedIn
    ) -> None:
        electricity, plumbing = await _product_uuids(conn, "Mantención eléctrica", "Gasfitería")
        await _publish(client, owner, extra_product_uuids=[electricity, plumbing])
        response = await client.patch(
            MY_COMPANY_URL, data={"product_uuid": electricity}, headers=owner.headers
        )
        body = response.json()
        assert body["product_uuid"] == electricity
        assert [p["uuid"] for p in body["extra_products"]] == [plumbing]


class TestEditProfile:
    async def test_empty_optional_fields_are_removed(
        self, client: httpx.AsyncClient, owner: LoggedIn
    ) -> None:
        await _publish(
            client, owner, website="https://nandu.cl", rut="12345678-5", year_founded="2001",
            size_band="1-9",
        )  # fmt: skip
        response = await client.patch(
            MY_COMPANY_URL,
            data={"website": "", "rut": "", "year_founded": "", "size_band": ""},
            headers=owner.headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert [body[n] for n in ("website", "rut", "year_founded", "size_band")] == [None] * 4

    async def test_an_empty_required_field_is_still_blank(
        self, client: httpx.AsyncClient, owner: LoggedIn
    ) -> None:
        await _publish(client, owner)
        response = await client.patch(MY_COMPANY_URL, data={"name": ""}, headers=owner.headers)
        assert _field_error(response) == ("name", "blank")

    async def test_served_regions_follow_a_move_to_another_region(
        self, client: httpx.AsyncClient, owner: LoggedIn
    ) -> None:
        await _publish(client, owner, served_regions=[REGION_VALPARAISO])
        response = await client.patch(
            MY_COMPANY_URL, data={"commune_name": "Valparaíso"}, headers=owner.headers
        )
        assert response.json()["served_regions"] == [REGION_VALPARAISO]

    async def test_all_of_chile_on_and_off(
        self, client: httpx.AsyncClient, owner: LoggedIn
    ) -> None:
        await _publish(client, owner)
        on = await client.patch(
            MY_COMPANY_URL, data={"serves_all_chile": "true"}, headers=owner.headers
        )
        assert on.json()["serves_all_chile"] is True
        kept = await client.patch(MY_COMPANY_URL, data={"name": "Otra"}, headers=owner.headers)
        assert kept.json()["serves_all_chile"] is True
        off = await client.patch(
            MY_COMPANY_URL, data={"serves_all_chile": "false"}, headers=owner.headers
        )
        assert off.json()["served_regions"] == [REGION_METROPOLITANA]

    async def test_a_bad_field_writes_nothing(
        self, client: httpx.AsyncClient, owner: LoggedIn
    ) -> None:
        await _publish(client, owner, website="https://nandu.cl")
        response = await client.patch(
            MY_COMPANY_URL,
            data={"website": "javascript:alert(1)", "name": "Cambiado"},
            headers=owner.headers,
        )
        assert response.status_code == 422
        mine = (await client.get(MY_COMPANY_URL)).json()
        assert (mine["website"], mine["name"]) == ("https://nandu.cl", "Servicios Ñandú")


class TestAdminEditsOfTheProfile:
    async def test_are_audited_with_the_new_fields(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        company = await create_company(conn, (await create_user(conn)).id)
        admin = await log_in(client, await create_user(conn, role=Role.ADMIN))
        response = await client.patch(
            f"/api/v1/companies/admin/companies/{company.uuid}",
            data={"rut": "12.345.678-5", "size_band": "200+", "serves_all_chile": "true"},
            headers=admin.headers,
        )
        assert response.status_code == 200, response.text
        changes = json.loads(
            await conn.fetchval(
                "SELECT changes FROM proveo.admin_audit_log WHERE action = 'company.update'"
            )
        )
        assert (changes["before"]["rut"], changes["after"]["rut"]) == (None, "12345678-5")
        assert changes["after"]["size_band"] == "200+"
        assert sorted(changes["after"]["served_regions"]) == sorted(REGIONS)


class TestSlugRace:
    async def test_a_slug_clash_is_retried_once_not_a_500(
        self, client: httpx.AsyncClient, conn: Connection, owner: LoggedIn
    ) -> None:
        """Two companies of one name saved at once: the trigger gives both the name's slug and
        the second write hits the unique index; the service tries once more."""
        other = await create_company(conn, (await create_user(conn)).id, name="Gemelas")
        # What the second of two concurrent writes sees: the first's slug, not yet visible to
        # the trigger's check. Simulated by making the trigger's choice collide once.
        await conn.execute(
            """
            CREATE TEMP SEQUENCE tries;
            CREATE FUNCTION pg_temp.collide() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                -- A sequence, not a table: the failed attempt's savepoint is rolled back.
                IF NEW.name = 'Gemelas' AND nextval('pg_temp.tries') = 1 THEN
                    NEW.slug := 'gemelas';
                END IF;
                RETURN NEW;
            END $$;
            """
        )
        await conn.execute(
            "CREATE TRIGGER tg_zz_collide BEFORE INSERT ON proveo.company "
            "FOR EACH ROW EXECUTE FUNCTION pg_temp.collide()"
        )
        response = await _publish(client, owner, name="Gemelas")
        assert response.status_code == 201, response.text
        assert response.json()["slug"] not in ("gemelas", "")
        assert other.uuid != response.json()["uuid"]
