"""Accounts keep working when Redis goes away, and limits still hold."""

from __future__ import annotations

import httpx

from proveo.config import Settings
from proveo.core.db import Connection
from tests.factories import create_user, log_in
from tests.fixtures.servers import RedisServer


class TestRedisStoppedMidTest:
    async def test_login_and_lockout_continue_on_the_in_process_fallback(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        redis_server: RedisServer,
        settings: Settings,
    ) -> None:
        user = await create_user(conn)
        session = await log_in(client, user)
        redis_server.stop()
        try:
            me = await client.get("/api/v1/users/me")
            assert me.status_code == 200
            statuses = [
                (
                    await client.post(
                        "/api/v1/users/login",
                        json={"email": user.email, "password": "Wrong-pass1"},
                        headers=session.headers,
                    )
                ).status_code
                for _ in range(settings.login_failures_per_account + 1)
            ]
            assert statuses[-1] == 429
            assert 500 not in statuses
        finally:
            redis_server.start()
        assert (await client.get("/api/v1/users/me")).status_code == 200
