"""Issue 16.8: a verification link opened on another device confirms with the account's password.

The password is the proof the link alone lacks (someone may have signed up another person's
address): it is checked like a login, with the login's budgets, and a success signs that browser
in with a session and CSRF cookie, ending every other session.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from fastapi import FastAPI

from proveo.accounts.router import DEVICE_COOKIE
from proveo.config import Settings
from proveo.core.csrf import CSRF_COOKIE, SESSION_COOKIE
from proveo.core.db import Connection
from tests.factories import outbox_messages, verification_link

PASSWORD = "Clave-Segura1"
WRONG = "Wrong-pass1"
EMAIL = "ana@proveo.cl"


@asynccontextmanager
async def _browser(app: FastAPI, ip: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(ip, 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        yield http


async def _sign_up(app: FastAPI, settings: Settings, ip: str = "203.0.113.9") -> str:
    """Sign up in one browser (the laptop); returns the link's token."""
    async with _browser(app, ip) as laptop:
        response = await laptop.post(
            app.url_path_for("users:signup"),
            json={"name": "Ana", "email": EMAIL, "password": PASSWORD},
        )
        assert response.status_code == 201, response.text
    return verification_link(outbox_messages(settings.outbox_dir)[-1]).rsplit("/", 1)[1]


def _confirm_path(app: FastAPI, token: str) -> str:
    return app.url_path_for("users:verify_email_with_password", token=token)


async def _login(browser: httpx.AsyncClient, app: FastAPI, password: str) -> httpx.Response:
    return await browser.post(
        app.url_path_for("users:login"), json={"email": EMAIL, "password": password}
    )


class TestConfirmWithPassword:
    async def test_the_page_asks_for_the_password_in_one_short_sentence(
        self, app: FastAPI, settings: Settings
    ) -> None:
        token = await _sign_up(app, settings)
        async with _browser(app, "198.51.100.7") as phone:
            page = await phone.get(app.url_path_for("users:verify_email", token=token))
        assert page.status_code == 403
        assert 'type="password"' in page.text
        assert 'autocomplete="current-password"' in page.text
        leads = re.findall(r'data-state="needs_proof".*?<p class="lead">(.*?)</p>', page.text)
        assert len(leads) == 2
        assert all(len(lead.split()) <= 15 for lead in leads), leads
        # Still tells someone who did not sign up not to confirm, and where to go instead.
        assert "No la confirmes" in page.text
        assert "Do not confirm it" in page.text
        assert 'href="/forgot-password/"' in page.text
        # The confirmed state comes with it, hidden, for the script to show.
        assert 'data-state="verified" hidden' in page.text

    async def test_the_password_confirms_and_signs_this_browser_in(
        self, app: FastAPI, settings: Settings
    ) -> None:
        token = await _sign_up(app, settings)
        async with _browser(app, "198.51.100.7") as phone:
            response = await phone.post(_confirm_path(app, token), json={"password": PASSWORD})
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["user"]["email_verified"] is True
            assert body["has_company"] is False
            assert body["csrf_token"] == phone.cookies[CSRF_COOKIE]
            assert phone.cookies.get(SESSION_COOKIE)
            assert phone.cookies.get(DEVICE_COOKIE)
            me = await phone.get(app.url_path_for("users:me"))
            assert me.status_code == 200
            assert me.json()["email_verified"] is True
            # A proper session: a write with its CSRF token goes through.
            logout = await phone.post(
                app.url_path_for("users:logout"), headers={"X-CSRF-Token": body["csrf_token"]}
            )
            assert logout.status_code == 200
        # The link is used now.
        async with _browser(app, "198.51.100.8") as other:
            again = await other.post(_confirm_path(app, token), json={"password": PASSWORD})
        assert again.status_code == 400
        assert again.json()["code"] == "already_verified"

    async def test_every_other_session_ends(self, app: FastAPI, settings: Settings) -> None:
        """A session opened before the address was proven may be a squatter's."""
        token = await _sign_up(app, settings)
        async with (
            _browser(app, "203.0.113.9") as laptop,
            _browser(app, "198.51.100.7") as phone,
        ):
            assert (await _login(laptop, app, PASSWORD)).status_code == 200
            confirmed = await phone.post(_confirm_path(app, token), json={"password": PASSWORD})
            assert confirmed.status_code == 200
            assert (await laptop.get(app.url_path_for("users:me"))).status_code == 401
            assert (await phone.get(app.url_path_for("users:me"))).status_code == 200

    async def test_a_wrong_password_is_401_and_leaves_the_link_usable(
        self, app: FastAPI, settings: Settings
    ) -> None:
        token = await _sign_up(app, settings)
        async with _browser(app, "198.51.100.7") as phone:
            wrong = await phone.post(_confirm_path(app, token), json={"password": WRONG})
            assert wrong.status_code == 401
            assert wrong.json()["code"] == "invalid_credentials"
            assert not phone.cookies.get(SESSION_COOKIE)
            right = await phone.post(_confirm_path(app, token), json={"password": PASSWORD})
            assert right.status_code == 200

    async def test_wrong_passwords_here_count_toward_the_login_lockout(
        self, app: FastAPI, settings: Settings
    ) -> None:
        token = await _sign_up(app, settings)
        per_address = settings.login_failures_per_account_and_ip
        async with _browser(app, "198.51.100.7") as guesser:
            for _ in range(per_address - 1):
                wrong = await guesser.post(_confirm_path(app, token), json={"password": WRONG})
                assert wrong.status_code == 401
            assert (await _login(guesser, app, WRONG)).status_code == 401
            # The budget is spent, across both doors: the right password is refused too.
            locked = await guesser.post(_confirm_path(app, token), json={"password": PASSWORD})
            assert locked.status_code == 429
            assert int(locked.headers["Retry-After"]) > 0
            assert (await _login(guesser, app, PASSWORD)).status_code == 429

    async def test_a_locked_account_cannot_be_confirmed_from_a_stranger_browser(
        self, app: FastAPI, settings: Settings
    ) -> None:
        token = await _sign_up(app, settings)
        per_address = settings.login_failures_per_account_and_ip
        addresses = -(-settings.login_failures_per_account // per_address)
        for n in range(1, addresses + 1):
            async with _browser(app, f"192.0.2.{n}") as attacker:
                for _ in range(per_address):
                    assert (await _login(attacker, app, WRONG)).status_code == 401
        async with _browser(app, "198.51.100.7") as phone:
            refused = await phone.post(_confirm_path(app, token), json={"password": PASSWORD})
            assert refused.status_code == 429

    async def test_the_per_address_login_rate_applies(
        self, app: FastAPI, settings: Settings
    ) -> None:
        token = await _sign_up(app, settings)
        async with _browser(app, "198.51.100.7") as flood:
            for _ in range(settings.login_attempts_per_ip_per_minute):
                await flood.post(_confirm_path(app, token), json={"password": WRONG})
            refused = await flood.post(_confirm_path(app, token), json={"password": PASSWORD})
            assert refused.status_code == 429
            assert refused.json()["code"] == "rate_limited"

    async def test_unknown_used_or_expired_links_are_400_before_any_password_check(
        self, app: FastAPI, settings: Settings, conn: Connection
    ) -> None:
        async with _browser(app, "198.51.100.7") as phone:
            forged = await phone.post(_confirm_path(app, "forged"), json={"password": PASSWORD})
            assert forged.status_code == 400
            assert forged.json()["code"] == "invalid_token"
            token = await _sign_up(app, settings)
            await conn.execute(
                "UPDATE proveo.email_verification_token SET expires_at = now() - $1::interval",
                timedelta(seconds=1),
            )
            expired = await phone.post(_confirm_path(app, token), json={"password": PASSWORD})
            assert expired.status_code == 400
            assert expired.json()["code"] == "invalid_token"
            assert not phone.cookies.get(SESSION_COOKIE)

    async def test_a_link_of_a_deleted_account_confirms_nothing(
        self, app: FastAPI, settings: Settings, conn: Connection
    ) -> None:
        token = await _sign_up(app, settings)
        await conn.execute("UPDATE proveo.user_account SET deleted_at = now()")
        async with _browser(app, "198.51.100.7") as phone:
            response = await phone.post(_confirm_path(app, token), json={"password": PASSWORD})
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_token"

    async def test_the_owners_device_cookie_keeps_its_own_budget(
        self, app: FastAPI, settings: Settings
    ) -> None:
        """A browser that has logged in before is not locked out by strangers here either."""
        token = await _sign_up(app, settings)
        async with _browser(app, "198.51.100.7") as owner:
            logged = await _login(owner, app, PASSWORD)
            assert logged.status_code == 200
            await owner.post(
                app.url_path_for("users:logout"),
                headers={"X-CSRF-Token": logged.json()["csrf_token"]},
            )
            per_address = settings.login_failures_per_account_and_ip
            addresses = -(-settings.login_failures_per_account // per_address)
            for n in range(1, addresses + 1):
                async with _browser(app, f"192.0.2.{n}") as attacker:
                    for _ in range(per_address):
                        await _login(attacker, app, WRONG)
            response = await owner.post(_confirm_path(app, token), json={"password": PASSWORD})
            assert response.status_code == 200, response.text
