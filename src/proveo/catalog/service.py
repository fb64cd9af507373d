"""Catalogue rules: public lists are cached, and any change to them invalidates the cache.

The list functions take the Database rather than a connection: a cache hit needs none.
"""

from __future__ import annotations

from proveo.catalog import repository
from proveo.catalog.schemas import CommunePublic, ProductPublic
from proveo.core.cache import Cache
from proveo.core.db import Connection, Database

PRODUCTS_CACHE_KEY = "catalog:products:v1"
COMMUNES_CACHE_KEY = "catalog:communes:v1"
CATALOG_TTL_SECONDS = 3600.0


async def list_products(database: Database, cache: Cache) -> list[ProductPublic]:
    cached = await cache.get_json(PRODUCTS_CACHE_KEY)
    if cached is not None:
        return [ProductPublic.model_validate(item) for item in cached]
    async with database.read_transaction() as conn:
        products = await repository.select_products(conn)
    await cache.set_json(
        PRODUCTS_CACHE_KEY, [p.model_dump(mode="json") for p in products], CATALOG_TTL_SECONDS
    )
    return products


async def list_communes(database: Database, cache: Cache) -> list[CommunePublic]:
    cached = await cache.get_json(COMMUNES_CACHE_KEY)
    if cached is not None:
        return [CommunePublic.model_validate(item) for item in cached]
    async with database.read_transaction() as conn:
        communes = await repository.select_communes(conn)
    await cache.set_json(
        COMMUNES_CACHE_KEY, [c.model_dump(mode="json") for c in communes], CATALOG_TTL_SECONDS
    )
    return communes


async def invalidate_catalog_cache(cache: Cache) -> None:
    await cache.delete(PRODUCTS_CACHE_KEY, COMMUNES_CACHE_KEY)


async def seed_catalog(conn: Connection) -> tuple[int, int]:
    """Idempotent: inserts the reference products and communes that are missing."""
    return await repository.insert_missing_catalog(conn)


async def find_product_by_name(conn: Connection, name: str) -> ProductPublic | None:
    """Accent- and case-insensitive, in either language."""
    return await repository.select_product_by_name(conn, name)


async def find_commune_by_name(conn: Connection, name: str) -> CommunePublic | None:
    """Accent- and case-insensitive."""
    return await repository.select_commune_by_name(conn, name)
