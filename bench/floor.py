"""The floor of the request path: Proveo's cheapest requests beside a bare Starlette app.

    .venv/bin/python bench/floor.py

Proveo runs as `make run` starts it (`proveo serve`, one uvicorn process) with the production
log settings: a JSON access line per request at INFO (written to /dev/null). The rate limits and
the per-client cap on requests in progress are off, since one load generator is one client
address, and the cache is the in-process one (no `PROVEO_REDIS_URL`). A bare Starlette app on
the same uvicorn serves the very bytes Proveo answered, so the ratio is what Proveo's
middleware, dependencies and logging cost.

Each row gives req/s and latency, which depend on whatever else the machine runs, and the
server's CPU time per request (from /proc), which hardly does: on a shared machine, compare that.

The load comes from wrk (Debian package `wrk`) when it is installed, else from the httpx load
generator in `_harness.py`, which saturates long before the servers do: its figures show that
the bench ran, not the floor. The first line says which one ran. Load generator and server
share the machine's cores.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
from _harness import load, running_proveo
from tests.fixtures.servers import free_port, wait_for_port

SECONDS = 10
WARM_UP_SECONDS = 2
CONNECTIONS = 32
WRK_THREADS = 1
TARGETS = {"/health/": "/api/v1/health/", "/communes/ (cached list)": "/api/v1/communes/"}
BARE_APP = Path(__file__).resolve().parent / "_bare_app.py"

# wrk hands this function the whole run's figures; latencies are in microseconds.
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("floor %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


@dataclass
class Result:
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    cpu_us: float = float("nan")  # the server's CPU time per request


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pid(marker: str) -> int:
    """Our child process whose command line contains `marker` (the server under test)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and marker.encode() in cmdline:
            return int(stat.parent.name)
    raise RuntimeError(f"no child process runs {marker}")


def run_wrk(url: str, seconds: int, script: Path) -> Result:
    output = subprocess.run(
        ["wrk", f"-t{WRK_THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", str(script), url],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    line = next(line for line in output.splitlines() if line.startswith("floor "))
    requests, duration_us, p50_us, p99_us, errors = (int(field) for field in line.split()[1:])
    return Result(requests / (duration_us / 1e6), p50_us / 1000, p99_us / 1000, errors, requests)


def run_httpx(url: str, seconds: int) -> Result:
    parsed = httpx.URL(url)
    base_url, path = f"{parsed.scheme}://{parsed.netloc.decode()}", parsed.path

    async def get(client: httpx.AsyncClient) -> httpx.Response:
        return await client.get(path)

    stats = asyncio.run(
        load(path, get, base_url=base_url, concurrency=CONNECTIONS, seconds=seconds)
    )
    return Result(
        stats.rate, stats.quantile(0.50), stats.quantile(0.99), stats.errors,
        len(stats.latencies_ms) + stats.errors,
    )  # fmt: skip


def measure(url: str, server_pid: int, script: Path | None) -> Result:
    def run(seconds: int) -> Result:
        return run_httpx(url, seconds) if script is None else run_wrk(url, seconds, script)

    run(WARM_UP_SECONDS)
    cpu_before = cpu_seconds(server_pid)
    result = run(SECONDS)
    result.cpu_us = (cpu_seconds(server_pid) - cpu_before) / result.requests * 1e6
    return result


def main() -> None:
    wrk = shutil.which("wrk")
    if wrk:
        version = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split()[:2]
        print(
            f"load generator: {' '.join(version)}, {CONNECTIONS} connections, "
            f"{WRK_THREADS} thread, {SECONDS} s per target after {WARM_UP_SECONDS} s of warm-up"
        )
    else:
        print(
            f"load generator: httpx (wrk is not installed: `apt-get install wrk`), "
            f"{CONNECTIONS} connections, {SECONDS} s per target; it saturates before the servers"
        )
    env = {
        "PROVEO_LOG_FORMAT": "json",
        "PROVEO_LOG_LEVEL": "INFO",
        "PROVEO_RATE_LIMIT_ENABLED": "false",
        "PROVEO_MAX_IN_FLIGHT_PER_CLIENT": "1000",
        "PROVEO_SEED_DEMO": "false",
    }
    results: dict[tuple[str, str], Result] = {}
    with tempfile.TemporaryDirectory(prefix="proveo-floor-") as tmp:
        workdir = Path(tmp)
        script: Path | None = None
        if wrk:
            script = workdir / "report.lua"
            script.write_text(WRK_REPORT)
        bodies: list[str] = []
        with running_proveo(env) as base_url:
            proveo_pid = child_pid("proveo.cli")
            for name, path in TARGETS.items():
                body_file = workdir / f"body{len(bodies)}.json"
                body_file.write_bytes(httpx.get(base_url + path).raise_for_status().content)
                bodies.append(f"{path}={body_file}")
                results[name, "proveo"] = measure(base_url + path, proveo_pid, script)
        port = free_port()
        bare = subprocess.Popen(
            [sys.executable, str(BARE_APP), str(port), *bodies],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_for_port(port)
            for name, path in TARGETS.items():
                url = f"http://127.0.0.1:{port}{path}"
                results[name, "bare"] = measure(url, bare.pid, script)
        finally:
            bare.terminate()
            bare.wait(timeout=30)
    # CPU per request does not depend on what else the machine runs; req/s and latency do.
    print(
        f"{'target':<26}{'server':<8}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}"
        f"{'CPU us/req':>11}{'req/s vs bare':>15}{'p99 vs bare':>13}{'CPU vs bare':>13}"
    )
    for name in TARGETS:
        floor = results[name, "bare"]
        for server in ("bare", "proveo"):
            result = results[name, server]
            print(
                f"{name:<26}{server:<8}{result.rate:>8.0f}{result.p50_ms:>8.2f}"
                f"{result.p99_ms:>8.2f}{result.errors:>7}{result.cpu_us:>11.0f}"
                f"{result.rate / floor.rate:>14.2f}x{result.p99_ms / floor.p99_ms:>12.1f}x"
                f"{result.cpu_us / floor.cpu_us:>12.1f}x"
            )


if __name__ == "__main__":
    main()
