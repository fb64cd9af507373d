"""The fault matrix: every scenario of tests/faults/scenarios.py against one real topology.

    .venv/bin/python bench/faults.py [SCENARIO ...]

Starts the topology (a PostgreSQL primary and streaming replica, Redis, SeaweedFS S3, the image
service, `proveo serve` with two workers, nginx in front; see tests/faults/topology.py), runs the
scenarios in order under a light mixed load (about 15 requests a second through nginx), and prints
scenario | requests | 5xx | worst latency | recovery time, then what each scenario observed. The
tests in tests/faults/test_faults.py run the same scenarios and assert on them.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

import structlog

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults.scenarios import SCENARIOS, ScenarioResult, matrix  # noqa: E402
from tests.faults.topology import running_topology  # noqa: E402


def _details(result: ScenarioResult) -> list[str]:
    lines = [f"{result.name}: {result.fault}"]
    lines.append(
        f"  fault window {result.fault_seconds:.1f} s; recovery {result.recovery_seconds:.2f} s"
    )
    for kind, answers in sorted(result.errors_by_kind().items()):
        shown = ", ".join(f"{answer} x{count}" for answer, count in answers.most_common())
        lines.append(f"  not 2xx, {kind}: {shown}")
    slowest = max(result.samples, key=lambda s: s.latency)
    lines.append(
        f"  slowest: {slowest.kind} {slowest.status} {slowest.code} {slowest.latency:.2f} s, "
        f"sent {slowest.started - result.fault_at:+.1f} s from the fault"
    )
    for name, value in result.evidence.items():
        lines.append(f"  {name}: {value}")
    lost = {kind: items for kind, items in result.missing_writes.items() if items}
    lines.append(f"  committed writes missing afterwards: {lost or 'none'}")
    return lines


def _quiet() -> None:
    """The servers' start and stop lines (structlog, INFO) stay out of the report."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


async def main(names: list[str]) -> int:
    _quiet()
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="proveo-faults-"))
    results: list[ScenarioResult] = []
    started = time.monotonic()
    try:
        async with running_topology(workdir) as topology:
            steps = ", ".join(f"{name} {seconds} s" for name, seconds in topology.timings.items())
            print(f"topology up in {time.monotonic() - started:.1f} s ({steps})", flush=True)
            for name in names or list(SCENARIOS):
                scenario_started = time.monotonic()
                result = await SCENARIOS[name](topology)
                results.append(result)
                print(f"{name}: {time.monotonic() - scenario_started:.1f} s", flush=True)
    finally:
        if results:
            print()
            print(matrix(results))
            print()
            for result in results:
                print("\n".join(_details(result)))
        print(f"\ntotal {time.monotonic() - started:.1f} s")
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1:])))
