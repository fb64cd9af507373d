"""SQL for the admin audit log (append-only: the table refuses UPDATE and DELETE)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from proveo.admin.schemas import AuditEntry, QueryCount, SearchCount
from proveo.core.db import Connection

INSERT_AUDIT_ENTRY = """
INSERT INTO proveo.admin_audit_log
    (actor_uuid, action, target_type, target_uuid, changes, ip, request_id)
VALUES ($1, $2, $3, $4, $5::jsonb, $6::inet, $7)
"""

SELECT_AUDIT_PAGE = """
SELECT uuid, actor_uuid, action, target_type, target_uuid, changes, host(ip) AS ip, request_id,
       created_at
FROM proveo.admin_audit_log
WHERE ($3::uuid IS NULL OR actor_uuid = $3) AND ($4::text IS NULL OR action = $4)
ORDER BY created_at DESC, id DESC
LIMIT $1 OFFSET $2
"""

COUNT_AUDIT = """
SELECT count(*) FROM proveo.admin_audit_log
WHERE ($1::uuid IS NULL OR actor_uuid = $1) AND ($2::text IS NULL OR action = $2)
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
    conn: Connection, *, limit: int, offset: int, actor: UUID | None, action: str | None
) -> tuple[list[AuditEntry], int]:
    rows = await conn.fetch(SELECT_AUDIT_PAGE, limit, offset, actor, action)
    entries = [
        AuditEntry.model_validate({**dict(row), "changes": json.loads(row["changes"])})
        for row in rows
    ]
    total: int = await conn.fetchval(COUNT_AUDIT, actor, action)
    return entries, total
