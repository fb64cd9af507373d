"""SQL for companies. The only module that queries the company table."""

from __future__ import annotations

from uuid import UUID

from proveo.core.db import Connection

INSERT_COMPANY = """
INSERT INTO proveo.company (
    user_id, product_id, commune_id, name, description_es, description_en,
    description_original_lang, description_es_source, description_en_source,
    address, phone, email, image_key
)
SELECT $1, p.id, c.id, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
FROM proveo.product p, proveo.commune c
WHERE p.uuid = $2 AND c.uuid = $3
RETURNING uuid
"""


async def insert_company(
    conn: Connection,
    *,
    user_id: int,
    product_uuid: UUID,
    commune_uuid: UUID,
    name: str,
    description_es: str | None,
    description_en: str | None,
    original_lang: str,
    description_es_source: str,
    description_en_source: str,
    address: str,
    phone: str,
    email: str,
    image_key: str | None,
) -> UUID:
    company_uuid: UUID | None = await conn.fetchval(
        INSERT_COMPANY,
        user_id,
        product_uuid,
        commune_uuid,
        name,
        description_es,
        description_en,
        original_lang,
        description_es_source,
        description_en_source,
        address,
        phone,
        email,
        image_key,
    )
    if company_uuid is None:
        raise LookupError("unknown product or commune")
    return company_uuid


UPDATE_COMPANY_OF_USER_SOFT_DELETED = """
UPDATE proveo.company SET deleted_at = now()
WHERE user_id = $1 AND deleted_at IS NULL
RETURNING id, image_key
"""

# Images still waiting for an admin's decision go with the company: nobody will decide them.
UPDATE_PENDING_IMAGES_OF_COMPANY_WITHDRAWN = """
UPDATE proveo.image_moderation SET status = 'rejected', decided_at = now()
WHERE company_id = $1 AND status = 'pending'
RETURNING image_key
"""


async def update_company_of_user_soft_deleted(conn: Connection, user_id: int) -> list[str]:
    """Soft-delete the user's live company; returns the image keys it leaves behind."""
    row = await conn.fetchrow(UPDATE_COMPANY_OF_USER_SOFT_DELETED, user_id)
    if row is None:
        return []
    pending = await conn.fetch(UPDATE_PENDING_IMAGES_OF_COMPANY_WITHDRAWN, row["id"])
    keys = [row["image_key"]] if row["image_key"] else []
    return keys + [pending_row["image_key"] for pending_row in pending]
