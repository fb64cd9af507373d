"""The one image pipeline: judge the bytes by decoding, bound the cost, re-encode, score.

`analyse_image` is pure CPU work: the in-process analyser and the image service both run it
through `Pipeline`, in worker threads, a bounded number at a time.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zlib

from PIL import Image, ImageOps

from proveo.imaging.errors import ImageTooComplex, ImageTooLarge, UnsupportedImage
from proveo.imaging.nsfw import nsfw_score
from proveo.imaging.schemas import AnalysedImage

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
FULL_SIDE = 800
THUMB_SIDE = 256
# Only these decoders ever see uploaded bytes: GIF, BMP, TIFF, SVG (not a Pillow format at all)
# and the dozens of other formats Pillow reads are refused before any of their parsers run.
DECODERS = ("JPEG", "PNG", "WEBP")
# Pillow opens a JPEG carrying an MPF index (Ultra HDR gain maps, some phone photos) as MPO.
ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP"})
TOO_MANY_BYTES = f"The image exceeds {MAX_BYTES // (1024 * 1024)} MB"
TOO_MANY_PIXELS = f"The image exceeds {MAX_PIXELS // 1_000_000} megapixels"
NOT_AN_IMAGE = "The file is not a JPEG, PNG or WebP image we can decode"
TRAILING_BYTES = "The file has data after the end of the image"
# Real encoders write 1 scan (baseline) or about 10 (progressive; mozjpeg up to ~20). Each scan
# of a progressive JPEG makes the decoder pass over every coefficient again: a 6000x6000 file
# that repeats its last scan costs ~38 ms per copy, an hour of CPU in 5 MB.
MAX_JPEG_SCANS = 32
TOO_MANY_SCANS = (
    f"The JPEG has more than {MAX_JPEG_SCANS} progressive scans (real cameras and editors write "
    "about 10): save it again as an ordinary JPEG or PNG"
)
# In entropy-coded data, 0xFF is followed by 0x00 (a stuffed byte), a restart marker D0-D7 or
# more 0xFF (fill); anything else starts the next marker segment.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})
_SOS, _EOI = 0xDA, 0xD9

# Pillow checks the size a header declares before it decodes anything: above MAX_PIXELS it
# warns, above twice that it raises. The warning is a refusal too, in every process.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)
# Damaged metadata (EXIF, an MPF index, APNG control chunks): Pillow skips it with a warning
# and the pixels still make an image, whose metadata is dropped anyway. pyproject.toml tells
# pytest the same.
warnings.filterwarnings(
    "ignore", category=UserWarning, module=r"PIL\.(TiffImagePlugin|JpegImagePlugin|PngImagePlugin)$"
)

# What Pillow raises for bytes it cannot make sense of, header to last pixel (found by fuzzing
# JPEG, PNG and WebP files: tests/imaging/test_processing.py keeps such a corpus).
_UNDECODABLE = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error)
_ORIENTATION_TAG = 0x0112
# EXIF orientation -> the transposition that shows the image upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SIXTEEN_BIT_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_AVERAGEABLE_MODES = frozenset({"RGB", "RGBA", "L", "LA"})


def analyse_image(data: bytes) -> AnalysedImage:
    """Validate, normalise and re-encode an upload, and score it for NSFW content.

    Raises ImageTooLarge (over 5 MB or 40 megapixels, checked before any pixel is decoded) or
    UnsupportedImage (anything that is not a complete JPEG, PNG or WebP).
    """
    upright = _decode_upright(data)
    full = upright.copy()
    full.thumbnail((FULL_SIDE, FULL_SIDE), Image.Resampling.LANCZOS)
    # From the 800 px rendition when it is big enough: a third of the work, the same result.
    source = full if min(full.size) >= THUMB_SIDE else upright
    thumbnail = ImageOps.fit(source, (THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return AnalysedImage(
        full=_webp(full),
        thumbnail=_webp(thumbnail),
        width=full.width,
        height=full.height,
        # Whole, in crops along a long side, and as search lists show it: the highest score.
        nsfw_score=nsfw_score(full, source=upright, thumbnail=thumbnail),
    )


def _decode_upright(data: bytes) -> Image.Image:
    if len(data) > MAX_BYTES:
        raise ImageTooLarge(TOO_MANY_BYTES)
    try:
        image = Image.open(io.BytesIO(data), formats=DECODERS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(TOO_MANY_PIXELS) from exc
    except _UNDECODABLE as exc:
        raise UnsupportedImage(NOT_AN_IMAGE) from exc
    with image:
        if image.format not in ACCEPTED_FORMATS:
            raise UnsupportedImage(NOT_AN_IMAGE)
        if image.width * image.height > MAX_PIXELS:
            raise ImageTooLarge(TOO_MANY_PIXELS)
        _refuse_trailing_bytes(data, image.format)
        if image.format in {"JPEG", "MPO"} and jpeg_scans(data) > MAX_JPEG_SCANS:
            raise ImageTooComplex(TOO_MANY_SCANS)
        try:
            return _normalise(image)
        except _UNDECODABLE as exc:
            raise UnsupportedImage(NOT_AN_IMAGE) from exc


def jpeg_scans(data: bytes) -> int:
    """The scans (SOS segments) of a JPEG's first image, counted by walking its segment
    headers and skipping entropy-coded data with one regular-expression search per scan; the
    count stops just past MAX_JPEG_SCANS. Bytes between segments are skipped up to the next
    marker, as libjpeg skips them (a review hid 3,010 scans behind one junk byte)."""
    scans = 0
    position = 2  # past SOI
    while position + 4 <= len(data) and scans <= MAX_JPEG_SCANS:
        if data[position] != 0xFF:
            found = _NEXT_MARKER.search(data, position)
            if found is None:
                return scans
            position = found.start()
            continue
        marker = data[position + 1]
        if marker == 0xFF:
            position += 1  # fill byte
            continue
        if marker == _EOI:
            return scans
        if marker in _STANDALONE_MARKERS:
            position += 2
            continue
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
        if marker == _SOS:
            scans += 1
            found = _NEXT_MARKER.search(data, position)
            if found is None:
                return scans
            position = found.start()
    return scans


def _normalise(image: Image.Image) -> Image.Image:
    """The first frame, upright, in RGB or RGBA, reduced to what the renditions need."""
    if image.format in {"JPEG", "MPO"}:
        # libjpeg decodes straight to 1/2, 1/4 or 1/8 scale, filtering as it goes: a fraction
        # of the memory and time, down to no less than the renditions' sides.
        factor = _reduction(image.size, gap=1)
        image.draft(None, (image.width // factor, image.height // factor))
    image.load()
    orientation = _orientation(image)
    # reduce() averages samples: palette indexes, 1-bit and 16-bit data must be RGB(A) first.
    if image.mode not in _AVERAGEABLE_MODES:
        image = _rgb(image)
    factor = _reduction(image.size)
    clean = _rgb(image.reduce(factor) if factor > 1 else image)
    transpose = _UPRIGHT.get(orientation)
    if transpose is not None:
        clean = clean.transpose(transpose)
    # Every copy above carried the source's info (EXIF, ICC profile, XMP, text chunks).
    clean.info = {}
    return clean


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_ORIENTATION_TAG, 1)
    except _UNDECODABLE:
        # Damaged metadata is dropped anyway; the pixels still make an image.
        return 1
    return value if isinstance(value, int) else 1


def _rgb(image: Image.Image) -> Image.Image:
    """A new RGB or RGBA image (RGBA when the source has any transparency)."""
    if image.mode in _SIXTEEN_BIT_MODES:
        # Pillow clips 16-bit samples on convert(): scale them down to 8 bits instead.
        image = image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    has_alpha = image.mode in _ALPHA_MODES or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")


def _reduction(size: tuple[int, int], gap: int = 2) -> int:
    """The integer factor that still leaves `gap` times the renditions' sides. A box reduce
    with a gap of 2 (as Pillow's reducing_gap) lets the final LANCZOS keep full quality."""
    longest, shortest = max(size), min(size)
    return max(1, min(longest // (gap * FULL_SIDE), shortest // (gap * THUMB_SIDE)))


def _refuse_trailing_bytes(data: bytes, image_format: str | None) -> None:
    """PNG and WebP state exactly where they end: bytes past that are another file riding along
    (a polyglot) or a damaged upload. JPEG is not checked: phones append Motion Photo videos and
    vendor trailers after the image. Either way only decoded pixels are re-encoded and stored."""
    if image_format == "PNG":
        end = _png_end(data)
    elif image_format == "WEBP":
        declared = int.from_bytes(data[4:8], "little")
        end = 8 + declared + (declared & 1)
    else:
        return
    if end != len(data):
        raise UnsupportedImage(TRAILING_BYTES if end < len(data) else NOT_AN_IMAGE)


def _png_end(data: bytes) -> int:
    """The offset after the IEND chunk, walking chunk headers only; len(data) + 1 if none."""
    position = 8
    while position + 12 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        position += 12 + length
        if kind == b"IEND":
            return position
    return len(data) + 1


def _webp(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=82, method=4)
    return out.getvalue()
