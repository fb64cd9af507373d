"""`proveo create-admin`'s rules: never adopt an unverified account, never re-key silently."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from proveo.accounts import lifecycle
from proveo.accounts.schemas import AdminAccountRequest, Role
from proveo.admin.service import CLI_ACTOR
from proveo.core.db import Connection
from tests.factories import DEFAULT_PASSWORD, create_user, log_in

NEW_PASSWORD = "Admin-pass-42"


async def _ensure_admin(
    conn: Connection, email: str, password: str | None = None, *, reset_password: bool = False
) -> lifecycle.AdminAccount:
    return await lifecycle.ensure_admin(
        conn,
        AdminAccountRequest(name="Ops", email=email, password=password),
        reset_password=reset_password,
        bcrypt_rounds=4,
        actor=CLI_ACTOR,
    )


async def _audit(conn: Connection, target: object) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT actor_uuid, action, changes FROM proveo.admin_audit_log "
        "WHERE target_uuid = $1 ORDER BY id",
        target,
    )
    return [dict(row) | {"changes": json.loads(row["changes"])} for row in rows]


async def _logs_in(client: httpx.AsyncClient, email: str, password: str) -> bool:
    client.cookies.clear()  # a fresh browser: the ended session's cookie would need CSRF
    response = await client.post("/api/v1/users/login", json={"email": email, "password": password})
    return response.status_code == 200


class TestCreateAdmin:
    async def test_creates_a_verified_admin_audited_as_cli(self, conn: Connection) -> None:
        account = await _ensure_admin(conn, "new-admin@proveo.cl", NEW_PASSWORD)
        assert account.outcome is lifecycle.AdminOutcome.CREATED
        assert account.user.role is Role.ADMIN
        assert account.user.email_verified
        [entry] = await _audit(conn, account.user.uuid)
        assert str(entry["actor_uuid"]) == "00000000-0000-0000-0000-000000000000"
        assert entry["action"] == "user.create"
        assert entry["changes"]["actor"] == "cli"
        assert entry["changes"]["after"]["role"] == "admin"

    async def test_a_new_account_needs_a_password(self, conn: Connection) -> None:
        assert await lifecycle.admin_password_needed(conn, "nobody@proveo.cl", reset_password=False)
        with pytest.raises(lifecycle.AdminPasswordRequired):
            await _ensure_admin(conn, "nobody@proveo.cl")

    def test_applies_the_signup_password_policy(self) -> None:
        for weak in ("short1!", "onlylowercase", "x" * 129):
            with pytest.raises(ValidationError):
                AdminAccountRequest(name="Ops", email="ops@proveo.cl", password=weak)


class TestCreateAdminOnAnUnverifiedAccount:
    async def test_retires_it_and_creates_a_fresh_admin(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        squatter = await create_user(conn, email="future-admin@proveo.cl", verified=False)
        await log_in(client, squatter)  # unverified accounts can log in

        account = await _ensure_admin(conn, "future-admin@proveo.cl", NEW_PASSWORD)

        assert account.outcome is lifecycle.AdminOutcome.REPLACED_UNVERIFIED
        assert account.user.uuid != squatter.uuid
        assert (await client.get("/api/v1/users/me")).status_code == 401
        assert not await _logs_in(client, "future-admin@proveo.cl", DEFAULT_PASSWORD)
        assert await _logs_in(client, "future-admin@proveo.cl", NEW_PASSWORD)
        me = (await client.get("/api/v1/users/me")).json()
        assert (me["role"], me["email_verified"]) == ("admin", True)
        [retired] = await _audit(conn, squatter.uuid)
        assert retired["action"] == "user.delete"
        assert retired["changes"]["actor"] == "cli"
        [created] = await _audit(conn, account.user.uuid)
        assert created["action"] == "user.create"


class TestCreateAdminOnAVerifiedAccount:
    async def test_promotes_keeping_the_password_and_ends_every_session(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        user = await create_user(conn, email="promoted@proveo.cl")
        await log_in(client, user)
        assert not await lifecycle.admin_password_needed(conn, user.email, reset_password=False)

        account = await _ensure_admin(conn, user.email)

        assert account.outcome is lifecycle.AdminOutcome.PROMOTED
        assert not account.password_replaced
        assert account.user.uuid == user.uuid
        assert (await client.get("/api/v1/users/me")).status_code == 401
        assert await _logs_in(client, user.email, DEFAULT_PASSWORD)
        assert (await client.get("/api/v1/users/me")).json()["role"] == "admin"
        [entry] = await _audit(conn, user.uuid)
        assert entry["action"] == "user.update"
        assert entry["changes"]["before"] == {"role": "user"}
        assert entry["changes"]["after"] == {"role": "admin", "sessions": "revoked"}
        assert entry["changes"]["actor"] == "cli"

    async def test_replaces_the_password_only_when_asked(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        user = await create_user(conn, email="rekeyed@proveo.cl")
        await log_in(client, user)
        assert await lifecycle.admin_password_needed(conn, user.email, reset_password=True)

        account = await _ensure_admin(conn, user.email, NEW_PASSWORD, reset_password=True)

        assert account.password_replaced
        assert (await client.get("/api/v1/users/me")).status_code == 401
        assert not await _logs_in(client, user.email, DEFAULT_PASSWORD)
        assert await _logs_in(client, user.email, NEW_PASSWORD)
        [entry] = await _audit(conn, user.uuid)
        assert entry["changes"]["after"]["password_replaced"] is True

    async def test_an_admin_without_reset_is_left_alone(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        admin = await create_user(conn, email="already@proveo.cl", role=Role.ADMIN)
        await log_in(client, admin)

        account = await _ensure_admin(conn, admin.email, NEW_PASSWORD)

        assert account.outcome is lifecycle.AdminOutcome.ALREADY_ADMIN
        assert not account.password_replaced
        assert (await client.get("/api/v1/users/me")).status_code == 200
        assert await _audit(conn, admin.uuid) == []
