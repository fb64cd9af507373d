"""GET /admin/search-stats: what buyers search for and cannot find (admins only)."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from fastapi import FastAPI

from proveo.accounts.schemas import Role
from proveo.admin import service as admin_service
from proveo.admin.schemas import SearchCount
from proveo.core.db import Connection
from proveo.search.analytics import record_search, utc_today
from tests.factories import create_user, log_in


async def add(conn: Connection, day: date, query: str, searches: int, zero: int) -> None:
    await admin_service.add_search_counts(
        conn, [SearchCount(day=day, query=query, searches=searches, zero_results=zero)]
    )


async def admin_client(conn: Connection, client: httpx.AsyncClient) -> httpx.AsyncClient:
    await log_in(client, await create_user(conn, role=Role.ADMIN))
    return client


class TestSearchStats:
    async def test_lists_top_and_zero_result_queries_over_the_last_days(
        self, app: FastAPI, conn: Connection, client: httpx.AsyncClient
    ) -> None:
        today = utc_today()
        await add(conn, today, "aseo", 10, 0)
        await add(conn, today - timedelta(days=6), "aseo", 5, 1)
        await add(conn, today, "gasfiter", 12, 0)
        await add(conn, today - timedelta(days=1), "termofusion", 4, 4)
        await add(conn, today - timedelta(days=7), "antiguo", 100, 100)  # outside 7 days
        # Searches recorded a moment ago arrive with the recorder's next flush.
        record_search(app.state, "gasfiter", 0)
        await app.state.search_recorder.flush()
        await admin_client(conn, client)

        response = await client.get(app.url_path_for("admin:search_stats"))
        assert response.status_code == 200, response.text
        assert response.json() == {
            "top_queries": [
                {"query": "aseo", "count": 15},
                {"query": "gasfiter", "count": 13},
                {"query": "termofusion", "count": 4},
            ],
            "zero_result_queries": [
                {"query": "termofusion", "count": 4},
                {"query": "aseo", "count": 1},
                {"query": "gasfiter", "count": 1},
            ],
        }
        today_only = await client.get(app.url_path_for("admin:search_stats"), params={"days": 1})
        assert [q["query"] for q in today_only.json()["top_queries"]] == ["gasfiter", "aseo"]
        wider = await client.get(app.url_path_for("admin:search_stats"), params={"days": 90})
        assert wider.json()["top_queries"][0] == {"query": "antiguo", "count": 100}

    @pytest.mark.parametrize("days", ["0", "91", "-1", "siete", ""])
    async def test_days_outside_1_to_90_is_a_validation_error(
        self, app: FastAPI, conn: Connection, client: httpx.AsyncClient, days: str
    ) -> None:
        await admin_client(conn, client)
        response = await client.get(app.url_path_for("admin:search_stats"), params={"days": days})
        assert response.status_code == 422
        assert response.json()["code"] == "validation_error"

    async def test_anonymous_is_401_and_a_user_is_403(
        self, app: FastAPI, conn: Connection, client: httpx.AsyncClient
    ) -> None:
        path = app.url_path_for("admin:search_stats")
        anonymous = await client.get(path)
        assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
        await log_in(client, await create_user(conn))
        user = await client.get(path)
        assert (user.status_code, user.json()["code"]) == (403, "admin_required")
