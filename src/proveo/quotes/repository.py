"""SQL for quote requests and their recipients. The only module that writes these tables
(the scheduled expiry and erasure are SQL jobs: `jobs/repository.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from proveo.core.db import Connection
from proveo.quotes.schemas import (
    AdminRecord,
    MatchedCompany,
    Recipient,
    RecipientRecord,
    ReplyRecord,
    RequestRecord,
)

# An open request past its expiry is expired at once, whether or not the hourly job has run.
_STATUS = "CASE WHEN q.status = 'open' AND q.expires_at <= now() THEN 'expired' ELSE q.status END"

_REQUEST_COLUMNS = f"""
       q.id, q.uuid, {_STATUS} AS status, q.title, q.description,
       q.product_id, p.uuid AS product_uuid, p.name_es AS product_name_es,
       p.name_en AS product_name_en,
       q.region, q.commune_id, co.name AS commune_name, co.region AS commune_region,
       q.needed_by, q.budget_band,
       q.contact_name, q.contact_email, q.contact_phone, q.contact_company,
       q.lang, q.user_id, q.access_token_digest,
       q.created_at, q.confirmed_at, q.expires_at, q.closed_at, q.removed_at, q.contact_erased_at
"""
_REQUEST_FROM = """
FROM proveo.quote_request q
JOIN proveo.product p ON p.id = q.product_id
LEFT JOIN proveo.commune co ON co.id = q.commune_id
"""
_REQUEST = f"SELECT {_REQUEST_COLUMNS} {_REQUEST_FROM}"

INSERT_REQUEST = """
INSERT INTO proveo.quote_request
    (product_id, region, commune_id, title, description, needed_by, budget_band,
     contact_name, contact_email, contact_phone, contact_company, lang, user_id,
     confirm_token_digest, access_token_digest)
SELECT p.id, $2::text, (SELECT co.id FROM proveo.commune co WHERE co.uuid = $3::uuid),
       $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15
FROM proveo.product p WHERE p.uuid = $1
RETURNING uuid
"""

SELECT_REQUEST_BY_CONFIRM_DIGEST_LOCKED = (
    _REQUEST + "WHERE q.confirm_token_digest = $1\nFOR UPDATE OF q\n"
)
SELECT_REQUEST_BY_UUID = _REQUEST + "WHERE q.uuid = $1\n"
SELECT_REQUEST_BY_UUID_LOCKED = SELECT_REQUEST_BY_UUID + "FOR UPDATE OF q\n"

UPDATE_REQUEST_CONFIRMED = """
UPDATE proveo.quote_request
SET status = 'open', confirmed_at = now(), expires_at = now() + $3::interval,
    confirm_token_digest = NULL, access_token_digest = $2
WHERE id = $1 AND status = 'pending'
"""

UPDATE_REQUEST_CLOSED = """
UPDATE proveo.quote_request SET status = 'closed', closed_at = now()
WHERE id = $1 AND status = 'open'
"""

UPDATE_REQUEST_REMOVED = """
UPDATE proveo.quote_request
SET status = 'removed', removed_at = now(), confirm_token_digest = NULL
WHERE id = $1 AND status <> 'removed'
"""

# The providers a request reaches. $1 product, $2 commune (or NULL), $3 region (the commune's
# when $2 is given; NULL for all of Chile), $4 the buyer's own account (its company is left
# out), $5 how many. Live companies are those the search index holds (not deleted). Located
# ones come before those that serve the place from elsewhere; within each, the company that
# received fewest requests in the last 30 days, then the one notified longest ago (never
# first), then chance.
SELECT_MATCHING_COMPANIES = """
WITH candidates AS (
    SELECT s.company_id,
           CASE WHEN $2::bigint IS NOT NULL AND s.commune_id = $2::bigint THEN 'located'
                WHEN $2::bigint IS NOT NULL THEN 'serves'
                WHEN $3::text IS NULL OR s.region = $3::text THEN 'located'
                ELSE 'serves' END AS match
    FROM proveo.company_search s
    JOIN proveo.company c ON c.id = s.company_id
    WHERE s.product_ids @> ARRAY[$1::bigint]
      AND c.deleted_at IS NULL
      AND ($4::bigint IS NULL OR c.user_id <> $4::bigint)
      AND ($3::text IS NULL
           OR ($2::bigint IS NOT NULL AND s.commune_id = $2::bigint)
           OR s.region = $3::text
           OR s.served_regions @> ARRAY[$3::text])
)
SELECT x.company_id, x.match
FROM candidates x
ORDER BY x.match = 'serves',
         (SELECT count(*) FROM proveo.quote_recipient r
          WHERE r.company_id = x.company_id AND r.notified_at > now() - interval '30 days'),
         (SELECT max(r.notified_at) FROM proveo.quote_recipient r
          WHERE r.company_id = x.company_id) ASC NULLS FIRST,
         random()
LIMIT $5
"""

INSERT_RECIPIENTS = """
INSERT INTO proveo.quote_recipient (quote_request_id, company_id, match)
SELECT $1, x.company_id, x.match
FROM unnest($2::bigint[], $3::text[]) AS x(company_id, match)
"""

SELECT_RECIPIENTS = """
SELECT c.id AS company_id, c.name AS company_name, u.email AS owner_email, u.lang AS owner_lang
FROM proveo.quote_recipient r
JOIN proveo.company c ON c.id = r.company_id
JOIN proveo.user_account u ON u.id = c.user_id
WHERE r.quote_request_id = $1
ORDER BY r.match, c.id
"""

SELECT_RECIPIENT_COUNTS = """
SELECT count(*) AS notified,
       count(*) FILTER (WHERE status = 'replied') AS replied,
       count(*) FILTER (WHERE status = 'declined') AS declined
FROM proveo.quote_recipient WHERE quote_request_id = $1
"""

SELECT_REPLIES = """
SELECT c.uuid AS company_uuid, c.name AS company_name, c.slug, c.phone, c.email, c.website,
       r.reply, r.replied_at
FROM proveo.quote_recipient r
JOIN proveo.company c ON c.id = r.company_id
WHERE r.quote_request_id = $1 AND r.status = 'replied'
ORDER BY r.replied_at, c.id
"""

SELECT_LIVE_COMPANY_ID_OF_USER = (
    "SELECT id FROM proveo.company WHERE user_id = $1 AND deleted_at IS NULL"
)

# A provider's inbox: the requests sent to its company, newest first. Removed requests (an
# admin's decision) and never-confirmed ones are not shown.
_INBOX_FROM = f"""
{_REQUEST_FROM}
JOIN proveo.quote_recipient r ON r.quote_request_id = q.id
WHERE r.company_id = $1 AND q.status NOT IN ('removed', 'pending')
"""
_RECIPIENT_COLUMNS = """
       r.company_id, r.status AS recipient_status, r.notified_at, r.reply, r.replied_at
"""
SELECT_INBOX_PAGE = f"""
SELECT {_REQUEST_COLUMNS}, {_RECIPIENT_COLUMNS}
{_INBOX_FROM} AND ($2::text IS NULL OR r.status = $2::text)
ORDER BY r.notified_at DESC, q.id DESC
LIMIT $3 OFFSET $4
"""
COUNT_INBOX = f"""
SELECT count(*) {_INBOX_FROM} AND ($2::text IS NULL OR r.status = $2::text)
"""
SELECT_INBOX_ITEM = f"""
SELECT {_REQUEST_COLUMNS}, {_RECIPIENT_COLUMNS}
{_INBOX_FROM} AND q.uuid = $2
"""
SELECT_INBOX_ITEM_LOCKED = SELECT_INBOX_ITEM + "FOR UPDATE OF r, q\n"

UPDATE_RECIPIENT_READ = """
UPDATE proveo.quote_recipient SET status = 'read', read_at = now()
WHERE quote_request_id = $1 AND company_id = $2 AND status = 'new'
"""
UPDATE_RECIPIENT_REPLIED = """
UPDATE proveo.quote_recipient
SET status = 'replied', reply = $3, replied_at = now(), read_at = coalesce(read_at, now())
WHERE quote_request_id = $1 AND company_id = $2 AND status IN ('new', 'read')
"""
UPDATE_RECIPIENT_DECLINED = """
UPDATE proveo.quote_recipient
SET status = 'declined', declined_at = now(), read_at = coalesce(read_at, now())
WHERE quote_request_id = $1 AND company_id = $2 AND status IN ('new', 'read')
"""

# The admin's list: every request, newest first, with its recipients' answers counted.
_ADMIN = f"""
SELECT {_REQUEST_COLUMNS},
       (SELECT count(*) FROM proveo.quote_recipient r WHERE r.quote_request_id = q.id)
           AS notified,
       (SELECT count(*) FROM proveo.quote_recipient r
        WHERE r.quote_request_id = q.id AND r.status = 'replied') AS replied,
       (SELECT count(*) FROM proveo.quote_recipient r
        WHERE r.quote_request_id = q.id AND r.status = 'declined') AS declined
{_REQUEST_FROM}
"""
_ADMIN_FILTER = f"WHERE ($1::text IS NULL OR {_STATUS} = $1::text)\n"
SELECT_ADMIN_PAGE = (
    _ADMIN + _ADMIN_FILTER + "ORDER BY q.created_at DESC, q.id DESC\nLIMIT $2 OFFSET $3\n"
)
COUNT_ADMIN = "SELECT count(*) FROM proveo.quote_request q " + _ADMIN_FILTER
SELECT_ADMIN_BY_UUID = _ADMIN + "WHERE q.uuid = $1\n"


def _request(row: Any) -> RequestRecord:
    return RequestRecord.model_validate(dict(row))


def _recipient(row: Any) -> RecipientRecord:
    values = dict(row)
    return RecipientRecord(
        request=RequestRecord.model_validate(values),
        company_id=values["company_id"],
        status=values["recipient_status"],
        notified_at=values["notified_at"],
        reply=values["reply"],
        replied_at=values["replied_at"],
    )


async def insert_request(
    conn: Connection,
    *,
    product_uuid: UUID,
    region: str | None,
    commune_uuid: UUID | None,
    title: str,
    description: str,
    needed_by: date | None,
    budget_band: str | None,
    contact_name: str,
    contact_email: str,
    contact_phone: str | None,
    contact_company: str | None,
    lang: str,
    user_id: int | None,
    confirm_digest: bytes,
    access_digest: bytes,
) -> UUID | None:
    """The new request's uuid; None when the product is gone (deleted meanwhile)."""
    request_uuid: UUID | None = await conn.fetchval(
        INSERT_REQUEST, product_uuid, region, commune_uuid, title, description, needed_by,
        budget_band, contact_name, contact_email, contact_phone, contact_company, lang, user_id,
        confirm_digest, access_digest,
    )  # fmt: skip
    return request_uuid


async def select_request_by_confirm_digest_locked(
    conn: Connection, digest: bytes
) -> RequestRecord | None:
    row = await conn.fetchrow(SELECT_REQUEST_BY_CONFIRM_DIGEST_LOCKED, digest)
    return _request(row) if row else None


async def select_request_by_uuid(
    conn: Connection, request_uuid: UUID, *, lock: bool = False
) -> RequestRecord | None:
    query = SELECT_REQUEST_BY_UUID_LOCKED if lock else SELECT_REQUEST_BY_UUID
    row = await conn.fetchrow(query, request_uuid)
    return _request(row) if row else None


async def update_request_confirmed(
    conn: Connection, request_id: int, access_digest: bytes, lifetime: timedelta
) -> bool:
    result = await conn.execute(UPDATE_REQUEST_CONFIRMED, request_id, access_digest, lifetime)
    return bool(result.endswith(" 1"))


async def update_request_closed(conn: Connection, request_id: int) -> bool:
    result = await conn.execute(UPDATE_REQUEST_CLOSED, request_id)
    return bool(result.endswith(" 1"))


async def update_request_removed(conn: Connection, request_id: int) -> bool:
    result = await conn.execute(UPDATE_REQUEST_REMOVED, request_id)
    return bool(result.endswith(" 1"))


async def select_matching_companies(
    conn: Connection,
    *,
    product_id: int,
    commune_id: int | None,
    region: str | None,
    buyer_user_id: int | None,
    limit: int,
) -> list[MatchedCompany]:
    rows = await conn.fetch(
        SELECT_MATCHING_COMPANIES, product_id, commune_id, region, buyer_user_id, limit
    )
    return [MatchedCompany.model_validate(dict(row)) for row in rows]


async def insert_recipients(
    conn: Connection, request_id: int, matches: Sequence[MatchedCompany]
) -> None:
    if matches:
        await conn.execute(
            INSERT_RECIPIENTS,
            request_id,
            [m.company_id for m in matches],
            [m.match for m in matches],
        )


async def select_recipients(conn: Connection, request_id: int) -> list[Recipient]:
    rows = await conn.fetch(SELECT_RECIPIENTS, request_id)
    return [Recipient.model_validate(dict(row)) for row in rows]


async def select_recipient_counts(conn: Connection, request_id: int) -> tuple[int, int, int]:
    """How many providers were notified, replied and declined."""
    row = await conn.fetchrow(SELECT_RECIPIENT_COUNTS, request_id)
    assert row is not None
    return int(row["notified"]), int(row["replied"]), int(row["declined"])


async def select_replies(conn: Connection, request_id: int) -> list[ReplyRecord]:
    rows = await conn.fetch(SELECT_REPLIES, request_id)
    return [ReplyRecord.model_validate(dict(row)) for row in rows]


async def select_live_company_id_of_user(conn: Connection, user_id: int) -> int | None:
    company_id: int | None = await conn.fetchval(SELECT_LIVE_COMPANY_ID_OF_USER, user_id)
    return company_id


async def select_inbox_page(
    conn: Connection, company_id: int, *, status: str | None, limit: int, offset: int
) -> tuple[list[RecipientRecord], int]:
    rows = await conn.fetch(SELECT_INBOX_PAGE, company_id, status, limit, offset)
    total = await conn.fetchval(COUNT_INBOX, company_id, status)
    return [_recipient(row) for row in rows], int(total or 0)


async def select_inbox_item(
    conn: Connection, company_id: int, request_uuid: UUID, *, lock: bool = False
) -> RecipientRecord | None:
    query = SELECT_INBOX_ITEM_LOCKED if lock else SELECT_INBOX_ITEM
    row = await conn.fetchrow(query, company_id, request_uuid)
    return _recipient(row) if row else None


async def update_recipient_read(conn: Connection, request_id: int, company_id: int) -> None:
    await conn.execute(UPDATE_RECIPIENT_READ, request_id, company_id)


async def update_recipient_replied(
    conn: Connection, request_id: int, company_id: int, message: str
) -> bool:
    result = await conn.execute(UPDATE_RECIPIENT_REPLIED, request_id, company_id, message)
    return bool(result.endswith(" 1"))


async def update_recipient_declined(conn: Connection, request_id: int, company_id: int) -> bool:
    result = await conn.execute(UPDATE_RECIPIENT_DECLINED, request_id, company_id)
    return bool(result.endswith(" 1"))


async def select_admin_page(
    conn: Connection, *, status: str | None, limit: int, offset: int
) -> tuple[list[AdminRecord], int]:
    rows = await conn.fetch(SELECT_ADMIN_PAGE, status, limit, offset)
    total = await conn.fetchval(COUNT_ADMIN, status)
    return [AdminRecord.model_validate(dict(row)) for row in rows], int(total or 0)


async def select_admin_request(conn: Connection, request_uuid: UUID) -> AdminRecord | None:
    row = await conn.fetchrow(SELECT_ADMIN_BY_UUID, request_uuid)
    return AdminRecord.model_validate(dict(row)) if row else None
