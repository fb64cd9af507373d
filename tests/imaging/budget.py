"""A CPU budget for the tests of the image budget, measured on the machine that runs them.

Between what a small image and a scan bomb cost there (their geometric mean), whatever the
machine's speed: a fixed 0.6 s let the bomb through once the machine got faster (0.56 s of CPU
for the bomb, 0.08 s for the logo)."""

from __future__ import annotations

import asyncio
import functools
import math

from proveo.imaging.pool import Pipeline

# The bomb must cost several times the small image for a budget between them to tell them
# apart with a margin on both sides.
MIN_RATIO = 4


async def _cpu_seconds(pipeline: Pipeline, data: bytes) -> float:
    worker = pipeline._idle[-1]  # the next image's worker
    before = worker.cpu_seconds()
    await pipeline.analyse(data)
    return worker.cpu_seconds() - before


async def _costs(small: bytes, costly: bytes) -> tuple[float, float]:
    pipeline = Pipeline(1, cpu_seconds=120, wall_seconds=300)
    await pipeline.warm()
    try:
        small_cost = max([await _cpu_seconds(pipeline, small) for _ in range(2)])
        return small_cost, await _cpu_seconds(pipeline, costly)
    finally:
        await pipeline.close()


@functools.cache
def budget_between(small: bytes, costly: bytes) -> float:
    """CPU seconds that `small` stays well within and `costly` well exceeds, here."""
    small_cost, costly_cost = asyncio.run(_costs(small, costly))
    assert costly_cost > MIN_RATIO * small_cost, (small_cost, costly_cost)
    return math.sqrt(small_cost * costly_cost)
