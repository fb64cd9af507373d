"""A buyer's request: checked, stored pending, confirmed by email before any provider sees it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from proveo.config import Settings
from proveo.core.db import Connection
from proveo.core.security import token_digest
from proveo.jobs.registry import SQL_JOBS
from proveo.jobs.service import run_sql_job
from proveo.quotes import service
from proveo.quotes.schemas import ReplyBody, count_links
from tests.factories import create_user, log_in, outbox_messages
from tests.quotes.support import (
    CONFIRM_URL,
    QUOTES_URL,
    body,
    commune_uuid,
    confirm_token,
    link_in,
    messages_to,
    product_uuid,
    provider,
    text_of,
)


async def _stored(conn: Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch("SELECT * FROM proveo.quote_request ORDER BY id")
    return [dict(row) for row in rows]


def _field_types(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    return {error["loc"][-1]: error["type"] for error in response.json()["detail"]}


def _browser(app: FastAPI, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000")


class TestSubmit:
    async def test_stores_a_pending_request_and_emails_a_confirmation_link(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        product = await product_uuid(conn)
        response = await client.post(QUOTES_URL, json=body(product))

        assert response.status_code == 202
        assert response.json()["status"] == "pending_confirmation"
        assert response.json()["message"]
        [row] = await _stored(conn)
        assert row["status"] == "pending"
        assert row["confirmed_at"] is None
        assert row["expires_at"] is None
        assert row["title"] == "Remodelación de oficina"
        [email] = messages_to(settings.outbox_dir, "ana@compras.cl")
        assert email["Subject"] == "Confirma tu solicitud de cotización en Proveo"
        link = link_in(email, "#token=")
        assert link.startswith(f"{settings.public_base_url}/quote-requests/confirm/#token=")
        token = link.split("#token=", 1)[1]
        assert row["confirm_token_digest"] == token_digest(token)  # stored hashed only
        assert await conn.fetchval("SELECT count(*) FROM proveo.quote_recipient") == 0

    async def test_the_confirmation_email_carries_none_of_the_senders_words(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        product = await product_uuid(conn)
        request = body(
            product, title="Gana dinero fácil", description="Visita www.estafa.example ya",
            contact_name="Banco Oficial", lang="en",
        )  # fmt: skip
        assert (await client.post(QUOTES_URL, json=request)).status_code == 202
        [email] = messages_to(settings.outbox_dir, "ana@compras.cl")
        text = text_of(email)
        assert email["Subject"] == "Confirm your quote request on Proveo"
        for words in ("Gana dinero", "estafa", "Banco Oficial"):
            assert words not in text
        assert "Construction" in text
        assert "All of Chile" in text

    async def test_a_filled_honeypot_gets_the_same_answer_and_nothing_happens(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        settings: Settings,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        product = await product_uuid(conn)
        real = await client.post(QUOTES_URL, json=body(product, contact_email="a@real.cl"))
        trapped = await client.post(QUOTES_URL, json=body(product, website="http://spam.example"))
        assert "quote_request_honeypot" in caplog.text

        assert trapped.status_code == real.status_code == 202
        assert trapped.json() == real.json()
        assert len(await _stored(conn)) == 1
        assert messages_to(settings.outbox_dir, "ana@compras.cl") == []

    async def test_the_confirmation_names_a_region_by_its_title(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        """Found by the newcomer: emails said "(Metropolitana de Santiago)", pages "Región
        Metropolitana de Santiago"."""
        request = body(await product_uuid(conn), region="metropolitana")
        assert (await client.post(QUOTES_URL, json=request)).status_code == 202
        [email] = messages_to(settings.outbox_dir, "ana@compras.cl")
        assert "(Región Metropolitana de Santiago)" in text_of(email)

    async def test_places_are_a_region_by_any_of_its_names_or_a_commune(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        product = await product_uuid(conn)
        providencia = await commune_uuid(conn, "Providencia")
        for place in ({"region": "valparaiso"}, {"region": "Región de Valparaíso"}):
            assert (await client.post(QUOTES_URL, json=body(product, **place))).status_code == 202
        sent = await client.post(QUOTES_URL, json=body(product, commune_uuid=str(providencia)))
        assert sent.status_code == 202
        rows = await _stored(conn)
        assert [row["region"] for row in rows] == ["Valparaíso", "Valparaíso", None]
        assert rows[2]["commune_id"] is not None

    async def test_text_is_stored_as_plain_text_trimmed(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        product = await product_uuid(conn)
        request = body(
            product, title="  <b>Piso</b> nuevo  ", description="<script>x()</script>\r\nHola",
            contact_phone="9 8231 4576", contact_company="Compras SpA",
        )  # fmt: skip
        assert (await client.post(QUOTES_URL, json=request)).status_code == 202
        [row] = await _stored(conn)
        assert row["title"] == "<b>Piso</b> nuevo"
        assert row["description"] == "<script>x()</script>\nHola"
        assert row["contact_phone"] == "+56982314576"
        assert row["contact_company"] == "Compras SpA"

    async def test_a_signed_in_buyer_is_remembered(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        user = await create_user(conn)
        session = await log_in(client, user)
        product = await product_uuid(conn)
        response = await client.post(QUOTES_URL, json=body(product), headers=session.headers)
        assert response.status_code == 202
        [row] = await _stored(conn)
        assert row["user_id"] == user.id

    async def test_an_unverified_account_is_not_remembered_and_can_still_be_purged(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        user = await create_user(conn, verified=False)
        session = await log_in(client, user)
        response = await client.post(
            QUOTES_URL, json=body(await product_uuid(conn)), headers=session.headers
        )
        assert response.status_code == 202
        [row] = await _stored(conn)
        assert row["user_id"] is None
        await conn.execute(
            "UPDATE proveo.user_account SET created_at = now() - interval '8 days' WHERE id = $1",
            user.id,
        )
        [purge] = [job for job in SQL_JOBS if job.name == "purge-unverified-accounts"]
        assert await run_sql_job(conn, purge) == 1

    async def test_a_signed_in_buyer_without_the_csrf_token_is_refused(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await log_in(client, await create_user(conn))
        response = await client.post(QUOTES_URL, json=body(await product_uuid(conn)))
        assert response.status_code == 403
        assert await _stored(conn) == []


class TestInvalidRequests:
    @pytest.mark.parametrize(
        ("overrides", "field", "kind"),
        [
            ({"region": "Atlántida"}, "region", "unknown_region"),
            ({"title": ""}, "title", "string_too_short"),
            ({"title": "x" * 121}, "title", "string_too_long"),
            ({"title": "   "}, "title", "blank"),
            ({"description": "y" * 2001}, "description", "string_too_long"),
            ({"budget_band": "a lot"}, "budget_band", "literal_error"),
            ({"contact_email": "not-an-address"}, "contact_email", "value_error"),
            ({"contact_phone": "123"}, "contact_phone", "invalid_phone"),
            ({"contact_name": None}, "contact_name", "missing"),
            ({"lang": "fr"}, "lang", "literal_error"),
            ({"colour": "red"}, "colour", "extra_forbidden"),
            ({"needed_by": "2020-01-01"}, "needed_by", "date_in_past"),
            ({"needed_by": "not a date"}, "needed_by", "date_from_datetime_parsing"),
        ],
    )
    async def test_each_bad_field_is_a_precise_422(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        settings: Settings,
        overrides: dict[str, Any],
        field: str,
        kind: str,
    ) -> None:
        response = await client.post(QUOTES_URL, json=body(await product_uuid(conn), **overrides))
        assert _field_types(response)[field] == kind
        assert await _stored(conn) == []
        assert outbox_messages(settings.outbox_dir) == []

    async def test_a_title_of_120_characters_after_trimming_is_accepted(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        title = "  " + "t" * 120 + "  "
        response = await client.post(QUOTES_URL, json=body(await product_uuid(conn), title=title))
        assert response.status_code == 202

    async def test_at_most_two_links_in_a_description(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        product = await product_uuid(conn)
        two = "Vean https://a.example y www.b.example"
        three = two + " y HTTP://c.example"
        assert (
            await client.post(QUOTES_URL, json=body(product, description=two))
        ).status_code == 202
        response = await client.post(QUOTES_URL, json=body(product, description=three))
        assert _field_types(response)["description"] == "too_many_links"

    @pytest.mark.parametrize(
        "description",
        [
            "see aaa.cl/x bbb.cl/y ccc.cl/z ddd.ru",
            "hxxp://a.cl b.cl c.cl d.cl",
            "hXXps://a.cl y AAA.CL y bbb.Cl",
            # Found by the adversary: after a dash, an underscore or a dot, and in any letters.
            "Ver: -oferta.com -oferta.net -oferta.org",
            "Lista:\n-compra-ya.cl\n-compra-ya.com\n-compra-ya.net",
            "_evil.net .evil.com ..evil.org",
            "Ver ñandú.cl, café.com, müller.de",
            # ... and in the re-attack: IDN TLDs, a mixed-case TLD before a path.
            "Ver tienda.рф, otra.xn--p1ai y pago.Com/login",
            "Pagar en pago.Com?x=1 o en otra.Net#y o tres.Org:8080/z",
        ],
    )
    async def test_bare_domains_and_disguised_schemes_are_links(
        self, client: httpx.AsyncClient, conn: Connection, description: str
    ) -> None:
        request = body(await product_uuid(conn), description=description)
        response = await client.post(QUOTES_URL, json=request)
        assert _field_types(response)["description"] == "too_many_links"

    def test_ordinary_text_is_not_links(self) -> None:
        text = (
            "Constructora Sur S.A. o Comercial Ltda. Losa de 3.5 m, 1.500.000 pesos, "
            "ana@compras.cl, juan.perez@empresa.cl, o'higgins@sur.cl, plano.pdf, "
            "Av.Providencia, e.g. i.e. etc. Sr.Pérez, -Mesón, _nota_, Nº.5, "
            # Found in a review: abbreviations of everyday Chilean writing.
            "ss.hh. y cocina, pago a cta.cte., gastos comunes (gg.cc.), p.ej. EE.UU. etc.etc"
        )
        assert count_links(text) == 0
        assert count_links("https://www.a.cl/x.cl?y=b.cl y http://c.cl,d.cl/e") == 3

    async def test_replies_count_bare_domains_too(self) -> None:
        with pytest.raises(ValidationError):
            ReplyBody(message="Vean aaa.cl, bbb.cl y ccc.cl")
        assert ReplyBody(message="Vean aaa.cl y bbb.cl").message

    async def test_needed_by_is_today_up_to_a_year_ahead(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        product = await product_uuid(conn)
        today = service._today_in_chile()
        for day in (today, today + timedelta(days=365)):
            response = await client.post(
                QUOTES_URL,
                json=body(product, needed_by=day.isoformat(), contact_email=f"{day}@x.cl"),
            )
            assert response.status_code == 202, response.text
        late = body(product, needed_by=(today + timedelta(days=400)).isoformat())
        assert _field_types(await client.post(QUOTES_URL, json=late))["needed_by"] == "date_too_far"

    async def test_unknown_product_and_commune(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        unknown = "6f1c6b0e-7a51-4c1b-9a59-1e0b0c5b7d11"
        response = await client.post(QUOTES_URL, json=body(unknown, commune_uuid=unknown))  # type: ignore[arg-type]
        assert _field_types(response) == {
            "product_uuid": "unknown_product",
            "commune_uuid": "unknown_commune",
        }

    async def test_a_region_and_a_commune_together_are_refused(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        providencia = await commune_uuid(conn, "Providencia")
        request = body(
            await product_uuid(conn), region="Metropolitana", commune_uuid=str(providencia)
        )
        response = await client.post(QUOTES_URL, json=request)
        assert _field_types(response)["region"] == "conflicting_fields"

    async def test_malformed_json_is_400(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            QUOTES_URL, content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400

    async def test_nul_characters_are_refused(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        response = await client.post(
            QUOTES_URL, json=body(await product_uuid(conn), description="a\x00b")
        )
        assert _field_types(response)["description"] == "invalid_characters"


class TestLimits:
    async def test_five_requests_an_hour_per_address(self, app: FastAPI, conn: Connection) -> None:
        product = await product_uuid(conn)
        async with _browser(app, "203.0.113.5") as browser:
            for n in range(5):
                request = body(product, contact_email=f"b{n}@compras.cl")
                assert (await browser.post(QUOTES_URL, json=request)).status_code == 202
            refused = await browser.post(QUOTES_URL, json=body(product, contact_email="z@x.cl"))
        assert refused.status_code == 429
        assert refused.json()["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) > 0
        async with _browser(app, "203.0.113.6") as other:
            assert (await other.post(QUOTES_URL, json=body(product))).status_code == 202

    async def test_requests_the_schema_refuses_count_against_the_address_too(
        self, app: FastAPI, conn: Connection
    ) -> None:
        """Found by the adversary: eight 422s for an empty title left the whole budget."""
        product = await product_uuid(conn)
        async with _browser(app, "203.0.113.8") as browser:
            for _ in range(service.REQUESTS_PER_IP_PER_HOUR):
                invalid = await browser.post(QUOTES_URL, json=body(product, title=""))
                assert invalid.status_code == 422
            refused = await browser.post(QUOTES_URL, json=body(product))
            assert refused.status_code == 429
            for _ in range(service.CONFIRMATIONS_PER_IP_PER_HOUR):
                assert (await browser.post(CONFIRM_URL, json={"token": ""})).status_code == 422
            assert (await browser.post(CONFIRM_URL, json={"token": "guess"})).status_code == 429

    async def test_bodies_that_are_not_json_count_against_the_address_too(
        self, app: FastAPI, conn: Connection
    ) -> None:
        """Found in the re-attack: `{bad json` was answered 400 and cost nothing."""
        broken = {"content": b"{bad json", "headers": {"Content-Type": "application/json"}}
        async with _browser(app, "203.0.113.9") as browser:
            for _ in range(service.REQUESTS_PER_IP_PER_HOUR):
                assert (await browser.post(QUOTES_URL, **broken)).status_code == 400
            refused = await browser.post(QUOTES_URL, json=body(await product_uuid(conn)))
            assert refused.status_code == 429
            for _ in range(service.CONFIRMATIONS_PER_IP_PER_HOUR):
                assert (await browser.post(CONFIRM_URL, **broken)).status_code == 400
            assert (await browser.post(CONFIRM_URL, json={"token": "guess"})).status_code == 429

    async def test_three_requests_an_hour_per_contact_email_from_any_address(
        self, app: FastAPI, conn: Connection, settings: Settings
    ) -> None:
        product = await product_uuid(conn)
        for n in range(3):
            async with _browser(app, f"198.51.100.{n}") as browser:
                response = await browser.post(QUOTES_URL, json=body(product))
                assert response.status_code == 202
        async with _browser(app, "198.51.100.9") as browser:
            request = body(product, contact_email="ANA@compras.cl")
            assert (await browser.post(QUOTES_URL, json=request)).status_code == 429
        assert len(messages_to(settings.outbox_dir, "ana@compras.cl")) == 3

    async def test_plus_tags_share_their_addresss_budget(
        self, app: FastAPI, conn: Connection
    ) -> None:
        product = await product_uuid(conn)
        for n in range(3):
            async with _browser(app, f"198.51.100.{40 + n}") as browser:
                request = body(product, contact_email=f"ana+{n}@compras.cl")
                assert (await browser.post(QUOTES_URL, json=request)).status_code == 202
        async with _browser(app, "198.51.100.49") as browser:
            assert (await browser.post(QUOTES_URL, json=body(product))).status_code == 429

    async def test_honeypot_or_invalid_requests_do_not_use_up_an_emails_budget(
        self, app: FastAPI, conn: Connection, settings: Settings
    ) -> None:
        product = await product_uuid(conn)
        unknown = "00000000-0000-4000-8000-000000000000"
        for n in range(3):
            async with _browser(app, f"198.51.100.{20 + n}") as browser:
                trap = await browser.post(QUOTES_URL, json=body(product, website="x"))
                assert trap.status_code == 202
                invalid = await browser.post(QUOTES_URL, json=body(unknown))
                assert invalid.status_code == 422
        async with _browser(app, "198.51.100.30") as owner:
            assert (await owner.post(QUOTES_URL, json=body(product))).status_code == 202
        assert len(messages_to(settings.outbox_dir, "ana@compras.cl")) == 1

    async def test_confirmations_are_limited_per_address(
        self, app: FastAPI, conn: Connection
    ) -> None:
        async with _browser(app, "192.0.2.7") as browser:
            for _ in range(service.CONFIRMATIONS_PER_IP_PER_HOUR):
                response = await browser.post(CONFIRM_URL, json={"token": "guess"})
                assert response.status_code == 400
            assert (await browser.post(CONFIRM_URL, json={"token": "guess"})).status_code == 429


class TestConfirm:
    async def test_confirming_opens_the_request_and_notifies_the_providers(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        owner_es, _ = await provider(conn)
        owner_en, _ = await provider(conn, lang="en")
        await client.post(QUOTES_URL, json=body(await product_uuid(conn)))
        before = datetime.now(UTC)

        response = await client.post(
            CONFIRM_URL, json={"token": confirm_token(settings.outbox_dir)}
        )

        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["notified"] == 2
        [row] = await _stored(conn)
        assert str(row["uuid"]) == answer["uuid"]
        assert row["status"] == "open"
        assert row["confirm_token_digest"] is None
        assert row["access_token_digest"] == token_digest(answer["page_token"])
        assert row["expires_at"] - row["confirmed_at"] == timedelta(days=30)
        assert row["confirmed_at"] >= before - timedelta(seconds=5)

        [spanish] = messages_to(settings.outbox_dir, owner_es.email)
        assert spanish["Subject"] == "Solicitud de cotización: Remodelación de oficina"
        assert link_in(spanish, "/my-company/") == (
            f"{settings.public_base_url}/my-company/#quote-requests"
        )
        assert "Necesitamos remodelar" in text_of(spanish)
        [english] = messages_to(settings.outbox_dir, owner_en.email)
        assert english["Subject"] == "Quote request: Remodelación de oficina"
        assert "Construction" in text_of(english)

        buyer = messages_to(settings.outbox_dir, "ana@compras.cl")
        assert len(buyer) == 2  # the confirmation link, then "sent to 2"
        assert buyer[-1]["Subject"] == "Enviada a 2 proveedores: Remodelación de oficina"
        assert link_in(buyer[-1], "/quote-requests/view/") == (
            f"{settings.public_base_url}/quote-requests/view/"
            f"#id={answer['uuid']}&token={answer['page_token']}"
        )

    async def test_nothing_reaches_a_provider_before_confirmation(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        owner, _ = await provider(conn)
        await client.post(QUOTES_URL, json=body(await product_uuid(conn)))
        assert messages_to(settings.outbox_dir, owner.email) == []
        assert await conn.fetchval("SELECT count(*) FROM proveo.quote_recipient") == 0

    async def test_a_link_works_once(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        await client.post(QUOTES_URL, json=body(await product_uuid(conn)))
        token = confirm_token(settings.outbox_dir)
        assert (await client.post(CONFIRM_URL, json={"token": token})).status_code == 200
        again = await client.post(CONFIRM_URL, json={"token": token})
        assert again.status_code == 400
        assert again.json()["code"] == "invalid_token"

    @pytest.mark.parametrize("token", ["", "x" * 257, "unknown-token"])
    async def test_unknown_or_malformed_tokens(self, client: httpx.AsyncClient, token: str) -> None:
        response = await client.post(CONFIRM_URL, json={"token": token})
        if token == "unknown-token":
            assert response.status_code == 400
            assert response.json()["code"] == "invalid_token"
        else:
            assert response.status_code == 422

    async def test_a_link_older_than_48_hours_is_refused(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        await client.post(QUOTES_URL, json=body(await product_uuid(conn)))
        await conn.execute(
            "UPDATE proveo.quote_request SET created_at = now() - interval '49 hours'"
        )
        response = await client.post(
            CONFIRM_URL, json={"token": confirm_token(settings.outbox_dir)}
        )
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_token"
        [row] = await _stored(conn)
        assert row["status"] == "pending"

    async def test_a_removed_request_cannot_be_confirmed(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        await client.post(QUOTES_URL, json=body(await product_uuid(conn)))
        token = confirm_token(settings.outbox_dir)
        await conn.execute(
            "UPDATE proveo.quote_request SET status = 'removed', removed_at = now(), "
            "confirm_token_digest = NULL"
        )
        assert (await client.post(CONFIRM_URL, json={"token": token})).status_code == 400

    async def test_no_provider_fits_still_opens_and_tells_the_buyer(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        await client.post(QUOTES_URL, json=body(await product_uuid(conn, "Gasfitería"), lang="en"))
        response = await client.post(
            CONFIRM_URL, json={"token": confirm_token(settings.outbox_dir)}
        )
        assert response.json()["notified"] == 0
        last = messages_to(settings.outbox_dir, "ana@compras.cl")[-1]
        assert "no provider fits it yet" in text_of(last)


def test_today_in_chile_is_a_date() -> None:
    assert isinstance(service._today_in_chile(), date)
