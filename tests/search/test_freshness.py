"""Writes reach search within 2 s (the result cache's 1 s TTL is the whole delay; the index is
written in the same transaction as the company)."""

from __future__ import annotations

import asyncio
import time

import httpx

from proveo.core.db import Connection
from tests.companies.support import MY_COMPANY_URL, patch_mine, publish
from tests.factories import create_user, log_in
from tests.search.conftest import SEARCH_URL

FRESHNESS_SECONDS = 2.0


async def _seconds_until(client: httpx.AsyncClient, q: str, *, present: bool) -> float:
    started = time.monotonic()
    while True:
        response = await client.get(SEARCH_URL, params={"q": q})
        assert response.status_code == 200
        if bool(response.json()) == present:
            return time.monotonic() - started
        assert time.monotonic() - started < FRESHNESS_SECONDS, f"{q!r} still stale"
        await asyncio.sleep(0.05)


async def test_publish_edit_and_delete_show_in_search_within_2_seconds(
    client: httpx.AsyncClient, conn: Connection
) -> None:
    session = await log_in(client, await create_user(conn))
    # Searched first, so a cached answer without the company is there to outlive.
    assert (await client.get(SEARCH_URL, params={"q": "Frescura"})).json() == []
    # A word being typed is completed from the vocabulary, which the new word joins.
    assert (await client.get(SEARCH_URL, params={"q": "frescu"})).json() == []

    response = await publish(client, session, name="Frescura Inmediata")
    assert response.status_code == 201, response.text
    published = await _seconds_until(client, "frescura", present=True)
    await _seconds_until(client, "frescu", present=True)

    assert (await patch_mine(client, session, name="Renovada Total")).status_code == 200
    edited = await _seconds_until(client, "renovada", present=True)
    await _seconds_until(client, "frescura", present=False)

    deleted_response = await client.delete(MY_COMPANY_URL, headers=session.headers)
    assert deleted_response.status_code == 200
    deleted = await _seconds_until(client, "renovada", present=False)
    print(
        f"\nsearch freshness: publish {published:.2f} s, edit {edited:.2f} s, "
        f"delete {deleted:.2f} s"
    )
