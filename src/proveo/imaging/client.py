"""How the API reaches the image pipeline: in process, or the image service over HTTP."""

from __future__ import annotations

import asyncio
from typing import Protocol

from proveo.config import Settings
from proveo.imaging.errors import UnsupportedImage
from proveo.imaging.processing import ImageRejected, process_image
from proveo.imaging.schemas import AnalysedImage


class ImageAnalyser(Protocol):
    async def analyse(self, data: bytes, *, request_id: str | None = None) -> AnalysedImage:
        """Validate, re-encode and score. Raises ImageTooLarge, UnsupportedImage or
        ImageServiceUnavailable."""
        ...

    async def close(self) -> None: ...


class InProcessImageAnalyser:
    """The pipeline in a worker thread of this process."""

    async def analyse(self, data: bytes, *, request_id: str | None = None) -> AnalysedImage:
        try:
            image = await asyncio.to_thread(process_image, data)
        except ImageRejected as exc:
            raise UnsupportedImage() from exc
        # The NSFW model is wired in with the image service (issue 7); until then nothing is held.
        return AnalysedImage(image.full, image.thumbnail, image.width, image.height, 0.0)

    async def close(self) -> None:
        return None


def build_image_analyser(settings: Settings) -> ImageAnalyser:
    return InProcessImageAnalyser()
