"""The image pipeline on a 2 MB photo-like JPEG: in process and through the image service.

    .venv/bin/python bench/upload.py [RUNS]

Each row analyses the same upload RUNS times in a row (default 30, after 3 warm-up runs):
decode, EXIF orientation, metadata stripped, 800x800 and 256x256 WebP, Open-NSFW score. The
image service is `proveo image-service` in its own process on a loopback port, reached by the
API's HttpImageAnalyser; its peak resident memory (VmHWM) is read from /proc at the end.

Latency depends on whatever else the machine runs; the CPU time per image (of this process,
or of the service's) hardly does: on a shared machine, compare that.

Upload-to-published adds the API's multipart parsing, storage and the database write: a step
for that path is `measure(name, analyse_once)` with a callable that publishes (see ROWS).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from _harness import Stats
from floor import cpu_seconds
from tests.fixtures.servers import running_image_service
from tests.imaging.images import photo_like_jpeg

from proveo.imaging.client import HttpImageAnalyser, InProcessImageAnalyser

WARM_UP = 3
UPLOAD_BYTES = 2 * 1024 * 1024


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


async def measure(
    name: str, once: Callable[[], Awaitable[object]], runs: int, *, cpu_of: int
) -> tuple[Stats, float]:
    """Latencies of `runs` sequential calls, and the CPU ms per call of process `cpu_of`."""
    for _ in range(WARM_UP):
        await once()
    latencies: list[float] = []
    cpu_before = cpu_seconds(cpu_of)
    started = time.perf_counter()
    for _ in range(runs):
        began = time.perf_counter()
        await once()
        latencies.append((time.perf_counter() - began) * 1000)
    elapsed = time.perf_counter() - started
    cpu_ms = (cpu_seconds(cpu_of) - cpu_before) / runs * 1000
    return Stats(name, latencies, elapsed, errors=0), cpu_ms


async def main(runs: int) -> None:
    upload = photo_like_jpeg(UPLOAD_BYTES)
    print(f"upload: a {len(upload) / 1024 / 1024:.2f} MB photo-like JPEG, {runs} runs per row")
    in_process = InProcessImageAnalyser()
    rows = [
        await measure(
            "pipeline in process", lambda: in_process.analyse(upload), runs, cpu_of=os.getpid()
        )
    ]
    with (
        tempfile.TemporaryDirectory(prefix="proveo-bench-image-") as tmp,
        running_image_service(Path(tmp) / "service.log", PROVEO_LOG_LEVEL="WARNING") as service,
    ):
        assert service.process is not None
        remote = HttpImageAnalyser(service.url)
        try:
            via_service = await measure(
                "pipeline via image service", lambda: remote.analyse(upload), runs,
                cpu_of=service.process.pid,
            )  # fmt: skip
        finally:
            await remote.close()
        rows.append(via_service)
        service_peak = peak_rss_mb(service.process.pid)
    for stats, cpu_ms in rows:
        print(f"{stats.line()}  CPU={cpu_ms:6.1f} ms/image")
    print(f"image service peak RSS (VmHWM): {service_peak:.0f} MB")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 30))
