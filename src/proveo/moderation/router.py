"""`/admin/moderation`: images whose NSFW score asks for an admin's decision."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Response

from proveo.accounts.deps import AdminUser
from proveo.admin.deps import Actor, ActorBrief
from proveo.companies import service as companies_service
from proveo.core.deps import AppDatabase, AppStorage, Conn, Page, delete_after_commit
from proveo.core.openapi import ADMIN_REQUIRED, error_responses
from proveo.images.responses import MEDIA_TYPE, ObjectResponse
from proveo.moderation import service
from proveo.moderation.schemas import ModerationDecision, ModerationEntry, ModerationStatus

router = APIRouter(prefix="/admin/moderation", tags=["moderation"])

DECISION_ERRORS = error_responses(
    ADMIN_REQUIRED,
    (404, "No such image in the queue (`moderation_not_found`)"),
    (409, "Already decided, or withdrawn by its owner (`moderation_decided`)"),
    503,
)
# Kept by no cache, the admin's browser included: the picture may be one that must not spread,
# and it is gone from here once decided.
HELD_IMAGE_CACHE_CONTROL = "private, no-store"
HELD_IMAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
    **error_responses(
        ADMIN_REQUIRED,
        (404, "No image awaits a decision under this uuid (`image_not_found`)"),
        (503, "The image store or the database does not answer"),
    ),
}


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


async def _held_image(
    conn: Conn, storage: AppStorage, moderation_uuid: UUID, *, thumbnail: bool
) -> Response:
    image_key = await service.find_pending_image_key(conn, moderation_uuid)
    opened = await service.open_held_image(storage, image_key, thumbnail=thumbnail)
    return ObjectResponse(opened, {"Cache-Control": HELD_IMAGE_CACHE_CONTROL})


@router.get(
    "/{moderation_uuid}/image",
    name="moderation:image",
    summary="A held image, for the admin deciding it (WebP, never cached)",
    response_class=Response,
    responses=HELD_IMAGE_RESPONSES,
)
async def held_image(
    moderation_uuid: UUID, _: AdminUser, conn: Conn, storage: AppStorage
) -> Response:
    return await _held_image(conn, storage, moderation_uuid, thumbnail=False)


@router.get(
    "/{moderation_uuid}/thumbnail",
    name="moderation:thumbnail",
    summary="A held image's 256x256 thumbnail, for the admin deciding it",
    response_class=Response,
    responses=HELD_IMAGE_RESPONSES,
)
async def held_thumbnail(
    moderation_uuid: UUID, _: AdminUser, conn: Conn, storage: AppStorage
) -> Response:
    return await _held_image(conn, storage, moderation_uuid, thumbnail=True)


@router.post(
    "/{moderation_uuid}/approve",
    name="moderation:approve",
    summary="Approve a held image: it becomes the company's logo (admin, audit-logged)",
    responses=error_responses(
        ADMIN_REQUIRED,
        (404, "No such image in the queue (`moderation_not_found`)"),
        (
            409,
            "Already decided or withdrawn (`moderation_decided`), or the held image is gone "
            "from storage (`held_image_missing`)",
        ),
        (503, "The image store or the database does not answer"),
    ),
)
async def approve(
    moderation_uuid: UUID,
    actor: ActorBrief,
    database: AppDatabase,
    storage: AppStorage,
    tasks: BackgroundTasks,
) -> ModerationDecision:
    decision, replaced = await companies_service.approve_held_image(
        database, storage, actor, moderation_uuid
    )
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
