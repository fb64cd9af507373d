"""The API documentation pages and their assets, all from this server: no CDN, no inline script.

Swagger UI and ReDoc come from the `fastapi-offline` wheel's static files; the pages are plain
HTML and Swagger UI is started by our own `swagger-init.js`.
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

DOCS_PATH = "/docs"
REDOC_PATH = "/redoc"
_VENDOR = "/docs/vendor"
_STATIC = "/docs/static"
VENDOR_DIR = Path(str(files("fastapi_offline") / "static"))
STATIC_DIR = Path(__file__).resolve().parent / "static"


def _page(title: str, head: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        f'<link rel="icon" type="image/png" href="{_VENDOR}/favicon.png">\n'
        f"{head}</head>\n<body>\n{body}</body>\n</html>\n"
    )


def docs_routes(*, title: str, openapi_url: str) -> list[BaseRoute]:
    url = escape(openapi_url)
    swagger = _page(
        title,
        f'<link rel="stylesheet" href="{_VENDOR}/swagger-ui.css">\n',
        f'<div id="swagger-ui" data-openapi-url="{url}"></div>\n'
        f'<script src="{_VENDOR}/swagger-ui-bundle.js"></script>\n'
        f'<script src="{_STATIC}/swagger-init.js"></script>\n',
    )
    # ReDoc starts by itself on a <redoc spec-url> element.
    redoc = _page(
        title,
        "",
        f'<redoc spec-url="{url}"></redoc>\n'
        f'<script src="{_VENDOR}/redoc.standalone.js"></script>\n',
    )

    async def swagger_page(_: Request) -> HTMLResponse:
        return HTMLResponse(swagger)

    async def redoc_page(_: Request) -> HTMLResponse:
        return HTMLResponse(redoc)

    return [
        Route(DOCS_PATH, swagger_page, methods=["GET"], name="docs:swagger"),
        Route(REDOC_PATH, redoc_page, methods=["GET"], name="docs:redoc"),
        Mount(_VENDOR, StaticFiles(directory=VENDOR_DIR), name="docs:vendor"),
        Mount(_STATIC, StaticFiles(directory=STATIC_DIR), name="docs:static"),
    ]
