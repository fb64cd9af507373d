"""List endpoints run a fixed number of statements, however many rows they return."""

from __future__ import annotations

import httpx

from proveo.accounts.schemas import Role
from proveo.core.db import Connection
from tests.factories import QueryCounter, create_user, log_in


async def _count(client: httpx.AsyncClient, conn: Connection, url: str) -> int:
    with QueryCounter(conn) as counter:
        response = await client.get(url, params={"limit": 100})
    assert response.status_code == 200
    return len(counter.statements)


class TestNoNPlusOne:
    async def test_admin_user_list(self, client: httpx.AsyncClient, conn: Connection) -> None:
        await log_in(client, await create_user(conn, role=Role.ADMIN))
        few = await _count(client, conn, "/api/v1/users/admin/all-users")
        for _ in range(15):
            await create_user(conn)
        assert await _count(client, conn, "/api/v1/users/admin/all-users") == few
        # The session check, the page and its total.
        assert 2 <= few <= 3

    async def test_audit_log(self, client: httpx.AsyncClient, conn: Connection) -> None:
        admin = await create_user(conn, role=Role.ADMIN)
        session = await log_in(client, admin)
        few = await _count(client, conn, "/api/v1/admin/audit-log")
        for index in range(5):
            await client.post(
                "/api/v1/products/",
                json={"name_es": f"Rubro {index}", "name_en": f"Category {index}"},
                headers=session.headers,
            )
        assert await _count(client, conn, "/api/v1/admin/audit-log") == few
        assert few >= 2
