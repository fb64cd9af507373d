"""Search at directory scale: synthetic companies (100,000 or 1,000,000), real HTTP API.

    .venv/bin/python bench/search.py                              (100,000 companies)
    BENCH_COMPANIES=1000000 .venv/bin/python bench/search.py      (seeding takes a while)

1. Seeds `proveo seed --synthetic N --seed 1` into an embedded PostgreSQL under
   `.proveo-bench/`, kept between runs (keyed by the size and the generator's source; a kept
   directory is brought to the current schema by `proveo migrate`). Prints its size on disk.
2. For each configuration: the operator's on 2 cores (`PROVEO_WORKERS` = cores, Redis) and
   `make run`'s defaults (one worker, no Redis), serves Proveo (JSON access log at INFO, rate
   limits and the per-client cap off: one load generator is one client address) and, beside it
   on the same database, the bare Starlette + asyncpg app of `_search_bare_app.py` running the
   same repository functions with as many processes.
3. Loads each case in two shapes with wrk 4.1: steady (64 connections pausing a random
   exponential time before each request, offering about BENCH_RATE = 200 req/s, the bar:
   p95 <= 50 ms at 100,000 companies, <= 100 ms at 1,000,000) and flat out (32 connections,
   closed loop: Proveo's req/s against the bare app's, the bar: >= 70 %). Prints a Markdown
   table: achieved req/s, p50/p95/p99, errors, the share of the bare app, the verdict. Each
   case rotates through hundreds of distinct requests (pages, page sizes, languages, filters),
   so the API's 1 s page cache answers few of them; what they share is what a busy
   directory's share: a search's count, its corrected words and its filters' names (kept 1 s
   too). The bare app caches nothing: its figures are the SQL's alone. Each run starts once
   the database has finished what the previous one left queued.
4. Measures freshness: an owner edits, deletes and publishes through the API, and the bench
   times how long until search shows it.
5. Prints EXPLAIN (ANALYZE, BUFFERS) of the main queries, captured from the repository calls.

Settings through the environment: BENCH_COMPANIES (100000), BENCH_SEED_ONLY (seed, print the
size on disk and stop), BENCH_CONFIGS (operator,make-run), BENCH_SHAPES (steady,flat),
BENCH_RATE (200), BENCH_SECONDS (8 per case and shape), BENCH_WARM_UP_SECONDS (2), BENCH_PORT
(8515; the bare app takes the next port), BENCH_WORKERS (the operator's processes: the cores).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
from _harness import ROOT, load
from tests.fixtures.recording import RecordingConnection
from tests.fixtures.servers import proveo_command, proveo_env, running_redis, wait_for_port

from proveo.catalog.data import COMMUNES, PRODUCTS, REGIONS
from proveo.core.db import PLANNED_READ, SERVER_SETTINGS
from proveo.core.embedded_pg import EmbeddedPostgres
from proveo.demo.logo import generate_logo
from proveo.demo.synthetic import (
    COMMON_WORD,
    MISSPELT_COMMON_WORD,
    RARE_WORD,
    SYNTHETIC_PASSWORD,
    synthetic_company,
    synthetic_email,
)
from proveo.search import repository, service
from proveo.search.schemas import SearchParams

COMPANIES = int(os.environ.get("BENCH_COMPANIES", "100000"))
# Load shapes: a steady offered rate (the bars: p95 at about 200 req/s) and flat out.
STEADY_RATE = float(os.environ.get("BENCH_RATE", "200"))
STEADY_CONNECTIONS = 64
SHAPES = os.environ.get("BENCH_SHAPES", "steady,flat").split(",")
# Configurations: an operator's on 2 cores (2 workers, Redis) and `make run`'s defaults.
CONFIGS = os.environ.get("BENCH_CONFIGS", "operator,make-run").split(",")
# Only the cases whose name contains one of these (comma-separated), to measure one again.
CASES = [part for part in os.environ.get("BENCH_CASES", "").split(",") if part]
SEED = 1
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
WARM_UP_SECONDS = float(os.environ.get("BENCH_WARM_UP_SECONDS", "2"))
CONNECTIONS = 32
PORT = int(os.environ.get("BENCH_PORT", "8515"))
# The operator's configuration runs this many processes (both servers): one per core.
WORKERS = int(os.environ.get("BENCH_WORKERS", str(len(os.sched_getaffinity(0)))))
CACHE_ROOT = ROOT / ".proveo-bench"
BARE_APP = Path(__file__).resolve().parent / "_search_bare_app.py"
RESULT_CACHE_SECONDS = 1.0  # the API's search result cache (search/service.py)

# With BENCH_MEAN_DELAY_MS, each connection pauses a random exponential time before each request
# (mean = connections / target rate): the load is offered at a steady rate, as many independent
# visitors offer it, instead of a closed loop that measures the queue it keeps full.
WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local mean = tonumber(os.getenv("BENCH_MEAN_DELAY_MS") or "0")
if mean > 0 then
  delay = function() return math.floor(-mean * math.log(1 - math.random())) end
end
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
    rate: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int


@dataclass
class Case:
    name: str
    api: list[str]  # paths on Proveo
    bare: list[str] | None  # the same requests on the bare app, when it has them


def _data_key() -> str:
    """Seeded data stays valid while the generator stays the same; a newer schema is brought
    to it by `proveo migrate`, as an operator's directory would be."""
    digest = hashlib.sha256(f"{COMPANIES}:{SEED}".encode())
    digest.update((ROOT / "src/proveo/demo/synthetic.py").read_bytes())
    return digest.hexdigest()[:12]


def seeded_data_dir() -> tuple[Path, float | None]:
    """The data directory with the synthetic companies, and the seconds seeding took (None when
    an earlier run's data was reused, migrated to the current schema)."""
    name = f"search-{COMPANIES}-{_data_key()}"
    data_dir = CACHE_ROOT / name
    env = proveo_env(data_dir, PORT, PROVEO_SEED_DEMO="false", PROVEO_LOG_FORMAT="json")
    if (data_dir / "seeded").exists():
        _run(env, "migrate")
        return data_dir, None
    CACHE_ROOT.mkdir(exist_ok=True)
    for stale in CACHE_ROOT.glob(f"search-{COMPANIES}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    started = time.monotonic()
    _run(env, "seed", "--synthetic", str(COMPANIES), "--seed", str(SEED))
    seconds = time.monotonic() - started
    asyncio.run(_geography(data_dir))
    asyncio.run(_vacuum(data_dir))
    (data_dir / "seeded").touch()
    return data_dir, seconds


def _run(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        proveo_command(*args), env=env, check=False, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"proveo {' '.join(args)} failed:\n{done.stderr[-3000:]}")


def size_on_disk(data_dir: Path) -> str:
    """The database's files (tables, indexes, WAL) as `du` counts them."""
    total = sum(f.stat().st_size for f in (data_dir / "pg").rglob("*") if f.is_file())
    return f"{total / 1e9:.2f} GB"


# Geography and more categories, when the generator gives none: a tenth of the companies serve
# another region (one in twenty all of Chile), one in seven lists a second category and one in
# twenty-one a third. Through the tables the profile form writes, so the triggers index them.
SERVE_REGIONS = """
UPDATE proveo.company SET served_regions = CASE
    WHEN id % 20 = 0 THEN $1::text[]
    ELSE ARRAY[($1::text[])[1 + (id / 10) % 16]] END
WHERE id % 10 = 0
"""
ADD_CATEGORIES = """
INSERT INTO proveo.company_product (company_id, product_id)
SELECT c.id, p.id FROM proveo.company c
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM proveo.product) p
  ON p.n = (c.id * $1::int) % (SELECT count(*) FROM proveo.product)
WHERE c.id % $2::int = 0 AND p.id <> c.product_id
ON CONFLICT DO NOTHING
"""


async def _geography(data_dir: Path) -> None:
    server = EmbeddedPostgres(data_dir / "pg")
    server.start()
    try:
        conn = await asyncpg.connect(server.dsn("proveo"))
        try:
            given = await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM proveo.company WHERE served_regions <> '{}')"
                " OR EXISTS (SELECT 1 FROM proveo.company_product)"
            )
            if not given:
                await conn.execute(SERVE_REGIONS, list(REGIONS), timeout=1800)
                await conn.execute(ADD_CATEGORIES, 7, 7, timeout=1800)
                await conn.execute(ADD_CATEGORIES, 11, 21, timeout=1800)
        finally:
            await conn.close()
    finally:
        server.stop()


async def _vacuum(data_dir: Path) -> None:
    """As after a directory's first hours of autovacuum: the visibility map set (index-only
    scans skip the heap) and hint bits written. Without it the first run after seeding measured
    the clean-up instead (common word 84–93 req/s, against 541–596 on the next runs)."""
    server = EmbeddedPostgres(data_dir / "pg")
    server.start()
    try:
        conn = await asyncpg.connect(server.dsn("proveo"))
        try:
            await conn.execute("VACUUM (ANALYZE)", timeout=1800)
        finally:
            await conn.close()
    finally:
        server.stop()


@contextmanager
def serving(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[int]:
    with open(log, "wb") as output:
        process = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                wait_for_port(port, timeout=1)
                break
            except TimeoutError:
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{command} did not start:\n{tail}") from None
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _variants(rng: random.Random, base: dict[str, str], offsets: range) -> list[str]:
    """Distinct query strings around one case: pages, page sizes, both languages; within the
    first 1,000 results (past them, a 422 `page_too_deep`)."""
    items = [
        urlencode({**base, "offset": offset, "limit": limit, "lang": lang})
        for offset in offsets
        for limit in range(10, 31)
        if offset + limit <= service.MAX_RESULT_DEPTH
        for lang in ("es", "en")
    ]
    rng.shuffle(items)
    return items


def _names_without_accents(count: int) -> list[str]:
    """Synthetic companies' names that have accents, typed without them."""
    names: list[str] = []
    for index in range(1, COMPANIES, max(1, COMPANIES // (count * 4))):
        name = synthetic_company(SEED, index).name
        if any(ord(letter) > 127 for letter in name):
            names.append(service.normalise_query(name))
        if len(names) == count:
            break
    return names


def build_cases(rng: random.Random) -> list[Case]:
    shallow = range(0, 400, 20)
    communes = [name for name, _ in COMMUNES]
    products = [product.name_es for product in PRODUCTS]
    words = [COMMON_WORD, "construccion", "aseo", "transporte", "software", "seguridad",
             "contabilidad", "abogados", "marketing", "electrica", "solar", "plagas"]  # fmt: skip
    search_cases = {
        f"search: common word '{COMMON_WORD}' (~40 %)": _variants(rng, {"q": COMMON_WORD}, shallow),
        f"search: misspelt '{MISSPELT_COMMON_WORD}'": _variants(
            rng, {"q": MISSPELT_COMMON_WORD}, shallow
        ),
        f"search: rare word '{RARE_WORD}'": _variants(rng, {"q": RARE_WORD}, range(0, 100, 5)),
        "search: no query": _variants(rng, {}, shallow),
        "search: no query, commune + product": [
            urlencode({"commune": commune, "product": product, "lang": lang})
            for commune in communes[:60]
            for product in products[:10]
            for lang in ("es", "en")
        ],
        "search: common word, last pages (offset 900+)": _variants(
            rng, {"q": COMMON_WORD}, range(900, 981, 20)
        ),
        # Located in the region, then serving it: both scopes read on the pages past the first.
        "search: region filter, words or none": [
            urlencode({"region": region, "lang": lang, "offset": offset,
                       **({"q": word} if word else {})})
            for region in ("metropolitana", "valparaiso", "biobio", "los-lagos", "aysen")
            for word in (None, COMMON_WORD, "construccion", "contabilidad", "transporte")
            for offset in (0, 20, 100)
            for lang in ("es", "en")
        ],
        # A place among the words: Greater Santiago (34 communes), a region, a commune (few
        # results offer its region).
        "search: places in the query": [
            urlencode({"q": f"{word} {place}", "lang": lang, "offset": offset})
            for word in ("contador", "imprenta", "transporte", "abogados", "software", "aseo")
            for place in ("santiago", "gran santiago", "region metropolitana",
                          "region de valparaiso", "providencia", "temuco")
            for offset in (0, 20)
            for lang in ("es", "en")
        ],
        # A company's name typed without its accents (`ferreteria los rios`): the name tiers.
        "search: a company's name without accents": [
            urlencode({"q": name, "lang": lang})
            for name in _names_without_accents(300)
            for lang in ("es", "en")
        ],
        # An English product word, as an English-speaking buyer types it.
        "search: English product words": _variants(
            rng, {"q": "construction", "lang": "en"}, range(0, 100, 20)
        )[:200] + [
            urlencode({"q": word, "lang": "en", "offset": offset})
            for word in ("accounting", "cleaning", "transport", "security", "software",
                         "plumbing", "catering", "printing", "recruitment", "landscaping")
            for offset in (0, 20, 40)
        ],
        # Pages past a small region's own companies: those that serve it (served regions).
        "search: region pages of serving companies": [
            urlencode({"region": region, "lang": lang, "offset": offset,
                       **({"q": word} if word else {})})
            for region in ("aysen", "magallanes", "arica", "atacama", "nuble")
            for word in (None, "transporte", "construccion")
            for offset in range(0, 200, 20)
            for lang in ("es", "en")
        ],
        # A category alone, any of a company's three (the biggest ones among them).
        "search: category (any of three)": [
            urlencode({"product": product, "lang": lang, "offset": offset})
            for product in products[:20]
            for offset in (0, 20, 40, 200)
            for lang in ("es", "en")
        ],
        # A category any of whose three a company may list, with a commune: located, serving.
        "search: category (any of three) + commune": [
            urlencode({"product": product, "commune": commune, "lang": lang})
            for product in products[:12]
            for commune in communes[::12]
            for lang in ("es", "en")
        ],
    }  # fmt: skip
    cases = [
        Case(name, [f"/api/v1/companies/search?{q}" for q in queries],
             [f"/search?{q}" for q in queries])
        for name, queries in search_cases.items()
    ]  # fmt: skip
    facet_queries = [
        urlencode({"q": word, "lang": lang, **({"commune": commune} if commune else {})})
        for word in words for lang in ("es", "en") for commune in [None, *communes[:40]]
    ]  # fmt: skip
    rng.shuffle(facet_queries)
    cases.append(
        Case(
            "facets: common and category words",
            [f"/api/v1/companies/search/facets?{q}" for q in facet_queries],
            [f"/facets?{q}" for q in facet_queries],
        )
    )
    region_facets = [
        urlencode({"q": word, "lang": lang, "region": region})
        for word in words for lang in ("es", "en")
        for region in ("metropolitana", "valparaiso", "biobio", "araucania", "los-lagos")
    ]  # fmt: skip
    rng.shuffle(region_facets)
    cases.append(
        Case(
            "facets: words + region",
            [f"/api/v1/companies/search/facets?{q}" for q in region_facets],
            [f"/facets?{q}" for q in region_facets],
        )
    )
    prefixes = sorted(
        {
            name.lower()[:length]
            for name in [*communes, *products, "servicios", "constructora", "transportes"]
            for length in (3, 4, 5, 6)
            if len(name) > length
        }
    )
    suggest_queries = [urlencode({"q": p, "lang": lang}) for p in prefixes for lang in ("es", "en")]
    rng.shuffle(suggest_queries)
    cases.append(
        Case(
            "suggest: prefixes",
            [f"/api/v1/companies/search/suggest?{q}" for q in suggest_queries],
            [f"/suggest?{q}" for q in suggest_queries],
        )
    )
    details = [
        f"/api/v1/companies/{synthetic_company(SEED, index).uuid}"
        for index in rng.sample(range(1, COMPANIES), min(3000, COMPANIES - 1))
    ]
    cases.append(Case("company detail", details, None))
    return cases


def run_wrk(base_url: str, paths: list[str], seconds: float, workdir: Path, shape: str) -> Result:
    paths_file = workdir / "paths.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    script = workdir / "rotate.lua"
    script.write_text(WRK_SCRIPT)
    steady = shape == "steady"
    connections = STEADY_CONNECTIONS if steady else CONNECTIONS
    mean_delay_ms = connections / STEADY_RATE * 1000 if steady else 0
    output = subprocess.run(
        # A slow answer is measured, not dropped: wrk's default 2 s timeout counts it as an error.
        ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
         "-s", str(script), base_url],
        env={**os.environ, "BENCH_PATHS": str(paths_file),
             "BENCH_MEAN_DELAY_MS": f"{mean_delay_ms:.1f}"},
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    line = next(line for line in output.splitlines() if line.startswith("bench "))
    requests, duration_us, p50, p95, p99, errors = (int(f) for f in line.split()[1:])
    return Result(requests / (duration_us / 1e6), p50 / 1000, p95 / 1000, p99 / 1000, errors)


def run_httpx(base_url: str, paths: list[str], seconds: float) -> Result:
    counter = iter(range(10**12))

    async def get(client: httpx.AsyncClient) -> httpx.Response:
        return await client.get(paths[next(counter) % len(paths)])

    stats = asyncio.run(
        load("case", get, base_url=base_url, concurrency=CONNECTIONS, seconds=seconds)
    )
    return Result(
        stats.rate, stats.quantile(0.5), stats.quantile(0.95), stats.quantile(0.99), stats.errors
    )


# Statements a run left queued are still running when wrk stops (a request waits up to 5 s for
# a connection, `PROVEO_DB_CONNECT_TIMEOUT`, then runs): at 1,000,000 companies they took the
# cores from the next case's first seconds.
IDLE_POLL = """
SELECT count(*) FROM pg_stat_activity
WHERE state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'
"""


async def wait_for_idle_database(dsn: str, seconds: float = 30) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for _ in range(int(seconds * 10)):
            if not await conn.fetchval(IDLE_POLL):
                return
            await asyncio.sleep(0.1)  # polling another process's state: no event to wait on
    finally:
        await conn.close()


def measure(base_url: str, paths: list[str], workdir: Path, shape: str, dsn: str) -> Result:
    def run(seconds: float) -> Result:
        if shutil.which("wrk"):
            return run_wrk(base_url, paths, seconds, workdir, shape)
        if shape == "steady":
            raise RuntimeError("a steady offered rate needs wrk (apt install wrk)")
        return run_httpx(base_url, paths, seconds)

    asyncio.run(wait_for_idle_database(dsn))
    run(WARM_UP_SECONDS)
    return run(SECONDS)


async def explain_main_queries(dsn: str) -> None:
    conn = await asyncpg.connect(dsn, server_settings=SERVER_SETTINGS)  # as the API's pools
    await conn.execute("SET search_path TO proveo, public")
    santiago = await service.resolve_commune(conn, "Santiago")
    construction = await service.resolve_product(conn, "Construcción")
    nothing = service.SearchCaches.create(ttl=0)

    async def resolved(
        q: str | None = None, commune: str | None = None, region: str | None = None
    ) -> SearchParams:
        request = service.SearchRequest(q, commune, None, "es", region=region)
        return (await service.resolve_request(conn, nothing, request)).params

    in_region = await resolved("construccion", region="metropolitana")
    greater_santiago = await resolved("contador santiago")
    commune_served = await resolved(commune="Providencia")
    cases: list[tuple[str, Any]] = [
        (f"search q={COMMON_WORD}", lambda c: repository.search(c, SearchParams(q=COMMON_WORD))),
        (
            f"search q={MISSPELT_COMMON_WORD}",
            lambda c: repository.search(c, SearchParams(q=MISSPELT_COMMON_WORD)),
        ),
        (
            "search no query, commune + product",
            lambda c: repository.search(c, SearchParams(commune=santiago, product=construction)),
        ),
        (
            f"search q={COMMON_WORD} offset=980",
            lambda c: repository.search(c, SearchParams(q=COMMON_WORD, offset=980)),
        ),
        (
            "search q=construccion region=metropolitana (located, then serving)",
            lambda c: repository.search(c, in_region.model_copy(update={"offset": 60})),
        ),
        (
            "search q='contador santiago' (Greater Santiago)",
            lambda c: repository.search(c, greater_santiago),
        ),
        (
            "search commune=Providencia, page 2",
            lambda c: repository.search(c, commune_served.model_copy(update={"offset": 20})),
        ),
        (f"facets q={COMMON_WORD}", lambda c: repository.facets(c, SearchParams(q=COMMON_WORD))),
        ("facets q=construccion region=metropolitana", lambda c: repository.facets(c, in_region)),
        ("suggest q=constr", lambda c: repository.suggest(c, "constr", "es")),
    ]
    try:
        for title, call in cases:
            recorder = RecordingConnection(conn)
            async with conn.transaction(readonly=True):
                await conn.execute(PLANNED_READ)
                await call(recorder)
            print(f"\n--- EXPLAIN ANALYZE: {title} ({len(recorder.statements)} statements)")
            async with conn.transaction(readonly=True):
                await conn.execute(PLANNED_READ)
                for sql, args in recorder.statements:
                    if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                        await conn.execute(sql, *args)  # SET LOCAL ...: the plan depends on it
                        print(f"[{sql.strip()}]")
                        continue
                    rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)
                    print("\n".join(row[0] for row in rows))
                    print()
    finally:
        await conn.close()


async def _visible(client: httpx.AsyncClient, word: str, *, expected: bool, since: float) -> float:
    """Milliseconds from `since` until a search for `word` finds a company (or none)."""
    while time.perf_counter() - since < 30:
        response = await client.get("/api/v1/companies/search", params={"q": word})
        if (int(response.headers["X-Total-Count"]) > 0) == expected:
            return (time.perf_counter() - since) * 1000
        await asyncio.sleep(0.02)
    return float("inf")


async def freshness(base_url: str, rounds: int = 3) -> dict[str, list[float]]:
    """An owner edits, deletes and publishes; how long until search agrees (ms)."""
    owner = synthetic_email(COMPANIES)
    results: dict[str, list[float]] = {"edit": [], "delete": [], "publish": []}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        login = await client.post(
            "/api/v1/users/login", json={"email": owner, "password": SYNTHETIC_PASSWORD}
        )
        login.raise_for_status()
        headers = {"X-CSRF-Token": login.json()["csrf_token"]}
        mine = await client.get("/api/v1/companies/user/my-company")
        for _ in range(rounds):
            word = "frescura" + "".join(random.choice("bcdfghjklmnpqrstvwxz") for _ in range(8))
            if mine.status_code == 404:  # a previous round (or run) left no company
                mine = await _publish(client, headers, f"Proveedora {word}")
            else:
                patched = await client.patch(
                    "/api/v1/companies/user/my-company",
                    data={"name": f"Proveedora {word}"}, headers=headers,
                )  # fmt: skip
                patched.raise_for_status()
                started = time.perf_counter()
                results["edit"].append(await _visible(client, word, expected=True, since=started))
            deleted = await client.delete("/api/v1/companies/user/my-company", headers=headers)
            deleted.raise_for_status()
            started = time.perf_counter()
            results["delete"].append(await _visible(client, word, expected=False, since=started))
            word += "nuevo"
            mine = await _publish(client, headers, f"Proveedora {word}")
            started = time.perf_counter()
            results["publish"].append(await _visible(client, word, expected=True, since=started))
    return results


async def _publish(client: httpx.AsyncClient, headers: dict[str, str], name: str) -> httpx.Response:
    response = await client.post(
        "/api/v1/companies",
        data={
            "name": name, "product_name": "Auditoría", "commune_name": "Santiago",
            "address": "Calle Prat 100, Santiago", "phone": "+56982314576",
            "email": "contacto@frescura.cl", "description_es": "Auditoría de prueba.",
            "lang": "es",
        },
        files={"image": ("logo.png", generate_logo(name), "image/png")},
        headers=headers,
    )  # fmt: skip
    if response.status_code != 201:
        raise RuntimeError(f"publishing failed: {response.status_code} {response.text}")
    return response


# The product's quality bars: p95 at the steady rate, and flat out a share of the bare app.
P95_BAR_MS = 50.0 if COMPANIES <= 100_000 else 100.0
BARE_SHARE_BAR = 0.70

Key = tuple[str, str, str, str]  # case, configuration, shape, server


TABLE_HEAD = (
    "| case | config | load | server | req/s | p50 ms | p95 ms | p99 ms | errors | vs bare | bar |"
    f"\n|{'---|' * 11}"
)


def table_rows(case: Case, config: str, results: dict[Key, Result]) -> list[str]:
    rows = []
    for shape in SHAPES:
        for server in ("proveo", "bare"):
            result = results.get((case.name, config, shape, server))
            if result is None:
                continue
            bare = results.get((case.name, config, shape, "bare"))
            ratio, verdict = "", ""
            if server == "proveo" and shape == "steady":
                verdict = "ok" if result.p95_ms <= P95_BAR_MS else "**over**"
            if server == "proveo" and shape == "flat" and bare is not None:
                if bare.rate > 0:
                    share = result.rate / bare.rate
                    ratio = f"{share:.0%}"
                    verdict = "ok" if share >= BARE_SHARE_BAR else "**under**"
                else:
                    ratio = "bare: none"
            rows.append(
                f"| {case.name} | {config} | {shape} | {server} | {result.rate:.0f} | "
                f"{result.p50_ms:.1f} | {result.p95_ms:.1f} | {result.p99_ms:.1f} | "
                f"{result.errors} | {ratio} | {verdict} |"
            )
    return rows


def _steady_cell(result: Result | None) -> str:
    if result is None:
        return "—"
    p95 = f"{result.p95_ms:,.0f} ms"
    errors = f", {result.errors} errors" if result.errors else ""
    over = result.p95_ms > P95_BAR_MS
    return f"{'**' if over else ''}{p95}{'**' if over else ''} ({result.rate:.0f}/s{errors})"


def _flat_cells(result: Result | None, bare: Result | None) -> tuple[str, str]:
    if result is None:
        return "—", "—"
    rate = f"{result.rate:.0f}" + (f" ({bare.rate:.0f})" if bare is not None else "")
    if bare is None:
        return rate, "—"
    if bare.rate <= 0:
        return rate, "bare: none"
    share = result.rate / bare.rate
    under = share < BARE_SHARE_BAR
    return rate, f"{'**' if under else ''}{share:.0%}{'**' if under else ''}"


def summary_rows(cases: list[Case], results: dict[Key, Result]) -> list[str]:
    """One row per case, both configurations side by side: the table the documentation
    shows (bold: over the p95 bar, or under the share of the bare app)."""
    head = ["| Case |"]
    for config in CONFIGS:
        head.append(f" steady p95, {config} | flat req/s, {config} (bare) | share of bare |")
    rows = ["".join(head), "|---|" + "---|---|---|" * len(CONFIGS)]
    for case in cases:
        cells = [f"| {case.name} |"]
        for config in CONFIGS:
            steady = _steady_cell(results.get((case.name, config, "steady", "proveo")))
            flat, share = _flat_cells(
                results.get((case.name, config, "flat", "proveo")),
                results.get((case.name, config, "flat", "bare")),
            )
            cells.append(f" {steady} | {flat} | {share} |")
        rows.append("".join(cells))
    return rows


def print_table(cases: list[Case], results: dict[Key, Result]) -> None:
    print("\n" + TABLE_HEAD)
    for case in cases:
        for config in CONFIGS:
            for row in table_rows(case, config, results):
                print(row)
    print("\nSummary (the documentation's table):\n")
    print("\n".join(summary_rows(cases, results)))


@contextmanager
def configuration(name: str, data_dir: Path, workdir: Path) -> Iterator[tuple[dict[str, str], int]]:
    """`proveo serve`'s environment for a configuration, and the processes per server: the
    operator's (one worker per core, Redis for the shared cache and limits) or `make run`'s
    defaults (one worker, no Redis). Rate limits and the per-client cap are off in both: one
    load generator is one client address."""
    base = dict(
        PROVEO_SEED_DEMO="false", PROVEO_LOG_FORMAT="json", PROVEO_LOG_LEVEL="INFO",
        PROVEO_RATE_LIMIT_ENABLED="false", PROVEO_MAX_IN_FLIGHT_PER_CLIENT="1000",
    )  # fmt: skip
    if name == "make-run":
        yield proveo_env(data_dir, PORT, **base, PROVEO_WORKERS="1"), 1
        return
    with running_redis(workdir / "redis") as redis:
        env = proveo_env(
            data_dir, PORT, **base, PROVEO_WORKERS=str(WORKERS), PROVEO_REDIS_URL=redis.url
        )
        yield env, WORKERS


def measure_configuration(
    config: str, cases: list[Case], data_dir: Path, workdir: Path, results: dict[Key, Result]
) -> dict[str, list[float]]:
    """Every case in every load shape on `config`; then freshness, and the plans."""
    api = f"http://127.0.0.1:{PORT}"
    bare = f"http://127.0.0.1:{PORT + 1}"
    dsn = EmbeddedPostgres(data_dir / "pg").dsn("proveo")
    with (
        configuration(config, data_dir, workdir) as (env, workers),
        serving(proveo_command("serve"), env, PORT, workdir / f"serve-{config}.log"),
        # The bare app shares the database that `proveo serve` started.
        serving(
            [sys.executable, str(BARE_APP), str(PORT + 1), dsn, str(workers)],
            dict(os.environ), PORT + 1, workdir / "bare.log",
        ),
    ):  # fmt: skip
        for case in cases:
            for shape in SHAPES:
                key = (case.name, config, shape)
                results[(*key, "proveo")] = measure(api, case.api, workdir, shape, dsn)
                if case.bare is not None and shape == "flat":
                    results[(*key, "bare")] = measure(bare, case.bare, workdir, shape, dsn)
            rate = results[case.name, config, "flat", "proveo"].rate if "flat" in SHAPES else 0
            if rate * RESULT_CACHE_SECONDS > len(case.api):
                print(f"note: '{case.name}' repeats requests within the result cache")
            # As it goes: a run cut short keeps what it measured.
            print("\n".join(table_rows(case, config, results)), flush=True)
        fresh = asyncio.run(freshness(api))
        if config == CONFIGS[-1]:
            asyncio.run(explain_main_queries(dsn))
    return fresh


def main() -> None:
    load_before = os.getloadavg()
    data_dir, seed_seconds = seeded_data_dir()
    print(
        f"{COMPANIES:,} synthetic companies (seed {SEED}): "
        + (f"seeded in {seed_seconds:.1f} s" if seed_seconds is not None else f"reused {data_dir}")
        + f", {size_on_disk(data_dir)} on disk"
    )
    if os.environ.get("BENCH_SEED_ONLY"):
        return
    generator = "wrk" if shutil.which("wrk") else "httpx (wrk not installed; it saturates first)"
    print(
        f"load: {generator}; steady: {STEADY_CONNECTIONS} connections offering about "
        f"{STEADY_RATE:.0f} req/s (exponential pauses); flat out: {CONNECTIONS} connections; "
        f"{SECONDS:.0f} s per case after {WARM_UP_SECONDS:.0f} s of warm-up; configurations: "
        f"{', '.join(CONFIGS)}; load average before: " + ", ".join(f"{x:.2f}" for x in load_before)
    )
    rng = random.Random(SEED)
    cases = [
        case for case in build_cases(rng) if not CASES or any(part in case.name for part in CASES)
    ]
    results: dict[Key, Result] = {}
    with tempfile.TemporaryDirectory(prefix="proveo-bench-search-") as tmp:
        workdir = Path(tmp)
        fresh: dict[str, list[float]] = {}
        for config in CONFIGS:
            fresh = measure_configuration(config, cases, data_dir, workdir, results)
    print_table(cases, results)
    print("\nfreshness (write answered -> search agrees), ms: " + "; ".join(
        f"{kind} max {max(values):.0f} ({', '.join(f'{v:.0f}' for v in values)})"
        for kind, values in fresh.items() if values
    ))  # fmt: skip
    print("load average after: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
