"""Upload-to-published for a 2 MB JPEG through POST /api/v1/companies (SPEC §7: p95 ≤ 500 ms).

    .venv/bin/python bench/publish.py

Serves Proveo as `make run` does (embedded PostgreSQL, demo data, local image storage, the
in-process image pipeline), then publishes a company with a ~2 MB photo-like JPEG, 2000×1500,
over and over: each of the 16 demo providers deletes their company (not timed) and publishes it
again (timed, from sending the request to the 201, when the company is committed and public).
Run once with one client at a time and once with 4 at a time. The load generator shares the
machine's cores with the server.
"""

from __future__ import annotations

import asyncio
import io
import os
import time

import httpx
from _harness import Stats, running_proveo
from PIL import Image

from proveo.imaging.processing import analyse_image

ROUNDS = 3  # of the 16 demo providers
PROVIDERS = 16
FORM = {
    "name": "Fotografía Industrial Bench",
    "commune_name": "Providencia",
    "product_name": "Marketing digital",
    "address": "Av. Providencia 1234",
    "phone": "+56 2 2274 8190",
    "email": "bench@proveo.cl",
    "description_es": "Fotografía de productos y plantas industriales.",
    "lang": "es",
}


def two_megabyte_jpeg() -> bytes:
    """Noise over a gradient (photo-like entropy), the first quality that reaches 2 MB."""
    side = (2000, 1500)
    gradient = Image.linear_gradient("L").resize(side)
    bands = [Image.blend(Image.effect_noise(side, 60), gradient, 0.4) for _ in range(3)]
    image = Image.merge("RGB", bands)
    for quality in range(88, 99):
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=quality)
        if out.tell() >= 2_000_000:
            return out.getvalue()
    raise RuntimeError("could not reach 2 MB")


async def _session(client: httpx.AsyncClient, number: int) -> dict[str, str]:
    response = await client.post(
        "/api/v1/users/login",
        json={"email": f"testuser{number:02d}@proveo.com", "password": "TestPass123!"},
    )
    response.raise_for_status()
    return {"X-CSRF-Token": response.json()["csrf_token"]}


async def provider(
    base_url: str, number: int, image: bytes, latencies: list[float], errors: list[str]
) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        headers = await _session(client, number)
        for _ in range(ROUNDS):
            await client.delete("/api/v1/companies/user/my-company", headers=headers)
            started = time.perf_counter()
            response = await client.post(
                "/api/v1/companies",
                data=FORM,
                files={"image": ("photo.jpg", image, "image/jpeg")},
                headers=headers,
            )
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code == 201 and response.json()["image_url"]:
                latencies.append(elapsed)
            else:
                errors.append(f"{response.status_code} {response.text[:120]}")


async def run(base_url: str, image: bytes, *, concurrency: int) -> Stats:
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    queue = list(range(1, PROVIDERS + 1))

    async def worker() -> None:
        while queue:
            await provider(base_url, queue.pop(), image, latencies, errors)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    for error in errors[:3]:
        print("  error:", error)
    return Stats(
        f"publish, {concurrency} at a time", latencies, time.perf_counter() - started, len(errors)
    )


def pipeline_alone(image: bytes, runs: int = 10) -> Stats:
    """The image pipeline (NSFW score included) in this process with no HTTP, database or
    storage: what remains of the publish latency is the API's own share."""
    latencies = []
    started = time.perf_counter()
    for _ in range(runs):
        begun = time.perf_counter()
        analyse_image(image)
        latencies.append((time.perf_counter() - begun) * 1000)
    return Stats("image pipeline alone", latencies, time.perf_counter() - started, 0)


async def main() -> None:
    image = two_megabyte_jpeg()
    print(f"JPEG: {len(image) / 1_000_000:.2f} MB, 2000x1500")
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print(pipeline_alone(image).line())
    env = {
        "PROVEO_RATE_LIMIT_ENABLED": "false",
        "PROVEO_LOGIN_ATTEMPTS_PER_IP_PER_MINUTE": "1000000",
        "PROVEO_LOG_LEVEL": "WARNING",
    }
    with running_proveo(env) as base_url:
        await run(base_url, image, concurrency=1)  # warm-up: first decodes, pool, caches
        for concurrency in (1, 4):
            stats = await run(base_url, image, concurrency=concurrency)
            print(stats.line())
            if concurrency == 1:
                verdict = "meets" if stats.quantile(0.95) <= 500 else "misses"
                print(f"  SPEC §7 (p95 ≤ 500 ms, one upload at a time): {verdict}")


if __name__ == "__main__":
    asyncio.run(main())
