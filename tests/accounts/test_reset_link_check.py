"""Issue 16.8: the reset page asks whether its link still works before it shows the form.

`POST /users/password-reset/check` reads the link without using it: a used (or retired) link and
an expired one say which, an unknown one is `invalid_token`, and the answer names no account.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from proveo.config import Settings
from proveo.core.db import Connection
from tests.factories import (
    DEFAULT_PASSWORD,
    create_company,
    create_user,
    log_in,
    outbox_messages,
    password_reset_token,
)

NEW_PASSWORD = "Otra-Clave-2024"


async def _reset_token(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, email: str
) -> str:
    response = await client.post(
        app.url_path_for("users:password_reset_request"), json={"email": email}
    )
    assert response.status_code == 200, response.text
    return password_reset_token(outbox_messages(settings.outbox_dir)[-1])


async def _check(app: FastAPI, client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(app.url_path_for("users:password_reset_check"), json={"token": token})


class TestCheckResetLink:
    async def test_a_working_link_answers_200_and_stays_usable(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        user = await create_user(conn)
        token = await _reset_token(app, client, settings, user.email)
        for _ in range(2):
            response = await _check(app, client, token)
            assert response.status_code == 200, response.text
            assert set(response.json()) == {"message", "expires_at"}
            assert user.email not in response.text
        confirm = await client.post(
            app.url_path_for("users:password_reset_confirm"),
            json={"token": token, "password": NEW_PASSWORD},
        )
        assert confirm.status_code == 200

    async def test_a_used_link_says_it_was_used(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        user = await create_user(conn)
        token = await _reset_token(app, client, settings, user.email)
        await client.post(
            app.url_path_for("users:password_reset_confirm"),
            json={"token": token, "password": NEW_PASSWORD},
        )
        response = await _check(app, client, token)
        assert response.status_code == 400
        assert response.json()["code"] == "reset_link_used"
        assert "used" in response.json()["detail"]

    async def test_a_link_retired_by_a_password_change_reads_as_used(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        user = await create_user(conn)
        token = await _reset_token(app, client, settings, user.email)
        session = await log_in(client, user)
        changed = await client.post(
            app.url_path_for("users:change_password"),
            json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
            headers=session.headers,
        )
        assert changed.status_code == 200
        client.cookies.clear()
        response = await _check(app, client, token)
        assert (response.status_code, response.json()["code"]) == (400, "reset_link_used")

    async def test_an_expired_link_says_it_expired(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        user = await create_user(conn)
        token = await _reset_token(app, client, settings, user.email)
        await conn.execute(
            "UPDATE proveo.password_reset_token SET expires_at = now() - interval '1 second'"
        )
        response = await _check(app, client, token)
        assert response.status_code == 400
        assert response.json()["code"] == "reset_link_expired"
        assert "expired" in response.json()["detail"]

    async def test_a_link_of_a_deleted_account_is_unknown(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        user = await create_user(conn)
        token = await _reset_token(app, client, settings, user.email)
        await conn.execute(
            "UPDATE proveo.user_account SET deleted_at = now() WHERE id = $1", user.id
        )
        response = await _check(app, client, token)
        assert (response.status_code, response.json()["code"]) == (400, "invalid_token")

    @pytest.mark.parametrize("token", ["forged", "x" * 256, "ñandú", "../../etc"])
    async def test_forged_links_are_unknown(
        self, app: FastAPI, client: httpx.AsyncClient, token: str
    ) -> None:
        response = await _check(app, client, token)
        assert (response.status_code, response.json()["code"]) == (400, "invalid_token")

    async def test_the_token_goes_in_the_body_not_the_address(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        assert "{" not in app.url_path_for("users:password_reset_check")
        assert (await client.get(app.url_path_for("users:password_reset_check"))).status_code == 405
        too_long = await _check(app, client, "x" * 257)
        assert too_long.status_code == 422


class TestLoginSaysWhetherThereIsACompany:
    """The front end sends a provider without a company to Publish after signing in."""

    async def test_a_new_provider_has_no_company(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        user = await create_user(conn)
        response = await client.post(
            app.url_path_for("users:login"),
            json={"email": user.email, "password": DEFAULT_PASSWORD},
        )
        assert response.json()["has_company"] is False

    async def test_a_provider_with_a_company_has_one(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        user = await create_user(conn)
        await create_company(conn, user.id)
        response = await client.post(
            app.url_path_for("users:login"),
            json={"email": user.email, "password": DEFAULT_PASSWORD},
        )
        assert response.json()["has_company"] is True

    async def test_who_am_i_says_it_too(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        # Publish reads it there rather than asking for a missing company (a 404 each visit).
        user = await create_user(conn)
        login = await client.post(
            app.url_path_for("users:login"),
            json={"email": user.email, "password": DEFAULT_PASSWORD},
        )
        assert login.status_code == 200
        me = await client.get(app.url_path_for("users:me"))
        assert me.json()["has_company"] is False
        await create_company(conn, user.id)
        assert (await client.get(app.url_path_for("users:me"))).json()["has_company"] is True
