"""What the company tests share: images they generate, test doubles at the two third-party
edges (the NSFW score, the translation provider) and the multipart form."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from collections.abc import Sequence
from typing import Any

import httpx
from PIL import Image

from proveo.imaging.client import InProcessImageAnalyser
from proveo.imaging.schemas import AnalysedImage
from proveo.integrations.translation import Lang, TranslationFailed
from tests.factories import LoggedIn

COMPANIES_URL = "/api/v1/companies"
MY_COMPANY_URL = "/api/v1/companies/user/my-company"


def jpeg(size: tuple[int, int] = (320, 200), colour: str = "teal", quality: int = 85) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def png(size: tuple[int, int] = (64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (200, 30, 30, 128)).save(out, format="PNG")
    return out.getvalue()


_shared_pipelines: dict[asyncio.AbstractEventLoop, InProcessImageAnalyser] = {}


def shared_pipeline() -> InProcessImageAnalyser:
    """One in-process pipeline (its worker processes) per event loop, for every app a test
    session builds on it: starting workers for each test would cost seconds. The workers'
    pipes belong to the loop that started them, so a test that runs its own loop (the e2e
    tests' `asyncio.run`) gets its own. `close_shared_pipeline` stops them."""
    loop = asyncio.get_running_loop()
    if loop not in _shared_pipelines:
        _shared_pipelines[loop] = InProcessImageAnalyser()
    return _shared_pipelines[loop]


async def close_shared_pipeline() -> None:
    """Stop the running loop's pipeline, and forget those of loops that have ended (their
    workers exit as their pipes close)."""
    loop = asyncio.get_running_loop()
    pipeline = _shared_pipelines.pop(loop, None)
    if pipeline is not None:
        await pipeline.close()
    for other in [other for other in _shared_pipelines if other.is_closed()]:
        del _shared_pipelines[other]


class ScoredAnalyser:
    """The real in-process pipeline (decode, re-encode, reject what it rejects), with the NSFW
    score set by the test: the model's verdict on a given picture is not what these tests are
    about, the thresholds are. `score=None` keeps the pipeline's own score."""

    def __init__(self, score: float | None = None) -> None:
        self.score = score
        self.request_ids: list[str | None] = []

    async def analyse(self, data: bytes, *, request_id: str | None = None) -> AnalysedImage:
        self.request_ids.append(request_id)
        image = await shared_pipeline().analyse(data, request_id=request_id)
        if self.score is None:
            return image
        return dataclasses.replace(image, nsfw_score=self.score)

    async def close(self) -> None:
        """The shared pipeline outlives the app (see `shared_pipeline`)."""


class FakeTranslator:
    """A stand-in for the third-party provider, implementing the Translator protocol:
    `mode` is "off" (like `none`), "ok" (answers `[target] text`) or "fail" (timeout/5xx)."""

    name = "fake"

    def __init__(self, mode: str = "off") -> None:
        self.mode = mode
        self.calls: list[tuple[str, Lang, Lang]] = []
        self.answer: str | None = None

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    async def translate(self, text: str, *, source: Lang, target: Lang) -> str:
        self.calls.append((text, source, target))
        if self.mode != "ok":
            raise TranslationFailed("provider unavailable")
        return self.answer if self.answer is not None else f"[{target}] {text}"

    async def close(self) -> None:
        return None


FORM: dict[str, str] = {
    "name": "Servicios Ñandú",
    "commune_name": "Santiago",
    "product_name": "Construcción",
    "address": "Av. Providencia 1234, oficina 5",
    "phone": "9 8231 4576",
    "email": "contacto@nandu.cl",
    "description_es": "Obras menores y remodelaciones.",
    "description_en": "Minor works and refurbishments.",
    "lang": "es",
}


def form(**overrides: str | None) -> dict[str, str]:
    """The publish form with `overrides`; None drops a field."""
    fields: dict[str, str | None] = {**FORM, **overrides}
    return {key: value for key, value in fields.items() if value is not None}


async def publish(
    client: httpx.AsyncClient,
    session: LoggedIn | None,
    *,
    image: bytes | None = None,
    filename: str = "logo.jpg",
    content_type: str = "image/jpeg",
    **fields: str | None,
) -> httpx.Response:
    files: dict[str, Any] = {"image": (filename, jpeg() if image is None else image, content_type)}
    return await client.post(
        COMPANIES_URL,
        data=form(**fields),
        files=files,
        headers=session.headers if session else {},
    )


async def patch_mine(
    client: httpx.AsyncClient,
    session: LoggedIn,
    *,
    image: bytes | None = None,
    **fields: str,
) -> httpx.Response:
    files = {"image": ("new.png", image, "image/png")} if image is not None else None
    return await client.patch(MY_COMPANY_URL, data=fields, files=files, headers=session.headers)


BOUNDARY = "----proveo-raw-boundary"


def raw_multipart(
    fields: Sequence[tuple[str, bytes]], files: Sequence[tuple[str, bytes]] = ()
) -> tuple[bytes, dict[str, str]]:
    """A multipart body byte for byte, which httpx cannot send: text parts that are not UTF-8,
    a part repeated. Returns the body and its Content-Type header."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value
        + b"\r\n"
        for name, value in fields
    ] + [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="logo.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + data
        + b"\r\n"
        for name, data in files
    ]
    body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def form_parts(**overrides: str | None) -> list[tuple[str, bytes]]:
    """The publish form's text parts, UTF-8 encoded, with `overrides` (None drops a field)."""
    return [(name, value.encode()) for name, value in form(**overrides).items()]
