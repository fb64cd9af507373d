from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from proveo import __version__
from proveo.core.deps import AppCache, AppDatabase

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/", name="health:live")
async def liveness() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get(
    "/database",
    name="health:database",
    responses={503: {"description": "The primary database is unreachable"}},
)
async def database_health(database: AppDatabase, cache: AppCache) -> JSONResponse:
    primary_ok = await database.ping_primary()
    replica_ok = await database.ping_replica()
    stats = database.stats()
    body: dict[str, Any] = {
        "status": "ok" if primary_ok and replica_ok is not False else "degraded",
        "primary": {"reachable": primary_ok, "pool": stats["primary"]},
        "replica": {"reachable": replica_ok, **stats["replica"]},
        "redis": {"reachable": await cache.ping()},
    }
    if not primary_ok:
        body["status"] = "unavailable"
        body["code"] = "database_unavailable"
        body["detail"] = "The primary database is unreachable"
    return JSONResponse(body, status_code=200 if primary_ok else 503)
