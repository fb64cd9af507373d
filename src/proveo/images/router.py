from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from proveo.core.openapi import error_responses
from proveo.images import service as images_service
from proveo.images.responses import MEDIA_TYPE, ObjectResponse
from proveo.integrations.storage import ImageStorage

router = APIRouter(tags=["images"])

# Keys are random and never reused, so a stored object never changes: caches keep it for good.
CACHE_CONTROL = "public, max-age=31536000, immutable"

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
    304: {"description": "The copy the client holds (`If-None-Match`) is current"},
    **error_responses(
        (404, "No such image (`image_not_found`)"),
        (503, "The image store does not answer (`storage_unavailable`)"),
    ),
}


def _etag(name: str) -> str:
    # The name identifies the bytes for good (see CACHE_CONTROL): the same on either backend,
    # and known without reading the object.
    return f'"{name.removesuffix(".webp")}"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


def _headers(name: str, size: int | None = None) -> dict[str, str]:
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": _etag(name)}
    if size is not None:
        headers["Content-Length"] = str(size)
    return headers


@router.get(
    "/images/{name}",
    name="images:get",
    summary="A stored image (WebP, cached for a year)",
    response_class=Response,
    responses=_RESPONSES,
)
async def get_image(name: str, request: Request) -> Response:
    storage: ImageStorage = request.app.state.storage
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        stored = await images_service.stat_image(storage, name)
        if _matches(if_none_match, _etag(stored.name)):
            return Response(status_code=304, headers=_headers(stored.name))
    return ObjectResponse(await images_service.open_image(storage, name), _headers(name))


@router.head(
    "/images/{name}",
    name="images:head",
    summary="The headers of a stored image, without its bytes",
    response_class=Response,
    responses=_RESPONSES,
)
async def head_image(name: str, request: Request) -> Response:
    stored = await images_service.stat_image(request.app.state.storage, name)
    if _matches(request.headers.get("if-none-match"), _etag(stored.name)):
        return Response(status_code=304, headers=_headers(stored.name))
    return Response(
        status_code=200, media_type=MEDIA_TYPE, headers=_headers(stored.name, stored.size)
    )
