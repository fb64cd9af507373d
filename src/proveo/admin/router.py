from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from proveo.accounts.deps import AdminUser
from proveo.admin import service
from proveo.admin.schemas import AuditActor, AuditEntry, SearchStats
from proveo.core.deps import Conn, Page
from proveo.core.openapi import ADMIN_REQUIRED, error_responses

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get(
    "/audit-log",
    name="admin:audit_log",
    summary="Read the audit log of admin actions, newest first (admin)",
    responses=error_responses(400, ADMIN_REQUIRED, 503),
)
async def audit_log(
    _: AdminUser,
    conn: Conn,
    response: Response,
    page: Page,
    actor: Annotated[UUID | None, Query(description="The acting account's uuid")] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    actor_email: Annotated[
        str | None,
        Query(
            max_length=254,
            description=(
                "The acting account's email, case-insensitively (every account that had it)"
            ),
        ),
    ] = None,
) -> list[AuditEntry]:
    entries, total = await service.list_audit_entries(
        conn, limit=page.limit, offset=page.offset, actor=actor, action=action,
        actor_email=actor_email,
    )  # fmt: skip
    response.headers["X-Total-Count"] = str(total)
    return entries


@router.get(
    "/audit-log/actors",
    name="admin:audit_actors",
    summary="The accounts that appear as actors in the audit log, by email (admin)",
    description="At most 20, those whose email contains `q` when given: the actor filter's list.",
    responses=error_responses(ADMIN_REQUIRED, 503),
)
async def audit_actors(
    _: AdminUser, conn: Conn, q: Annotated[str | None, Query(max_length=254)] = None
) -> list[AuditActor]:
    return await service.list_audit_actors(conn, q)


@router.get(
    "/search-stats",
    name="admin:search_stats",
    summary="The most frequent search queries, and those that found nothing (admin)",
    description=(
        "Normalised query texts and counts over the last `days` UTC days, today included: the "
        "20 most searched, and the 20 most searched that found no company. No IP or user is "
        "stored with them. Searches reach these figures within about 5 seconds (they are "
        "recorded in batches)."
    ),
    responses=error_responses(ADMIN_REQUIRED, 503),
)
async def search_stats(
    _: AdminUser, conn: Conn, days: Annotated[int, Query(ge=1, le=90)] = 7
) -> SearchStats:
    return await service.search_statistics(conn, days)
