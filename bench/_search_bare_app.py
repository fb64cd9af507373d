"""The search floor: a bare Starlette + asyncpg app running Proveo's own search SQL.

    python bench/_search_bare_app.py PORT DSN [WORKERS]

`/search`, `/facets` and `/suggest` take the query string the API takes, normalise and resolve
it with the search service's functions, run `proveo.search.repository` on a pooled connection
in a read-only transaction planned for its parameters (as the API's search reads are), and
answer the same JSON. No middleware, no dependency injection, no result cache, no analytics:
what is left of Proveo's cost is the SQL itself, so Proveo's req/s over this app's is the
framework's share.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import uvicorn
from pydantic import TypeAdapter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proveo.core.db import PLANNED_SESSION
from proveo.core.workers import run_workers
from proveo.search import repository, service
from proveo.search.schemas import Facets, SearchHit, SearchParams, Suggestion

POOL_SIZE = 10  # PROVEO_DB_POOL_MAX's default: the API runs with the same
HITS = TypeAdapter(list[SearchHit])
SUGGESTIONS = TypeAdapter(list[Suggestion])


async def _init(conn: Any) -> None:
    await conn.execute("SET search_path TO proveo, public")


def build_app(dsn: str) -> Starlette:
    pool: Any = None

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(
            dsn, min_size=POOL_SIZE, max_size=POOL_SIZE, init=_init, server_settings=PLANNED_SESSION
        )
        try:
            yield
        finally:
            await pool.close()

    # The API's own resolution of the query string (filters, places in the words), with
    # caches that keep nothing: the bare app's figures are the SQL's alone.
    nothing = service.SearchCaches.create(ttl=0)

    async def params(conn: Any, request: Request) -> SearchParams:
        query = request.query_params
        asked = service.SearchRequest(
            q=query.get("q"),
            commune=query.get("commune"),
            product=query.get("product"),
            lang="en" if query.get("lang") == "en" else "es",
            limit=int(query.get("limit", 20)),
            offset=int(query.get("offset", 0)),
            region=query.get("region"),
        )
        return (await service.resolve_request(conn, nothing, asked)).params

    @asynccontextmanager
    async def planned_read() -> AsyncIterator[Any]:
        """As the API's `Database.read_planned`: a connection whose session plans that way,
        in no transaction block."""
        async with pool.acquire() as conn:
            yield conn

    async def search(request: Request) -> Response:
        async with planned_read() as conn:
            page = await repository.search(conn, await params(conn, request))
        return Response(
            HITS.dump_json(page.items),
            media_type="application/json",
            headers={"X-Total-Count": str(page.total)},
        )

    async def facets(request: Request) -> Response:
        async with planned_read() as conn:
            found: Facets = await repository.facets(conn, await params(conn, request))
        return Response(found.model_dump_json(), media_type="application/json")

    async def suggest(request: Request) -> Response:
        prefix = service.normalise_query(request.query_params.get("q"))
        lang = request.query_params.get("lang", "es")
        async with planned_read() as conn:
            found = await repository.suggest(conn, prefix, lang) if prefix else []
        return Response(SUGGESTIONS.dump_json(found), media_type="application/json")

    return Starlette(
        routes=[Route("/search", search), Route("/facets", facets), Route("/suggest", suggest)],
        lifespan=lifespan,
    )


def main(argv: list[str]) -> None:
    port, dsn = int(argv[0]), argv[1]
    workers = int(argv[2]) if len(argv) > 2 else 1
    listener = socket.create_server(("127.0.0.1", port))

    def serve_one(_: int) -> None:
        config = uvicorn.Config(build_app(dsn), log_config=None, access_log=False)
        uvicorn.Server(config).run(sockets=[listener])

    # The same forked workers as `proveo serve`, so that both sides get the same cores.
    run_workers(workers, serve_one, stop_signals=(), listener=listener)


if __name__ == "__main__":
    main(sys.argv[1:])
