"""Request-scoped dependencies shared by every domain (`Annotated` aliases)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request

from proveo.config import Settings
from proveo.core.cache import Cache
from proveo.core.db import Connection, Database


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_cache(request: Request) -> Cache:
    cache: Cache = request.app.state.cache
    return cache


async def _write_connection(request: Request) -> AsyncIterator[Connection]:
    async with get_database(request).transaction() as conn:
        yield conn


async def _read_connection(request: Request) -> AsyncIterator[Connection]:
    async with get_database(request).read_transaction() as conn:
        yield conn


# scope="function": the transaction commits before the response is sent, so a failed commit
# becomes an error response instead of a success that was never stored.
Conn = Annotated[Connection, Depends(_write_connection, scope="function")]
"""The request's read-write transaction on the primary."""

ReadConn = Annotated[Connection, Depends(_read_connection, scope="function")]
"""A read-only transaction on the replica when healthy (public, possibly stale reads)."""

AppSettings = Annotated[Settings, Depends(get_settings)]
AppCache = Annotated[Cache, Depends(get_cache)]
AppDatabase = Annotated[Database, Depends(get_database)]


@dataclass(frozen=True)
class Pagination:
    limit: int
    offset: int


def pagination(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Pagination:
    return Pagination(limit=limit, offset=offset)


Page = Annotated[Pagination, Depends(pagination)]
