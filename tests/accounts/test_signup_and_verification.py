from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from proveo.config import Settings
from proveo.core.db import Connection
from tests.factories import (
    create_user,
    outbox_messages,
    password_reset_token,
    verification_link,
)

SIGNUP = "/api/v1/users/signup"
LOGIN = "/api/v1/users/login"
ME = "/api/v1/users/me"
RESET_REQUEST = "/api/v1/users/password-reset/request"
RESET_CONFIRM = "/api/v1/users/password-reset/confirm"
EMAIL = {"email": "ana@proveo.cl"}
CREDENTIALS = EMAIL | {"password": "Clave-Segura1"}


def _browser(app: FastAPI, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 4000))
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000")


def _signup_body(**overrides: object) -> dict[str, object]:
    return {"name": "Ana Pérez", "email": "ana@proveo.cl", "password": "Clave-Segura1"} | overrides


class TestSignUp:
    async def test_creates_unverified_user_and_sends_spanish_email(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        response = await client.post(SIGNUP, json=_signup_body())
        assert response.status_code == 201, response.text
        user = response.json()
        assert set(user) == {"uuid", "name", "email", "role", "email_verified", "created_at"}
        assert user["role"] == "user"
        assert user["email_verified"] is False
        [email] = outbox_messages(settings.outbox_dir)
        assert email["To"] == "ana@proveo.cl"
        assert email["Subject"] == "Confirma tu correo en Proveo"
        link = verification_link(email)
        assert link.startswith(f"{settings.public_base_url}/api/v1/users/verify-email/")
        assert email.get_body(preferencelist=("html",)) is not None
        # Whoever signs up chooses the name; it must not reach the address owner's inbox.
        assert "Ana Pérez" not in email.as_string()

    async def test_sends_english_email_when_asked(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        await client.post(SIGNUP, json=_signup_body(lang="en"))
        [email] = outbox_messages(settings.outbox_dir)
        assert email["Subject"] == "Confirm your email on Proveo"

    async def test_duplicate_email_is_409_case_insensitively(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await create_user(conn, email="taken@proveo.cl")
        response = await client.post(SIGNUP, json=_signup_body(email="TAKEN@proveo.cl"))
        assert response.status_code == 409
        assert response.json()["code"] == "email_taken"

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("password", "short1A"),
            ("password", "onlylowercaseletters"[:12]),
            ("password", "x" * 129),
            ("password", "12345678"),
            ("email", "not-an-email"),
            ("name", ""),
            ("name", "   "),
            ("name", "n" * 101),
            ("lang", "fr"),
        ],
    )
    async def test_invalid_fields_are_422(
        self, client: httpx.AsyncClient, field: str, value: str
    ) -> None:
        response = await client.post(SIGNUP, json=_signup_body(**{field: value}))
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == "validation_error"
        assert any(error["loc"][-1] == field for error in body["detail"])

    @pytest.mark.parametrize(
        ("name", "error_type"),
        [("\u200b", "blank"), ("abc\u202egnp.exe", "invalid_characters")],
    )
    async def test_invisible_or_direction_tricks_in_name_are_422(
        self, client: httpx.AsyncClient, name: str, error_type: str
    ) -> None:
        response = await client.post(SIGNUP, json=_signup_body(name=name))
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == "validation_error"
        assert [(e["loc"], e["type"]) for e in body["detail"]] == [(["body", "name"], error_type)]

    async def test_non_ascii_local_part_is_422_and_sends_nothing(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        """Found by an adversary: `Émile@example.org` became an undeliverable encoded header."""
        response = await client.post(SIGNUP, json=_signup_body(email="Émile@example.org"))
        assert response.status_code == 422
        assert [(e["loc"], e["type"]) for e in response.json()["detail"]] == [
            (["body", "email"], "non_ascii_local_part")
        ]
        assert outbox_messages(settings.outbox_dir) == []

    async def test_internationalised_domain_is_accepted(self, client: httpx.AsyncClient) -> None:
        response = await client.post(SIGNUP, json=_signup_body(email="ana@ñandú.cl"))
        assert response.status_code == 201, response.text

    async def test_unknown_fields_are_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post(SIGNUP, json=_signup_body(role="admin"))
        assert response.status_code == 422

    @pytest.mark.parametrize("password", ["ñ" * 40, "Una frase larga de contraseña " * 3 + "!"])
    async def test_long_passphrases_sign_up_and_log_in_untruncated(
        self, client: httpx.AsyncClient, password: str
    ) -> None:
        assert len(password.encode()) > 72
        response = await client.post(SIGNUP, json=_signup_body(password=password))
        assert response.status_code == 201, response.text
        ok = await client.post(
            "/api/v1/users/login", json={"email": "ana@proveo.cl", "password": password}
        )
        assert ok.status_code == 200
        # A password sharing the first 72 bytes but differing after must not work.
        variant = password[:-1] + ("x" if password[-1] != "x" else "y")
        wrong = await client.post(
            "/api/v1/users/login",
            json={"email": "ana@proveo.cl", "password": variant},
            headers={"X-CSRF-Token": ok.json()["csrf_token"]},
        )
        assert wrong.status_code == 401

    async def test_no_partial_write_when_signup_fails(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        before = await conn.fetchval("SELECT count(*) FROM proveo.user_account")
        await client.post(SIGNUP, json=_signup_body(password="bad"))
        assert await conn.fetchval("SELECT count(*) FROM proveo.user_account") == before


async def _signed_up_link(client: httpx.AsyncClient, outbox: Path, **body: object) -> str:
    response = await client.post(SIGNUP, json=_signup_body(**body))
    assert response.status_code == 201
    return verification_link(outbox_messages(outbox)[-1])


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


class TestVerifyEmail:
    async def test_link_verifies_once(self, client: httpx.AsyncClient, settings: Settings) -> None:
        link = await _signed_up_link(client, settings.outbox_dir)
        first = await client.get(_path(link))
        assert first.status_code == 200
        assert first.headers["content-type"].startswith("text/html")
        assert "Correo confirmado" in first.text
        assert "Email confirmed" in first.text
        again = await client.get(_path(link))
        assert again.status_code == 400
        # A mail scanner may have opened the link first: say the address is confirmed anyway.
        assert "Correo ya confirmado" in again.text

    async def test_the_browser_that_signed_up_is_signed_in_by_its_link(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        """Found by the newcomer: the page said "confirmed" and the header still said "log in";
        the same link opened on another device (with the password) signed that one in."""
        link = await _signed_up_link(client, settings.outbox_dir)
        assert (await client.get("/api/v1/users/me")).status_code == 401
        assert (await client.get(_path(link))).status_code == 200
        me = await client.get("/api/v1/users/me")
        assert me.status_code == 200
        assert me.json()["email_verified"] is True
        assert client.cookies.get("csrf_token")

    async def test_english_user_sees_english_first(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        link = await _signed_up_link(client, settings.outbox_dir, lang="en")
        page = (await client.get(_path(link))).text
        assert page.index("Email confirmed") < page.index("Correo confirmado")

    async def test_used_link_of_unverified_user_is_invalid(
        self, client: httpx.AsyncClient, settings: Settings, conn: Connection
    ) -> None:
        link = await _signed_up_link(client, settings.outbox_dir)
        await conn.execute("UPDATE proveo.email_verification_token SET used_at = now()")
        response = await client.get(_path(link))
        assert response.status_code == 400
        assert "Enlace no válido" in response.text

    async def test_invalid_link_page_asks_for_a_new_link_without_logging_in(
        self, client: httpx.AsyncClient
    ) -> None:
        """Resending is public: an unverified person may not be able to log in anyway."""
        page = (await client.get("/api/v1/users/verify-email/forged-token")).text
        assert "Pide uno nuevo con tu correo; no hace falta iniciar sesión." in page
        assert "Ask for a new one with your email address; you do not need to log in." in page
        assert "Inicia sesión y pide" not in page
        assert "Log in and ask" not in page

    @pytest.mark.parametrize("token", ["forged-token", "x" * 300, "%00%ff", "ñandú"])
    async def test_forged_tokens_get_the_400_page(
        self, client: httpx.AsyncClient, token: str
    ) -> None:
        response = await client.get(f"/api/v1/users/verify-email/{token}")
        assert response.status_code == 400
        assert "text/html" in response.headers["content-type"]

    async def test_expired_token_is_refused(
        self, client: httpx.AsyncClient, settings: Settings, conn: Connection
    ) -> None:
        link = await _signed_up_link(client, settings.outbox_dir)
        await conn.execute(
            "UPDATE proveo.email_verification_token SET expires_at = now() - $1::interval",
            timedelta(seconds=1),
        )
        assert (await client.get(_path(link))).status_code == 400

    async def test_tokens_are_stored_hashed(
        self, client: httpx.AsyncClient, settings: Settings, conn: Connection
    ) -> None:
        link = await _signed_up_link(client, settings.outbox_dir)
        token = link.rsplit("/", 1)[1]
        stored = await conn.fetch("SELECT token_hash FROM proveo.email_verification_token")
        assert all(token.encode() not in bytes(row["token_hash"]) for row in stored)
        assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", token)

    async def test_verifying_ends_every_other_session_opened_before_it(
        self, app: FastAPI, settings: Settings
    ) -> None:
        """Sign up on one device, log in on another and open the link there: the session that
        proved the password stays, every other one ends (it may be a squatter's)."""
        async with _browser(app, "203.0.113.9") as laptop, _browser(app, "198.51.100.7") as phone:
            link = await _signed_up_link(laptop, settings.outbox_dir)
            assert (await laptop.post(LOGIN, json=CREDENTIALS)).is_success
            assert (await phone.post(LOGIN, json=CREDENTIALS)).is_success
            assert (await phone.get(_path(link))).status_code == 200
            assert (await phone.get(ME)).json()["email_verified"] is True
            assert (await laptop.get(ME)).status_code == 401

    async def test_link_does_not_confirm_a_password_someone_else_chose(
        self, app: FastAPI, settings: Settings
    ) -> None:
        """Pre-takeover: an attacker signs up the victim's address with a password of their
        own; the victim clicks the link (the signup email or a resend). That must not leave the
        attacker a verified account: the page sends the victim to password reset instead."""
        async with (
            _browser(app, "203.0.113.9") as squatter,
            _browser(app, "198.51.100.7") as owner,
        ):
            signup_link = await _signed_up_link(squatter, settings.outbox_dir)
            assert (await owner.post(TestResendVerification.RESEND, json=EMAIL)).is_success
            resent_link = verification_link(outbox_messages(settings.outbox_dir)[-1])
            for link in (signup_link, resent_link):
                page = await owner.get(_path(link))
                assert page.status_code == 403
                assert "No la confirmes" in page.text
                assert 'href="/forgot-password/"' in page.text
            again = await squatter.post(LOGIN, json=CREDENTIALS)
            assert again.json()["user"]["email_verified"] is False
            # The owner resets the password: that proves the inbox and replaces the password.
            assert (await owner.post(RESET_REQUEST, json=EMAIL)).is_success
            token = password_reset_token(outbox_messages(settings.outbox_dir)[-1])
            reset = await owner.post(
                RESET_CONFIRM, json={"token": token, "password": "Mía-Nueva-9"}
            )
            assert reset.status_code == 200
            assert (await squatter.get(ME)).status_code == 401
            squatter.cookies.clear()
            assert (await squatter.post(LOGIN, json=CREDENTIALS)).status_code == 401
            mine = await owner.post(LOGIN, json=EMAIL | {"password": "Mía-Nueva-9"})
            assert mine.json()["user"]["email_verified"] is True

    async def test_the_verification_email_tells_a_stranger_not_to_confirm(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        link = await _signed_up_link(client, settings.outbox_dir, lang="en")
        body = outbox_messages(settings.outbox_dir)[-1].get_body(preferencelist=("plain",))
        assert body is not None
        text = body.get_content()
        assert link in text
        assert "do not confirm" in text
        assert "password reset" in text

    async def test_a_browser_without_proof_leaves_the_link_usable(
        self, app: FastAPI, settings: Settings
    ) -> None:
        """A mail scanner (or the wrong browser) opening the link does not use it up."""
        async with _browser(app, "203.0.113.9") as signer, _browser(app, "192.0.2.50") as scanner:
            link = await _signed_up_link(signer, settings.outbox_dir)
            assert (await scanner.get(_path(link))).status_code == 403
            assert (await signer.get(_path(link))).status_code == 200

    async def test_a_signup_cookie_of_another_account_is_no_proof(
        self, app: FastAPI, settings: Settings
    ) -> None:
        async with _browser(app, "203.0.113.9") as first, _browser(app, "198.51.100.7") as other:
            await _signed_up_link(first, settings.outbox_dir)
            link = await _signed_up_link(other, settings.outbox_dir, email="otra@proveo.cl")
            first.cookies.set("signup_proof", other.cookies["signup_proof"] + "0")
            assert (await first.get(_path(link))).status_code == 403
            first.cookies.set("signup_proof", other.cookies["signup_proof"])
            assert (await first.get(_path(link))).status_code == 200


class TestResendVerification:
    RESEND = "/api/v1/users/resend-verification"

    async def test_same_answer_for_known_and_unknown_email(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        await client.post(SIGNUP, json=_signup_body())
        known = await client.post(self.RESEND, json={"email": "ana@proveo.cl"})
        unknown = await client.post(self.RESEND, json={"email": "nobody@proveo.cl"})
        assert known.status_code == unknown.status_code == 200
        assert known.json() == unknown.json()
        assert len(outbox_messages(settings.outbox_dir)) == 2

    async def test_new_link_works_and_is_rate_limited(
        self, client: httpx.AsyncClient, settings: Settings, app: FastAPI
    ) -> None:
        await client.post(SIGNUP, json=_signup_body())
        statuses = [
            (await client.post(self.RESEND, json={"email": "ana@proveo.cl", "lang": "en"}))
            for _ in range(settings.resend_per_email_per_hour + 1)
        ]
        assert [r.status_code for r in statuses[:-1]] == [200] * settings.resend_per_email_per_hour
        assert statuses[-1].status_code == 429
        assert int(statuses[-1].headers["retry-after"]) >= 1
        link = verification_link(outbox_messages(settings.outbox_dir)[-1])
        assert (await client.get(_path(link))).status_code == 200

    async def test_verified_users_get_no_email(
        self, client: httpx.AsyncClient, settings: Settings, conn: Connection
    ) -> None:
        await create_user(conn, email="done@proveo.cl", verified=True)
        response = await client.post(self.RESEND, json={"email": "done@proveo.cl"})
        assert response.status_code == 200
        assert outbox_messages(settings.outbox_dir) == []


class TestEmailOutage:
    async def test_signup_is_kept_when_email_cannot_be_sent(
        self, settings: Settings, conn: Connection, cache: object
    ) -> None:
        from proveo.app import create_app
        from proveo.core.cache import Cache
        from proveo.integrations.email import SmtpEmailSender
        from tests.fixtures.database import PinnedDatabase
        from tests.fixtures.servers import free_port

        assert isinstance(cache, Cache)
        dead_smtp = SmtpEmailSender(
            "127.0.0.1", free_port(), "", "", use_tls=False, sender="p@proveo.cl", timeout=1
        )
        app = create_app(
            settings, database=PinnedDatabase(conn), cache=cache, email_sender=dead_smtp
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.post(SIGNUP, json=_signup_body(email="kept@proveo.cl"))
        assert response.status_code == 201
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM proveo.user_account WHERE email = 'kept@proveo.cl'"
            )
            == 1
        )
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM proveo.email_verification_token t "
                "JOIN proveo.user_account u ON u.id = t.user_id WHERE u.email = 'kept@proveo.cl'"
            )
            == 1
        )


class TestStaleUnverifiedClaims:
    async def test_expired_unverified_account_gives_way_to_a_new_signup(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        squatter = await create_user(conn, email="owner@proveo.cl", verified=False)
        await conn.execute(
            "UPDATE proveo.user_account SET created_at = now() - interval '25 hours' WHERE id = $1",
            squatter.id,
        )
        response = await client.post(SIGNUP, json=_signup_body(email="owner@proveo.cl"))
        assert response.status_code == 201
        assert await conn.fetchval(
            "SELECT deleted_at IS NOT NULL FROM proveo.user_account WHERE id = $1", squatter.id
        )

    async def test_pending_account_points_to_password_reset(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        """The owner of an address someone else signed up gets it back through a reset link."""
        await create_user(conn, email="pending@proveo.cl", verified=False)
        response = await client.post(SIGNUP, json=_signup_body(email="pending@proveo.cl"))
        assert response.status_code == 409
        body = response.json()
        assert body["code"] == "email_taken"
        assert "waiting for its address to be confirmed" in body["detail"]
        assert "/api/v1/users/password-reset/request" in body["detail"]

    async def test_recent_or_verified_accounts_keep_the_address(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await create_user(conn, email="recent@proveo.cl", verified=False)
        old_verified = await create_user(conn, email="kept@proveo.cl", verified=True)
        await conn.execute(
            "UPDATE proveo.user_account SET created_at = now() - interval '30 days' WHERE id = $1",
            old_verified.id,
        )
        for email in ("recent@proveo.cl", "kept@proveo.cl"):
            response = await client.post(SIGNUP, json=_signup_body(email=email))
            assert response.status_code == 409
