"""Helpers of the insights tests: a browser's User-Agent, the stored counts, quote rows."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID

from fastapi import FastAPI

from proveo.core.db import Connection
from proveo.insights.recorder import InsightsRecorder

# What Playwright's Chromium sends: a headless browser is a visitor, not a bot.
BROWSER = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/131.0.0.0 Safari/537.36"
}
COLUMNS = (
    "views",
    "impressions",
    "phone_clicks",
    "whatsapp_clicks",
    "email_clicks",
    "website_clicks",
)


def recorder(app: FastAPI) -> InsightsRecorder:
    found = app.state.insights_recorder
    assert isinstance(found, InsightsRecorder)
    return found


STORED = """
SELECT coalesce(sum(s.views), 0)::int AS views,
       coalesce(sum(s.impressions), 0)::int AS impressions,
       coalesce(sum(s.phone_clicks), 0)::int AS phone_clicks,
       coalesce(sum(s.whatsapp_clicks), 0)::int AS whatsapp_clicks,
       coalesce(sum(s.email_clicks), 0)::int AS email_clicks,
       coalesce(sum(s.website_clicks), 0)::int AS website_clicks
FROM proveo.company_daily_stat s JOIN proveo.company c ON c.id = s.company_id
WHERE c.uuid = $1
"""
INSERT_DAY = """
INSERT INTO proveo.company_daily_stat
    (company_id, day, views, impressions, phone_clicks, whatsapp_clicks, email_clicks,
     website_clicks)
SELECT id, $2, $3, $4, $5, $6, $7, $8 FROM proveo.company WHERE uuid = $1
"""


async def stored(conn: Connection, company_uuid: UUID) -> dict[str, int]:
    """The company's stored counts, summed over its days (zeros when it has none)."""
    row = await conn.fetchrow(STORED, company_uuid)
    assert row is not None
    return dict(row)


async def flushed(app: FastAPI, conn: Connection, company_uuid: UUID) -> dict[str, int]:
    await recorder(app).flush()
    return await stored(conn, company_uuid)


async def add_day(conn: Connection, company_uuid: UUID, day: date, **counts: int) -> None:
    assert set(counts) <= set(COLUMNS), counts
    await conn.execute(
        INSERT_DAY, company_uuid, day, *(counts.get(column, 0) for column in COLUMNS)
    )


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


async def add_quote_request(
    conn: Connection,
    *,
    confirmed: date | None,
    status: str = "open",
    recipients: list[tuple[UUID, date, date | None]] = (),  # type: ignore[assignment]
) -> int:
    """A quote request (confirmed on a day, or pending) sent to companies: (company, notified
    on, replied on)."""
    product_id = await conn.fetchval("SELECT id FROM proveo.product ORDER BY id LIMIT 1")
    digest = hashlib.sha256(secrets.token_bytes(16)).digest()
    request_id: int = await conn.fetchval(
        "INSERT INTO proveo.quote_request (product_id, title, description, contact_name,"
        " contact_email, lang, status, access_token_digest, created_at, confirmed_at)"
        " VALUES ($1, 'Necesito', 'Una necesidad', 'Ana', 'ana@example.cl', 'es', $2, $3,"
        " coalesce($4, now()), $4) RETURNING id",
        product_id,
        status,
        digest,
        at(confirmed, 9) if confirmed else None,
    )
    for company_uuid, notified, replied in recipients:
        extra: dict[str, Any] = (
            {"status": "replied", "reply": "Le cotizo", "replied_at": at(replied)}
            if replied
            else {"status": "new", "reply": None, "replied_at": None}
        )
        await conn.execute(
            "INSERT INTO proveo.quote_recipient (quote_request_id, company_id, status, match,"
            " reply, notified_at, replied_at)"
            " SELECT $1, id, $3, 'located', $4, $5, $6 FROM proveo.company WHERE uuid = $2",
            request_id,
            company_uuid,
            extra["status"],
            extra["reply"],
            at(notified, 10),
            extra["replied_at"],
        )
    return request_id
