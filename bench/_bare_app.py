"""A bare Starlette app serving fixed bytes, run the way `proveo serve` runs uvicorn.

    python bench/_bare_app.py PORT PATH=FILE [PATH=FILE ...]

Each PATH answers GET with the bytes of FILE as application/json: the floor that Proveo's own
middleware, dependencies and logging are measured against (bench/floor.py).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def _answer(body: bytes) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(_: Request) -> Response:
        return Response(body, media_type="application/json")

    return endpoint


def bare_app(bodies: dict[str, bytes]) -> Starlette:
    return Starlette(routes=[Route(path, _answer(body)) for path, body in bodies.items()])


def main(argv: list[str]) -> None:
    port = int(argv[0])
    bodies = {
        path: Path(file).read_bytes() for path, file in (arg.split("=", 1) for arg in argv[1:])
    }
    uvicorn.run(bare_app(bodies), host="127.0.0.1", port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    main(sys.argv[1:])
