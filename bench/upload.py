"""The image pipeline on a 2 MB photo-like JPEG: in process and through the image service;
then what the NSFW screen costs per upload.

    .venv/bin/python bench/upload.py [RUNS]

Each row analyses the same upload RUNS times in a row (default 30, after 3 warm-up runs):
decode, EXIF orientation, metadata stripped, 800x800 and 256x256 WebP, Open-NSFW score. In
both rows the work runs in the pipeline's worker processes (`imaging/pool.py`): the CPU per
image is that of the API process or of `proveo image-service` with its workers. The service
runs in its own process on a loopback port, reached by the API's HttpImageAnalyser; the peak
resident memory (VmHWM) of the service and its workers is read from /proc at the end.

The NSFW rows score, in this process, what the pipeline scores for a 4:3 photo and for an
8:1 banner: the whole rendition squashed into the model's square alone (the screen before a
review showed it could be bypassed by padding), then the whole rendition plus square crops
covering the image plus the 256x256 thumbnail (the screen now). Their difference is the cost
the fix added to each upload.

Latency depends on whatever else the machine runs; the CPU time per image (of this process,
or of the service's) hardly does: on a shared machine, compare that.

Upload-to-published adds the API's multipart parsing, storage and the database write: a step
for that path is `measure(name, analyse_once)` with a callable that publishes (see ROWS).
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from _harness import Stats
from floor import cpu_seconds
from PIL import Image, ImageOps
from tests.fixtures.servers import child_pids, running_image_service
from tests.imaging.images import in_banner, photo_like_jpeg

from proveo.imaging.client import HttpImageAnalyser, InProcessImageAnalyser
from proveo.imaging.nsfw import load_model, nsfw_score

WARM_UP = 3
UPLOAD_BYTES = 2 * 1024 * 1024


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def family_cpu_seconds(pid: int) -> float:
    """CPU of `pid` and its live children."""
    return sum(cpu_seconds(each) for each in [pid, *child_pids(pid)])


async def measure(
    name: str, once: Callable[[], Awaitable[object]], runs: int, *, cpu_of: int
) -> tuple[Stats, float]:
    """Latencies of `runs` sequential calls, and the CPU ms per call of process `cpu_of`."""
    for _ in range(WARM_UP):
        await once()
    latencies: list[float] = []
    cpu_before = family_cpu_seconds(cpu_of)
    started = time.perf_counter()
    for _ in range(runs):
        began = time.perf_counter()
        await once()
        latencies.append((time.perf_counter() - began) * 1000)
    elapsed = time.perf_counter() - started
    cpu_ms = (family_cpu_seconds(cpu_of) - cpu_before) / runs * 1000
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
        worker_peaks = [peak_rss_mb(pid) for pid in child_pids(service.process.pid)]
    await in_process.close()
    for stats, cpu_ms in rows:
        print(f"{stats.line()}  CPU={cpu_ms:6.1f} ms/image")
    workers = " + ".join(f"{peak:.0f}" for peak in worker_peaks)
    print(f"image service peak RSS (VmHWM): {service_peak:.0f} MB, its workers {workers} MB")
    nsfw_rows(upload, runs)


def _cpu_ms(work: Callable[[], object], runs: int) -> float:
    work()
    started = time.process_time()
    for _ in range(runs):
        work()
    return (time.process_time() - started) / runs * 1000


def nsfw_rows(upload: bytes, runs: int) -> None:
    """The NSFW screen's CPU per upload, before (the whole rendition only) and now."""
    load_model()
    photo = Image.open(io.BytesIO(upload)).convert("RGB")
    banner = in_banner(photo, (3200, 400))
    for name, picture in (("4:3 photo", photo), ("8:1 banner", banner)):
        full = picture.copy()
        full.thumbnail((800, 800))
        thumbnail = ImageOps.fit(full, (256, 256))
        whole = _cpu_ms(lambda full=full: nsfw_score(full, source=Image.new("RGB", (1, 1))), runs)
        now = _cpu_ms(
            lambda full=full, picture=picture, thumbnail=thumbnail: nsfw_score(
                full, source=picture, thumbnail=thumbnail
            ),
            runs,
        )
        print(
            f"NSFW screen, {name:<10}  whole only {whole:6.1f} ms  every view "
            f"{now:6.1f} ms  added {now - whole:6.1f} ms CPU/upload ({now / whole:.1f}x)"
        )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 30))
