from __future__ import annotations

from fastapi import APIRouter, Request, Response

from proveo.core.errors import NotFound
from proveo.core.openapi import error_responses
from proveo.integrations.storage import ImageStorage

router = APIRouter(tags=["images"])


class ImageNotFound(NotFound):
    code = "image_not_found"
    default_detail = "Image not found"


@router.get(
    "/images/{name}",
    name="images:get",
    summary="A stored image (WebP, cached for a year)",
    response_class=Response,
    responses={
        200: {"content": {"image/webp": {"schema": {"type": "string", "format": "binary"}}}},
        **error_responses((404, "No such image (`image_not_found`)")),
    },
)
async def get_image(name: str, request: Request) -> Response:
    storage: ImageStorage = request.app.state.storage
    data = await storage.get(name)
    if data is None:
        raise ImageNotFound()
    # Keys are random and never reused, so a stored object never changes.
    return Response(
        data,
        media_type="image/webp",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )
