"""Issue 6.3, adversary round: an attacker must never leave the owner without a way in.

Device cookies (OWASP, "slow down online guessing attacks with device cookies"): a browser that
logged in to an account, or reset its password, is exempt from the account-wide lockout and has
a budget of its own. Reset requests have a budget per address and client, so a stranger cannot
spend the owner's, and a wider one per address against mail bombing, which a browser holding
the account's device cookie skips.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from proveo.accounts.router import DEVICE_COOKIE
from proveo.accounts.schemas import UserRecord
from proveo.config import Settings
from proveo.core.db import Connection
from tests.factories import DEFAULT_PASSWORD, create_user, outbox_messages, password_reset_token

LOGIN = "/api/v1/users/login"
LOGOUT = "/api/v1/users/logout"
RESET = "/api/v1/users/password-reset/request"
CONFIRM = "/api/v1/users/password-reset/confirm"
WRONG = "Wrong-pass1"
NEW_PASSWORD = "Otra-Clave-2024"


@asynccontextmanager
async def _browser(app: FastAPI, ip: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(ip, 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        yield http


async def _login(browser: httpx.AsyncClient, user: UserRecord, password: str) -> httpx.Response:
    csrf = browser.cookies.get("csrf_token")
    return await browser.post(
        LOGIN,
        json={"email": user.email, "password": password},
        headers={"X-CSRF-Token": csrf} if csrf else {},
    )


async def _owner_browser_logged_out(browser: httpx.AsyncClient, user: UserRecord) -> None:
    """The owner logs in once (the browser keeps its device cookie) and logs out."""
    response = await _login(browser, user, DEFAULT_PASSWORD)
    assert response.status_code == 200
    await browser.post(LOGOUT, headers={"X-CSRF-Token": response.json()["csrf_token"]})
    assert browser.cookies.get(DEVICE_COOKIE)


async def _lock_account_from_many_addresses(
    app: FastAPI, user: UserRecord, settings: Settings, first: int = 1
) -> None:
    per_address = settings.login_failures_per_account_and_ip
    addresses = -(-settings.login_failures_per_account // per_address)
    for n in range(first, first + addresses):
        async with _browser(app, f"203.0.113.{n}") as attacker:
            for _ in range(per_address):
                assert (await _login(attacker, user, WRONG)).status_code == 401
    async with _browser(app, f"203.0.113.{first + addresses}") as attacker:
        assert (await _login(attacker, user, WRONG)).status_code == 429


class TestLoginWithADeviceCookie:
    async def test_login_sets_a_long_lived_http_only_device_cookie_for_the_account_routes(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        user = await create_user(conn)
        response = await _login(client, user, DEFAULT_PASSWORD)
        [cookie] = [c for c in response.headers.get_list("set-cookie") if c.startswith("device")]
        assert "HttpOnly" in cookie
        assert "Path=/api/v1/users" in cookie
        assert "SameSite=strict" in cookie
        assert "Max-Age=34560000" in cookie

    async def test_the_owners_browser_logs_in_while_strangers_lock_the_account(
        self, app: FastAPI, conn: Connection, settings: Settings
    ) -> None:
        user = await create_user(conn)
        async with _browser(app, "198.51.100.50") as owner:
            await _owner_browser_logged_out(owner, user)
            await _lock_account_from_many_addresses(app, user, settings)
            assert (await _login(owner, user, DEFAULT_PASSWORD)).status_code == 200
        # Without the cookie, from the very same address, the account-wide lock holds.
        async with _browser(app, "198.51.100.50") as new_browser:
            locked = await _login(new_browser, user, DEFAULT_PASSWORD)
            assert locked.status_code == 429
            assert "browser that has logged in" in locked.json()["detail"]

    async def test_wrong_passwords_with_a_device_cookie_lock_only_that_browser(
        self, app: FastAPI, conn: Connection, settings: Settings
    ) -> None:
        user = await create_user(conn)
        async with _browser(app, "198.51.100.50") as owner:
            await _owner_browser_logged_out(owner, user)
            for _ in range(settings.login_failures_per_account_and_ip):
                assert (await _login(owner, user, WRONG)).status_code == 401
            locked = await _login(owner, user, DEFAULT_PASSWORD)
            assert locked.status_code == 429
            assert locked.json()["detail"].startswith("Too many failed logins from this browser")
        async with _browser(app, "198.51.100.50") as other_browser:
            assert (await _login(other_browser, user, DEFAULT_PASSWORD)).status_code == 200

    @pytest.mark.parametrize("cookie", ["forged", "other_account", "tampered"])
    async def test_a_cookie_not_signed_for_this_account_exempts_nothing(
        self, app: FastAPI, conn: Connection, settings: Settings, cookie: str
    ) -> None:
        user = await create_user(conn)
        other = await create_user(conn, email="other@proveo.cl")
        async with _browser(app, "198.51.100.50") as browser:
            if cookie == "forged":
                browser.cookies.set(DEVICE_COOKIE, "abc.0123", path="/api/v1/users")
            else:
                signed_for = other if cookie == "other_account" else user
                await _owner_browser_logged_out(browser, signed_for)
                if cookie == "tampered":
                    device_id, mac = browser.cookies[DEVICE_COOKIE].split(".")
                    browser.cookies.clear()
                    browser.cookies.set(DEVICE_COOKIE, f"{device_id}x.{mac}", path="/api/v1/users")
            await _lock_account_from_many_addresses(app, user, settings)
            assert (await _login(browser, user, DEFAULT_PASSWORD)).status_code == 429

    async def test_a_reset_retires_device_cookies_issued_before_it(
        self, app: FastAPI, conn: Connection, settings: Settings
    ) -> None:
        # Someone who once logged in with a leaked password keeps no exemption after the reset.
        user = await create_user(conn)
        async with (
            _browser(app, "192.0.2.66") as intruder,
            _browser(app, "198.51.100.50") as owner,
        ):
            await _owner_browser_logged_out(intruder, user)
            assert (await owner.post(RESET, json={"email": user.email})).status_code == 200
            token = password_reset_token(outbox_messages(settings.outbox_dir)[-1])
            confirmed = await owner.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
            assert confirmed.status_code == 200
            assert owner.cookies.get(DEVICE_COOKIE)  # the reset's browser is now known
            await _lock_account_from_many_addresses(app, user, settings)
            assert (await _login(intruder, user, NEW_PASSWORD)).status_code == 429
            assert (await _login(owner, user, NEW_PASSWORD)).status_code == 200


class TestTheAdversarysRound:
    async def test_after_a_reset_the_attacker_cannot_lock_the_owner_out_again(
        self, app: FastAPI, conn: Connection, settings: Settings
    ) -> None:
        # Found against `make run`: the owner reset and logged in; 50 wrong logins from 11
        # addresses then refused the owner's correct password (429) for 15 minutes.
        user = await create_user(conn)
        await _lock_account_from_many_addresses(app, user, settings)
        async with _browser(app, "198.51.100.50") as owner:
            assert (await _login(owner, user, DEFAULT_PASSWORD)).status_code == 429
            assert (await owner.post(RESET, json={"email": user.email})).status_code == 200
            token = password_reset_token(outbox_messages(settings.outbox_dir)[-1])
            await owner.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
            response = await _login(owner, user, NEW_PASSWORD)
            assert response.status_code == 200
            await owner.post(LOGOUT, headers={"X-CSRF-Token": response.json()["csrf_token"]})
            await _lock_account_from_many_addresses(app, user, settings, first=100)
            # The owner's own reset request was refused too (429, Retry-After 3405): no more.
            assert (await owner.post(RESET, json={"email": user.email})).status_code == 200
            assert (await _login(owner, user, NEW_PASSWORD)).status_code == 200


class TestResetBudgets:
    async def test_a_stranger_cannot_spend_the_owners_reset_budget(
        self, app: FastAPI, conn: Connection, settings: Settings
    ) -> None:
        user = await create_user(conn)
        async with _browser(app, "203.0.113.9") as attacker:
            statuses = [
                (await attacker.post(RESET, json={"email": user.email})).status_code
                for _ in range(settings.password_reset_per_email_and_ip_per_hour + 1)
            ]
        assert statuses[-1] == 429
        sent = len(outbox_messages(settings.outbox_dir))
        async with _browser(app, "198.51.100.50") as owner:
            assert (await owner.post(RESET, json={"email": user.email})).status_code == 200
        assert len(outbox_messages(settings.outbox_dir)) == sent + 1

    async def test_the_per_address_cap_stops_mail_bombing_but_not_a_known_browser(
        self, app: FastAPI, conn: Connection, settings: Settings
    ) -> None:
        app.state.settings = settings.model_copy(update={"password_reset_per_email_per_hour": 4})
        user = await create_user(conn)
        async with _browser(app, "198.51.100.50") as owner:
            await _owner_browser_logged_out(owner, user)
        for n in range(2):  # 2 addresses x 3 requests spend the address's 4
            async with _browser(app, f"203.0.113.{n}") as attacker:
                for _ in range(3):
                    await attacker.post(RESET, json={"email": user.email})
        assert len(outbox_messages(settings.outbox_dir)) == 4
        async with _browser(app, "198.51.100.60") as stranger:
            assert (await stranger.post(RESET, json={"email": user.email})).status_code == 429
        async with _browser(app, "198.51.100.60") as owner_elsewhere:
            owner_elsewhere.cookies = owner.cookies
            assert (await owner_elsewhere.post(RESET, json={"email": user.email})).is_success
        assert len(outbox_messages(settings.outbox_dir)) == 5
