"""Admin audit trail: every admin write records who did what, in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from proveo.admin import repository
from proveo.admin.schemas import AuditEntry
from proveo.core.db import Connection


@dataclass(frozen=True)
class AdminActor:
    """Who acts, and from where: taken from the request by the router."""

    uuid: UUID
    ip: str | None
    request_id: str | None


async def record_admin_action(
    conn: Connection,
    actor: AdminActor,
    *,
    action: str,
    target_type: str,
    target_uuid: UUID | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    await repository.insert_audit_entry(
        conn,
        actor_uuid=actor.uuid,
        action=action,
        target_type=target_type,
        target_uuid=target_uuid,
        changes={"before": before, "after": after},
        ip=actor.ip,
        request_id=actor.request_id,
    )


async def list_audit_entries(
    conn: Connection, *, limit: int, offset: int, actor: UUID | None, action: str | None
) -> tuple[list[AuditEntry], int]:
    """One page, newest first, and the total count for X-Total-Count."""
    return await repository.select_audit_page(
        conn, limit=limit, offset=offset, actor=actor, action=action
    )
