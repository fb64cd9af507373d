"""The static front end at `/`, kept out of the API's and the images' paths.

A plain `Mount("/", StaticFiles(...))` matches every path: an unknown `/api/...` path reached the
static files, which answer 405 to anything but GET, so `POST /api/v1/typo` said "method not
allowed" instead of "not found", and a wrong method on a real route lost its `Allow` header.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from starlette._utils import get_route_path
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.routing import Match, Mount
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

from proveo.core.http_cache import PUBLIC_REVALIDATE

READ_METHODS = ("GET", "HEAD")
# Text worth compressing; images (PNG, WebP, ICO) already are.
COMPRESSIBLE = (
    "text/",
    "application/javascript",
    "application/json",
    "application/manifest+json",
    "application/xml",
    "image/svg+xml",
)
MIN_GZIP_BYTES = 1024


class _FrontEndFiles(StaticFiles):
    """Static files where a path that serves nothing is a 404 whatever the method.

    Every file carries `ETag` and `Last-Modified` and is revalidated on each view (see
    core.http_cache): unhashed module names must never mix an old `api.js` with a new page.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Each file's gzip copy, made once per version (path, size, mtime) and kept.
        self._gzipped: dict[tuple[str, int, float], bytes] = {}

    def _gzip_of(self, full_path: str, stat_result: os.stat_result) -> bytes:
        key = (full_path, stat_result.st_size, stat_result.st_mtime)
        body = self._gzipped.get(key)
        if body is None:
            with open(full_path, "rb") as source:
                body = gzip.compress(source.read(), compresslevel=9, mtime=0)
            self._gzipped = {k: v for k, v in self._gzipped.items() if k[0] != full_path}
            self._gzipped[key] = body
        return body

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        request_headers = Headers(scope=scope)
        response: Response = FileResponse(
            full_path,
            stat_result=stat_result,
            status_code=status_code,
            headers={"Cache-Control": PUBLIC_REVALIDATE, "Vary": "Accept-Encoding"},
        )
        media_type = response.headers.get("content-type", "")
        if (
            stat_result.st_size >= MIN_GZIP_BYTES
            and media_type.startswith(COMPRESSIBLE)
            and "gzip" in request_headers.get("accept-encoding", "").lower()
        ):
            headers = dict(response.headers)
            # The compressed copy is another representation: an ETag of its own.
            headers["etag"] = headers["etag"].rstrip('"') + '-gzip"'
            headers["content-encoding"] = "gzip"
            headers.pop("content-length", None)
            response = Response(
                self._gzip_of(os.fspath(full_path), stat_result),
                status_code=status_code,
                headers=headers,
            )
        if self.is_not_modified(response.headers, request_headers):
            return NotModifiedResponse(response.headers)
        return response

    async def get_response(self, path: str, scope: Scope) -> Response:
        if scope["method"] in READ_METHODS:
            return await super().get_response(path, scope)
        # Only a path that exists can have a wrong method: look it up as a GET would.
        found = await super().get_response(path, {**scope, "method": "GET"})
        if found.status_code >= 400:
            raise HTTPException(status_code=404)
        raise HTTPException(status_code=405, headers={"Allow": ", ".join(READ_METHODS)})


class _FrontEndMount(Mount):
    def __init__(self, directory: Path, *, reserved: tuple[str, ...]) -> None:
        super().__init__("/", _FrontEndFiles(directory=directory, html=True), name="web")
        self.reserved = reserved

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            path = get_route_path(scope)
            if any(path == prefix or path.startswith(prefix + "/") for prefix in self.reserved):
                # Left to the app's router: its 404 `not_found`, its 405 with `Allow`.
                return Match.NONE, {}
        return super().matches(scope)


def front_end(directory: Path, *, reserved: tuple[str, ...]) -> Mount:
    """Serve `directory` at `/`, except under the `reserved` path prefixes (e.g. `/api`)."""
    return _FrontEndMount(directory, reserved=reserved)
