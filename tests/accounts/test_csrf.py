from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from proveo.core.db import Connection
from tests.factories import create_user, log_in

DELETE_ME = "/api/v1/users/me"


class TestCsrf:
    async def test_missing_header_is_refused(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await log_in(client, await create_user(conn))
        response = await client.delete(DELETE_ME)
        assert response.status_code == 403
        assert response.json()["code"] == "csrf_failed"
        assert (await client.get("/api/v1/users/me")).status_code == 200  # nothing was deleted

    async def test_wrong_header_is_refused(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await log_in(client, await create_user(conn))
        response = await client.delete(DELETE_ME, headers={"X-CSRF-Token": "0" * 64})
        assert response.status_code == 403

    async def test_header_must_match_cookie(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        session = await log_in(client, await create_user(conn))
        client.cookies.set("csrf_token", "tampered")
        response = await client.delete(DELETE_ME, headers=session.headers)
        assert response.status_code == 403

    async def test_token_from_another_session_is_refused(
        self, app: FastAPI, conn: Connection
    ) -> None:
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as victim,
            httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as attacker,
        ):
            await log_in(victim, await create_user(conn))
            attacker_session = await log_in(attacker, await create_user(conn))
            victim.cookies.set("csrf_token", attacker_session.csrf_token)
            response = await victim.delete(DELETE_ME, headers=attacker_session.headers)
        assert response.status_code == 403
        assert response.json()["code"] == "csrf_failed"

    async def test_valid_token_passes(self, client: httpx.AsyncClient, conn: Connection) -> None:
        session = await log_in(client, await create_user(conn))
        assert (await client.delete(DELETE_ME, headers=session.headers)).status_code == 200

    @pytest.mark.parametrize(
        "headers",
        [
            {"Origin": "https://evil.example"},
            {"Origin": "null"},
            {"Sec-Fetch-Site": "cross-site"},
        ],
    )
    async def test_cross_origin_is_refused_even_with_a_valid_token(
        self, client: httpx.AsyncClient, conn: Connection, headers: dict[str, str]
    ) -> None:
        session = await log_in(client, await create_user(conn))
        response = await client.delete(DELETE_ME, headers=session.headers | headers)
        assert response.status_code == 403
        assert response.json()["code"] == "cross_origin_refused"

    async def test_cross_origin_login_is_refused(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        user = await create_user(conn)
        response = await client.post(
            "/api/v1/users/login",
            json={"email": user.email, "password": "irrelevant"},
            headers={"Origin": "https://evil.example"},
        )
        assert response.status_code == 403

    async def test_same_origin_is_accepted(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        session = await log_in(client, await create_user(conn))
        response = await client.delete(
            DELETE_ME, headers=session.headers | {"Origin": "http://127.0.0.1:8000"}
        )
        assert response.status_code == 200

    async def test_logout_needs_the_token_too(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await log_in(client, await create_user(conn))
        assert (await client.post("/api/v1/users/logout")).status_code == 403


class TestCookieParsingCannotBypassCsrf:
    """Found in review: a cookie the middleware's parser choked on hid the session from it."""

    @pytest.mark.parametrize(
        "junk", ["junk", "pref=a b", 'x="unterminated', "a=b\\c", "path=/", "expires=now"]
    )
    async def test_odd_cookies_do_not_hide_the_session(
        self, client: httpx.AsyncClient, conn: Connection, junk: str
    ) -> None:
        await log_in(client, await create_user(conn))
        token = client.cookies["access_token"]
        client.cookies.clear()
        response = await client.delete(
            DELETE_ME, headers={"Cookie": f"{junk}; access_token={token}"}
        )
        assert response.status_code == 403
        assert response.json()["code"] == "csrf_failed"
