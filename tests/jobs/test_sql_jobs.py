"""The SQL jobs purge what they should and nothing else (real PostgreSQL, rolled back)."""

from __future__ import annotations

import secrets
from uuid import UUID

import pytest

from proveo.accounts.schemas import Role
from proveo.core.db import Connection
from proveo.jobs.registry import SQL_JOBS, SqlJob
from proveo.jobs.service import run_sql_job
from tests.factories import create_user

JOBS = {job.name: job for job in SQL_JOBS}


async def run(conn: Connection, name: str) -> int:
    removed = await run_sql_job(conn, JOBS[name])
    assert removed is not None  # no pg_cron on the embedded server: the app runs it
    return removed


async def add_session(conn: Connection, user_id: int, *, expires: str, revoked: str | None) -> UUID:
    session_id: UUID = await conn.fetchval(
        "INSERT INTO proveo.user_session (user_id, expires_at, revoked_at) "
        "VALUES ($1, now() + $2::text::interval, now() + $3::text::interval) RETURNING id",
        user_id, expires, revoked,
    )  # fmt: skip
    return session_id


async def add_token(conn: Connection, table: str, user_id: int, *, expires: str) -> int:
    token_id: int = await conn.fetchval(
        f"INSERT INTO proveo.{table} (user_id, token_hash, expires_at) "  # noqa: S608 - fixed names
        "VALUES ($1, $2, now() + $3::text::interval) RETURNING id",
        user_id, secrets.token_bytes(32), expires,
    )  # fmt: skip
    return token_id


async def existing(conn: Connection, table: str, ids: list[object]) -> set[object]:
    rows = await conn.fetch(f"SELECT id FROM proveo.{table} WHERE id = ANY($1)", ids)  # noqa: S608
    return {row["id"] for row in rows}


async def age_account(conn: Connection, user_id: int, days: float) -> None:
    await conn.execute(
        "UPDATE proveo.user_account SET created_at = now() - make_interval(secs => $2) "
        "WHERE id = $1",
        user_id, days * 86400,
    )  # fmt: skip


class TestPurgeExpiredSessions:
    async def test_removes_expired_and_revoked_sessions_only(self, conn: Connection) -> None:
        user = await create_user(conn)
        live = await add_session(conn, user.id, expires="30 minutes", revoked=None)
        expired = await add_session(conn, user.id, expires="-1 second", revoked=None)
        revoked = await add_session(conn, user.id, expires="30 minutes", revoked="-1 minute")

        assert await run(conn, "purge-expired-sessions") >= 2
        assert await existing(conn, "user_session", [live, expired, revoked]) == {live}


class TestPurgeExpiredTokens:
    @pytest.mark.parametrize("table", ["email_verification_token", "password_reset_token"])
    async def test_removes_links_a_week_after_they_expire(
        self, conn: Connection, table: str
    ) -> None:
        user = await create_user(conn)
        valid = await add_token(conn, table, user.id, expires="1 hour")
        just_expired = await add_token(conn, table, user.id, expires="-6 days")
        long_expired = await add_token(conn, table, user.id, expires="-8 days")
        used = await add_token(conn, table, user.id, expires="-1 hour")
        await conn.execute(f"UPDATE proveo.{table} SET used_at = now() WHERE id = $1", used)  # noqa: S608

        assert await run(conn, "purge-expired-tokens") >= 1
        assert await existing(conn, table, [valid, just_expired, long_expired, used]) == {
            valid, just_expired, used,
        }  # fmt: skip


class TestPurgeUnverifiedAccounts:
    async def test_deletes_accounts_never_verified_within_seven_days_with_their_rows(
        self, conn: Connection
    ) -> None:
        stale = await create_user(conn, verified=False)
        await age_account(conn, stale.id, 7.01)
        session = await add_session(conn, stale.id, expires="30 minutes", revoked=None)
        token = await add_token(conn, "email_verification_token", stale.id, expires="-6 days")

        assert await run(conn, "purge-unverified-accounts") >= 1
        assert await existing(conn, "user_account", [stale.id]) == set()
        # Their sessions and links cascade with them.
        assert await existing(conn, "user_session", [session]) == set()
        assert await existing(conn, "email_verification_token", [token]) == set()

    async def test_keeps_young_unverified_verified_admin_and_company_owning_accounts(
        self, conn: Connection
    ) -> None:
        young = await create_user(conn, verified=False)
        await age_account(conn, young.id, 6.9)
        verified = await create_user(conn, verified=True)
        await age_account(conn, verified.id, 30)
        admin = await create_user(conn, verified=False, role=Role.ADMIN)
        await age_account(conn, admin.id, 30)
        owner = await create_user(conn, verified=False)
        await age_account(conn, owner.id, 30)
        await conn.execute(
            "INSERT INTO proveo.company (user_id, product_id, commune_id, name, description_es, "
            "description_original_lang, description_es_source, description_en_source, address, "
            "phone, email) SELECT $1, (SELECT min(id) FROM proveo.product), "
            "(SELECT min(id) FROM proveo.commune), 'Aseo Ltda', 'Aseo', 'es', 'original', "
            "'pending', 'Calle 1', '+56912345678', 'a@b.cl'",
            owner.id,
        )
        # A soft-deleted never-verified account is gone too (a retired squat).
        retired = await create_user(conn, verified=False)
        await age_account(conn, retired.id, 30)
        await conn.execute(
            "UPDATE proveo.user_account SET deleted_at = now() WHERE id = $1", retired.id
        )

        await run(conn, "purge-unverified-accounts")
        ids = [young.id, verified.id, admin.id, owner.id, retired.id]
        assert await existing(conn, "user_account", ids) == {
            young.id, verified.id, admin.id, owner.id,
        }  # fmt: skip


def test_every_sql_job_has_its_own_cron_name() -> None:
    names = [job.cron_name for job in SQL_JOBS]
    assert len(set(names)) == len(names)
    assert all(isinstance(job, SqlJob) and name.startswith("proveo.") for job, name in
               zip(SQL_JOBS, names, strict=True))  # fmt: skip
