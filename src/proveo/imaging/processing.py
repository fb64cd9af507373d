"""Decode, normalise and re-encode images. Pure CPU work: callers run it in a worker thread."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps

ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
MAX_PIXELS = 40_000_000
FULL_SIDE = 800
THUMB_SIDE = 256


class ImageRejected(ValueError):
    """The bytes are not an image we accept (by content, never by name or declared type)."""


@dataclass(frozen=True)
class ProcessedImage:
    full: bytes
    thumbnail: bytes
    width: int
    height: int


def process_image(data: bytes) -> ProcessedImage:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise ImageRejected(f"format {probe.format} is not accepted")
            if probe.width * probe.height > MAX_PIXELS:
                raise ImageRejected("image exceeds 40 megapixels")
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageRejected("the file could not be decoded as an image") from exc
    mode = "RGBA" if upright.mode in {"RGBA", "LA", "P"} else "RGB"
    # A fresh image from pixel data only: no EXIF, ICC, XMP or text chunks survive.
    clean = Image.new(mode, upright.size)
    clean.paste(upright.convert(mode))
    full = clean.copy()
    full.thumbnail((FULL_SIDE, FULL_SIDE), Image.Resampling.LANCZOS)
    thumb = ImageOps.fit(clean, (THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return ProcessedImage(
        full=_webp(full), thumbnail=_webp(thumb), width=full.width, height=full.height
    )


def _webp(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=82, method=4)
    return out.getvalue()
