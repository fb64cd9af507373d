"""Logins with bcrypt cost 12 on this machine, and what they do to other requests' latency.

    .venv/bin/python bench/login_load.py

Phases (same server, same process): probe requests alone (baseline), logins alone, then
logins and probes together. The probe is GET /api/v1/communes/ (cached list, 346 rows) and
GET /api/v1/health/; their p95 under login load is reported as a ratio to the baseline.
The load generator runs on the same 2 cores as the server, which it slows a little.
"""

from __future__ import annotations

import asyncio
import itertools

import httpx
from _harness import Stats, load, running_proveo

SECONDS = 8.0
LOGIN_CONCURRENCY = 8
PROBE_CONCURRENCY = 4

_users = itertools.cycle(range(1, 17))


async def login(client: httpx.AsyncClient) -> httpx.Response:
    client.cookies.clear()
    number = next(_users)
    return await client.post(
        "/api/v1/users/login",
        json={"email": f"testuser{number:02d}@proveo.com", "password": "TestPass123!"},
    )


async def probe(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get("/api/v1/communes/")


async def health(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get("/api/v1/health/")


async def main() -> None:
    env = {
        "PROVEO_BCRYPT_ROUNDS": "12",
        "PROVEO_RATE_LIMIT_ENABLED": "false",
        "PROVEO_MAX_IN_FLIGHT_PER_CLIENT": "1000",  # one load generator is one client address
        "PROVEO_LOGIN_ATTEMPTS_PER_IP_PER_MINUTE": "1000000",
        "PROVEO_LOGIN_FAILURES_PER_ACCOUNT": "1000000",
    }
    with running_proveo(env) as base_url:
        await load("warm-up", probe, base_url=base_url, concurrency=2, seconds=1)
        baseline, health_alone = await asyncio.gather(
            load("communes alone", probe, base_url=base_url,
                 concurrency=PROBE_CONCURRENCY, seconds=SECONDS),
            load("health alone", health, base_url=base_url,
                 concurrency=PROBE_CONCURRENCY, seconds=SECONDS),
        )  # fmt: skip
        logins = await load(
            "logins alone (bcrypt 12)", login, base_url=base_url,
            concurrency=LOGIN_CONCURRENCY, seconds=SECONDS,
        )  # fmt: skip
        mixed: list[Stats] = list(
            await asyncio.gather(
                load("logins under mixed load", login, base_url=base_url,
                     concurrency=LOGIN_CONCURRENCY, seconds=SECONDS),
                load("communes during logins", probe, base_url=base_url,
                     concurrency=PROBE_CONCURRENCY, seconds=SECONDS),
                load("health during logins", health, base_url=base_url,
                     concurrency=PROBE_CONCURRENCY, seconds=SECONDS),
            )
        )  # fmt: skip
    for stats in (baseline, health_alone, logins, *mixed):
        print(stats.line())
    for during, alone in ((mixed[1], baseline), (mixed[2], health_alone)):
        ratio = during.quantile(0.95) / alone.quantile(0.95)
        print(f"p95 ratio {during.name} / {alone.name}: {ratio:.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
