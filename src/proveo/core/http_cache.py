"""HTTP validators: a response a browser already holds is answered with 304 and no body.

The front end has no build step, so its file names carry no content hash: browsers revalidate
every view (`no-cache`) and the validators make that a bodiless 304 when nothing changed.
"""

from __future__ import annotations

import hashlib

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

# Stored by browsers and shared caches, checked with the server before each reuse: an admin's
# change to the catalogue shows on the next view, and an unchanged list costs a 304.
PUBLIC_REVALIDATE = "public, no-cache"


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(request_headers: Headers, etag: str) -> bool:
    """`If-None-Match` names this entity (weak comparison, RFC 9110 §13.1.2)."""
    header = request_headers.get("if-none-match")
    if header is None:
        return False
    if header.strip() == "*":
        return True
    candidates = (tag.strip().removeprefix("W/") for tag in header.split(","))
    return etag in candidates


def cached_json(
    request: Request, body: bytes, *, cache_control: str = PUBLIC_REVALIDATE
) -> Response:
    """`body` (JSON) with an ETag, or a 304 when the client's copy is this one."""
    etag = strong_etag(body)
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if etag_matches(request.headers, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
