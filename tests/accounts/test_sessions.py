from __future__ import annotations

import time
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI

from proveo.accounts import service as accounts_service
from proveo.accounts.schemas import Role
from proveo.config import Settings
from proveo.core.db import Connection
from proveo.core.security import encode_session_token, password_hash_cost
from tests.factories import DEFAULT_PASSWORD, create_user, log_in

LOGIN = "/api/v1/users/login"
ME = "/api/v1/users/me"


class TestLogin:
    async def test_sets_http_only_session_and_readable_csrf_cookies(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        user = await create_user(conn)
        response = await client.post(
            LOGIN, json={"email": user.email, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 200
        body = response.json()
        assert body["user"]["uuid"] == str(user.uuid)
        assert body["csrf_token"] == client.cookies["csrf_token"]
        cookies = {c.split("=", 1)[0]: c for c in response.headers.get_list("set-cookie")}
        assert "HttpOnly" in cookies["access_token"]
        assert "SameSite=lax" in cookies["access_token"]
        assert "Max-Age=1800" in cookies["access_token"]
        assert "HttpOnly" not in cookies["csrf_token"]
        assert "Secure" not in cookies["access_token"]  # development only

    async def test_email_is_case_insensitive(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        user = await create_user(conn, email="mixed@proveo.cl")
        response = await client.post(
            LOGIN, json={"email": "MIXED@Proveo.cl", "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 200
        assert response.json()["user"]["uuid"] == str(user.uuid)

    async def test_unknown_email_and_wrong_password_look_the_same(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        user = await create_user(conn)
        wrong = await client.post(LOGIN, json={"email": user.email, "password": "Wrong-pass1"})
        unknown = await client.post(
            LOGIN, json={"email": "ghost@proveo.cl", "password": "Wrong-pass1"}
        )
        assert wrong.status_code == unknown.status_code == 401
        assert (
            wrong.json()
            == unknown.json()
            == {
                "detail": "Invalid email or password",
                "code": "invalid_credentials",
            }
        )

    async def test_unverified_user_can_log_in_and_see_account(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        user = await create_user(conn, verified=False)
        await log_in(client, user)
        me = await client.get(ME)
        assert me.status_code == 200
        assert me.json()["email_verified"] is False

    async def test_deleted_user_cannot_log_in(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        user = await create_user(conn)
        await conn.execute(
            "UPDATE proveo.user_account SET deleted_at = now() WHERE id = $1", user.id
        )
        response = await client.post(
            LOGIN, json={"email": user.email, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 401

    async def test_repeated_failures_lock_the_account(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        user = await create_user(conn)
        for _ in range(settings.login_failures_per_account_and_ip):
            failed = await client.post(LOGIN, json={"email": user.email, "password": "Wrong-pass1"})
            assert failed.status_code == 401
        locked = await client.post(LOGIN, json={"email": user.email, "password": DEFAULT_PASSWORD})
        assert locked.status_code == 429
        assert locked.json()["code"] == "rate_limited"
        assert int(locked.headers["retry-after"]) > 60

    async def test_a_guesser_locks_out_only_their_own_address(
        self, app: FastAPI, conn: Connection, settings: Settings
    ) -> None:
        user = await create_user(conn)
        attacker = httpx.ASGITransport(app=app, client=("203.0.113.9", 4000))
        owner = httpx.ASGITransport(app=app, client=("198.51.100.7", 4000))
        async with httpx.AsyncClient(transport=attacker, base_url="http://t") as http:
            for _ in range(settings.login_failures_per_account_and_ip):
                await http.post(LOGIN, json={"email": user.email, "password": "Wrong-pass1"})
            locked = await http.post(LOGIN, json={"email": user.email, "password": "Wrong-pass1"})
            assert locked.status_code == 429
        async with httpx.AsyncClient(transport=owner, base_url="http://t") as http:
            response = await http.post(
                LOGIN, json={"email": user.email, "password": DEFAULT_PASSWORD}
            )
            assert response.status_code == 200

    async def test_account_wide_budget_stops_guessing_from_many_addresses(
        self, app: FastAPI, conn: Connection, settings: Settings
    ) -> None:
        app.state.settings = settings.model_copy(update={"login_failures_per_account": 8})
        user = await create_user(conn)
        statuses = []
        for index in range(9):
            transport = httpx.ASGITransport(app=app, client=(f"127.0.0.{index + 10}", 4000))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                response = await http.post(
                    LOGIN, json={"email": user.email, "password": "Wrong-pass1"}
                )
                statuses.append(response.status_code)
        assert statuses == [401] * 8 + [429]

    async def test_spelling_variants_of_an_email_share_the_budget(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        """PostgreSQL lower('İ') is 'i' where Python's is not: the key follows the account."""
        user = await create_user(conn, email="admin.victim@proveo.cl")
        for _ in range(settings.login_failures_per_account_and_ip):
            await client.post(LOGIN, json={"email": user.email, "password": "Wrong-pass1"})
        variant = await client.post(
            LOGIN, json={"email": "admİn.victim@proveo.cl", "password": "Wrong-pass1"}
        )
        assert variant.status_code == 429

    async def test_per_ip_login_limit(
        self, app: FastAPI, conn: Connection, settings: Settings
    ) -> None:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.77", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            statuses = [
                (
                    await http.post(
                        LOGIN, json={"email": f"u{n}@proveo.cl", "password": "Wrong-pass1"}
                    )
                ).status_code
                for n in range(settings.login_attempts_per_ip_per_minute + 1)
            ]
        assert statuses[-1] == 429
        assert set(statuses[:-1]) == {401}

    async def test_success_clears_failures(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        user = await create_user(conn)
        for _ in range(settings.login_failures_per_account_and_ip - 1):
            await client.post(LOGIN, json={"email": user.email, "password": "Wrong-pass1"})
        session = await log_in(client, user)
        for _ in range(settings.login_failures_per_account_and_ip - 1):
            response = await client.post(
                LOGIN,
                json={"email": user.email, "password": "Wrong-pass1"},
                headers=session.headers,
            )
            assert response.status_code == 401


class TestSessionChecks:
    async def test_me_requires_a_session(self, client: httpx.AsyncClient) -> None:
        response = await client.get(ME)
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"

    async def test_logout_revokes_the_token_itself(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        user = await create_user(conn)
        session = await log_in(client, user)
        token = client.cookies["access_token"]
        logout = await client.post("/api/v1/users/logout", headers=session.headers)
        assert logout.status_code == 200
        assert "access_token" not in client.cookies
        # Replaying the old cookie after logout fails: the server checks the session.
        client.cookies.set("access_token", token)
        assert (await client.get(ME)).status_code == 401

    async def test_role_change_takes_effect_on_next_request(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        user = await create_user(conn, role=Role.ADMIN)
        await log_in(client, user)
        assert (await client.get("/api/v1/users/admin/all-users")).status_code == 200
        await conn.execute("UPDATE proveo.user_account SET role = 'user' WHERE id = $1", user.id)
        assert (await client.get("/api/v1/users/admin/all-users")).status_code == 403

    async def test_forged_and_expired_tokens_are_refused(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        from datetime import UTC, datetime, timedelta

        user = await create_user(conn)
        await log_in(client, user)
        forged = encode_session_token(
            "not-the-secret-key-at-all-but-long-enough",
            session_id=uuid4(),
            user_uuid=user.uuid,
            expires_at=datetime.now(UTC) + timedelta(minutes=5),
        )
        expired = encode_session_token(
            settings.secret_key.get_secret_value(),
            session_id=uuid4(),
            user_uuid=user.uuid,
            expires_at=datetime.fromtimestamp(time.time() - 60, UTC),
        )
        for token in (forged, expired, "garbage", "a.b.c"):
            client.cookies.set("access_token", token)
            assert (await client.get(ME)).status_code == 401

    async def test_logout_without_session_is_harmless(self, client: httpx.AsyncClient) -> None:
        assert (await client.post("/api/v1/users/logout")).status_code == 200


class TestProductionCookies:
    async def test_cookies_are_secure_in_production(
        self, settings: Settings, conn: Connection, cache: object
    ) -> None:
        from pydantic import SecretStr

        from proveo.app import create_app
        from proveo.core.cache import Cache
        from tests.fixtures.database import PinnedDatabase

        assert isinstance(cache, Cache)
        production = settings.model_copy(
            update={
                "env": "production",
                "secret_key": SecretStr("p" * 48),
                "public_base_url": "https://proveo.cl",
            }
        )
        app = create_app(production, database=PinnedDatabase(conn), cache=cache)
        user = await create_user(conn)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://proveo.cl") as http:
            response = await http.post(
                LOGIN, json={"email": user.email, "password": DEFAULT_PASSWORD}
            )
        assert response.status_code == 200
        cookies = response.headers.get_list("set-cookie")
        assert sorted(cookie.split("=", 1)[0] for cookie in cookies) == [
            "access_token",
            "csrf_token",
            "device_token",
        ]
        assert all("Secure" in cookie for cookie in cookies)


class TestLoginLanguage:
    async def test_language_chosen_at_login_is_remembered(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        user = await create_user(conn, lang="es")
        response = await client.post(
            LOGIN, json={"email": user.email, "password": DEFAULT_PASSWORD, "lang": "en"}
        )
        assert response.status_code == 200
        assert (
            await conn.fetchval("SELECT lang FROM proveo.user_account WHERE id = $1", user.id)
            == "en"
        )


class TestOddClientAddresses:
    """Found in review: a peer that is not an IP reached the `inet` cast and became a 500."""

    @pytest.mark.parametrize("host", ["testclient", "garbage", "fe80::1%eth0"])
    async def test_login_and_admin_audit_work(
        self, app: FastAPI, conn: Connection, host: str
    ) -> None:
        from proveo.accounts.schemas import Role as UserRole

        admin = await create_user(conn, role=UserRole.ADMIN)
        target = await create_user(conn)
        transport = httpx.ASGITransport(app=app, client=(host, 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            session = await log_in(http, admin)
            response = await http.delete(
                f"/api/v1/users/admin/users/{target.uuid}", headers=session.headers
            )
        assert response.status_code == 200


# (a spelling tried until its budget is spent, the address tried next, whether the database
# folds both to one key)
FOLDING_VARIANTS = [
    ("ſam@proveo.cl", "sam@proveo.cl", False),  # casefold() gives 's', lower() keeps 'ſ'
    ("straße@proveo.cl", "strasse@proveo.cl", False),  # casefold() gives 'ss'
    ("ﬀ@proveo.cl", "ff@proveo.cl", False),  # casefold() gives 'ff'
    ("admİn@proveo.cl", "admin@proveo.cl", True),  # lower() gives 'i', Python's 'i̇'
]


class TestLimitKeysFollowTheDatabase:
    """Every limit key folds the address with PostgreSQL's lower(), as the account lookup does,
    for known and unknown addresses alike: a 429 never tells whether an account exists."""

    @pytest.mark.parametrize(("variant", "address", "shared"), FOLDING_VARIANTS)
    async def test_login_budget_of_a_spelling_is_the_same_for_known_and_unknown_accounts(
        self,
        app: FastAPI,
        conn: Connection,
        settings: Settings,
        variant: str,
        address: str,
        shared: bool,
    ) -> None:
        await create_user(conn, email=address)
        answers = []
        for index, prefix in enumerate(("", "ghost.")):  # the account, then no account
            transport = httpx.ASGITransport(app=app, client=(f"127.0.1.{index + 1}", 4000))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                for _ in range(settings.login_failures_per_account_and_ip):
                    failed = await http.post(
                        LOGIN, json={"email": prefix + variant, "password": "Wrong-pass1"}
                    )
                    assert failed.status_code == 401
                response = await http.post(
                    LOGIN, json={"email": prefix + address, "password": "Wrong-pass1"}
                )
                answers.append(response.status_code)
        assert answers == [429, 429] if shared else [401, 401]

    @pytest.mark.parametrize(("variant", "address", "shared"), FOLDING_VARIANTS)
    async def test_reset_budget_of_a_spelling_is_the_same_for_known_and_unknown_accounts(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        settings: Settings,
        variant: str,
        address: str,
        shared: bool,
    ) -> None:
        await create_user(conn, email=address)
        reset = "/api/v1/users/password-reset/request"
        answers = []
        for prefix in ("", "ghost."):
            for _ in range(settings.password_reset_per_email_and_ip_per_hour):
                assert (await client.post(reset, json={"email": prefix + variant})).is_success
            response = await client.post(reset, json={"email": prefix + address})
            answers.append(response.status_code)
        assert answers == [429, 429] if shared else [200, 200]


class TestHashCost:
    async def test_login_brings_the_stored_hash_to_the_configured_cost(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        """With BCRYPT_ROUNDS raised, real accounts catch up with the dummy hash that unknown
        emails are checked against (no timing oracle)."""
        app.state.settings = settings.model_copy(update={"bcrypt_rounds": 5})
        user = await create_user(conn)
        assert password_hash_cost(user.password_hash) == 4
        failed = await client.post(LOGIN, json={"email": user.email, "password": "Wrong-pass1"})
        assert failed.status_code == 401
        stored = "SELECT password_hash FROM proveo.user_account WHERE id = $1"
        assert await conn.fetchval(stored, user.id) == user.password_hash
        session = await log_in(client, user)
        assert password_hash_cost(await conn.fetchval(stored, user.id)) == 5
        again = await client.post(
            LOGIN,
            json={"email": user.email, "password": DEFAULT_PASSWORD},
            headers=session.headers,
        )
        assert again.status_code == 200

    def test_unknown_emails_are_checked_at_the_configured_cost(self) -> None:
        assert password_hash_cost(accounts_service._dummy_hash(5)) == 5
