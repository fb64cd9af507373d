"""What the image pipeline returns, whichever side of HTTP it ran on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AnalysedImage:
    """An accepted upload: re-encoded WebP renditions (no metadata) and its NSFW score."""

    full: bytes  # WebP, at most 800x800
    thumbnail: bytes  # WebP, 256x256
    width: int
    height: int
    nsfw_score: float  # Open-NSFW probability, 0..1
