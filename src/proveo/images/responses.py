"""Streaming a stored object as an HTTP response (public images and held ones alike)."""

from __future__ import annotations

from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from proveo.integrations.storage import OpenedObject

MEDIA_TYPE = "image/webp"


class ObjectResponse(StreamingResponse):
    """Streams the object in chunks and lets go of it however the response ends."""

    def __init__(self, opened: OpenedObject, headers: dict[str, str]) -> None:
        super().__init__(
            opened.chunks,
            media_type=MEDIA_TYPE,
            headers={**headers, "Content-Length": str(opened.info.size)},
        )
        self._opened = opened

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._opened.close()
