"""Password reset by email and password change (SPEC §3), and what they end: sessions, links,
login lockouts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message

from proveo.accounts import service
from proveo.accounts.router import EMAILS_PER_IP_PER_HOUR
from proveo.accounts.schemas import UserRecord
from proveo.config import Settings
from proveo.core.db import Connection, Database
from proveo.core.security import token_digest
from proveo.integrations.email import ConsoleEmailSender
from tests.factories import (
    DEFAULT_PASSWORD,
    create_user,
    log_in,
    outbox_messages,
    password_reset_token,
)

LOGIN = "/api/v1/users/login"
ME = "/api/v1/users/me"
REQUEST = "/api/v1/users/password-reset/request"
CONFIRM = "/api/v1/users/password-reset/confirm"
CHANGE = "/api/v1/users/me/password"
NEW_PASSWORD = "Otra-Clave-2024"


@asynccontextmanager
async def _client_at(app: FastAPI, host: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(host, 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        yield http


def _csrf(client: httpx.AsyncClient) -> dict[str, str]:
    """A browser that is logged in sends its CSRF token on every POST, public routes included."""
    token = client.cookies.get("csrf_token")
    return {"X-CSRF-Token": token} if token else {}


async def _reset_token(client: httpx.AsyncClient, settings: Settings, email: str) -> str:
    response = await client.post(REQUEST, json={"email": email}, headers=_csrf(client))
    assert response.status_code == 200, response.text
    return password_reset_token(outbox_messages(settings.outbox_dir)[-1])


async def _trace_reset_request(app: FastAPI, conn: Connection, email: str) -> list[str]:
    """The statements a reset request runs, and where the response went out among them."""
    events: list[str] = []
    body = json.dumps({"email": email}).encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": REQUEST, "raw_path": REQUEST.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 4000), "server": ("127.0.0.1", 8000),
        "headers": [
            (b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
    }  # fmt: skip
    incoming: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        if incoming:
            return incoming.pop()
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body"):
            events.append("<response sent>")

    def record(query: object) -> None:
        statement = " ".join(str(getattr(query, "query", "")).split())
        if not statement.upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            events.append(statement)

    conn.add_query_logger(record)
    try:
        await app(scope, receive, send)
    finally:
        conn.remove_query_logger(record)
    return events


async def _login_status(client: httpx.AsyncClient, user: UserRecord, password: str) -> int:
    response = await client.post(
        LOGIN, json={"email": user.email, "password": password}, headers=_csrf(client)
    )
    return response.status_code


class TestPasswordResetRequest:
    async def test_same_answer_for_known_and_unknown_email(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        await create_user(conn, email="known@proveo.cl")
        known = await client.post(REQUEST, json={"email": "known@proveo.cl"})
        unknown = await client.post(REQUEST, json={"email": "nobody@proveo.cl"})
        assert known.status_code == unknown.status_code == 200
        assert known.json() == unknown.json()
        [email] = outbox_messages(settings.outbox_dir)
        assert email["To"] == "known@proveo.cl"

    async def test_a_known_address_answers_before_its_link_is_written(
        self, app: FastAPI, conn: Connection, settings: Settings
    ) -> None:
        # Found against `make run`: known addresses answered in 10-16 ms, unknown ones in 6 ms
        # (the token write and the email were on the response path): an existence oracle.
        await create_user(conn, email="known@proveo.cl")
        known = await _trace_reset_request(app, conn, "known@proveo.cl")
        unknown = await _trace_reset_request(app, conn, "nobody@proveo.cl")
        answered = known.index("<response sent>")
        assert known[: answered + 1] == unknown
        assert not any("INSERT" in statement for statement in unknown)
        [write] = [statement for statement in known if "INSERT" in statement]
        assert "password_reset_token" in write
        assert known.index(write) > answered
        [email] = outbox_messages(settings.outbox_dir)
        assert email["To"] == "known@proveo.cl"

    async def test_a_link_that_cannot_be_stored_after_the_response_is_logged(
        self, database_dsn: str, settings: Settings
    ) -> None:
        # The answer has gone out: a database failure now must not surface as an app error.
        closed = Database(database_dsn, min_size=1, max_size=1)
        await closed.open()
        await closed.close()
        pending = service.PendingReset(user_id=1, user_uuid=uuid4(), to="a@proveo.cl", lang="es")
        sender = ConsoleEmailSender(settings.outbox_dir, settings.email_from)
        await service.send_password_reset(
            closed, sender, pending, public_base_url=settings.public_base_url
        )  # logs `password_reset_not_sent` and returns
        assert outbox_messages(settings.outbox_dir) == []

    async def test_link_opens_the_reset_page_with_the_token_in_the_fragment(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        await create_user(conn, email="page@proveo.cl")
        await client.post(REQUEST, json={"email": "page@proveo.cl"})
        [email] = outbox_messages(settings.outbox_dir)
        text = email.get_body(preferencelist=("plain",))
        assert text is not None
        # The fragment never reaches a server: not ours (access log), not a third party (Referer).
        assert f"{settings.public_base_url}/reset-password/#token=" in text.get_content()
        assert email.get_body(preferencelist=("html",)) is not None

    @pytest.mark.parametrize(
        ("user_lang", "asked", "subject"),
        [
            ("es", None, "Restablece tu contraseña de Proveo"),
            ("en", None, "Reset your Proveo password"),
            ("es", "en", "Reset your Proveo password"),
        ],
    )
    async def test_email_is_in_the_users_language_unless_one_is_asked_for(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        settings: Settings,
        user_lang: str,
        asked: str | None,
        subject: str,
    ) -> None:
        await create_user(conn, email="lang@proveo.cl", lang=user_lang, name="Nombre Único")
        body = {"email": "lang@proveo.cl"} | ({"lang": asked} if asked else {})
        await client.post(REQUEST, json=body)
        [email] = outbox_messages(settings.outbox_dir)
        assert email["Subject"] == subject
        assert "Nombre Único" not in email.as_string()

    async def test_deleted_accounts_get_no_email(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        user = await create_user(conn, email="gone@proveo.cl")
        await conn.execute(
            "UPDATE proveo.user_account SET deleted_at = now() WHERE id = $1", user.id
        )
        assert (await client.post(REQUEST, json={"email": "gone@proveo.cl"})).status_code == 200
        assert outbox_messages(settings.outbox_dir) == []

    @pytest.mark.parametrize("exists", [True, False])
    async def test_rate_limited_per_account_alike_for_unknown_addresses(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings, exists: bool
    ) -> None:
        if exists:
            await create_user(conn, email="limited@proveo.cl")
        limit = settings.password_reset_per_email_and_ip_per_hour
        # Spelling variants the database folds together share one budget.
        spellings = ["limited@proveo.cl", "LIMITED@proveo.cl", "Limited@Proveo.cl"]
        statuses = [
            (await client.post(REQUEST, json={"email": spellings[n % 3]})).status_code
            for n in range(limit + 1)
        ]
        assert statuses == [200] * limit + [429]

    async def test_rate_limited_per_client_address(self, app: FastAPI) -> None:
        async with _client_at(app, "198.51.100.20") as http:
            statuses = [
                (await http.post(REQUEST, json={"email": f"n{n}@proveo.cl"})).status_code
                for n in range(EMAILS_PER_IP_PER_HOUR + 1)
            ]
        assert statuses == [200] * EMAILS_PER_IP_PER_HOUR + [429]

    async def test_tokens_are_stored_hashed_and_expire_in_an_hour(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        await create_user(conn, email="hashed@proveo.cl")
        token = await _reset_token(client, settings, "hashed@proveo.cl")
        row = await conn.fetchrow(
            "SELECT token_hash, expires_at - clock_timestamp() AS ttl "
            "FROM proveo.password_reset_token"
        )
        assert row is not None
        assert bytes(row["token_hash"]) == token_digest(token)
        assert token.encode() not in bytes(row["token_hash"])
        assert timedelta(minutes=59) < row["ttl"] <= timedelta(hours=1)


class TestPasswordResetConfirm:
    async def test_link_sets_the_password_once_and_ends_every_session(
        self, app: FastAPI, conn: Connection, settings: Settings
    ) -> None:
        user = await create_user(conn)
        async with _client_at(app, "127.0.0.2") as laptop, _client_at(app, "127.0.0.3") as phone:
            await log_in(laptop, user)
            await log_in(phone, user)
            token = await _reset_token(phone, settings, user.email)
            # A logged-in browser sends its CSRF token, like on any other POST.
            response = await phone.post(
                CONFIRM,
                json={"token": token, "password": NEW_PASSWORD},
                headers={"X-CSRF-Token": phone.cookies["csrf_token"]},
            )
            assert response.status_code == 200, response.text
            assert "access_token" not in phone.cookies
            assert (await laptop.get(ME)).status_code == 401
            again = await phone.post(CONFIRM, json={"token": token, "password": "Tercera-9clave"})
            assert again.status_code == 400
            assert again.json()["code"] == "invalid_token"
            assert await _login_status(phone, user, DEFAULT_PASSWORD) == 401
            assert await _login_status(phone, user, NEW_PASSWORD) == 200

    async def test_one_success_retires_every_reset_link(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        user = await create_user(conn)
        first = await _reset_token(client, settings, user.email)
        second = await _reset_token(client, settings, user.email)
        ok = await client.post(CONFIRM, json={"token": second, "password": NEW_PASSWORD})
        assert ok.status_code == 200
        stale = await client.post(CONFIRM, json={"token": first, "password": "Tercera-9clave"})
        assert stale.status_code == 400
        assert stale.json()["code"] == "invalid_token"

    async def test_expired_link_is_invalid(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        user = await create_user(conn)
        token = await _reset_token(client, settings, user.email)
        await conn.execute(
            "UPDATE proveo.password_reset_token SET expires_at = now() - interval '1 second'"
        )
        response = await client.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
        assert response.status_code == 400
        assert response.json() == {
            "detail": "This link is invalid, already used or expired. Ask for a new one.",
            "code": "invalid_token",
        }
        assert await _login_status(client, user, DEFAULT_PASSWORD) == 200

    async def test_link_of_a_deleted_account_is_invalid(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        user = await create_user(conn)
        token = await _reset_token(client, settings, user.email)
        await conn.execute(
            "UPDATE proveo.user_account SET deleted_at = now() WHERE id = $1", user.id
        )
        response = await client.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
        assert response.status_code == 400

    @pytest.mark.parametrize("token", ["forged-token", "x" * 256, "ñandú"])
    async def test_forged_tokens_are_invalid(self, client: httpx.AsyncClient, token: str) -> None:
        response = await client.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_token"

    @pytest.mark.parametrize("password", ["short1A", "12345678", "x" * 129])
    async def test_weak_password_is_422_and_keeps_the_link(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings, password: str
    ) -> None:
        user = await create_user(conn)
        token = await _reset_token(client, settings, user.email)
        weak = await client.post(CONFIRM, json={"token": token, "password": password})
        assert weak.status_code == 422
        assert weak.json()["code"] == "validation_error"
        ok = await client.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
        assert ok.status_code == 200

    async def test_never_verified_account_gets_its_address_confirmed(
        self, app: FastAPI, conn: Connection, settings: Settings
    ) -> None:
        """Pre-takeover: someone signed up the owner's address; the owner's reset takes it."""
        squatter_password = "Squatter-1pass"
        async with (
            _client_at(app, "203.0.113.8") as squatter,
            _client_at(app, "198.51.100.8") as owner,
        ):
            signup = await squatter.post(
                "/api/v1/users/signup",
                json={"name": "S", "email": "owner@proveo.cl", "password": squatter_password},
            )
            assert signup.status_code == 201
            login = await squatter.post(
                LOGIN, json={"email": "owner@proveo.cl", "password": squatter_password}
            )
            assert login.status_code == 200
            token = await _reset_token(owner, settings, "owner@proveo.cl")
            response = await owner.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
            assert response.status_code == 200
            assert (await squatter.get(ME)).status_code == 401
            retry = await squatter.post(
                LOGIN,
                json={"email": "owner@proveo.cl", "password": squatter_password},
                headers=_csrf(squatter),
            )
            assert retry.status_code == 401
            mine = await owner.post(
                LOGIN, json={"email": "owner@proveo.cl", "password": NEW_PASSWORD}
            )
            assert mine.json()["user"]["email_verified"] is True
        # The verification link the squatter may also hold died with the reset.
        assert await conn.fetchval(
            "SELECT bool_and(t.used_at IS NOT NULL) FROM proveo.email_verification_token t "
            "JOIN proveo.user_account u ON u.id = t.user_id WHERE u.email = 'owner@proveo.cl'"
        )


class _PageOutline(HTMLParser):
    """What a browser would act on: scripts, forms, inputs, labels."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline_script = False
        self.forms: dict[str, dict[str, str | None]] = {}
        self.inputs: list[str] = []
        self.labels: set[str] = set()
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self.scripts.append(found)
            self._in_script = True
        elif tag == "form":
            self.forms[str(found["id"])] = found
        elif tag == "input":
            self.inputs.append(str(found["id"]))
        elif tag == "label":
            self.labels.add(str(found["for"]))

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        self.inline_script = self.inline_script or (self._in_script and bool(data.strip()))


class TestResetPage:
    """The emailed link lands on the front end's reset page (`/reset-password/#token=…`)."""

    async def _follow_link(
        self, client: httpx.AsyncClient, settings: Settings, email: str
    ) -> tuple[_PageOutline, str, str]:
        await client.post(REQUEST, json={"email": email})
        [message] = outbox_messages(settings.outbox_dir)
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        [link] = [line for line in body.get_content().splitlines() if "#token=" in line]
        parts = urlsplit(link.strip())
        page = await client.get(parts.path)  # a browser never sends the fragment
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        outline = _PageOutline()
        outline.feed(page.text)
        assert parts.path == "/reset-password/"
        [script] = outline.scripts
        assert script["type"] == "module"
        asset = await client.get(str(script["src"]))
        assert asset.status_code == 200
        assert "javascript" in asset.headers["content-type"]
        [token] = parse_qs(parts.fragment)["token"]
        return outline, asset.text, token

    async def test_emailed_link_opens_a_page_whose_form_sets_the_password(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        user = await create_user(conn, email="page@proveo.cl")
        outline, script, token = await self._follow_link(client, settings, user.email)
        # The CSP forbids inline scripts: the page must work from its module alone.
        assert not outline.inline_script
        assert set(outline.inputs) <= outline.labels  # every field is labelled
        assert "reset-form" in outline.forms
        confirm_url = app.url_path_for("users:password_reset_confirm")
        assert confirm_url.removeprefix("/api/v1") in script  # api.js adds the prefix

        confirm = await client.post(confirm_url, json={"token": token, "password": NEW_PASSWORD})
        assert confirm.status_code == 200, confirm.text
        assert await _login_status(client, user, NEW_PASSWORD) == 200

    async def test_answers_the_page_explains_invalid_links_and_weak_passwords(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        """The script maps these answers to the page's messages: they must keep their shape."""
        user = await create_user(conn, email="weak@proveo.cl")
        _, script, token = await self._follow_link(client, settings, user.email)
        for password, problem in [
            ("short1A", "string_too_short"),
            ("x" * 129, "string_too_long"),
            ("lowercaseonly", "value_error"),
        ]:
            weak = await client.post(CONFIRM, json={"token": token, "password": password})
            assert weak.status_code == 422
            [field] = weak.json()["detail"]
            # api.js files a 422 under the last element of `loc`: the page's password field.
            assert (field["loc"][-1], field["type"]) == ("password", problem)
        forged = await client.post(CONFIRM, json={"token": "forged", "password": NEW_PASSWORD})
        assert (forged.status_code, forged.json()["code"]) == (400, "invalid_token")
        assert "invalid_token" in script


class TestResetLiftsLoginLockouts:
    async def test_locked_login_points_to_password_reset(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        user = await create_user(conn)
        for _ in range(settings.login_failures_per_account_and_ip):
            await client.post(LOGIN, json={"email": user.email, "password": "Wrong-pass1"})
        locked = await client.post(LOGIN, json={"email": user.email, "password": DEFAULT_PASSWORD})
        assert locked.status_code == 429
        assert locked.json()["code"] == "rate_limited"
        assert "/api/v1/users/password-reset/request" in locked.json()["detail"]

    async def test_reset_lifts_the_per_address_lock(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        user = await create_user(conn)
        for _ in range(settings.login_failures_per_account_and_ip):
            await client.post(LOGIN, json={"email": user.email, "password": "Wrong-pass1"})
        assert await _login_status(client, user, DEFAULT_PASSWORD) == 429
        token = await _reset_token(client, settings, user.email)
        await client.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
        assert await _login_status(client, user, NEW_PASSWORD) == 200

    async def test_reset_lifts_the_account_wide_lock_of_distributed_guessing(
        self, app: FastAPI, conn: Connection, settings: Settings
    ) -> None:
        app.state.settings = settings.model_copy(update={"login_failures_per_account": 6})
        user = await create_user(conn)
        for index in range(6):
            async with _client_at(app, f"203.0.113.{index + 1}") as attacker:
                await attacker.post(LOGIN, json={"email": user.email, "password": "Wrong-pass1"})
        async with _client_at(app, "198.51.100.50") as owner:
            assert await _login_status(owner, user, DEFAULT_PASSWORD) == 429
            token = await _reset_token(owner, settings, user.email)
            await owner.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
            assert await _login_status(owner, user, NEW_PASSWORD) == 200
        # Guessing stays bounded after the reset: a fresh budget, not none.
        statuses = []
        for index in range(7):
            async with _client_at(app, f"203.0.113.{index + 100}") as attacker:
                response = await attacker.post(
                    LOGIN, json={"email": user.email, "password": "Wrong-pass1"}
                )
                statuses.append(response.status_code)
        assert statuses == [401] * 6 + [429]


class TestChangePassword:
    async def test_changes_the_password_and_ends_only_the_other_sessions(
        self, app: FastAPI, conn: Connection
    ) -> None:
        user = await create_user(conn)
        async with _client_at(app, "127.0.0.2") as here, _client_at(app, "127.0.0.3") as other:
            session = await log_in(here, user)
            await log_in(other, user)
            response = await here.post(
                CHANGE,
                json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
                headers=session.headers,
            )
            assert response.status_code == 200, response.text
            assert (await here.get(ME)).status_code == 200
            assert (await other.get(ME)).status_code == 401
            # The session kept its CSRF token: it can still act.
            logout = await here.post("/api/v1/users/logout", headers=session.headers)
            assert logout.status_code == 200
            assert await _login_status(here, user, DEFAULT_PASSWORD) == 401
            assert await _login_status(here, user, NEW_PASSWORD) == 200

    async def test_wrong_current_password_is_400_and_changes_nothing(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        user = await create_user(conn)
        session = await log_in(client, user)
        response = await client.post(
            CHANGE,
            json={"current_password": "Not-the-1-password", "new_password": NEW_PASSWORD},
            headers=session.headers,
        )
        assert response.status_code == 400
        assert response.json()["code"] == "wrong_password"
        assert await _login_status(client, user, DEFAULT_PASSWORD) == 200

    async def test_the_same_password_again_is_422_same_password_and_ends_no_session(
        self, app: FastAPI, conn: Connection
    ) -> None:
        user = await create_user(conn)
        async with _client_at(app, "127.0.0.2") as here, _client_at(app, "127.0.0.3") as other:
            session = await log_in(here, user)
            await log_in(other, user)
            response = await here.post(
                CHANGE,
                json={"current_password": DEFAULT_PASSWORD, "new_password": DEFAULT_PASSWORD},
                headers=session.headers,
            )
            assert response.status_code == 422
            assert [(e["loc"], e["type"]) for e in response.json()["detail"]] == [
                (["body", "new_password"], "same_password")
            ]
            assert (await other.get(ME)).status_code == 200

    async def test_needs_the_csrf_token(self, client: httpx.AsyncClient, conn: Connection) -> None:
        user = await create_user(conn)
        await log_in(client, user)
        response = await client.post(
            CHANGE, json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
        )
        assert response.status_code == 403
        assert await _login_status(client, user, DEFAULT_PASSWORD) == 200

    @pytest.mark.parametrize("new_password", ["short1A", "onlylowercase", "x" * 129])
    async def test_new_password_follows_the_policy(
        self, client: httpx.AsyncClient, conn: Connection, new_password: str
    ) -> None:
        session = await log_in(client, await create_user(conn))
        response = await client.post(
            CHANGE,
            json={"current_password": DEFAULT_PASSWORD, "new_password": new_password},
            headers=session.headers,
        )
        assert response.status_code == 422

    async def test_a_session_cannot_guess_the_current_password(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        session = await log_in(client, await create_user(conn))
        statuses = [
            (
                await client.post(
                    CHANGE,
                    json={"current_password": f"Guess-{n}-pass", "new_password": NEW_PASSWORD},
                    headers=session.headers,
                )
            ).status_code
            for n in range(settings.login_failures_per_account_and_ip + 1)
        ]
        assert statuses == [400] * settings.login_failures_per_account_and_ip + [429]

    async def test_retires_outstanding_reset_links(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        user = await create_user(conn)
        token = await _reset_token(client, settings, user.email)
        session = await log_in(client, user)
        await client.post(
            CHANGE,
            json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
            headers=session.headers,
        )
        response = await client.post(
            CONFIRM,
            json={"token": token, "password": "Tercera-9clave"},
            headers=session.headers,
        )
        assert response.status_code == 400
