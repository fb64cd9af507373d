"""Company rules."""

from __future__ import annotations

from uuid import UUID

from proveo.companies import repository
from proveo.core.db import Connection


async def create_bilingual_company(
    conn: Connection,
    *,
    owner_id: int,
    product_uuid: UUID,
    commune_uuid: UUID,
    name: str,
    description_es: str,
    description_en: str,
    address: str,
    phone: str,
    email: str,
    image_key: str | None,
) -> UUID:
    """A company whose owner wrote both descriptions (demo data, imports)."""
    return await repository.insert_company(
        conn,
        user_id=owner_id,
        product_uuid=product_uuid,
        commune_uuid=commune_uuid,
        name=name,
        description_es=description_es,
        description_en=description_en,
        original_lang="es",
        description_es_source="original",
        description_en_source="human",
        address=address,
        phone=phone,
        email=email,
        image_key=image_key,
    )


async def retire_company_of_user(conn: Connection, user_id: int) -> list[str]:
    """Soft-delete the user's live company (its logo and any image awaiting moderation);
    returns the object names to delete after commit."""
    keys = await repository.update_company_of_user_soft_deleted(conn, user_id)
    return [name for key in keys for name in image_object_names(key)]


def image_object_names(image_key: str | None) -> list[str]:
    if image_key is None:
        return []
    return [f"{image_key}.webp", f"{image_key}_thumb.webp"]
