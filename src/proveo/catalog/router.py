from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Response

from proveo.admin.deps import Actor
from proveo.catalog import service
from proveo.catalog.schemas import CommuneIn, CommunePublic, ProductIn, ProductPublic
from proveo.core.deps import AppCache, AppDatabase, Conn

products_router = APIRouter(prefix="/products", tags=["catalog"])
communes_router = APIRouter(prefix="/communes", tags=["catalog"])


def _invalidate_after_commit(tasks: BackgroundTasks, cache: AppCache) -> None:
    # After commit, so no reader can re-cache the old list between invalidation and commit.
    tasks.add_task(service.invalidate_catalog_cache, cache)


@products_router.get("/", name="products:list", response_model=list[ProductPublic])
async def list_products(database: AppDatabase, cache: AppCache) -> Response:
    return Response(await service.products_json(database, cache), media_type="application/json")


@products_router.post("/", status_code=201, name="products:create")
async def create_product(
    body: ProductIn, actor: Actor, conn: Conn, cache: AppCache, tasks: BackgroundTasks
) -> ProductPublic:
    product = await service.create_entry(conn, actor, service.PRODUCTS, body)
    _invalidate_after_commit(tasks, cache)
    return product


@products_router.put("/{product_uuid}", name="products:update")
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


@products_router.delete("/{product_uuid}", name="products:delete")
async def delete_product(
    product_uuid: UUID, actor: Actor, conn: Conn, cache: AppCache, tasks: BackgroundTasks
) -> dict[str, str]:
    await service.delete_entry(conn, actor, service.PRODUCTS, product_uuid)
    _invalidate_after_commit(tasks, cache)
    return {"message": "Product deleted", "uuid": str(product_uuid)}


@communes_router.get("/", name="communes:list", response_model=list[CommunePublic])
async def list_communes(database: AppDatabase, cache: AppCache) -> Response:
    return Response(await service.communes_json(database, cache), media_type="application/json")


@communes_router.post("/", status_code=201, name="communes:create")
async def create_commune(
    body: CommuneIn, actor: Actor, conn: Conn, cache: AppCache, tasks: BackgroundTasks
) -> CommunePublic:
    commune = await service.create_entry(conn, actor, service.COMMUNES, body)
    _invalidate_after_commit(tasks, cache)
    return commune


@communes_router.put("/{commune_uuid}", name="communes:update")
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


@communes_router.delete("/{commune_uuid}", name="communes:delete")
async def delete_commune(
    commune_uuid: UUID, actor: Actor, conn: Conn, cache: AppCache, tasks: BackgroundTasks
) -> dict[str, str]:
    await service.delete_entry(conn, actor, service.COMMUNES, commune_uuid)
    _invalidate_after_commit(tasks, cache)
    return {"message": "Commune deleted", "uuid": str(commune_uuid)}
