"""What recording provider insights costs: the company page and the search API, recording on and
off, in the same run.

    .venv/bin/python bench/insights.py          (BENCH_COMPANIES=3000 by default)

1. Seeds `proveo seed --synthetic N --seed 1` into an embedded PostgreSQL under
   `.proveo-bench/` (kept between runs, keyed by the migrations and the generator's source).
2. Starts that PostgreSQL and serves Proveo twice on it, side by side, both through
   `PROVEO_DATABASE_URL` (neither owns the database): `PROVEO_INSIGHTS_ENABLED=true` (every
   request below is counted: views, impressions) and `false`. Same settings otherwise: JSON
   access log at INFO, rate limits and the per-client cap off (one load generator is one
   client address), `BENCH_WORKERS` processes each (the usable cores).
3. Loads each case with 16 connections (wrk when installed, else httpx), sending a browser's
   User-Agent (a bot's requests are not counted, and wrk's or httpx's own would be one), in
   rounds ordered on, off, off, on, on, off, ... so that a drift of the machine's load weighs on
   both alike; prints req/s and p50/p95/p99 of each mode (its rounds together), the on/off
   ratios, and each round's req/s (on a shared machine the spread between rounds says how far
   the ratio can be trusted).
4. Prints what was recorded (views and impressions in `company_daily_stat` after the servers
   stopped, each having flushed its buffer), to show the "on" server did count, and the
   in-process cost of counting, timed alone: a view, and a page of 20 search results.

The company page rotates through 2,000 companies in both languages; search through 840
distinct queries (12 words, pages, page sizes, both languages), so its 1 s result cache answers
few of them, and every page counts its companies as impressions, cached or not.

Settings through the environment: BENCH_COMPANIES (3000), BENCH_ROUNDS (4 per mode and case),
BENCH_SECONDS (6 per round), BENCH_WARM_UP_SECONDS (2 before each round), BENCH_PORT (8525;
the second server takes the next port), BENCH_WORKERS (the usable cores).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode
from uuid import uuid4

import asyncpg
import httpx
from _harness import ROOT, load
from tests.fixtures.servers import proveo_command, proveo_env, wait_for_port

from proveo.core.db import Database
from proveo.core.embedded_pg import EmbeddedPostgres
from proveo.demo.synthetic import COMMON_WORD
from proveo.insights import service as insights
from proveo.insights.recorder import InsightsRecorder

COMPANIES = int(os.environ.get("BENCH_COMPANIES", "3000"))
SEED = 1
SECONDS = float(os.environ.get("BENCH_SECONDS", "6"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "4"))
WARM_UP_SECONDS = float(os.environ.get("BENCH_WARM_UP_SECONDS", "2"))
CONNECTIONS = 16
PORT = int(os.environ.get("BENCH_PORT", "8525"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(len(os.sched_getaffinity(0)))))
CACHE_ROOT = ROOT / ".proveo-bench"
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
WRK_SCRIPT = f"""
wrk.headers["User-Agent"] = "{BROWSER}"
wrk.headers["Accept"] = "text/html,application/json"
local paths = {{}}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("bench %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def _data_key() -> str:
    digest = hashlib.sha256(f"{COMPANIES}:{SEED}".encode())
    sources = sorted((ROOT / "src/proveo/migrations/versions").glob("*.py"))
    for path in [*sources, ROOT / "src/proveo/demo/synthetic.py"]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def seeded_data_dir() -> tuple[Path, float | None]:
    data_dir = CACHE_ROOT / f"insights-{COMPANIES}-{_data_key()}"
    if (data_dir / "seeded").exists():
        return data_dir, None
    CACHE_ROOT.mkdir(exist_ok=True)
    for stale in CACHE_ROOT.glob("insights-*"):
        shutil.rmtree(stale, ignore_errors=True)
    env = proveo_env(data_dir, PORT, PROVEO_SEED_DEMO="false", PROVEO_LOG_FORMAT="json")
    started = time.monotonic()
    seeding = subprocess.run(
        proveo_command("seed", "--synthetic", str(COMPANIES), "--seed", str(SEED)),
        env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    if seeding.returncode != 0:
        shutil.rmtree(data_dir, ignore_errors=True)
        raise RuntimeError(f"seeding failed:\n{seeding.stderr[-3000:]}")
    (data_dir / "seeded").touch()
    return data_dir, time.monotonic() - started


@contextmanager
def serving(env: dict[str, str], port: int, log: Path) -> Iterator[None]:
    with open(log, "wb") as output:
        process = subprocess.Popen(
            proveo_command("serve"), env=env, stdin=subprocess.DEVNULL, stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                wait_for_port(port, timeout=1)
                break
            except TimeoutError:
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"proveo serve did not start:\n{tail}") from None
        yield
    finally:
        process.terminate()  # a clean stop: each worker flushes its recorder
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_wrk(base_url: str, paths: list[str], seconds: float, workdir: Path) -> Result:
    paths_file = workdir / "paths.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    script = workdir / "rotate.lua"
    script.write_text(WRK_SCRIPT)
    output = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
         "-s", str(script), base_url],
        env={**os.environ, "BENCH_PATHS": str(paths_file)},
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    line = next(line for line in output.splitlines() if line.startswith("bench "))
    requests, duration_us, p50, p95, p99, errors = (int(f) for f in line.split()[1:])
    return Result(requests, duration_us / 1e6, p50 / 1000, p95 / 1000, p99 / 1000, errors)


def run_httpx(base_url: str, paths: list[str], seconds: float) -> Result:
    counter = iter(range(10**12))

    async def get(client: httpx.AsyncClient) -> httpx.Response:
        path = paths[next(counter) % len(paths)]
        return await client.get(path, headers={"User-Agent": BROWSER})

    stats = asyncio.run(
        load("case", get, base_url=base_url, concurrency=CONNECTIONS, seconds=seconds)
    )
    return Result(
        len(stats.latencies_ms), stats.seconds, stats.quantile(0.5), stats.quantile(0.95),
        stats.quantile(0.99), stats.errors,
    )  # fmt: skip


def measure(base_url: str, paths: list[str], workdir: Path) -> Result:
    def run(seconds: float) -> Result:
        if shutil.which("wrk"):
            return run_wrk(base_url, paths, seconds, workdir)
        return run_httpx(base_url, paths, seconds)

    run(WARM_UP_SECONDS)
    return run(SECONDS)


def combined(rounds: list[Result]) -> Result:
    """Two rounds as one: requests and seconds added, percentiles averaged (each round's
    percentiles are all wrk reports)."""
    n = len(rounds)
    return Result(
        sum(r.requests for r in rounds), sum(r.seconds for r in rounds),
        sum(r.p50_ms for r in rounds) / n, sum(r.p95_ms for r in rounds) / n,
        sum(r.p99_ms for r in rounds) / n, sum(r.errors for r in rounds),
    )  # fmt: skip


async def company_paths(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        slugs = await conn.fetch(
            "SELECT slug FROM proveo.company WHERE deleted_at IS NULL ORDER BY id LIMIT 2000"
        )
    finally:
        await conn.close()
    paths = [
        f"/empresas/{row['slug']}" if n % 2 else f"/en/companies/{row['slug']}"
        for n, row in enumerate(slugs)
    ]
    random.Random(SEED).shuffle(paths)
    return paths


def search_paths() -> list[str]:
    words = [COMMON_WORD, "construccion", "aseo", "transporte", "software", "seguridad",
             "contabilidad", "abogados", "marketing", "electrica", "solar", "plagas"]  # fmt: skip
    queries = [
        urlencode({"q": word, "offset": offset, "limit": limit, "lang": lang})
        for word in words
        for offset in (0, 20, 40, 60, 80)
        for limit in (10, 20, 30, 40, 50, 60, 70)
        for lang in ("es", "en")
    ]
    random.Random(SEED).shuffle(queries)
    return [f"/api/v1/companies/search?{q}" for q in queries]


async def recorded(dsn: str) -> tuple[int, int]:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT coalesce(sum(views), 0)::bigint AS views,"
            " coalesce(sum(impressions), 0)::bigint AS impressions"
            " FROM proveo.company_daily_stat"
        )
        assert row is not None
        return int(row["views"]), int(row["impressions"])
    finally:
        await conn.close()


async def clear_recorded(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("TRUNCATE proveo.company_daily_stat")
    finally:
        await conn.close()


def in_process_cost(calls: int = 200_000) -> tuple[float, float]:
    """Microseconds to count one view and one page of 20 results (User-Agent check included),
    into a recorder that never flushes."""
    recorder = InsightsRecorder(Database("postgresql://unused"))
    companies = [uuid4() for _ in range(COMPANIES)]
    owner = uuid4()
    started = time.perf_counter()
    for n in range(calls):
        visitor = insights.Visitor(bot=insights.is_bot(BROWSER))
        insights.record_view(recorder, visitor, companies[n % COMPANIES], owner)
    per_view = (time.perf_counter() - started) / calls * 1e6
    pages = calls // 20
    started = time.perf_counter()
    for n in range(pages):
        first = (n * 20) % (COMPANIES - 20)
        insights.record_impressions(
            recorder, insights.Visitor(bot=insights.is_bot(BROWSER)), companies[first : first + 20]
        )
    per_page = (time.perf_counter() - started) / pages * 1e6
    return per_view, per_page


def print_table(
    cases: list[str],
    results: dict[tuple[str, str], Result],
    rounds: dict[tuple[str, str], list[Result]],
) -> None:
    print(
        f"\n{'case':<26}{'recording':<11}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}"
    )
    for case in cases:
        for mode in ("on", "off"):
            r = results[case, mode]
            print(
                f"{case if mode == 'on' else '':<26}{mode:<11}{r.rate:>8.0f}{r.p50_ms:>9.1f}"
                f"{r.p95_ms:>9.1f}{r.p99_ms:>9.1f}{r.errors:>8}"
            )
        on, off = results[case, "on"], results[case, "off"]
        print(
            f"{'':<26}{'on / off':<11}{on.rate / off.rate:>8.0%}{on.p50_ms / off.p50_ms:>9.0%}"
            f"{on.p95_ms / off.p95_ms:>9.0%}{on.p99_ms / off.p99_ms:>9.0%}"
        )
    print("\nreq/s of each round, in the order run:")
    for case in cases:
        for mode in ("on", "off"):
            rates = ", ".join(f"{r.rate:.0f}" for r in rounds[case, mode])
            print(f"  {case:<24}{mode:<5}{rates}")


def main() -> None:
    load_before = os.getloadavg()
    data_dir, seed_seconds = seeded_data_dir()
    print(
        f"{COMPANIES:,} synthetic companies (seed {SEED}): "
        + (f"seeded in {seed_seconds:.1f} s" if seed_seconds is not None else f"reused {data_dir}")
    )
    generator = "wrk" if shutil.which("wrk") else "httpx (wrk not installed; it saturates first)"
    print(
        f"load: {generator}, {CONNECTIONS} connections, browser User-Agent, {SECONDS:.0f} s per "
        f"round after {WARM_UP_SECONDS:.0f} s of warm-up, {ROUNDS} rounds per mode (on, off, "
        f"off, on, ...); {WORKERS} "
        "worker process(es) per server; load average before: "
        + ", ".join(f"{x:.2f}" for x in load_before)
    )
    common = dict(
        PROVEO_SEED_DEMO="false", PROVEO_LOG_FORMAT="json", PROVEO_LOG_LEVEL="INFO",
        PROVEO_RATE_LIMIT_ENABLED="false", PROVEO_MAX_IN_FLIGHT_PER_CLIENT="1000",
        PROVEO_WORKERS=str(WORKERS), PROVEO_SCHEDULER_ENABLED="false",
    )  # fmt: skip
    results: dict[tuple[str, str], Result] = {}
    all_rounds: dict[tuple[str, str], list[Result]] = {}
    database = EmbeddedPostgres(data_dir / "pg")
    database.start()
    try:
        dsn = database.dsn("proveo")
        asyncio.run(clear_recorded(dsn))
        cases = {"company page (HTML)": asyncio.run(company_paths(dsn)),
                 "search API": search_paths()}  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="proveo-bench-insights-") as tmp:
            workdir = Path(tmp)
            urls = {"on": f"http://127.0.0.1:{PORT}", "off": f"http://127.0.0.1:{PORT + 1}"}
            envs = {
                mode: proveo_env(
                    workdir / mode,
                    port,
                    PROVEO_INSIGHTS_ENABLED=str(mode == "on").lower(),
                    PROVEO_DATABASE_URL=dsn,
                    **common,
                )
                for mode, port in (("on", PORT), ("off", PORT + 1))
            }
            with (
                serving(envs["on"], PORT, workdir / "on.log"),
                serving(envs["off"], PORT + 1, workdir / "off.log"),
            ):
                order = [("on", "off", "off", "on")[n % 4] for n in range(2 * ROUNDS)]
                for case, paths in cases.items():
                    for mode in ("on", "off"):
                        all_rounds[case, mode] = []
                    for mode in order:
                        all_rounds[case, mode].append(measure(urls[mode], paths, workdir))
                    for mode in ("on", "off"):
                        results[case, mode] = combined(all_rounds[case, mode])
        # Both servers stopped cleanly: every buffer was flushed.
        print_table(list(cases), results, all_rounds)
        views, impressions = asyncio.run(recorded(dsn))
    finally:
        database.stop()
    served = results["company page (HTML)", "on"].requests
    print(
        f"\nrecorded while on: {views:,} views (measured rounds alone: {served:,} pages, plus "
        f"warm-up), {impressions:,} impressions (the off server has no recorder)"
    )
    per_view, per_page = in_process_cost()
    print(
        f"in-process cost of counting (timed alone): {per_view:.2f} µs a view, "
        f"{per_page:.2f} µs a page of 20 results"
    )
    print("load average after: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
