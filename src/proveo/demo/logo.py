"""Deterministic placeholder logos and gallery photos for demo companies, drawn with Pillow
only."""

from __future__ import annotations

import colorsys
import hashlib
import io
import unicodedata

from PIL import Image, ImageDraw, ImageFont

__all__ = ["generate_logo", "generate_photo", "initials_for"]

# Render at a higher resolution and downscale, giving anti-aliased shape edges.
_SUPERSAMPLE = 2

# Short Spanish connectors that make poor initials ("Sabores de Elqui" -> "SE").
_CONNECTORS = frozenset({"de", "del", "la", "las", "el", "los", "y", "e", "&", "spa", "ltda"})

_WHITE = (255, 255, 255)


def initials_for(name: str) -> str:
    """Return up to two uppercase initials for ``name``, preserving accents such as "Ñ"."""
    words = [w for w in name.split() if any(ch.isalnum() for ch in w)]
    meaningful = [w for w in words if w.casefold().strip(".,") not in _CONNECTORS]
    chosen = (meaningful or words)[:2]
    letters: list[str] = []
    for word in chosen:
        first = next(ch for ch in word if ch.isalnum())
        # NFC keeps "Ñ"/"É" as single precomposed characters after upper-casing.
        letters.append(unicodedata.normalize("NFC", first.upper())[:1])
    return "".join(letters) or "?"


def _digest(name: str) -> bytes:
    return hashlib.sha256(name.encode("utf-8")).digest()


def _rgb_from_hls(hue: float, lightness: float, saturation: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hls_to_rgb(hue, lightness, saturation)
    return (round(r * 255), round(g * 255), round(b * 255))


def _blend(
    colour: tuple[int, int, int], other: tuple[int, int, int], amount: float
) -> tuple[int, int, int]:
    r1, g1, b1 = colour
    r2, g2, b2 = other
    return (
        round(r1 + (r2 - r1) * amount),
        round(g1 + (g2 - g1) * amount),
        round(b1 + (b2 - b1) * amount),
    )


def _draw_shape(
    draw: ImageDraw.ImageDraw, kind: int, canvas: int, colour: tuple[int, int, int]
) -> None:
    centre = canvas / 2
    radius = canvas * 0.36
    box = (centre - radius, centre - radius, centre + radius, centre + radius)
    if kind == 0:
        draw.ellipse(box, fill=colour)
    elif kind == 1:
        draw.rounded_rectangle(box, radius=round(radius * 0.35), fill=colour)
    elif kind == 2:
        diamond_radius = radius * 1.2
        draw.polygon(
            [
                (centre, centre - diamond_radius),
                (centre + diamond_radius, centre),
                (centre, centre + diamond_radius),
                (centre - diamond_radius, centre),
            ],
            fill=colour,
        )
    else:
        draw.regular_polygon((centre, centre, radius * 1.15), n_sides=6, rotation=30, fill=colour)


_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

# Pillow's bundled default font only covers ASCII plus a few symbols, so accented capitals
# such as "Ñ" or "É" are composed from the base letter plus a spacing accent glyph.
_SPACING_ACCENTS = {
    "\u0300": "`",  # grave
    "\u0301": "\u00b4",  # acute
    "\u0302": "^",  # circumflex
    "\u0303": "~",  # tilde
}
_DIAERESIS = "\u0308"


def _decompose(letter: str) -> tuple[str, list[str]]:
    """Split ``letter`` into a base character and the combining marks placed above it."""
    decomposed = unicodedata.normalize("NFD", letter)
    base = decomposed[0]
    marks = [ch for ch in decomposed[1:] if unicodedata.combining(ch)]
    return base, marks


def _ink_bbox(text: str, font: _Font) -> tuple[float, float, float, float]:
    """Return the tight ink box of ``text`` drawn at (0, 0) (``textbbox`` pads vertically)."""
    left, top, right, bottom = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox(
        (0, 0), text, font=font
    )
    width, height = int(right - left) + 2, int(bottom - top) + 2
    scratch = Image.new("L", (max(width, 1), max(height, 1)), 0)
    ImageDraw.Draw(scratch).text((1 - left, 1 - top), text, font=font, fill=255)
    ink = scratch.getbbox()
    if ink is None:
        return (left, top, right, bottom)
    return (ink[0] - 1 + left, ink[1] - 1 + top, ink[2] - 1 + left, ink[3] - 1 + top)


def _draw_initials(draw: ImageDraw.ImageDraw, text: str, font: _Font, canvas: int) -> None:
    """Draw ``text`` centred on the canvas, composing accents the font lacks."""
    parts = [_decompose(letter) for letter in text]
    bases = "".join(base for base, _ in parts)
    size = float(getattr(font, "size", 10))
    gap = size * 0.06

    # Lay everything out relative to (0, 0) first, then shift so the union box is centred.
    glyphs: list[tuple[float, float, str]] = [(0.0, 0.0, bases)]
    dots: list[tuple[float, float, float]] = []
    for index, (base, marks) in enumerate(parts):
        x0 = draw.textlength(bases[:index], font=font)
        left, top, right, _ = _ink_bbox(base, font)
        centre_x = x0 + (left + right) / 2
        for mark in marks:
            bottom = top - gap
            if mark in _SPACING_ACCENTS:
                accent = _SPACING_ACCENTS[mark]
                a_left, a_top, a_right, a_bottom = _ink_bbox(accent, font)
                x = centre_x - (a_left + a_right) / 2
                y = bottom - a_bottom
                glyphs.append((x, y, accent))
                top = y + a_top
            elif mark == _DIAERESIS:
                radius = size * 0.045
                spread = size * 0.13
                cy = bottom - radius
                dots.append((centre_x - spread, cy, radius))
                dots.append((centre_x + spread, cy, radius))
                top = cy - radius

    boxes: list[tuple[float, float, float, float]] = []
    for x, y, glyph in glyphs:
        g_left, g_top, g_right, g_bottom = _ink_bbox(glyph, font)
        boxes.append((x + g_left, y + g_top, x + g_right, y + g_bottom))
    boxes += [(cx - r, cy - r, cx + r, cy + r) for cx, cy, r in dots]
    min_x = min(box[0] for box in boxes)
    min_y = min(box[1] for box in boxes)
    max_x = max(box[2] for box in boxes)
    max_y = max(box[3] for box in boxes)
    shift_x = (canvas - (min_x + max_x)) / 2
    shift_y = (canvas - (min_y + max_y)) / 2

    for x, y, glyph in glyphs:
        draw.text((x + shift_x, y + shift_y), glyph, font=font, fill=_WHITE)
    for cx, cy, r in dots:
        x, y = cx + shift_x, cy + shift_y
        draw.ellipse((x - r, y - r, x + r, y + r), fill=_WHITE)


def generate_logo(name: str, *, size: int = 512) -> bytes:
    """Return PNG bytes of a square ``size``x``size`` logo for the company ``name``.

    The result depends only on ``name`` and ``size``: the same input always yields the same
    bytes. Colours and shape are derived from a SHA-256 digest of the name.
    """
    if size <= 0:
        raise ValueError("size must be a positive integer")

    digest = _digest(name)
    hue = int.from_bytes(digest[0:2], "big") / 65536
    saturation = 0.50 + digest[2] / 255 * 0.20
    lightness = 0.36 + digest[3] / 255 * 0.08
    background = _rgb_from_hls(hue, lightness, saturation)
    shape_colour = _blend(background, _WHITE, 0.16)
    shape_kind = digest[4] % 4

    canvas = size * _SUPERSAMPLE
    image = Image.new("RGB", (canvas, canvas), background)
    draw = ImageDraw.Draw(image)
    _draw_shape(draw, shape_kind, canvas, shape_colour)

    text = initials_for(name)
    font_size = max(1, round(canvas * (0.34 if len(text) > 1 else 0.42)))
    font = ImageFont.load_default(size=font_size)
    _draw_initials(draw, text, font, canvas)

    if _SUPERSAMPLE != 1:
        image = image.resize((size, size), Image.Resampling.LANCZOS)

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def generate_photo(name: str, number: int, *, width: int = 960, height: int = 640) -> bytes:
    """Return PNG bytes of a landscape placeholder "photo" for the company ``name``: a sky
    and ground gradient with buildings, different for each ``number``, in cool colours (the
    NSFW screening scores it near 0). Deterministic like `generate_logo`."""
    if width <= 0 or height <= 0:
        raise ValueError("width and height must be positive integers")
    digest = _digest(f"{name}#{number}")
    # Blues to greens only: hue 0.30-0.62.
    hue = 0.30 + digest[0] / 255 * 0.32
    sky_top = _rgb_from_hls(hue, 0.78, 0.55)
    sky_bottom = _rgb_from_hls(hue, 0.90, 0.35)
    ground = _rgb_from_hls((hue + 0.08) % 1, 0.32, 0.30)
    image = Image.new("RGB", (width, height), sky_bottom)
    draw = ImageDraw.Draw(image)
    horizon = round(height * (0.55 + digest[1] / 255 * 0.15))
    for y in range(horizon):
        draw.line((0, y, width, y), fill=_blend(sky_top, sky_bottom, y / max(horizon, 1)))
    draw.rectangle((0, horizon, width, height), fill=ground)
    x = 0
    for i in range(2, 30):
        if x >= width:
            break
        building_width = round(width * (0.06 + digest[i] / 255 * 0.08))
        building_height = round(horizon * (0.2 + digest[(i + 7) % 32] / 255 * 0.5))
        shade = _rgb_from_hls((hue + 0.5) % 1, 0.25 + (digest[i] % 5) * 0.05, 0.12)
        draw.rectangle((x, horizon - building_height, x + building_width, horizon), fill=shade)
        for wy in range(horizon - building_height + 12, horizon - 12, 24):
            for wx in range(x + 8, x + building_width - 8, 18):
                draw.rectangle((wx, wy, wx + 8, wy + 10), fill=_blend(shade, _WHITE, 0.55))
        x += building_width + round(width * 0.01)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
