"""SQL for the catalogue (products and communes). The only module that queries these tables."""

from __future__ import annotations

from proveo.catalog.data import COMMUNES, PRODUCTS
from proveo.catalog.schemas import CommunePublic, ProductPublic
from proveo.core.db import Connection

SELECT_PRODUCTS = """
SELECT uuid, name_es, name_en FROM proveo.product ORDER BY proveo.fold(name_es), id
"""

SELECT_COMMUNES = """
SELECT uuid, name, region FROM proveo.commune ORDER BY proveo.fold(name), id
"""

INSERT_MISSING_PRODUCTS = """
INSERT INTO proveo.product (name_es, name_en)
SELECT name_es, name_en FROM unnest($1::text[], $2::text[]) AS given(name_es, name_en)
WHERE NOT EXISTS (
    SELECT 1 FROM proveo.product p WHERE proveo.fold(p.name_es) = proveo.fold(given.name_es)
)
"""

INSERT_MISSING_COMMUNES = """
INSERT INTO proveo.commune (name, region)
SELECT name, region FROM unnest($1::text[], $2::text[]) AS given(name, region)
WHERE NOT EXISTS (
    SELECT 1 FROM proveo.commune c WHERE proveo.fold(c.name) = proveo.fold(given.name)
)
"""


async def select_products(conn: Connection) -> list[ProductPublic]:
    return [ProductPublic.model_validate(dict(row)) for row in await conn.fetch(SELECT_PRODUCTS)]


async def select_communes(conn: Connection) -> list[CommunePublic]:
    return [CommunePublic.model_validate(dict(row)) for row in await conn.fetch(SELECT_COMMUNES)]


async def insert_missing_catalog(conn: Connection) -> tuple[int, int]:
    """Insert the reference catalogue rows that are not there yet; returns (products, communes)."""
    products = await conn.execute(
        INSERT_MISSING_PRODUCTS,
        [product.name_es for product in PRODUCTS],
        [product.name_en for product in PRODUCTS],
    )
    communes = await conn.execute(
        INSERT_MISSING_COMMUNES,
        [name for name, _ in COMMUNES],
        [region for _, region in COMMUNES],
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
