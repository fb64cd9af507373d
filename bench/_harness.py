"""Shared bench plumbing: run `proveo serve` on loopback and measure request latencies."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures.servers import running_proveo as serve  # noqa: E402


@dataclass
class Stats:
    name: str
    latencies_ms: list[float]
    seconds: float
    errors: int

    def quantile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def line(self) -> str:
        return (
            f"{self.name:<34} n={len(self.latencies_ms):>6}  {self.rate:8.1f} req/s  "
            f"p50={self.quantile(0.50):7.1f} ms  p95={self.quantile(0.95):7.1f} ms  "
            f"p99={self.quantile(0.99):7.1f} ms  errors={self.errors}"
        )


@contextmanager
def running_proveo(extra_env: dict[str, str]) -> Iterator[str]:
    """`proveo serve` with its own embedded PostgreSQL in a temporary data dir."""
    data_dir = Path(tempfile.mkdtemp(prefix="proveo-bench-"))
    try:
        with serve(data_dir, **extra_env) as base_url:
            yield base_url
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


async def load(
    name: str,
    request: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
    *,
    base_url: str,
    concurrency: int,
    seconds: float,
    ok: Callable[[httpx.Response], bool] = lambda r: r.status_code == 200,
) -> Stats:
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                response = await request(client)
                elapsed = (time.perf_counter() - started) * 1000
                if ok(response):
                    latencies.append(elapsed)
                else:
                    errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Stats(name, latencies, time.perf_counter() - started, errors)
