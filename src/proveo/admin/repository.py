"""SQL for the admin audit log (append-only: the table refuses UPDATE and DELETE)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from proveo.admin.schemas import AuditEntry
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
