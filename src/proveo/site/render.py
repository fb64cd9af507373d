"""The pages' HTML: Jinja2 templates with autoescape (every value is escaped; JSON-LD goes
through `tojson`, which writes `<`, `>`, `&` and `'` as JSON escapes), compressed when the
browser takes gzip."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import Response

from proveo.site.service import PageMeta
from proveo.site.strings import Words, words

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Rendered per request: browsers and shared caches check back, a 304 is not worth its query.
PAGE_CACHE_CONTROL = "public, max-age=300"
MIN_GZIP_BYTES = 1024

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"], default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(template: str, meta: PageMeta, t: Words | None = None, **context: Any) -> str:
    """`template` with the page's metadata and words; the first JSON-LD block's id is
    `page-jsonld` unless `jsonld_id` says otherwise (the profile's script replaces its own)."""
    values: dict[str, Any] = {"jsonld_id": "page-jsonld", **context}
    return _env.get_template(template).render(
        meta=meta, t=t or words(meta.lang), year=datetime.now(UTC).year, **values
    )


def accepts_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "").lower()


def compressed(
    request: Request,
    body: bytes,
    *,
    media_type: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """`body`, gzipped when the client takes it and it is worth it."""
    headers = {"Vary": "Accept-Encoding", **(headers or {})}
    if len(body) >= MIN_GZIP_BYTES and accepts_gzip(request):
        body = gzip.compress(body, compresslevel=6)
        headers["Content-Encoding"] = "gzip"
    return Response(body, status_code=status_code, media_type=media_type, headers=headers)


def html_response(
    request: Request, html: str, *, status_code: int = 200, cache_control: str = PAGE_CACHE_CONTROL
) -> Response:
    return compressed(
        request,
        html.encode(),
        media_type="text/html; charset=utf-8",
        status_code=status_code,
        headers={"Cache-Control": cache_control},
    )
