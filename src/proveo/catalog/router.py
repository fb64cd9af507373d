from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Request, Response

from proveo.admin.deps import Actor
from proveo.catalog import service
from proveo.catalog.schemas import CommuneIn, CommunePublic, ProductIn, ProductPublic
from proveo.core.deps import AppCache, AppDatabase, Conn
from proveo.core.http_cache import cached_json
from proveo.core.openapi import ADMIN_REQUIRED, error_responses

products_router = APIRouter(prefix="/products", tags=["catalog"])
communes_router = APIRouter(prefix="/communes", tags=["catalog"])
DUPLICATE_NAME = (409, "The name is taken, ignoring accents and case (`duplicate_name`)")


def _invalidate_after_commit(tasks: BackgroundTasks, cache: AppCache) -> None:
    # After commit, so no reader can re-cache the old list between invalidation and commit.
    tasks.add_task(service.invalidate_catalog_cache, cache)


@products_router.get(
    "/",
    name="products:list",
    summary="List every product",
    response_model=list[ProductPublic],
    responses=error_responses(503),
)
async def list_products(request: Request, database: AppDatabase, cache: AppCache) -> Response:
    return cached_json(request, await service.products_json(database, cache))


@products_router.post(
    "/",
    status_code=201,
    name="products:create",
    summary="Add a product (admin)",
    responses=error_responses(ADMIN_REQUIRED, DUPLICATE_NAME, 503),
)
async def create_product(
    body: ProductIn, actor: Actor, conn: Conn, cache: AppCache, tasks: BackgroundTasks
) -> ProductPublic:
    product = await service.create_entry(conn, actor, service.PRODUCTS, body)
    _invalidate_after_commit(tasks, cache)
    return product


@products_router.put(
    "/{product_uuid}",
    name="products:update",
    summary="Rename a product (admin)",
    responses=error_responses(
        ADMIN_REQUIRED, (404, "No such product (`product_not_found`)"), DUPLICATE_NAME, 503
    ),
)
async def update_product(
    product_uuid: UUID,
    body: ProductIn,
    actor: Actor,
    conn: Conn,
    cache: AppCache,
    tasks: BackgroundTasks,
) -> ProductPublic:
    product = await service.update_entry(conn, actor, service.PRODUCTS, product_uuid, body)
    _invalidate_after_commit(tasks, cache)
    return product


@products_router.delete(
    "/{product_uuid}",
    name="products:delete",
    summary="Delete a product no company uses (admin)",
    responses=error_responses(
        (400, "Companies still reference it (`in_use`)"),
        ADMIN_REQUIRED,
        (404, "No such product (`product_not_found`)"),
        503,
    ),
)
async def delete_product(
    product_uuid: UUID, actor: Actor, conn: Conn, cache: AppCache, tasks: BackgroundTasks
) -> dict[str, str]:
    await service.delete_entry(conn, actor, service.PRODUCTS, product_uuid)
    _invalidate_after_commit(tasks, cache)
    return {"message": "Product deleted", "uuid": str(product_uuid)}


@communes_router.get(
    "/",
    name="communes:list",
    summary="List every commune",
    response_model=list[CommunePublic],
    responses=error_responses(503),
)
async def list_communes(request: Request, database: AppDatabase, cache: AppCache) -> Response:
    return cached_json(request, await service.communes_json(database, cache))


@communes_router.post(
    "/",
    status_code=201,
    name="communes:create",
    summary="Add a commune (admin)",
    responses=error_responses(ADMIN_REQUIRED, DUPLICATE_NAME, 503),
)
async def create_commune(
    body: CommuneIn, actor: Actor, conn: Conn, cache: AppCache, tasks: BackgroundTasks
) -> CommunePublic:
    commune = await service.create_entry(conn, actor, service.COMMUNES, body)
    _invalidate_after_commit(tasks, cache)
    return commune


@communes_router.put(
    "/{commune_uuid}",
    name="communes:update",
    summary="Rename a commune (admin)",
    responses=error_responses(
        ADMIN_REQUIRED, (404, "No such commune (`commune_not_found`)"), DUPLICATE_NAME, 503
    ),
)
async def update_commune(
    commune_uuid: UUID,
    body: CommuneIn,
    actor: Actor,
    conn: Conn,
    cache: AppCache,
    tasks: BackgroundTasks,
) -> CommunePublic:
    commune = await service.update_entry(conn, actor, service.COMMUNES, commune_uuid, body)
    _invalidate_after_commit(tasks, cache)
    return commune


@communes_router.delete(
    "/{commune_uuid}",
    name="communes:delete",
    summary="Delete a commune no company uses (admin)",
    responses=error_responses(
        (400, "Companies still reference it (`in_use`)"),
        ADMIN_REQUIRED,
        (404, "No such commune (`commune_not_found`)"),
        503,
    ),
)
async def delete_commune(
    commune_uuid: UUID, actor: Actor, conn: Conn, cache: AppCache, tasks: BackgroundTasks
) -> dict[str, str]:
    await service.delete_entry(conn, actor, service.COMMUNES, commune_uuid)
    _invalidate_after_commit(tasks, cache)
    return {"message": "Commune deleted", "uuid": str(commune_uuid)}
