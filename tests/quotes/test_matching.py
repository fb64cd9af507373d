"""Who a confirmed request reaches: the category, the place (located before serving), at most
25, and a fair rotation among equals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from proveo.companies.schemas import CompanyRecord
from proveo.config import Settings
from proveo.core.db import Connection
from proveo.quotes import service
from tests.factories import create_user, log_in
from tests.quotes.support import (
    CONFIRM_URL,
    QUOTES_URL,
    body,
    commune_uuid,
    confirm_token,
    product_uuid,
    provider,
    submit_and_confirm,
)


async def _recipients(conn: Connection, request_uuid: str) -> dict[UUID, str]:
    rows = await conn.fetch(
        "SELECT c.uuid, r.match FROM proveo.quote_recipient r "
        "JOIN proveo.quote_request q ON q.id = r.quote_request_id "
        "JOIN proveo.company c ON c.id = r.company_id WHERE q.uuid = $1",
        UUID(request_uuid),
    )
    return {row["uuid"]: row["match"] for row in rows}


async def _confirm(
    client: httpx.AsyncClient, settings: Settings, request: dict[str, Any]
) -> dict[str, Any]:
    return await submit_and_confirm(client, settings.outbox_dir, request)


class TestCategory:
    async def test_primary_and_extra_categories_match_others_do_not(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        construction = await product_uuid(conn)
        _, primary = await provider(conn)
        _, extra = await provider(
            conn, product="Arquitectura", extra_product_uuids=[str(construction)]
        )
        _, other = await provider(conn, product="Gasfitería")

        answer = await _confirm(client, settings, body(construction))

        found = await _recipients(conn, answer["uuid"])
        assert set(found) == {primary.uuid, extra.uuid}
        assert other.uuid not in found
        assert answer["notified"] == 2

    async def test_deleted_companies_and_the_buyers_own_are_left_out(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        _, live = await provider(conn)
        _, deleted = await provider(conn)
        await conn.execute("UPDATE proveo.company SET deleted_at = now() WHERE id = $1", deleted.id)
        buyer, _own = await provider(conn)
        session = await log_in(client, buyer)

        request = body(await product_uuid(conn))
        sent = await client.post(QUOTES_URL, json=request, headers=session.headers)
        assert sent.status_code == 202
        confirmed = await client.post(
            CONFIRM_URL, json={"token": confirm_token(settings.outbox_dir)}, headers=session.headers
        )

        assert set(await _recipients(conn, confirmed.json()["uuid"])) == {live.uuid}


class TestPlace:
    async def test_a_commune_located_there_first_then_its_region_and_those_serving_it(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        _, in_commune = await provider(conn, commune="Providencia")
        _, in_region = await provider(conn, commune="Puente Alto")
        _, serving = await provider(
            conn, commune="Viña del Mar", served_regions=["Metropolitana de Santiago"]
        )
        _, elsewhere = await provider(conn, commune="Viña del Mar")
        _, all_chile = await provider(conn, commune="Viña del Mar", serves_all_chile=True)
        providencia = await commune_uuid(conn, "Providencia")

        answer = await _confirm(
            client, settings, body(await product_uuid(conn), commune_uuid=str(providencia))
        )

        assert await _recipients(conn, answer["uuid"]) == {
            in_commune.uuid: "located",
            in_region.uuid: "serves",
            serving.uuid: "serves",
            all_chile.uuid: "serves",
        }
        assert elsewhere.uuid not in await _recipients(conn, answer["uuid"])

    async def test_a_region_located_in_it_or_serving_it(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        _, in_region = await provider(conn, commune="Viña del Mar")
        _, serving = await provider(conn, commune="Santiago", served_regions=["Valparaíso"])
        _, elsewhere = await provider(conn, commune="Santiago")

        answer = await _confirm(
            client, settings, body(await product_uuid(conn), region="valparaiso")
        )

        assert await _recipients(conn, answer["uuid"]) == {
            in_region.uuid: "located",
            serving.uuid: "serves",
        }
        assert elsewhere.uuid not in await _recipients(conn, answer["uuid"])

    async def test_all_of_chile_every_match_is_located(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        _, north = await provider(conn, commune="Viña del Mar")
        _, centre = await provider(conn, commune="Santiago")

        answer = await _confirm(client, settings, body(await product_uuid(conn)))

        assert await _recipients(conn, answer["uuid"]) == {
            north.uuid: "located",
            centre.uuid: "located",
        }


async def _open_request(conn: Connection, **fields: Any) -> Any:
    """A confirmed request written directly (the service's matching reads it)."""
    product_id = await conn.fetchval("SELECT id FROM proveo.product WHERE name_es = 'Construcción'")
    request_id = await conn.fetchval(
        "INSERT INTO proveo.quote_request (product_id, region, title, description, "
        "contact_name, contact_email, lang, status, access_token_digest, confirmed_at, "
        "expires_at) VALUES ($1, $2, 't', 'd', 'n', 'e@x.cl', 'es', 'open', "
        "sha256(gen_random_uuid()::text::bytea), now(), now() + interval '30 days') RETURNING id",
        product_id, fields.get("region"),
    )  # fmt: skip
    from proveo.quotes import repository

    record = await repository.select_request_by_uuid(
        conn, await conn.fetchval("SELECT uuid FROM proveo.quote_request WHERE id = $1", request_id)
    )
    assert record is not None
    return record


async def _received(conn: Connection, company: CompanyRecord, *, days_ago: float) -> None:
    """The company received a request `days_ago` days ago."""
    record = await _open_request(conn)
    await conn.execute(
        "INSERT INTO proveo.quote_recipient (quote_request_id, company_id, match, notified_at) "
        "VALUES ($1, $2, 'located', now() - make_interval(secs => $3))",
        record.id, company.id, days_ago * 86400,
    )  # fmt: skip


class TestCapAndRotation:
    async def test_at_most_25_located_before_serving(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        located = [(await provider(conn, commune="Viña del Mar"))[1] for _ in range(20)]
        serving = [
            (await provider(conn, commune="Santiago", served_regions=["Valparaíso"]))[1]
            for _ in range(10)
        ]

        answer = await _confirm(
            client, settings, body(await product_uuid(conn), region="Valparaíso")
        )

        found = await _recipients(conn, answer["uuid"])
        assert answer["notified"] == len(found) == service.MAX_RECIPIENTS
        assert {company.uuid for company in located} <= set(found)
        assert sum(1 for company in serving if company.uuid in found) == 5

    async def test_fewest_requests_lately_then_least_recently_notified(
        self, conn: Connection, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _, busy = await provider(conn)
        _, recent = await provider(conn)
        _, long_ago = await provider(conn)
        _, never = await provider(conn)
        await _received(conn, busy, days_ago=1)
        await _received(conn, busy, days_ago=2)
        await _received(conn, recent, days_ago=1)
        await _received(conn, long_ago, days_ago=40)  # outside the 30 days: counts 0
        request = await _open_request(conn)

        monkeypatch.setattr(service, "MAX_RECIPIENTS", 4)
        order = [m.company_id for m in await service.match_providers(conn, request)]

        assert order == [never.id, long_ago.id, recent.id, busy.id]

    async def test_the_rotation_leaves_out_who_received_most_when_the_cap_is_reached(
        self, conn: Connection, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        companies = [(await provider(conn))[1] for _ in range(3)]
        await _received(conn, companies[0], days_ago=3)
        request = await _open_request(conn)

        monkeypatch.setattr(service, "MAX_RECIPIENTS", 2)
        chosen = {m.company_id for m in await service.match_providers(conn, request)}

        assert chosen == {companies[1].id, companies[2].id}

    async def test_ties_are_broken_by_chance(
        self, conn: Connection, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        companies = [(await provider(conn))[1] for _ in range(4)]
        request = await _open_request(conn)
        monkeypatch.setattr(service, "MAX_RECIPIENTS", 1)
        seen = {(await service.match_providers(conn, request))[0].company_id for _ in range(40)}
        assert len(seen) > 1
        assert seen <= {company.id for company in companies}

    async def test_successive_requests_spread_over_equal_providers(
        self, conn: Connection, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from proveo.quotes import repository

        companies = [(await provider(conn))[1] for _ in range(4)]
        monkeypatch.setattr(service, "MAX_RECIPIENTS", 2)
        reached: list[int] = []
        for _ in range(2):
            request = await _open_request(conn)
            matches = await service.match_providers(conn, request)
            await repository.insert_recipients(conn, request.id, matches)
            reached += [m.company_id for m in matches]
        assert sorted(reached) == sorted(company.id for company in companies)


async def test_a_user_without_a_company_is_no_one_to_exclude(
    client: httpx.AsyncClient, conn: Connection, settings: Settings
) -> None:
    _, company = await provider(conn)
    session = await log_in(client, await create_user(conn))
    await client.post(QUOTES_URL, json=body(await product_uuid(conn)), headers=session.headers)
    confirmed = await client.post(
        CONFIRM_URL, json={"token": confirm_token(settings.outbox_dir)}, headers=session.headers
    )
    assert set(await _recipients(conn, confirmed.json()["uuid"])) == {company.uuid}
    assert timedelta(days=30) == service.REQUEST_LIFETIME
