"""SQL for the image moderation queue. The only module that writes `image_moderation`."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from proveo.core.db import Connection
from proveo.moderation.schemas import HeldImage, ModerationEntry, ModerationStatus

INSERT_HELD_IMAGE = """
INSERT INTO proveo.image_moderation (company_id, image_key, nsfw_score) VALUES ($1, $2, $3)
"""

UPDATE_PENDING_IMAGES_OF_COMPANY_WITHDRAWN = """
UPDATE proveo.image_moderation SET status = 'withdrawn', decided_at = now()
WHERE company_id = $1 AND status = 'pending' AND NOT (image_key = ANY($2::text[]))
RETURNING image_key
"""

UPDATE_PENDING_IMAGE_WITHDRAWN = """
UPDATE proveo.image_moderation SET status = 'withdrawn', decided_at = now()
WHERE company_id = $1 AND image_key = $2 AND status = 'pending'
RETURNING image_key
"""

_HELD_IMAGE_COLUMNS = "id, uuid, company_id, image_key, nsfw_score, status"

SELECT_HELD_IMAGE = f"""
SELECT {_HELD_IMAGE_COLUMNS} FROM proveo.image_moderation WHERE uuid = $1
"""

SELECT_HELD_IMAGE_LOCKED = SELECT_HELD_IMAGE + "FOR UPDATE\n"

UPDATE_HELD_IMAGE_DECIDED = """
UPDATE proveo.image_moderation SET status = $2, decided_by_uuid = $3, decided_at = now()
WHERE id = $1
"""

SELECT_QUEUE_PAGE = """
SELECT m.uuid, m.status, m.nsfw_score, m.image_key, m.decided_by_uuid, m.decided_at,
       m.created_at, c.uuid AS company_uuid, c.name AS company_name,
       c.deleted_at IS NOT NULL AS company_deleted,
       CASE WHEN m.status <> 'pending' THEN NULL
            WHEN EXISTS (
                SELECT 1 FROM proveo.company_photo ph
                WHERE ph.company_id = m.company_id AND ph.image_key = m.image_key
            ) THEN 'photo'
            ELSE 'logo' END AS kind
FROM proveo.image_moderation m
JOIN proveo.company c ON c.id = m.company_id
WHERE m.status = $3
ORDER BY m.created_at, m.id
LIMIT $1 OFFSET $2
"""

COUNT_QUEUE = "SELECT count(*) FROM proveo.image_moderation WHERE status = $1"


async def insert_held_image(
    conn: Connection, *, company_id: int, image_key: str, nsfw_score: float
) -> None:
    await conn.execute(INSERT_HELD_IMAGE, company_id, image_key, nsfw_score)


async def update_pending_images_of_company_withdrawn(
    conn: Connection, company_id: int, keep: Sequence[str] = ()
) -> list[str]:
    rows = await conn.fetch(UPDATE_PENDING_IMAGES_OF_COMPANY_WITHDRAWN, company_id, list(keep))
    return [row["image_key"] for row in rows]


async def update_pending_image_withdrawn(conn: Connection, company_id: int, image_key: str) -> bool:
    return await conn.fetchval(UPDATE_PENDING_IMAGE_WITHDRAWN, company_id, image_key) is not None


async def select_held_image(
    conn: Connection, moderation_uuid: UUID, *, lock: bool = False
) -> HeldImage | None:
    row = await conn.fetchrow(
        SELECT_HELD_IMAGE_LOCKED if lock else SELECT_HELD_IMAGE, moderation_uuid
    )
    return HeldImage.model_validate(dict(row)) if row else None


async def update_held_image_decided(
    conn: Connection, held_id: int, status: ModerationStatus, decided_by: UUID
) -> None:
    await conn.execute(UPDATE_HELD_IMAGE_DECIDED, held_id, status.value, decided_by)


async def select_queue_page(
    conn: Connection, *, status: ModerationStatus, limit: int, offset: int
) -> tuple[list[ModerationEntry], int]:
    rows = await conn.fetch(SELECT_QUEUE_PAGE, limit, offset, status.value)
    total: int = await conn.fetchval(COUNT_QUEUE, status.value)
    return [ModerationEntry.model_validate(dict(row)) for row in rows], total
