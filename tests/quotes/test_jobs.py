"""The quote requests' scheduled SQL jobs: expiry, unconfirmed purge, contact erasure (run as
the app scheduler runs them; real PostgreSQL, rolled back)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from proveo.core.db import Connection
from proveo.jobs.registry import SQL_JOBS
from proveo.jobs.service import run_sql_job

JOBS = {job.name: job for job in SQL_JOBS}


async def run(conn: Connection, name: str) -> int:
    removed = await run_sql_job(conn, JOBS[name])
    assert removed is not None
    return removed


async def add_request(
    conn: Connection,
    *,
    status: str = "open",
    created: str = "0",
    expires: str | None = "30 days",
    erased: bool = False,
) -> UUID:
    """A request with its times given as intervals from now (`'-2 days'`)."""
    product_id = await conn.fetchval("SELECT id FROM proveo.product LIMIT 1")
    confirmed = status != "pending" and expires is not None
    request_uuid: UUID = await conn.fetchval(
        """
        INSERT INTO proveo.quote_request
            (product_id, title, description, contact_name, contact_email, contact_phone,
             contact_company, lang, status, access_token_digest, created_at, confirmed_at,
             expires_at, removed_at)
        VALUES ($1, 't', 'd', 'Ana', 'ana@x.cl', '+56982314576', 'SpA', 'es', $2,
                sha256(gen_random_uuid()::text::bytea), now() + $3::text::interval,
                CASE WHEN $5 THEN now() + $3::text::interval END,
                now() + $4::text::interval, CASE WHEN $2 = 'removed' THEN now() END)
        RETURNING uuid
        """,
        product_id, status, created, expires, confirmed,
    )  # fmt: skip
    if erased:
        await conn.execute(
            "UPDATE proveo.quote_request SET contact_name = NULL, contact_email = NULL, "
            "contact_erased_at = now() WHERE uuid = $1",
            request_uuid,
        )
    return request_uuid


async def rows(conn: Connection) -> dict[UUID, dict[str, Any]]:
    found = await conn.fetch("SELECT * FROM proveo.quote_request")
    return {row["uuid"]: dict(row) for row in found}


class TestExpire:
    async def test_open_requests_past_their_30_days_expire(self, conn: Connection) -> None:
        live = await add_request(conn, expires="1 hour")
        due = await add_request(conn, created="-31 days", expires="-1 day")
        closed = await add_request(conn, status="closed", created="-31 days", expires="-1 day")

        assert await run(conn, "expire-quote-requests") == 1

        found = await rows(conn)
        assert found[live]["status"] == "open"
        assert found[due]["status"] == "expired"
        assert found[closed]["status"] == "closed"


class TestPurgeUnconfirmed:
    async def test_pending_requests_go_after_7_days(self, conn: Connection) -> None:
        fresh = await add_request(conn, status="pending", created="-6 days", expires=None)
        stale = await add_request(conn, status="pending", created="-8 days", expires=None)
        old_open = await add_request(conn, created="-60 days", expires="-30 days")

        assert await run(conn, "purge-unconfirmed-quote-requests") == 1

        assert set(await rows(conn)) == {fresh, old_open}
        assert stale not in await rows(conn)


class TestEraseContacts:
    async def test_contact_erased_12_months_after_expiry(self, conn: Connection) -> None:
        recent = await add_request(
            conn, status="expired", created="-11 months", expires="-10 months"
        )
        due = await add_request(conn, status="expired", created="-14 months", expires="-13 months")
        closed_due = await add_request(
            conn, status="closed", created="-14 months", expires="-13 months"
        )
        removed_never_confirmed = await add_request(
            conn, status="removed", created="-14 months", expires=None
        )
        user_id = await conn.fetchval(
            "INSERT INTO proveo.user_account (name, email, password_hash) "
            "VALUES ('B', 'b@x.cl', 'x') RETURNING id"
        )
        await conn.execute("UPDATE proveo.quote_request SET user_id = $1", user_id)

        assert await run(conn, "erase-quote-contacts") == 3

        found = await rows(conn)
        assert found[recent]["contact_email"] == "ana@x.cl"
        assert found[recent]["contact_erased_at"] is None
        for erased in (due, closed_due, removed_never_confirmed):
            row = found[erased]
            assert row["contact_erased_at"] is not None
            for column in ("contact_name", "contact_email", "contact_phone", "contact_company"):
                assert row[column] is None, column
            assert row["user_id"] is None
            assert row["title"] == "t"  # the request itself stays, for the providers' history
        assert await run(conn, "erase-quote-contacts") == 0  # once
