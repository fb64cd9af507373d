"""What the image pipeline returns, whichever side of HTTP it ran on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class AnalysedImage:
    """An accepted upload: re-encoded WebP renditions (no metadata) and its NSFW score."""

    full: bytes  # WebP, at most 800x800
    thumbnail: bytes  # WebP, 256x256
    width: int
    height: int
    nsfw_score: float  # Open-NSFW probability, 0..1


# The image service's answer to POST /v1/analyse: the body is the full WebP followed by the
# thumbnail WebP, raw (no base64, no multipart parsing); these headers say where the first
# ends and carry the rest.
FULL_LENGTH_HEADER = "Proveo-Full-Length"
WIDTH_HEADER = "Proveo-Image-Width"
HEIGHT_HEADER = "Proveo-Image-Height"
NSFW_SCORE_HEADER = "Proveo-Nsfw-Score"
WIRE_MEDIA_TYPE = "application/octet-stream"


def to_wire(image: AnalysedImage) -> tuple[bytes, dict[str, str]]:
    headers = {
        FULL_LENGTH_HEADER: str(len(image.full)),
        WIDTH_HEADER: str(image.width),
        HEIGHT_HEADER: str(image.height),
        NSFW_SCORE_HEADER: repr(image.nsfw_score),
    }
    return image.full + image.thumbnail, headers


def from_wire(body: bytes, headers: Mapping[str, str]) -> AnalysedImage:
    """The inverse of to_wire. ValueError for an answer that is not one (a wrong URL, a proxy)."""
    try:
        full_length = int(headers[FULL_LENGTH_HEADER])
        width, height = int(headers[WIDTH_HEADER]), int(headers[HEIGHT_HEADER])
        score = float(headers[NSFW_SCORE_HEADER])
    except KeyError as exc:
        raise ValueError(f"missing header {exc}") from exc
    if not (0 < full_length < len(body) and width > 0 and height > 0 and 0.0 <= score <= 1.0):
        raise ValueError("inconsistent image service answer")
    return AnalysedImage(body[:full_length], body[full_length:], width, height, score)
