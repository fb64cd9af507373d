"""Failures of the image pipeline, as the API answers them."""

from __future__ import annotations

from proveo.core.errors import (
    PayloadTooLarge,
    ServiceUnavailable,
    Unprocessable,
    UnsupportedMediaType,
)


class ImageTooLarge(PayloadTooLarge):
    code = "image_too_large"
    default_detail = "The image exceeds 5 MB or 40 megapixels"


class UnsupportedImage(UnsupportedMediaType):
    code = "unsupported_image"
    default_detail = "The file is not a JPEG, PNG or WebP image"


class ImageServiceUnavailable(ServiceUnavailable):
    code = "image_service_unavailable"
    default_detail = "Image processing is unavailable, try again shortly"


class ImageTooComplex(Unprocessable):
    """An image that would cost more to decode than any logo does: more JPEG scans than real
    encoders write, or more than the analysis budget of CPU or time."""

    code = "image_too_complex"
    default_detail = "The image is too costly to process: save it again as an ordinary file"


class ImagesBusy(ServiceUnavailable):
    """Every analysis slot is taken and the queue for them is full: try again shortly."""

    code = "images_busy"
    default_detail = "Too many images are being processed right now, try again in a few seconds"
