"""Catalogue rules: public lists are cached, and every admin change invalidates the cache.

The list functions take the Database rather than a connection: a cache hit needs none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from uuid import UUID

import asyncpg
from pydantic import BaseModel, TypeAdapter

from proveo.admin import service as admin_service
from proveo.catalog import repository
from proveo.catalog.schemas import CommuneIn, CommunePublic, ProductIn, ProductPublic
from proveo.core.cache import Cache
from proveo.core.db import Connection, Database
from proveo.core.errors import BadRequest, Conflict, NotFound

PRODUCTS_CACHE_KEY = "catalog:products:v1"
COMMUNES_CACHE_KEY = "catalog:communes:v1"
# A safety net: invalidation after each admin change is what keeps the lists fresh.
CATALOG_TTL_SECONDS = 300.0

Item = TypeVar("Item", bound=BaseModel)
In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)


class ProductNotFound(NotFound):
    code = "product_not_found"
    default_detail = "Product not found"


class CommuneNotFound(NotFound):
    code = "commune_not_found"
    default_detail = "Commune not found"


class DuplicateName(Conflict):
    code = "duplicate_name"
    default_detail = "An entry with this name already exists"


class InUse(BadRequest):
    code = "in_use"
    default_detail = "Companies still reference this entry"


async def _cached_json(
    database: Database,
    cache: Cache,
    key: str,
    model: type[Item],
    load: Callable[[Connection], Awaitable[list[Item]]],
) -> bytes:
    """The list as JSON bytes, rendered once per cache fill: a hit costs no validation."""
    cached = await cache.get_bytes(key)
    if cached is not None:
        return cached
    # From the primary: a lagging replica must not refill the cache with the list an admin
    # has just changed (the lists are small; this runs once per fill).
    async with database.transaction() as conn:
        items = await load(conn)
    rendered = TypeAdapter(list[model]).dump_json(items)  # type: ignore[valid-type]
    await cache.set_bytes(key, rendered, CATALOG_TTL_SECONDS)
    return rendered


async def products_json(database: Database, cache: Cache) -> bytes:
    return await _cached_json(
        database, cache, PRODUCTS_CACHE_KEY, ProductPublic, repository.select_products
    )


async def communes_json(database: Database, cache: Cache) -> bytes:
    return await _cached_json(
        database, cache, COMMUNES_CACHE_KEY, CommunePublic, repository.select_communes
    )


async def invalidate_catalog_cache(cache: Cache) -> None:
    await cache.delete(PRODUCTS_CACHE_KEY, COMMUNES_CACHE_KEY)


async def seed_catalog(conn: Connection) -> tuple[int, int]:
    """Idempotent: fills an empty catalogue with the reference products and communes."""
    return await repository.insert_catalog_if_empty(conn)


async def find_product_by_name(conn: Connection, name: str) -> ProductPublic | None:
    """Accent- and case-insensitive, in either language."""
    return await repository.select_product_by_name(conn, name)


async def find_commune_by_name(conn: Connection, name: str) -> CommunePublic | None:
    """Accent- and case-insensitive."""
    return await repository.select_commune_by_name(conn, name)


async def find_product(conn: Connection, product_uuid: UUID) -> ProductPublic | None:
    return await repository.select_product_by_uuid(conn, product_uuid)


async def find_commune(conn: Connection, commune_uuid: UUID) -> CommunePublic | None:
    return await repository.select_commune_by_uuid(conn, commune_uuid)


# --- Admin changes (each audit-logged in the same transaction) -------------------------------


@dataclass(frozen=True)
class CatalogKind(Generic[In, Out]):
    """What differs between products and communes: their name and their repository functions."""

    name: str
    not_found: type[NotFound]
    insert: Callable[[Connection, In], Awaitable[Out]]
    update: Callable[[Connection, UUID, In], Awaitable[Out | None]]
    select: Callable[[Connection, UUID], Awaitable[Out | None]]
    in_use: Callable[[Connection, UUID], Awaitable[bool]]
    delete: Callable[[Connection, UUID], Awaitable[None]]
    name_taken: Callable[[Connection, In, UUID | None], Awaitable[bool]]


PRODUCTS: CatalogKind[ProductIn, ProductPublic] = CatalogKind(
    "product",
    ProductNotFound,
    repository.insert_product,
    repository.update_product,
    repository.select_product_by_uuid,
    repository.product_in_use,
    repository.delete_product,
    repository.product_name_taken,
)
COMMUNES: CatalogKind[CommuneIn, CommunePublic] = CatalogKind(
    "commune",
    CommuneNotFound,
    repository.insert_commune,
    repository.update_commune,
    repository.select_commune_by_uuid,
    repository.commune_in_use,
    repository.delete_commune,
    repository.commune_name_taken,
)


async def create_entry(
    conn: Connection, actor: admin_service.AdminActor, kind: CatalogKind[In, Out], data: In
) -> Out:
    # The unique indexes compare folded names; this also catches punctuation and, for
    # products, a name that is another product's name in the other language.
    if await kind.name_taken(conn, data, None):
        raise DuplicateName()
    try:
        entry = await kind.insert(conn, data)
    except asyncpg.UniqueViolationError as exc:
        raise DuplicateName() from exc
    await admin_service.record_admin_action(
        conn, actor, action=f"{kind.name}.create", target_type=kind.name,
        target_uuid=entry.uuid,  # type: ignore[attr-defined]
        after=entry.model_dump(mode="json"),
    )  # fmt: skip
    return entry


async def update_entry(
    conn: Connection,
    actor: admin_service.AdminActor,
    kind: CatalogKind[In, Out],
    entry_uuid: UUID,
    data: In,
) -> Out:
    before = await kind.select(conn, entry_uuid)
    if before is None:
        raise kind.not_found()
    if await kind.name_taken(conn, data, entry_uuid):
        raise DuplicateName()
    try:
        entry = await kind.update(conn, entry_uuid, data)
    except asyncpg.UniqueViolationError as exc:
        raise DuplicateName() from exc
    if entry is None:  # deleted by another admin since we looked
        raise kind.not_found()
    await admin_service.record_admin_action(
        conn, actor, action=f"{kind.name}.update", target_type=kind.name, target_uuid=entry_uuid,
        before=before.model_dump(mode="json"), after=entry.model_dump(mode="json"),
    )  # fmt: skip
    return entry


async def delete_entry(
    conn: Connection, actor: admin_service.AdminActor, kind: CatalogKind[In, Out], entry_uuid: UUID
) -> None:
    before = await kind.select(conn, entry_uuid)
    if before is None:
        raise kind.not_found()
    # Soft-deleted companies count too: their rows still reference the entry.
    if await kind.in_use(conn, entry_uuid):
        raise InUse()
    try:
        await kind.delete(conn, entry_uuid)
    except asyncpg.ForeignKeyViolationError as exc:  # a company took it since the check
        raise InUse() from exc
    await admin_service.record_admin_action(
        conn, actor, action=f"{kind.name}.delete", target_type=kind.name, target_uuid=entry_uuid,
        before=before.model_dump(mode="json"),
    )  # fmt: skip
