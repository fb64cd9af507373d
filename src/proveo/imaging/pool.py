"""`analyse_image` in worker processes that can be stopped: every image has a hard budget.

A thread cannot be stopped in the middle of a decode, so a hostile file (a JPEG whose scans
repeat, a decompression puzzle no check foresaw) would hold its slot, and every other user's
upload behind it, for as long as the decoder likes. Here each slot is a process of its own
(started on first use, with the NSFW model loaded once), and each image gets:

- a CPU budget: the CPU the worker spends on the image is read from /proc every 50 ms, and
  the worker is killed once it passes `cpu_seconds`; the kernel backs this up (RLIMIT_CPU
  set a second beyond it before each image, so even an unattended worker ends with SIGXCPU);
- a wall-clock budget (`wall_seconds`), enforced here: a worker that has not answered by then
  is killed (a machine too loaded to give it the CPU, or a worker stuck in I/O).

Either way the upload is refused as `image_too_complex` (422), the worker is replaced on the
next use, and the slot is free again: a hostile file costs at most its budget.

Uploads wait for a free slot in a bounded queue: when `queue_limit` are waiting already, or a
slot does not free up within `max_wait_seconds`, the upload is refused at once with
`images_busy` (503, `Retry-After`) instead of piling up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import structlog

from proveo.core import metrics
from proveo.core.errors import AppError
from proveo.imaging.errors import (
    ImagesBusy,
    ImageServiceUnavailable,
    ImageTooComplex,
    ImageTooLarge,
    UnsupportedImage,
)
from proveo.imaging.schemas import AnalysedImage
from proveo.imaging.worker import READY

log = structlog.get_logger(__name__)

CPU_SECONDS = 5.0
# A loaded machine gives a worker half a core or less: the wall budget allows for that.
WALL_SECONDS = 10.0
MAX_WAIT_SECONDS = 8.0
# Images waiting for a slot, per slot.
QUEUE_PER_SLOT = 4
# Starting a worker imports Pillow and ONNX Runtime and loads the model: ~2 s on an idle core.
START_SECONDS = 60.0
# A worker is replaced after this many images, so that no fragmentation builds up.
JOBS_PER_WORKER = 500
# An answer's header is a few hundred bytes; anything longer is not one of ours.
MAX_HEADER_BYTES = 64 * 1024
# The refusals a worker sends back, by code.
_REFUSALS: dict[str, type[AppError]] = {
    error.code: error for error in (ImageTooLarge, UnsupportedImage, ImageTooComplex)
}


class _WorkerGone(Exception):
    """The worker process ended (or was ended) before it answered."""


class _OverCpuBudget(Exception):
    """The worker spent its image's CPU budget without answering."""


# How often the CPU a worker spends on an image is read (from /proc): the budget's precision.
CPU_CHECK_SECONDS = 0.05
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class _Worker:
    """A `python -m proveo.imaging.worker` process and its pipes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.jobs = 0

    @classmethod
    async def start(cls, cpu_seconds: float) -> _Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "proveo.imaging.worker", repr(cpu_seconds),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            # Its own session: a terminal's Ctrl-C is for the server, which stops it.
            start_new_session=True,
            limit=MAX_HEADER_BYTES,
        )  # fmt: skip
        return cls(process)

    async def read_answer(self) -> tuple[dict[str, Any], bytes]:
        assert self.process.stdout is not None
        try:
            size = int.from_bytes(await self.process.stdout.readexactly(4), "big")
            if size > MAX_HEADER_BYTES:
                raise _WorkerGone("answer header too long")
            header = json.loads(await self.process.stdout.readexactly(size))
            length = int(header.get("full_length", 0)) + int(header.get("thumbnail_length", 0))
            payload = await self.process.stdout.readexactly(length) if length else b""
        except (asyncio.IncompleteReadError, ConnectionError, ValueError) as exc:
            raise _WorkerGone(str(exc)) from exc
        if not isinstance(header, dict):
            raise _WorkerGone("answer header is not an object")
        return header, payload

    async def exchange(self, data: bytes) -> tuple[dict[str, Any], bytes]:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(len(data).to_bytes(8, "big") + data)
            await self.process.stdin.drain()
        except ConnectionError as exc:
            raise _WorkerGone(str(exc)) from exc
        answer = await self.read_answer()
        self.jobs += 1
        return answer

    def cpu_seconds(self) -> float:
        """User and system CPU the worker has used (0 when it is gone)."""
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_bytes()
        except OSError:
            return 0.0
        fields = stat[stat.rindex(b")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS

    async def exchange_within(
        self, data: bytes, cpu_seconds: float
    ) -> tuple[dict[str, Any], bytes]:
        """`exchange`, raising _OverCpuBudget once the worker has spent `cpu_seconds` on it.
        (The worker's RLIMIT_CPU, a second later, is the kernel's backstop.)"""
        spent_before = self.cpu_seconds()
        answer = asyncio.ensure_future(self.exchange(data))
        try:
            while True:
                done, _ = await asyncio.wait({answer}, timeout=CPU_CHECK_SECONDS)
                if done:
                    return answer.result()
                if self.cpu_seconds() - spent_before > cpu_seconds:
                    raise _OverCpuBudget
        finally:
            if not answer.done():
                answer.cancel()
                with contextlib.suppress(BaseException):
                    await answer

    async def stop(self) -> str:
        """Kill the worker (it holds nothing worth a graceful stop); returns how it ended."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        code = await self.process.wait()
        if code < 0:
            try:
                return signal.Signals(-code).name
            except ValueError:
                pass
        return f"exit {code}"


class Pipeline:
    """`analyse_image` in at most `workers` worker processes at once, each image within its
    budget, extra uploads in a bounded queue."""

    def __init__(
        self,
        workers: int = 0,
        *,
        processes: int = 1,
        cpu_seconds: float = CPU_SECONDS,
        wall_seconds: float = WALL_SECONDS,
        max_wait_seconds: float = MAX_WAIT_SECONDS,
        queue_limit: int | None = None,
    ) -> None:
        # The default shares the cores among the server's worker processes (PROVEO_WORKERS).
        self.workers = workers or max(1, (os.cpu_count() or 1) // processes)
        self.cpu_seconds = cpu_seconds
        self.wall_seconds = wall_seconds
        self.max_wait_seconds = max_wait_seconds
        self.queue_limit = QUEUE_PER_SLOT * self.workers if queue_limit is None else queue_limit
        self._slots = asyncio.Semaphore(self.workers)
        self._idle: list[_Worker] = []
        # Replacements for killed workers, started at once so the next image need not wait.
        self._starting: list[asyncio.Task[_Worker]] = []
        self._waiting = 0
        self._closed = False

    @property
    def waiting(self) -> int:
        return self._waiting

    async def warm(self) -> None:
        """Start every worker now, and one spare (the image service does, before it serves).

        The spare takes the place of a worker killed over its budget at once: starting one
        costs about 3 s of CPU, which a review made the next user's upload wait for."""
        wanted = self.workers + 1 - len(self._idle)
        started = [await self._started_worker() for _ in range(wanted)]
        self._idle.extend(started)

    async def analyse(self, data: bytes) -> AnalysedImage:
        """Raises ImageTooLarge, UnsupportedImage, ImageTooComplex (over budget), ImagesBusy
        (queue full) or ImageServiceUnavailable (a worker failed to start or failed)."""
        if self._waiting >= self.queue_limit:
            raise self._busy()
        arrived = time.perf_counter()
        self._waiting += 1
        try:
            async with asyncio.timeout(self.max_wait_seconds):
                await self._slots.acquire()
        except TimeoutError:
            raise self._busy() from None
        finally:
            self._waiting -= 1
        try:
            return await self._analyse_in_slot(data)
        finally:
            self._slots.release()
            metrics.image_analysed(time.perf_counter() - arrived)

    def _busy(self) -> ImagesBusy:
        log.warning("image_queue_full", waiting=self._waiting, slots=self.workers)
        return ImagesBusy(headers={"Retry-After": str(max(1, math.ceil(self.cpu_seconds)))})

    async def _started_worker(self) -> _Worker:
        worker = await _Worker.start(self.cpu_seconds)
        try:
            async with asyncio.timeout(START_SECONDS):
                header, _ = await worker.read_answer()
            if header.get("kind") != READY:
                raise _WorkerGone(f"unexpected {header.get('kind')!r}")
        except (TimeoutError, _WorkerGone) as exc:
            end = await worker.stop()
            log.error("image_worker_failed_to_start", end=end, problem=str(exc))
            raise ImageServiceUnavailable() from None
        except BaseException:
            await worker.stop()
            raise
        return worker

    async def _analyse_in_slot(self, data: bytes) -> AnalysedImage:
        worker = await self._take_worker()
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.wall_seconds):
                header, payload = await worker.exchange_within(data, self.cpu_seconds)
        except TimeoutError:
            # The CPU budget was not spent (it would have ended the worker first): the machine
            # was too busy to give the worker its share. Not the file's fault: try again.
            await worker.stop()
            self._replace_soon()
            metrics.image_over_budget("wall")
            log.warning("image_over_time_budget", wall_seconds=self.wall_seconds, bytes=len(data))
            raise ImagesBusy(
                f"The server was too busy to process the image within {self.wall_seconds:g} "
                "seconds: send it again in a few seconds",
                headers={"Retry-After": str(max(1, math.ceil(self.cpu_seconds)))},
            ) from None
        except (_WorkerGone, _OverCpuBudget):
            end = await worker.stop()
            self._replace_soon()
            metrics.image_over_budget("cpu")  # or the worker died: the same answer
            log.warning(
                "image_over_cpu_budget", end=end, cpu_seconds=self.cpu_seconds, bytes=len(data),
                seconds=round(time.monotonic() - started, 2),
            )  # fmt: skip
            raise ImageTooComplex(
                f"The image needs more than {self.cpu_seconds:g} seconds of processing: save "
                "it again as an ordinary file, or a smaller one"
            ) from None
        except BaseException:
            # Cancelled mid-image: the worker's state is unknown, so it goes.
            await asyncio.shield(worker.stop())
            raise
        await self._keep(worker)
        return _answer(header, payload)

    async def _take_worker(self) -> _Worker:
        if self._idle:
            return self._idle.pop()
        if self._starting:
            return await self._starting.pop(0)
        return await self._started_worker()

    def _replace_soon(self) -> None:
        if not self._closed:
            self._starting.append(asyncio.create_task(self._started_worker()))

    async def _keep(self, worker: _Worker) -> None:
        if self._closed or worker.jobs >= JOBS_PER_WORKER:
            await worker.stop()
        else:
            self._idle.append(worker)

    async def close(self) -> None:
        """Stop the idle workers; one still analysing stops when its image is done."""
        self._closed = True
        starting, self._starting = self._starting, []
        for task in starting:
            task.cancel()
        for result in await asyncio.gather(*starting, return_exceptions=True):
            if isinstance(result, _Worker):
                await result.stop()
        idle, self._idle = self._idle, []
        for worker in idle:
            await worker.stop()


def _answer(header: dict[str, Any], payload: bytes) -> AnalysedImage:
    kind = header.get("kind")
    if kind == "ok":
        full_length = int(header["full_length"])
        return AnalysedImage(
            full=payload[:full_length],
            thumbnail=payload[full_length:],
            width=int(header["width"]),
            height=int(header["height"]),
            nsfw_score=float(header["nsfw_score"]),
        )
    if kind == "refused" and header.get("code") in _REFUSALS:
        raise _REFUSALS[header["code"]](str(header.get("detail", "")) or None)
    log.error("image_worker_error", answer=header)
    raise ImageServiceUnavailable()
