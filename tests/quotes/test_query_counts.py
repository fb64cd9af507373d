"""The inbox, the admin's list and the buyer's page run a fixed number of statements, however
many requests, recipients or replies they show."""

from __future__ import annotations

from typing import Any

import httpx

from proveo.accounts.schemas import Role
from proveo.config import Settings
from proveo.core.db import Connection
from tests.factories import QueryCounter, create_user
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


async def _count(client: httpx.AsyncClient, conn: Connection, url: str, **params: Any) -> int:
    with QueryCounter(conn) as counter:
        response = await client.get(url, params=params)
    assert response.status_code == 200, response.text
    return len(counter.statements)


async def _requests(
    client: httpx.AsyncClient, conn: Connection, settings: Settings, n: int, start: int = 0
) -> list[dict[str, Any]]:
    product = await product_uuid(conn)
    return [
        await submit_and_confirm(
            client, settings.outbox_dir, body(product, contact_email=f"b{start + i}@x.cl")
        )
        for i in range(n)
    ]


class TestNoNPlusOne:
    async def test_the_inbox(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        owner, _ = await provider(conn)
        await _requests(client, conn, settings, 1)
        await switch_to(client, owner)
        few = await _count(client, conn, INBOX_URL)
        client.cookies.clear()
        await _requests(client, conn, settings, 3, start=1)
        await switch_to(client, owner)
        assert (await client.get(INBOX_URL)).json()["total"] == 4
        assert await _count(client, conn, INBOX_URL) == few
        # The session, the company, the page and its total.
        assert few <= 4

    async def test_the_admin_list(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        await provider(conn)
        await _requests(client, conn, settings, 1)
        admin = await create_user(conn, role=Role.ADMIN)
        await switch_to(client, admin)
        few = await _count(client, conn, ADMIN_URL)
        client.cookies.clear()
        await _requests(client, conn, settings, 3, start=1)
        await switch_to(client, admin)
        assert await _count(client, conn, ADMIN_URL) == few
        assert few <= 3

    async def test_the_buyers_page(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        owners = [(await provider(conn))[0] for _ in range(4)]
        [answer] = await _requests(client, conn, settings, 1)
        url = f"{QUOTES_URL}/{answer['uuid']}"
        few = await _count(client, conn, url, token=answer["page_token"])
        for owner in owners:
            session = await switch_to(client, owner)
            await client.post(
                f"{INBOX_URL}/{answer['uuid']}/reply",
                json={"message": "Sí"},
                headers=session.headers,
            )
        client.cookies.clear()
        page = (await client.get(url, params={"token": answer["page_token"]})).json()
        assert len(page["replies"]) == 4
        assert await _count(client, conn, url, token=answer["page_token"]) == few
        assert few <= 3
