"""One image worker process: `python -m proveo.imaging.worker CPU_SECONDS`.

Started by `imaging/pool.py`, it reads images from stdin and writes answers to stdout, one at a
time. The parent watches the CPU each image costs; RLIMIT_CPU, set a second past CPU_SECONDS
before each image, has the kernel end the worker should the parent not.

Framing (every length big-endian): an image is an 8-byte length and the bytes; an answer is a
4-byte length, a JSON header, then the payload the header describes (for `ok`, the full WebP
then the thumbnail). The parent never unpickles anything from a process that decodes hostile
files. The worker exits when stdin closes (its parent stopped or died).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import resource
import signal
import sys
from typing import Any, BinaryIO

READY = "ready"


def write_answer(out: BinaryIO, header: dict[str, Any], payload: bytes = b"") -> None:
    encoded = json.dumps(header).encode()
    out.write(len(encoded).to_bytes(4, "big") + encoded + payload)
    out.flush()


def _read_image(source: BinaryIO) -> bytes | None:
    prefix = source.read(8)
    if len(prefix) < 8:
        return None
    length = int.from_bytes(prefix, "big")
    data = source.read(length)
    return data if len(data) == length else None


def _warm_up_png() -> bytes:
    """A 400x300 PNG: long enough to be scored in crops too."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (400, 300), (40, 90, 160)).save(out, format="PNG")
    return out.getvalue()


def serve(cpu_seconds: float, source: BinaryIO, out: BinaryIO) -> None:
    # The parent stops its workers itself; Ctrl-C in a terminal is not for them.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # SIGXCPU ends the process with a core dump: never write one.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    from proveo.core.errors import AppError
    from proveo.imaging.nsfw import load_model
    from proveo.imaging.processing import analyse_image

    load_model()
    # The first run of every code path (ONNX Runtime's above all) costs ~0.7 s more than the
    # next: spent here, before READY, not on the first upload's budget.
    analyse_image(_warm_up_png())
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    write_answer(out, {"kind": READY})
    while (data := _read_image(source)) is not None:
        # A backstop a second beyond the parent's own check (RLIMIT_CPU counts whole seconds).
        budget = math.ceil(sum(os.times()[:2]) + cpu_seconds) + 1
        if hard != resource.RLIM_INFINITY:
            budget = min(budget, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (budget, hard))
        try:
            image = analyse_image(data)
        except AppError as exc:
            write_answer(out, {"kind": "refused", "code": exc.code, "detail": str(exc.detail)})
        except Exception as exc:  # a bug, not the image's fault: the parent logs it
            write_answer(out, {"kind": "failed", "error": f"{type(exc).__name__}: {exc}"})
        else:
            header = {
                "kind": "ok",
                "full_length": len(image.full),
                "thumbnail_length": len(image.thumbnail),
                "width": image.width,
                "height": image.height,
                "nsfw_score": image.nsfw_score,
            }
            write_answer(out, header, image.full + image.thumbnail)
        finally:
            resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):  # the parent went away mid-answer
        serve(float(sys.argv[1]), sys.stdin.buffer, sys.stdout.buffer)
