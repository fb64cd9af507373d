"""Images the tests (and bench/upload.py) generate: ordinary, hostile and photo-like."""

from __future__ import annotations

import io
import random
import struct
import zlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

_HERE = Path(__file__).resolve().parent


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def drawing(size: tuple[int, int] = (300, 200), mode: str = "RGB") -> Image.Image:
    """A small flat-colour logo-like picture with edges (so re-encoding has work to do)."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((size[0] // 10, size[1] // 10, size[0] * 2 // 3, size[1] * 9 // 10), "navy")
    draw.rectangle((size[0] // 2, size[1] // 4, size[0] - 5, size[1] // 2), "orange")
    return image.convert(mode)


def transparent_logo(size: tuple[int, int] = (300, 200)) -> Image.Image:
    """drawing()'s shapes on a transparent background, with anti-aliased soft edges."""
    alpha = Image.new("L", size, 0)
    draw = ImageDraw.Draw(alpha)
    draw.ellipse((size[0] // 10, size[1] // 10, size[0] * 2 // 3, size[1] * 9 // 10), 255)
    draw.rectangle((size[0] // 2, size[1] // 4, size[0] - 5, size[1] // 2), 255)
    logo = drawing(size, "RGBA")
    logo.putalpha(alpha.filter(ImageFilter.GaussianBlur(2)))
    return logo


def high_score_grey() -> Image.Image:
    """A 256x256 greyscale pattern the Open-NSFW model scores about 0.9: found by hill climbing
    on the model's score (random blurred ellipses), not a photograph. Stored as a 3 KB PNG
    because searching for it again takes minutes."""
    with Image.open(_HERE / "high_score_grey.png") as image:
        return image.convert("L")


def hidden_in_alpha(grey: Image.Image) -> Image.Image:
    """White pixels whose alpha is `grey`: blank over white, `grey` itself over black."""
    white = Image.new("L", grey.size, 255)
    return Image.merge("RGBA", (white, white, white, grey))


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload)) + kind + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )  # fmt: skip


def png_bomb(width: int, height: int, *, with_pixels: bool = True) -> bytes:
    """A black 1-bit PNG of width x height built row by row, never holding its pixels.

    Deflate shrinks the rows about a thousand times: 30000x30000 (900 million pixels) fits in
    ~110 KB. Without pixels it is a header declaring that size over an empty data stream.
    """
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + (width + 7) // 8)
    rows = [compressor.compress(row) for _ in range(height)] if with_pixels else []
    data = b"".join(rows) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )  # fmt: skip


def photo_like_jpeg(target_bytes: int, *, seed: int = 1) -> bytes:
    """A JPEG of about `target_bytes` whose content compresses like a photo (smooth shapes under
    fine grain), so the decoder does a photo's work rather than a flat picture's."""
    rng = random.Random(seed)
    side = 1200
    while True:
        size = (side * 4 // 3, side)
        base = Image.new("RGB", size)
        draw = ImageDraw.Draw(base)
        for _ in range(60):
            x, y = rng.randrange(size[0]), rng.randrange(size[1])
            r = rng.randrange(side // 20, side // 3)
            colour = tuple(rng.randrange(256) for _ in range(3))
            draw.ellipse((x - r, y - r, x + r, y + r), colour)
        base = base.filter(ImageFilter.GaussianBlur(side / 100))
        grain = Image.merge("RGB", [Image.effect_noise(size, 40) for _ in range(3)])
        photo = Image.blend(base, grain, 0.25)
        data = encode(photo, "JPEG", quality=92)
        if len(data) >= target_bytes * 0.9:
            return data
        side = int(side * (target_bytes / len(data)) ** 0.5 * 1.05)


def scan_bomb(size: tuple[int, int] = (2000, 2000), copies: int = 100) -> bytes:
    """A progressive JPEG whose last scan is repeated `copies` times before EOI, as a review
    built it (each copy makes the decoder pass over every coefficient again)."""
    data = encode(Image.new("RGB", size, (30, 60, 90)), "JPEG", progressive=True, quality=90)
    last_scan = data.rindex(b"\xff\xda")
    end = data.rindex(b"\xff\xd9")
    return data[:end] + data[last_scan:end] * copies + data[end:]


def in_banner(picture: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`picture`, as tall as the banner, centred in a plain white banner of `size`."""
    width, height = size
    side = min(width, height)
    banner = Image.new("RGB", size, "white")
    banner.paste(picture.convert("RGB").resize((side, side)), ((width - side) // 2, 0))
    return banner
