"""`/admin/moderation`: images whose NSFW score asks for an admin's decision."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Response

from proveo.accounts.deps import AdminUser
from proveo.admin.deps import Actor
from proveo.companies import service as companies_service
from proveo.core.deps import AppStorage, Conn, Page, delete_after_commit
from proveo.core.openapi import ADMIN_REQUIRED, error_responses
from proveo.moderation import service
from proveo.moderation.schemas import ModerationDecision, ModerationEntry, ModerationStatus

router = APIRouter(prefix="/admin/moderation", tags=["moderation"])

DECISION_ERRORS = error_responses(
    ADMIN_REQUIRED,
    (404, "No such image in the queue (`moderation_not_found`)"),
    (409, "Already decided, or withdrawn by its owner (`moderation_decided`)"),
    503,
)


@router.get(
    "",
    name="moderation:queue",
    summary="Images awaiting a decision, oldest first (admin)",
    responses=error_responses(ADMIN_REQUIRED, 503),
)
async def queue(
    _: AdminUser,
    conn: Conn,
    response: Response,
    page: Page,
    status: ModerationStatus = ModerationStatus.PENDING,
) -> list[ModerationEntry]:
    entries, total = await service.list_queue(
        conn, status=status, limit=page.limit, offset=page.offset
    )
    response.headers["X-Total-Count"] = str(total)
    return entries


@router.post(
    "/{moderation_uuid}/approve",
    name="moderation:approve",
    summary="Approve a held image: it becomes the company's logo (admin, audit-logged)",
    responses=DECISION_ERRORS,
)
async def approve(
    moderation_uuid: UUID, actor: Actor, conn: Conn, storage: AppStorage, tasks: BackgroundTasks
) -> ModerationDecision:
    decision, replaced = await companies_service.approve_held_image(conn, actor, moderation_uuid)
    delete_after_commit(tasks, storage, replaced)
    return decision


@router.post(
    "/{moderation_uuid}/reject",
    name="moderation:reject",
    summary="Reject a held image: it is deleted (admin, audit-logged)",
    responses=DECISION_ERRORS,
)
async def reject(
    moderation_uuid: UUID, actor: Actor, conn: Conn, storage: AppStorage, tasks: BackgroundTasks
) -> ModerationDecision:
    decision, held = await companies_service.reject_held_image(conn, actor, moderation_uuid)
    delete_after_commit(tasks, storage, held)
    return decision
