"""SQL for the catalogue (products and communes). The only module that queries these tables."""

from __future__ import annotations

from uuid import UUID

from proveo.catalog.data import COMMUNES, PRODUCTS, commune_area
from proveo.catalog.schemas import CommuneIn, CommunePublic, ProductIn, ProductPublic
from proveo.core.db import Connection

SELECT_PRODUCTS = """
SELECT uuid, name_es, name_en FROM proveo.product ORDER BY proveo.fold(name_es), id
"""

SELECT_COMMUNES = """
SELECT uuid, name, region FROM proveo.commune ORDER BY proveo.fold(name), id
"""

# Reference rows go into empty tables only: once the catalogue exists, admins own it, and a
# restart must neither resurrect what they deleted nor collide with what they renamed.
INSERT_PRODUCTS_IF_EMPTY = """
INSERT INTO proveo.product (name_es, name_en)
SELECT name_es, name_en FROM unnest($1::text[], $2::text[]) AS given(name_es, name_en)
WHERE NOT EXISTS (SELECT 1 FROM proveo.product)
ON CONFLICT DO NOTHING
"""

INSERT_COMMUNES_IF_EMPTY = """
INSERT INTO proveo.commune (name, region, area)
SELECT name, region, area
FROM unnest($1::text[], $2::text[], $3::text[]) AS given(name, region, area)
WHERE NOT EXISTS (SELECT 1 FROM proveo.commune)
ON CONFLICT DO NOTHING
"""


async def select_products(conn: Connection) -> list[ProductPublic]:
    return [ProductPublic.model_validate(dict(row)) for row in await conn.fetch(SELECT_PRODUCTS)]


async def select_communes(conn: Connection) -> list[CommunePublic]:
    return [CommunePublic.model_validate(dict(row)) for row in await conn.fetch(SELECT_COMMUNES)]


async def insert_catalog_if_empty(conn: Connection) -> tuple[int, int]:
    """Insert the reference catalogue into empty tables; returns (products, communes) added."""
    products = await conn.execute(
        INSERT_PRODUCTS_IF_EMPTY,
        [product.name_es for product in PRODUCTS],
        [product.name_en for product in PRODUCTS],
    )
    communes = await conn.execute(
        INSERT_COMMUNES_IF_EMPTY,
        [name for name, _ in COMMUNES],
        [region for _, region in COMMUNES],
        [commune_area(name, region) for name, region in COMMUNES],
    )
    return int(products.split()[-1]), int(communes.split()[-1])


SELECT_PRODUCT_BY_NAME = """
SELECT uuid, name_es, name_en FROM proveo.product
WHERE proveo.fold(name_es) = proveo.fold($1) OR proveo.fold(name_en) = proveo.fold($1)
ORDER BY id LIMIT 1
"""

SELECT_COMMUNE_BY_NAME = """
SELECT uuid, name, region FROM proveo.commune WHERE proveo.fold(name) = proveo.fold($1)
"""


async def select_product_by_name(conn: Connection, name: str) -> ProductPublic | None:
    row = await conn.fetchrow(SELECT_PRODUCT_BY_NAME, name)
    return ProductPublic.model_validate(dict(row)) if row else None


async def select_commune_by_name(conn: Connection, name: str) -> CommunePublic | None:
    row = await conn.fetchrow(SELECT_COMMUNE_BY_NAME, name)
    return CommunePublic.model_validate(dict(row)) if row else None


SELECT_PRODUCT_BY_UUID = "SELECT uuid, name_es, name_en FROM proveo.product WHERE uuid = $1"
INSERT_PRODUCT = """
INSERT INTO proveo.product (name_es, name_en) VALUES ($1, $2) RETURNING uuid, name_es, name_en
"""
UPDATE_PRODUCT = """
UPDATE proveo.product SET name_es = $2, name_en = $3 WHERE uuid = $1
RETURNING uuid, name_es, name_en
"""
DELETE_PRODUCT = "DELETE FROM proveo.product WHERE uuid = $1"
PRODUCT_IN_USE = """
SELECT EXISTS (
    SELECT 1 FROM proveo.company c JOIN proveo.product p ON p.id = c.product_id
    WHERE p.uuid = $1
)
"""

SELECT_COMMUNE_BY_UUID = "SELECT uuid, name, region FROM proveo.commune WHERE uuid = $1"
INSERT_COMMUNE = """
INSERT INTO proveo.commune (name, region, area) VALUES ($1, $2, $3)
RETURNING uuid, name, region
"""
UPDATE_COMMUNE = """
UPDATE proveo.commune SET name = $2, region = $3, area = coalesce($4, area) WHERE uuid = $1
RETURNING uuid, name, region
"""
DELETE_COMMUNE = "DELETE FROM proveo.commune WHERE uuid = $1"
COMMUNE_IN_USE = """
SELECT EXISTS (
    SELECT 1 FROM proveo.company c JOIN proveo.commune m ON m.id = c.commune_id
    WHERE m.uuid = $1
)
"""


async def select_product_by_uuid(conn: Connection, product_uuid: UUID) -> ProductPublic | None:
    row = await conn.fetchrow(SELECT_PRODUCT_BY_UUID, product_uuid)
    return ProductPublic.model_validate(dict(row)) if row else None


async def insert_product(conn: Connection, data: ProductIn) -> ProductPublic:
    row = await conn.fetchrow(INSERT_PRODUCT, data.name_es, data.name_en)
    return ProductPublic.model_validate(dict(row))  # type: ignore[arg-type]


async def update_product(
    conn: Connection, product_uuid: UUID, data: ProductIn
) -> ProductPublic | None:
    row = await conn.fetchrow(UPDATE_PRODUCT, product_uuid, data.name_es, data.name_en)
    return ProductPublic.model_validate(dict(row)) if row else None


async def delete_product(conn: Connection, product_uuid: UUID) -> None:
    await conn.execute(DELETE_PRODUCT, product_uuid)


# Names compared as search compares them (`proveo.search_text`: no accents, case or punctuation)
# and, for products, across both languages: a name that reads like another entry's would make
# a search filter by name ambiguous. $3 the entry being renamed (NULL when creating).
PRODUCT_NAME_TAKEN = """
SELECT EXISTS (
    SELECT 1 FROM proveo.product
    WHERE ($3::uuid IS NULL OR uuid <> $3::uuid)
      AND (proveo.search_text(name_es) IN (proveo.search_text($1), proveo.search_text($2))
        OR proveo.search_text(name_en) IN (proveo.search_text($1), proveo.search_text($2)))
)
"""
COMMUNE_NAME_TAKEN = """
SELECT EXISTS (
    SELECT 1 FROM proveo.commune
    WHERE ($2::uuid IS NULL OR uuid <> $2::uuid)
      AND proveo.search_text(name) = proveo.search_text($1)
)
"""


async def product_name_taken(conn: Connection, data: ProductIn, other_than: UUID | None) -> bool:
    return bool(await conn.fetchval(PRODUCT_NAME_TAKEN, data.name_es, data.name_en, other_than))


async def commune_name_taken(conn: Connection, data: CommuneIn, other_than: UUID | None) -> bool:
    return bool(await conn.fetchval(COMMUNE_NAME_TAKEN, data.name, other_than))


async def product_in_use(conn: Connection, product_uuid: UUID) -> bool:
    return bool(await conn.fetchval(PRODUCT_IN_USE, product_uuid))


async def select_commune_by_uuid(conn: Connection, commune_uuid: UUID) -> CommunePublic | None:
    row = await conn.fetchrow(SELECT_COMMUNE_BY_UUID, commune_uuid)
    return CommunePublic.model_validate(dict(row)) if row else None


async def insert_commune(conn: Connection, data: CommuneIn) -> CommunePublic:
    area = commune_area(data.name, data.region)
    row = await conn.fetchrow(INSERT_COMMUNE, data.name, data.region, area)
    return CommunePublic.model_validate(dict(row))  # type: ignore[arg-type]


async def update_commune(
    conn: Connection, commune_uuid: UUID, data: CommuneIn
) -> CommunePublic | None:
    # A commune joins an area by its name, and never leaves it by a rename.
    area = commune_area(data.name, data.region)
    row = await conn.fetchrow(UPDATE_COMMUNE, commune_uuid, data.name, data.region, area)
    return CommunePublic.model_validate(dict(row)) if row else None


async def delete_commune(conn: Connection, commune_uuid: UUID) -> None:
    await conn.execute(DELETE_COMMUNE, commune_uuid)


async def commune_in_use(conn: Connection, commune_uuid: UUID) -> bool:
    return bool(await conn.fetchval(COMMUNE_IN_USE, commune_uuid))
