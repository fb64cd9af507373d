from __future__ import annotations

from fastapi import APIRouter

from proveo.catalog import service
from proveo.catalog.schemas import CommunePublic, ProductPublic
from proveo.core.deps import AppCache, AppDatabase

products_router = APIRouter(prefix="/products", tags=["catalog"])
communes_router = APIRouter(prefix="/communes", tags=["catalog"])


@products_router.get("/", name="products:list")
async def list_products(database: AppDatabase, cache: AppCache) -> list[ProductPublic]:
    return await service.list_products(database, cache)


@communes_router.get("/", name="communes:list")
async def list_communes(database: AppDatabase, cache: AppCache) -> list[CommunePublic]:
    return await service.list_communes(database, cache)
