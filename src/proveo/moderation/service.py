"""The moderation queue: holding, withdrawing and deciding images.

What a decision does to the company (its logo) is the companies service's part: it calls
`take_pending` and `record_decision` inside its own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from proveo.core.db import Connection
from proveo.core.errors import Conflict, NotFound
from proveo.integrations.storage import ImageStorage, OpenedObject, held_object_names
from proveo.moderation import repository
from proveo.moderation.schemas import HeldImage, ModerationEntry, ModerationStatus


class ModerationNotFound(NotFound):
    code = "moderation_not_found"
    default_detail = "No such image awaiting moderation"


class AlreadyDecided(Conflict):
    code = "moderation_decided"
    default_detail = "This image was already decided or withdrawn"


async def hold_image(conn: Connection, *, company_id: int, image_key: str, score: float) -> None:
    await repository.insert_held_image(
        conn, company_id=company_id, image_key=image_key, nsfw_score=score
    )


async def withdraw_pending_images(
    conn: Connection, company_id: int, *, keep: Sequence[str] = ()
) -> list[str]:
    """Nobody will decide these any more (the owner sent another logo, or the company went
    away): returns their image keys, whose objects go once the transaction commits. `keep`:
    images still waiting that stay (a new logo leaves the gallery's photos alone)."""
    return await repository.update_pending_images_of_company_withdrawn(conn, company_id, keep)


async def withdraw_pending_image(conn: Connection, company_id: int, image_key: str) -> bool:
    """Withdraw one image (a gallery photo removed while held); False if none was waiting."""
    return await repository.update_pending_image_withdrawn(conn, company_id, image_key)


async def find_held_image(conn: Connection, moderation_uuid: UUID) -> HeldImage:
    held = await repository.select_held_image(conn, moderation_uuid)
    if held is None:
        raise ModerationNotFound()
    return held


async def take_pending(conn: Connection, moderation_uuid: UUID) -> HeldImage:
    """Lock the row and insist it still waits for a decision (two admins cannot both decide)."""
    held = await repository.select_held_image(conn, moderation_uuid, lock=True)
    if held is None:
        raise ModerationNotFound()
    if held.status is not ModerationStatus.PENDING:
        raise AlreadyDecided()
    return held


async def record_decision(
    conn: Connection, held: HeldImage, status: ModerationStatus, decided_by: UUID
) -> None:
    await repository.update_held_image_decided(conn, held.id, status, decided_by)


async def list_queue(
    conn: Connection, *, status: ModerationStatus, limit: int, offset: int
) -> tuple[list[ModerationEntry], int]:
    """Oldest first: the queue is worked through in the order images arrived."""
    return await repository.select_queue_page(conn, status=status, limit=limit, offset=offset)


class HeldImageNotFound(NotFound):
    code = "image_not_found"
    default_detail = "No image awaits a decision here (unknown, or already decided)"


async def find_pending_image_key(conn: Connection, moderation_uuid: UUID) -> str:
    held = await repository.select_held_image(conn, moderation_uuid)
    if held is None or held.status is not ModerationStatus.PENDING:
        raise HeldImageNotFound()
    return held.image_key


async def open_held_image(
    storage: ImageStorage, image_key: str, *, thumbnail: bool
) -> OpenedObject:
    full, thumb = held_object_names(image_key)
    opened = await storage.open(thumb if thumbnail else full)
    if opened is None:
        raise HeldImageNotFound()
    return opened
