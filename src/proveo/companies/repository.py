"""SQL for companies. The only module that writes the company table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from proveo.companies.schemas import CompanyRecord, DescriptionSource, Lang
from proveo.core.db import Connection

_COMPANY = """
SELECT c.id, c.uuid, c.user_id, u.uuid AS owner_uuid, c.name,
       c.description_es, c.description_en, c.description_original_lang,
       c.description_es_source, c.description_en_source,
       c.address, c.phone, c.email, c.image_key,
       p.uuid AS product_uuid, p.name_es AS product_name_es, p.name_en AS product_name_en,
       co.uuid AS commune_uuid, co.name AS commune_name, co.region AS commune_region,
       EXISTS (
           SELECT 1 FROM proveo.image_moderation m
           WHERE m.company_id = c.id AND m.status = 'pending'
             AND NOT EXISTS (SELECT 1 FROM proveo.company_photo ph
                             WHERE ph.company_id = c.id AND ph.image_key = m.image_key)
       ) AS image_pending_review,
       c.slug, c.website, c.rut, c.year_founded, c.size_band, c.served_regions,
       coalesce((
           SELECT json_agg(json_build_object(
                      'uuid', xp.uuid, 'name_es', xp.name_es, 'name_en', xp.name_en)
                  ORDER BY cp.position, xp.name_es)
           FROM proveo.company_product cp JOIN proveo.product xp ON xp.id = cp.product_id
           WHERE cp.company_id = c.id
       ), '[]') AS extra_products,
       coalesce((
           SELECT json_agg(json_build_object(
                      'uuid', ph.uuid, 'image_key', ph.image_key, 'position', ph.position,
                      'pending', EXISTS (
                          SELECT 1 FROM proveo.image_moderation m
                          WHERE m.company_id = c.id AND m.image_key = ph.image_key
                            AND m.status = 'pending'))
                  ORDER BY ph.position)
           FROM proveo.company_photo ph WHERE ph.company_id = c.id
       ), '[]') AS photos,
       c.created_at, c.updated_at, c.deleted_at
FROM proveo.company c
JOIN proveo.user_account u ON u.id = c.user_id
JOIN proveo.product p ON p.id = c.product_id
JOIN proveo.commune co ON co.id = c.commune_id
"""

SELECT_LIVE_COMPANY_BY_UUID = _COMPANY + "WHERE c.uuid = $1 AND c.deleted_at IS NULL\n"
SELECT_COMPANY_BY_UUID = _COMPANY + "WHERE c.uuid = $1\n"
SELECT_COMPANY_BY_ID = _COMPANY + "WHERE c.id = $1\n"
SELECT_LIVE_COMPANY_OF_USER = _COMPANY + "WHERE c.user_id = $1 AND c.deleted_at IS NULL\n"
# The row lock serialises every write to one company (owner edits, admin edits, moderation).
_LOCKED = "FOR UPDATE OF c\n"
SELECT_LIVE_COMPANY_BY_UUID_LOCKED = SELECT_LIVE_COMPANY_BY_UUID + _LOCKED
SELECT_LIVE_COMPANY_BY_ID_LOCKED = _COMPANY + "WHERE c.id = $1 AND c.deleted_at IS NULL\n" + _LOCKED
SELECT_LIVE_COMPANY_OF_USER_LOCKED = SELECT_LIVE_COMPANY_OF_USER + _LOCKED

# `q` matches the name (without accents or case), the company's email or its owner's.
_ADMIN_FILTER = """
WHERE $1::text IS NULL
   OR strpos(proveo.fold(c.name), proveo.fold($1)) > 0
   OR strpos(lower(c.email), lower($1)) > 0
   OR strpos(lower(u.email), lower($1)) > 0
"""
SELECT_COMPANIES_PAGE = (
    _COMPANY + _ADMIN_FILTER + "ORDER BY c.created_at DESC, c.id DESC\nLIMIT $2 OFFSET $3\n"
)
COUNT_COMPANIES = (
    """
SELECT count(*) FROM proveo.company c JOIN proveo.user_account u ON u.id = c.user_id
"""
    + _ADMIN_FILTER
)

SELECT_LIVE_COMPANY_OWNER = """
SELECT u.uuid FROM proveo.company c JOIN proveo.user_account u ON u.id = c.user_id
WHERE c.uuid = $1 AND c.deleted_at IS NULL
"""

SELECT_LIVE_COMPANY_EXISTS_FOR_USER = """
SELECT EXISTS (SELECT 1 FROM proveo.company WHERE user_id = $1 AND deleted_at IS NULL)
"""

# NULL when the product or commune is gone (deleted since the request named it).
INSERT_COMPANY = """
INSERT INTO proveo.company (
    user_id, product_id, commune_id, name, description_es, description_en,
    description_original_lang, description_es_source, description_en_source,
    address, phone, email, image_key, website, rut, year_founded, size_band, served_regions
)
SELECT $1, p.id, co.id, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18
FROM proveo.product p, proveo.commune co
WHERE p.uuid = $2 AND co.uuid = $3
RETURNING id
"""

UPDATE_COMPANY = """
UPDATE proveo.company AS c SET
    name = $2, description_es = $3, description_en = $4, description_original_lang = $5,
    description_es_source = $6, description_en_source = $7, address = $8, phone = $9,
    email = $10, image_key = $11, product_id = p.id, commune_id = co.id,
    website = $14, rut = $15, year_founded = $16, size_band = $17, served_regions = $18
FROM proveo.product p, proveo.commune co
WHERE c.id = $1 AND p.uuid = $12 AND co.uuid = $13
RETURNING c.id
"""

# Another live company with this RUT ($2: the company being edited, NULL when publishing).
SELECT_RUT_TAKEN = """
SELECT EXISTS (
    SELECT 1 FROM proveo.company
    WHERE rut = $1 AND deleted_at IS NULL AND id IS DISTINCT FROM $2
)
"""

# The categories beyond the primary one (an edit replaces them whole).
DELETE_EXTRA_PRODUCTS = "DELETE FROM proveo.company_product WHERE company_id = $1"
# In the order given (position), each product once.
INSERT_EXTRA_PRODUCTS = """
INSERT INTO proveo.company_product (company_id, product_id, position)
SELECT $1, p.id, min(chosen.position)
  FROM unnest($2::uuid[]) WITH ORDINALITY AS chosen (uuid, position)
  JOIN proveo.product p ON p.uuid = chosen.uuid
 GROUP BY p.id
"""

# --- Gallery -------------------------------------------------------------------------------

COUNT_PHOTOS = "SELECT count(*) FROM proveo.company_photo WHERE company_id = $1"
INSERT_PHOTO = """
INSERT INTO proveo.company_photo (company_id, image_key, position)
SELECT $1, $2, coalesce(max(position), 0) + 1 FROM proveo.company_photo WHERE company_id = $1
RETURNING uuid
"""
DELETE_PHOTO = """
DELETE FROM proveo.company_photo WHERE company_id = $1 AND uuid = $2 RETURNING image_key
"""
DELETE_PHOTOS_OF_COMPANY = """
DELETE FROM proveo.company_photo WHERE company_id = $1 RETURNING image_key
"""
DELETE_PHOTO_BY_IMAGE_KEY = """
DELETE FROM proveo.company_photo WHERE company_id = $1 AND image_key = $2 RETURNING uuid
"""
# Positions 1..n again after a removal (the unique constraint is checked at commit).
UPDATE_PHOTO_POSITIONS_COMPACTED = """
UPDATE proveo.company_photo p SET position = r.n
FROM (SELECT id, row_number() OVER (ORDER BY position) AS n
      FROM proveo.company_photo WHERE company_id = $1) AS r
WHERE p.id = r.id AND p.position <> r.n
"""
UPDATE_PHOTO_POSITIONS = """
UPDATE proveo.company_photo p SET position = o.n
FROM unnest($2::uuid[]) WITH ORDINALITY AS o(uuid, n)
WHERE p.company_id = $1 AND p.uuid = o.uuid
"""
UPDATE_PHOTO_IMAGE_KEY = """
UPDATE proveo.company_photo SET image_key = $3
WHERE company_id = $1 AND image_key = $2
RETURNING uuid
"""
SELECT_PHOTO_EXISTS_FOR_IMAGE_KEY = """
SELECT EXISTS (SELECT 1 FROM proveo.company_photo WHERE company_id = $1 AND image_key = $2)
"""
SELECT_PHOTO_IMAGE_KEYS = "SELECT image_key FROM proveo.company_photo WHERE company_id = $1"

UPDATE_COMPANY_IMAGE_KEY = "UPDATE proveo.company SET image_key = $2 WHERE id = $1"

# The logo goes with the company (its objects are deleted after commit); the row keeps the
# rest for the admin list and the audit trail.
UPDATE_COMPANY_SOFT_DELETED = """
UPDATE proveo.company AS c SET deleted_at = now(), image_key = NULL
FROM (SELECT id, image_key FROM proveo.company WHERE id = $1 FOR UPDATE) AS before
WHERE c.id = before.id AND c.deleted_at IS NULL
RETURNING before.image_key
"""

SELECT_LIVE_COMPANY_ID_OF_USER_LOCKED = """
SELECT id FROM proveo.company WHERE user_id = $1 AND deleted_at IS NULL FOR UPDATE
"""

SELECT_PENDING_TRANSLATIONS = """
SELECT id, description_original_lang,
       CASE description_original_lang WHEN 'es' THEN description_es ELSE description_en END
           AS original_text
FROM proveo.company
WHERE deleted_at IS NULL
  AND (description_es_source = 'pending' OR description_en_source = 'pending')
ORDER BY id
LIMIT $1
"""

# Only if the description is still pending and its original unchanged: an edit made while the
# provider answered wins over the translation of the text it replaced.
UPDATE_PENDING_TRANSLATION = """
UPDATE proveo.company SET
    description_es = CASE WHEN $2 = 'es' THEN $3 ELSE description_es END,
    description_es_source = CASE WHEN $2 = 'es' THEN 'machine' ELSE description_es_source END,
    description_en = CASE WHEN $2 = 'en' THEN $3 ELSE description_en END,
    description_en_source = CASE WHEN $2 = 'en' THEN 'machine' ELSE description_en_source END
WHERE id = $1 AND deleted_at IS NULL
  AND CASE $2 WHEN 'es' THEN description_es_source ELSE description_en_source END = 'pending'
  AND CASE $2 WHEN 'es' THEN description_en ELSE description_es END = $4
RETURNING id
"""


@dataclass(frozen=True)
class CompanyValues:
    """Every column a company write sets (the service computes them)."""

    name: str
    description_es: str | None
    description_en: str | None
    original_lang: Lang
    description_es_source: DescriptionSource
    description_en_source: DescriptionSource
    address: str
    phone: str
    email: str
    image_key: str | None
    product_uuid: UUID
    commune_uuid: UUID
    website: str | None = None
    rut: str | None = None
    year_founded: int | None = None
    size_band: str | None = None
    served_regions: Sequence[str] = ()


@dataclass(frozen=True)
class PendingTranslation:
    company_id: int
    original_lang: Lang
    original_text: str


def _record(row: object) -> CompanyRecord:
    values = dict(row)  # type: ignore[call-overload]
    for name in ("extra_products", "photos"):
        if isinstance(values[name], str):  # json without a codec: text
            values[name] = json.loads(values[name])
    return CompanyRecord.model_validate(values)


async def _fetch_record(conn: Connection, query: str, *args: object) -> CompanyRecord | None:
    row = await conn.fetchrow(query, *args)
    return _record(row) if row else None


async def select_live_company_by_uuid(conn: Connection, company_uuid: UUID) -> CompanyRecord | None:
    return await _fetch_record(conn, SELECT_LIVE_COMPANY_BY_UUID, company_uuid)


async def select_company_by_uuid(conn: Connection, company_uuid: UUID) -> CompanyRecord | None:
    """Deleted ones too (admins)."""
    return await _fetch_record(conn, SELECT_COMPANY_BY_UUID, company_uuid)


async def select_company_by_id(conn: Connection, company_id: int) -> CompanyRecord | None:
    return await _fetch_record(conn, SELECT_COMPANY_BY_ID, company_id)


async def select_live_company_of_user(
    conn: Connection, user_id: int, *, lock: bool = False
) -> CompanyRecord | None:
    query = SELECT_LIVE_COMPANY_OF_USER_LOCKED if lock else SELECT_LIVE_COMPANY_OF_USER
    return await _fetch_record(conn, query, user_id)


async def select_live_company_by_uuid_locked(
    conn: Connection, company_uuid: UUID
) -> CompanyRecord | None:
    return await _fetch_record(conn, SELECT_LIVE_COMPANY_BY_UUID_LOCKED, company_uuid)


async def select_live_company_by_id_locked(
    conn: Connection, company_id: int
) -> CompanyRecord | None:
    return await _fetch_record(conn, SELECT_LIVE_COMPANY_BY_ID_LOCKED, company_id)


async def select_live_company_owner(conn: Connection, company_uuid: UUID) -> UUID | None:
    owner: UUID | None = await conn.fetchval(SELECT_LIVE_COMPANY_OWNER, company_uuid)
    return owner


async def select_live_company_exists_for_user(conn: Connection, user_id: int) -> bool:
    return bool(await conn.fetchval(SELECT_LIVE_COMPANY_EXISTS_FOR_USER, user_id))


async def select_companies_page(
    conn: Connection, *, q: str | None, limit: int, offset: int
) -> tuple[list[CompanyRecord], int]:
    rows = await conn.fetch(SELECT_COMPANIES_PAGE, q, limit, offset)
    total: int = await conn.fetchval(COUNT_COMPANIES, q)
    return [_record(row) for row in rows], total


async def insert_company(conn: Connection, user_id: int, values: CompanyValues) -> int | None:
    """The new company's id, or None when its product or commune no longer exists."""
    company_id: int | None = await conn.fetchval(
        INSERT_COMPANY,
        user_id,
        values.product_uuid,
        values.commune_uuid,
        values.name,
        values.description_es,
        values.description_en,
        values.original_lang,
        values.description_es_source,
        values.description_en_source,
        values.address,
        values.phone,
        values.email,
        values.image_key,
        values.website,
        values.rut,
        values.year_founded,
        values.size_band,
        list(values.served_regions),
    )
    return company_id


async def update_company(conn: Connection, company_id: int, values: CompanyValues) -> bool:
    """False when the product or commune no longer exists (nothing is written)."""
    updated = await conn.fetchval(
        UPDATE_COMPANY,
        company_id,
        values.name,
        values.description_es,
        values.description_en,
        values.original_lang,
        values.description_es_source,
        values.description_en_source,
        values.address,
        values.phone,
        values.email,
        values.image_key,
        values.product_uuid,
        values.commune_uuid,
        values.website,
        values.rut,
        values.year_founded,
        values.size_band,
        list(values.served_regions),
    )
    return updated is not None


async def select_rut_taken(conn: Connection, rut: str, *, other_than: int | None) -> bool:
    return bool(await conn.fetchval(SELECT_RUT_TAKEN, rut, other_than))


async def delete_extra_products(conn: Connection, company_id: int) -> None:
    await conn.execute(DELETE_EXTRA_PRODUCTS, company_id)


async def insert_extra_products(
    conn: Connection, company_id: int, product_uuids: Sequence[UUID]
) -> bool:
    """False when a product no longer exists (the caller's transaction is then undone)."""
    status = await conn.execute(INSERT_EXTRA_PRODUCTS, company_id, list(product_uuids))
    return status == f"INSERT 0 {len(set(product_uuids))}"


async def count_photos(conn: Connection, company_id: int) -> int:
    count: int = await conn.fetchval(COUNT_PHOTOS, company_id)
    return count


async def insert_photo(conn: Connection, company_id: int, image_key: str) -> UUID:
    photo_uuid: UUID = await conn.fetchval(INSERT_PHOTO, company_id, image_key)
    return photo_uuid


async def delete_photo(conn: Connection, company_id: int, photo_uuid: UUID) -> str | None:
    """The removed photo's image key (None: no such photo); the others close ranks."""
    image_key: str | None = await conn.fetchval(DELETE_PHOTO, company_id, photo_uuid)
    if image_key is not None:
        await conn.execute(UPDATE_PHOTO_POSITIONS_COMPACTED, company_id)
    return image_key


async def delete_photo_by_image_key(conn: Connection, company_id: int, image_key: str) -> bool:
    removed = await conn.fetchval(DELETE_PHOTO_BY_IMAGE_KEY, company_id, image_key)
    if removed is not None:
        await conn.execute(UPDATE_PHOTO_POSITIONS_COMPACTED, company_id)
    return removed is not None


async def delete_photos_of_company(conn: Connection, company_id: int) -> list[str]:
    rows = await conn.fetch(DELETE_PHOTOS_OF_COMPANY, company_id)
    return [row["image_key"] for row in rows]


async def update_photo_positions(
    conn: Connection, company_id: int, photo_uuids: Sequence[UUID]
) -> None:
    await conn.execute(UPDATE_PHOTO_POSITIONS, company_id, list(photo_uuids))


async def update_photo_image_key(
    conn: Connection, company_id: int, old_key: str, new_key: str
) -> bool:
    return await conn.fetchval(UPDATE_PHOTO_IMAGE_KEY, company_id, old_key, new_key) is not None


async def select_photo_exists_for_image_key(
    conn: Connection, company_id: int, image_key: str
) -> bool:
    return bool(await conn.fetchval(SELECT_PHOTO_EXISTS_FOR_IMAGE_KEY, company_id, image_key))


async def select_photo_image_keys(conn: Connection, company_id: int) -> list[str]:
    rows = await conn.fetch(SELECT_PHOTO_IMAGE_KEYS, company_id)
    return [row["image_key"] for row in rows]


async def update_company_image_key(conn: Connection, company_id: int, image_key: str) -> None:
    await conn.execute(UPDATE_COMPANY_IMAGE_KEY, company_id, image_key)


async def update_company_soft_deleted(conn: Connection, company_id: int) -> str | None:
    """Soft-delete a live company; returns the logo key it had."""
    image_key: str | None = await conn.fetchval(UPDATE_COMPANY_SOFT_DELETED, company_id)
    return image_key


async def select_live_company_id_of_user_locked(conn: Connection, user_id: int) -> int | None:
    company_id: int | None = await conn.fetchval(SELECT_LIVE_COMPANY_ID_OF_USER_LOCKED, user_id)
    return company_id


async def select_pending_translations(conn: Connection, limit: int) -> list[PendingTranslation]:
    rows = await conn.fetch(SELECT_PENDING_TRANSLATIONS, limit)
    return [
        PendingTranslation(
            company_id=row["id"],
            original_lang=row["description_original_lang"],
            original_text=row["original_text"],
        )
        for row in rows
    ]


async def update_pending_translation(
    conn: Connection, company_id: int, *, target: Lang, text: str, original_text: str
) -> bool:
    updated = await conn.fetchval(
        UPDATE_PENDING_TRANSLATION, company_id, target, text, original_text
    )
    return updated is not None
