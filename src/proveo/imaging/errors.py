"""Failures of the image pipeline, as the API answers them."""

from __future__ import annotations

from proveo.core.errors import PayloadTooLarge, ServiceUnavailable, UnsupportedMediaType


class ImageTooLarge(PayloadTooLarge):
    code = "image_too_large"
    default_detail = "The image exceeds 5 MB or 40 megapixels"


class UnsupportedImage(UnsupportedMediaType):
    code = "unsupported_image"
    default_detail = "The file is not a JPEG, PNG or WebP image"


class ImageServiceUnavailable(ServiceUnavailable):
    code = "image_service_unavailable"
    default_detail = "Image processing is unavailable, try again shortly"
