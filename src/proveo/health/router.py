from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from proveo import __version__
from proveo.accounts.deps import AdminUser
from proveo.core.db import DatabaseUnavailable
from proveo.core.deps import AppCache, AppDatabase
from proveo.core.openapi import ADMIN_REQUIRED, error_responses
from proveo.health.schemas import Liveness, Readiness, ReadinessDetails

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/", name="health:live", summary="Liveness: the process answers")
async def liveness() -> Liveness:
    return Liveness(status="ok", version=__version__)


@router.get(
    "/database",
    name="health:database",
    summary="Readiness: the primary database answers (up or down only)",
    responses=error_responses((503, "The primary database is unreachable")),
)
async def database_health(database: AppDatabase) -> Readiness:
    # Up or down only: pool figures and error texts name internal hosts (see the admin route).
    if not await database.ping_primary():
        raise DatabaseUnavailable(
            "The primary database is unreachable", headers={"Retry-After": "1"}
        )
    return Readiness(status="ok")


@router.get(
    "/ready",
    name="health:ready",
    summary="Readiness to serve: the primary or a replica answers (up or down only)",
    responses=error_responses((503, "Neither the primary nor a replica database answers")),
)
async def ready(database: AppDatabase) -> Readiness:
    """For load balancers and Kubernetes: while the primary is down but a replica answers, the
    API still serves every read (writes answer 503 fast), so it stays in rotation."""
    if await database.ping_primary() or await database.ping_replica():
        return Readiness(status="ok")
    raise DatabaseUnavailable(
        "Neither the primary nor a replica database answers", headers={"Retry-After": "1"}
    )


@router.get(
    "/database/details",
    name="health:database_details",
    summary="Pools, replica and Redis in detail (admin)",
    responses=error_responses(ADMIN_REQUIRED, 503),
)
async def database_health_details(
    _: AdminUser, database: AppDatabase, cache: AppCache
) -> ReadinessDetails:
    primary_ok = await database.ping_primary()
    replica_ok = await database.ping_replica()
    stats: dict[str, Any] = database.stats()
    if not primary_ok:
        status = "unavailable"
    elif replica_ok is False:
        status = "degraded"
    else:
        status = "ok"
    return ReadinessDetails(
        status=status,
        primary={
            "reachable": primary_ok,
            "pool": stats["primary"],
            "search_pool": stats["primary_search"],
        },
        replica={"reachable": replica_ok, **stats["replica"]},
        redis={"reachable": await cache.ping()},
    )
