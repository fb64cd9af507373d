from __future__ import annotations

import io

import pytest
from PIL import Image

from proveo.imaging.processing import ImageRejected, process_image


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


class TestProcessImage:
    def test_reencodes_to_webp_within_800_and_256_thumbnail(self) -> None:
        result = process_image(_encode(Image.new("RGB", (1600, 1000), "navy"), "JPEG"))
        full = Image.open(io.BytesIO(result.full))
        thumb = Image.open(io.BytesIO(result.thumbnail))
        assert (full.format, full.size) == ("WEBP", (800, 500))
        assert (thumb.format, thumb.size) == ("WEBP", (256, 256))

    def test_applies_exif_orientation_and_strips_metadata(self) -> None:
        image = Image.new("RGB", (400, 200), "red")
        exif = Image.Exif()
        exif[0x0112] = 6  # rotate 90° clockwise when displayed
        exif[0x010F] = "Secret Camera Co"
        result = process_image(_encode(image, "JPEG", exif=exif.tobytes()))
        full = Image.open(io.BytesIO(result.full))
        assert full.size == (200, 400)
        assert not full.getexif()
        assert b"Secret Camera" not in result.full

    @pytest.mark.parametrize(
        "data", [b"", b"not an image at all", b"GIF89a" + b"\x00" * 100, b"%PDF-1.7\n"]
    )
    def test_rejects_non_images(self, data: bytes) -> None:
        with pytest.raises(ImageRejected):
            process_image(data)

    def test_rejects_accepted_container_of_unaccepted_format(self) -> None:
        with pytest.raises(ImageRejected, match="not accepted"):
            process_image(_encode(Image.new("RGB", (10, 10)), "GIF"))

    def test_rejects_over_40_megapixels(self) -> None:
        huge = _encode(Image.new("1", (8000, 6000)), "PNG", optimize=True)
        with pytest.raises(ImageRejected, match="40 megapixels"):
            process_image(huge)
