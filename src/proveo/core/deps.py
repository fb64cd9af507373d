"""Request-scoped dependencies shared by every domain (`Annotated` aliases)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import BackgroundTasks, Depends, Query, Request

from proveo.config import Settings
from proveo.core.cache import Cache
from proveo.core.db import Connection, Database
from proveo.integrations.storage import ImageStorage

log = structlog.get_logger(__name__)

# Every dependency here is `async def`: FastAPI runs a `def` dependency in the thread pool, a
# hop that costs more than these one-line lookups (tests/core/test_request_path.py keeps it so).


async def get_database(request: Request) -> Database:
    return _database(request)


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_cache(request: Request) -> Cache:
    cache: Cache = request.app.state.cache
    return cache


async def get_storage(request: Request) -> ImageStorage:
    storage: ImageStorage = request.app.state.storage
    return storage


async def _write_connection(request: Request) -> AsyncIterator[Connection]:
    async with _database(request).transaction() as conn:
        yield conn


# scope="function": the transaction commits before the response is sent, so a failed commit
# becomes an error response instead of a success that was never stored.
Conn = Annotated[Connection, Depends(_write_connection, scope="function")]
"""The request's read-write transaction on the primary."""

AppSettings = Annotated[Settings, Depends(get_settings)]
AppCache = Annotated[Cache, Depends(get_cache)]
AppDatabase = Annotated[Database, Depends(get_database)]
AppStorage = Annotated[ImageStorage, Depends(get_storage)]


async def delete_objects(storage: ImageStorage, names: Iterable[str]) -> None:
    """Best effort: an object left behind is an orphan that `proveo cleanup-images` removes,
    never a reason to fail the request that already committed."""
    for name in names:
        try:
            await storage.delete(name)
        except Exception as exc:
            log.warning("image_delete_failed", object_name=name, error_type=type(exc).__name__)


def delete_after_commit(tasks: BackgroundTasks, storage: ImageStorage, names: list[str]) -> None:
    """Delete objects once the response is sent, which is after the request's commit
    (`Conn` commits before the response): a rolled-back request schedules nothing."""
    if names:
        tasks.add_task(delete_objects, storage, names)


@dataclass(frozen=True)
class Pagination:
    limit: int
    offset: int


async def pagination(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Pagination:
    return Pagination(limit=limit, offset=offset)


Page = Annotated[Pagination, Depends(pagination)]
