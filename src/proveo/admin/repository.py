"""SQL for the admin audit log (append-only: the table refuses UPDATE and DELETE)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from proveo.admin.schemas import AuditActor, AuditEntry, QueryCount, SearchCount
from proveo.core.db import Connection

INSERT_AUDIT_ENTRY = """
INSERT INTO proveo.admin_audit_log
    (actor_uuid, action, target_type, target_uuid, changes, ip, request_id)
VALUES ($1, $2, $3, $4, $5::jsonb, $6::inet, $7)
"""

# Who acted (an account uuid; or an email, matched as login matches it, so every account that
# ever had the address: a deleted one frees its email for a new signup), and the action.
_AUDIT_FILTER = """
(${actor}::uuid IS NULL OR a.actor_uuid = ${actor})
AND (${action}::text IS NULL OR a.action = ${action})
AND (${email}::text IS NULL OR a.actor_uuid IN (
    SELECT x.uuid FROM proveo.user_account x WHERE lower(x.email) = lower(${email})))
"""

# Each entry with the names a reader knows things by: the actor's email, and the target's
# current name (a company's or a catalogue entry's name, a user's email, an image's company, a
# quote request's title),
# NULL once the target is gone. One query for the page: no lookup per entry.
SELECT_AUDIT_PAGE = f"""
SELECT a.uuid, a.actor_uuid, a.action, a.target_type, a.target_uuid, a.changes,
       host(a.ip) AS ip, a.request_id, a.created_at,
       u.email AS actor_email, u.name AS actor_name,
       CASE a.target_type
           WHEN 'company' THEN (SELECT c.name FROM proveo.company c WHERE c.uuid = a.target_uuid)
           WHEN 'user' THEN (SELECT t.email FROM proveo.user_account t WHERE t.uuid = a.target_uuid)
           WHEN 'product' THEN (SELECT p.name_es FROM proveo.product p WHERE p.uuid = a.target_uuid)
           WHEN 'commune' THEN (SELECT m.name FROM proveo.commune m WHERE m.uuid = a.target_uuid)
           WHEN 'quote_request' THEN (
               SELECT q.title FROM proveo.quote_request q WHERE q.uuid = a.target_uuid)
           WHEN 'image_moderation' THEN (
               SELECT c.name FROM proveo.image_moderation i
               JOIN proveo.company c ON c.id = i.company_id
               WHERE i.uuid = a.target_uuid)
       END AS target_name,
       CASE WHEN a.target_type = 'product' THEN
           (SELECT p.name_en FROM proveo.product p WHERE p.uuid = a.target_uuid)
       END AS target_name_en
FROM proveo.admin_audit_log a
LEFT JOIN proveo.user_account u ON u.uuid = a.actor_uuid
WHERE {_AUDIT_FILTER.format(actor=3, action=4, email=5)}
ORDER BY a.created_at DESC, a.id DESC
LIMIT $1 OFFSET $2
"""

COUNT_AUDIT = f"""
SELECT count(*) FROM proveo.admin_audit_log a
WHERE {_AUDIT_FILTER.format(actor=1, action=2, email=3)}
"""

# The accounts that appear as actors, for the filter's suggestions: those whose email contains
# $1 (any, when NULL), by email. Scans the actor index once: a few thousand entries a year.
SELECT_AUDIT_ACTORS = """
SELECT u.uuid, u.email, u.name, u.deleted_at IS NOT NULL AS deleted
FROM (SELECT DISTINCT actor_uuid FROM proveo.admin_audit_log) a
JOIN proveo.user_account u ON u.uuid = a.actor_uuid
WHERE $1::text IS NULL OR strpos(lower(u.email), lower($1)) > 0
ORDER BY lower(u.email), u.created_at DESC
LIMIT $2
"""


# Several app replicas flush at once: rows arrive sorted by key, so their locks never cross.
UPSERT_SEARCH_COUNTS = """
INSERT INTO proveo.search_query_stat AS s (day, query, searches, zero_results)
SELECT * FROM unnest($1::date[], $2::text[], $3::bigint[], $4::bigint[])
ON CONFLICT (day, query) DO UPDATE
SET searches = s.searches + EXCLUDED.searches,
    zero_results = s.zero_results + EXCLUDED.zero_results
"""

# The last $1 UTC days, today included.
_SINCE = "day > (now() AT TIME ZONE 'UTC')::date - $1::int"
SELECT_TOP_QUERIES = f"""
SELECT query, sum(searches)::bigint AS count
FROM proveo.search_query_stat
WHERE {_SINCE}
GROUP BY query
ORDER BY count DESC, query
LIMIT $2
"""
SELECT_ZERO_RESULT_QUERIES = f"""
SELECT query, sum(zero_results)::bigint AS count
FROM proveo.search_query_stat
WHERE {_SINCE}
GROUP BY query
HAVING sum(zero_results) > 0
ORDER BY count DESC, query
LIMIT $2
"""


async def upsert_search_counts(conn: Connection, counts: list[SearchCount]) -> None:
    await conn.execute(
        UPSERT_SEARCH_COUNTS,
        [c.day for c in counts],
        [c.query for c in counts],
        [c.searches for c in counts],
        [c.zero_results for c in counts],
    )


async def select_top_queries(conn: Connection, days: int, limit: int) -> list[QueryCount]:
    rows = await conn.fetch(SELECT_TOP_QUERIES, days, limit)
    return [QueryCount.model_validate(dict(row)) for row in rows]


async def select_zero_result_queries(conn: Connection, days: int, limit: int) -> list[QueryCount]:
    rows = await conn.fetch(SELECT_ZERO_RESULT_QUERIES, days, limit)
    return [QueryCount.model_validate(dict(row)) for row in rows]


async def insert_audit_entry(
    conn: Connection,
    *,
    actor_uuid: UUID,
    action: str,
    target_type: str,
    target_uuid: UUID | None,
    changes: dict[str, Any],
    ip: str | None,
    request_id: str | None,
) -> None:
    await conn.execute(
        INSERT_AUDIT_ENTRY,
        actor_uuid,
        action,
        target_type,
        target_uuid,
        json.dumps(changes, default=str, ensure_ascii=False),
        ip,
        request_id,
    )


async def select_audit_page(
    conn: Connection,
    *,
    limit: int,
    offset: int,
    actor: UUID | None,
    action: str | None,
    actor_email: str | None,
) -> tuple[list[AuditEntry], int]:
    filters = (actor, action, actor_email)
    rows = await conn.fetch(SELECT_AUDIT_PAGE, limit, offset, *filters)
    entries = [
        AuditEntry.model_validate({**dict(row), "changes": json.loads(row["changes"])})
        for row in rows
    ]
    total: int = await conn.fetchval(COUNT_AUDIT, *filters)
    return entries, total


async def select_audit_actors(conn: Connection, *, q: str | None, limit: int) -> list[AuditActor]:
    rows = await conn.fetch(SELECT_AUDIT_ACTORS, q, limit)
    return [AuditActor.model_validate(dict(row)) for row in rows]
