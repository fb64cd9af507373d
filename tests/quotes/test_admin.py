"""Admins list every quote request and remove one (audit-logged); providers then lose it."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx

from proveo.accounts.schemas import Role
from proveo.config import Settings
from proveo.core.db import Connection
from tests.factories import create_user, log_in
from tests.quotes.support import (
    ADMIN_URL,
    INBOX_URL,
    QUOTES_URL,
    body,
    product_uuid,
    provider,
    submit_and_confirm,
    switch_to,
)


async def _audit(conn: Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT actor_uuid, target_type, target_uuid, changes FROM proveo.admin_audit_log "
        "WHERE action = 'quote_request.remove'"
    )
    return [dict(row) for row in rows]


class TestAdminList:
    async def test_newest_first_with_counts_and_contact(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        owner, _ = await provider(conn)
        await provider(conn)
        product = await product_uuid(conn)
        opened = await submit_and_confirm(client, settings.outbox_dir, body(product))
        await client.post(QUOTES_URL, json=body(product, title="Sin confirmar"))
        session = await log_in(client, owner)
        await client.post(
            f"{INBOX_URL}/{opened['uuid']}/reply", json={"message": "Sí"}, headers=session.headers
        )
        await switch_to(client, await create_user(conn, role=Role.ADMIN))

        response = await client.get(ADMIN_URL)

        assert response.status_code == 200, response.text
        page = response.json()
        assert page["total"] == 2
        pending, confirmed = page["items"]
        assert pending["status"] == "pending"
        assert pending["title"] == "Sin confirmar"
        assert pending["notified"] == 0
        assert confirmed["uuid"] == opened["uuid"]
        assert confirmed["status"] == "open"
        assert (confirmed["notified"], confirmed["replied"], confirmed["declined"]) == (2, 1, 0)
        assert confirmed["contact"]["email"] == "ana@compras.cl"
        only_open = (await client.get(ADMIN_URL, params={"status": "open"})).json()
        assert [item["uuid"] for item in only_open["items"]] == [opened["uuid"]]

    async def test_category_and_place_names_in_the_asked_language(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await client.post(QUOTES_URL, json=body(await product_uuid(conn)))
        await switch_to(client, await create_user(conn, role=Role.ADMIN))
        name_en = await conn.fetchval(
            "SELECT name_en FROM proveo.product WHERE name_es = 'Construcción'"
        )

        [es] = (await client.get(ADMIN_URL)).json()["items"]
        [en] = (await client.get(ADMIN_URL, params={"lang": "en"})).json()["items"]

        assert (es["product"]["name"], es["place"]["name"]) == ("Construcción", "Todo Chile")
        assert (en["product"]["name"], en["place"]["name"]) == (name_en, "All of Chile")
        assert (await client.get(ADMIN_URL, params={"lang": "fr"})).status_code == 422

    async def test_only_admins(self, client: httpx.AsyncClient, conn: Connection) -> None:
        assert (await client.get(ADMIN_URL)).status_code == 401
        session = await log_in(client, await create_user(conn))
        assert (await client.get(ADMIN_URL)).status_code == 403
        removed = await client.delete(f"{ADMIN_URL}/{uuid4()}", headers=session.headers)
        assert removed.status_code == 403
        assert removed.json()["code"] == "admin_required"


class TestAdminRemove:
    async def test_removal_is_audited_and_takes_the_request_out_of_inboxes(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        owner, _ = await provider(conn)
        opened = await submit_and_confirm(
            client, settings.outbox_dir, body(await product_uuid(conn))
        )
        admin = await create_user(conn, role=Role.ADMIN)
        session = await log_in(client, admin)

        response = await client.delete(f"{ADMIN_URL}/{opened['uuid']}", headers=session.headers)

        assert response.status_code == 200, response.text
        assert response.json()["status"] == "removed"
        assert response.json()["removed_at"] is not None
        [entry] = await _audit(conn)
        assert entry["actor_uuid"] == admin.uuid
        assert entry["target_type"] == "quote_request"
        assert str(entry["target_uuid"]) == opened["uuid"]
        again = await client.delete(f"{ADMIN_URL}/{opened['uuid']}", headers=session.headers)
        assert again.status_code == 200
        assert len(await _audit(conn)) == 1  # nothing changed, nothing logged
        log = await client.get("/api/v1/admin/audit-log", params={"action": "quote_request.remove"})
        assert log.status_code == 200, log.text
        [shown] = log.json()
        assert (shown["target_type"], shown["target_name"]) == (
            "quote_request",
            "Remodelación de oficina",
        )

        page = await client.get(
            f"{QUOTES_URL}/{opened['uuid']}", params={"token": opened["page_token"]}
        )
        assert page.json()["status"] == "removed"
        await switch_to(client, owner)
        assert (await client.get(INBOX_URL)).json()["total"] == 0
        assert (await client.get(f"{INBOX_URL}/{opened['uuid']}")).status_code == 404

    async def test_unknown_request_is_404_and_csrf_is_required(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        session = await log_in(client, await create_user(conn, role=Role.ADMIN))
        unknown = await client.delete(f"{ADMIN_URL}/{uuid4()}", headers=session.headers)
        assert unknown.status_code == 404
        assert unknown.json()["code"] == "quote_request_not_found"
        assert (await client.delete(f"{ADMIN_URL}/{uuid4()}")).status_code == 403
        assert await _audit(conn) == []


class TestCatalogueReferences:
    async def test_a_category_a_request_names_cannot_be_deleted(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        session = await switch_to(client, await create_user(conn, role=Role.ADMIN))
        created = await client.post(
            "/api/v1/products/",
            json={"name_es": "Rubro de cotización", "name_en": "Quote category"},
            headers=session.headers,
        )
        assert created.status_code == 201, created.text
        product = created.json()["uuid"]
        client.cookies.clear()
        assert (await client.post(QUOTES_URL, json=body(product))).status_code == 202
        session = await switch_to(client, await create_user(conn, role=Role.ADMIN))
        response = await client.delete(f"/api/v1/products/{product}", headers=session.headers)
        assert response.status_code == 400
        assert response.json()["code"] == "in_use"
