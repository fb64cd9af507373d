from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import structlog
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from proveo.core import ratelimit
from proveo.core.errors import TooManyRequests
from proveo.core.ratelimit import (
    LocalSlidingWindow,
    RateLimiter,
    RateLimitMiddleware,
    RateLimitResult,
    enforce,
)
from tests.fixtures.servers import RedisServer


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[Redis]:
    # The same options the app's cache client uses (short socket timeouts, default retries).
    client = Redis.from_url(redis_server.url, socket_connect_timeout=0.5, socket_timeout=0.5)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture(params=["redis", "in_process"])
def limiter(request: pytest.FixtureRequest) -> RateLimiter:
    if request.param == "redis":
        client: Redis = request.getfixturevalue("redis_client")
        return RateLimiter(client)
    return RateLimiter(None)


class TestSlidingWindow:
    async def test_allows_up_to_the_limit_then_refuses(self, limiter: RateLimiter) -> None:
        results = [await limiter.hit("k", limit=3, window=10) for _ in range(4)]
        assert [r.allowed for r in results] == [True, True, True, False]
        assert [r.remaining for r in results] == [2, 1, 0, 0]
        assert [r.retry_after for r in results[:3]] == [0, 0, 0]
        assert results[3] == RateLimitResult(allowed=False, limit=3, remaining=0, retry_after=10)

    async def test_retry_after_is_at_least_one_second(self, limiter: RateLimiter) -> None:
        await limiter.hit("k", limit=1, window=0.2)
        refused = await limiter.hit("k", limit=1, window=0.2)
        assert not refused.allowed
        assert refused.retry_after == 1

    async def test_only_expired_hits_free_capacity(self, limiter: RateLimiter) -> None:
        # t=0 and t=0.25 are counted; at t=0.5 the first has aged out of the 0.4 s window, the
        # second has not: exactly one hit is free (a fixed window would free both or none).
        assert (await limiter.hit("k", limit=2, window=0.4)).allowed
        await asyncio.sleep(0.25)
        assert (await limiter.hit("k", limit=2, window=0.4)).allowed
        assert not (await limiter.hit("k", limit=2, window=0.4)).allowed
        await asyncio.sleep(0.25)
        freed = await limiter.hit("k", limit=2, window=0.4)
        assert freed.allowed
        assert freed.remaining == 0
        assert not (await limiter.hit("k", limit=2, window=0.4)).allowed

    async def test_keys_are_independent(self, limiter: RateLimiter) -> None:
        assert (await limiter.hit("a", limit=1, window=10)).allowed
        assert not (await limiter.hit("a", limit=1, window=10)).allowed
        assert (await limiter.hit("b", limit=1, window=10)).allowed

    async def test_reset_clears_the_key(self, limiter: RateLimiter) -> None:
        for _ in range(2):
            await limiter.hit("k", limit=2, window=10)
        assert not (await limiter.hit("k", limit=2, window=10)).allowed
        await limiter.reset("k")
        assert (await limiter.hit("k", limit=2, window=10)).remaining == 1

    async def test_rejects_meaningless_limits(self, limiter: RateLimiter) -> None:
        with pytest.raises(ValueError, match="limit"):
            await limiter.hit("k", limit=0, window=10)


class TestRedisBackend:
    async def test_hits_live_in_redis_with_an_expiry(self, redis_client: Redis) -> None:
        limiter = RateLimiter(redis_client)
        await limiter.hit("k", limit=5, window=30)
        await limiter.hit("k", limit=5, window=30)
        assert await redis_client.zcard("proveo:rl:k") == 2
        assert 0 < await redis_client.pttl("proveo:rl:k") <= 30_000
        await limiter.reset("k")
        assert await redis_client.exists("proveo:rl:k") == 0

    async def test_instances_share_one_window(self, redis_client: Redis) -> None:
        first, second = RateLimiter(redis_client), RateLimiter(redis_client)
        results = await asyncio.gather(
            *(limiter.hit("k", limit=5, window=10) for limiter in [first, second] * 5)
        )
        assert sum(r.allowed for r in results) == 5

    async def test_falls_back_during_an_outage_and_recovers(
        self,
        redis_client: Redis,
        redis_server: RedisServer,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        limiter = RateLimiter(redis_client, skip_after_error=0.2)
        assert (await limiter.hit("k", limit=3, window=10)).allowed
        assert await redis_client.exists("proveo:rl:k") == 1
        with structlog.testing.capture_logs() as logs:
            monkeypatch.setattr(ratelimit, "log", structlog.get_logger("ratelimit-test"))
            redis_server.stop()
            try:
                results = []
                for _ in range(4):
                    started = time.monotonic()
                    results.append(await limiter.hit("outage", limit=3, window=10))
                    assert time.monotonic() - started < 0.8
                assert [r.allowed for r in results] == [True, True, True, False]
                assert results[3].retry_after >= 1
                await asyncio.sleep(0.25)  # past the skip period, Redis still down
                started = time.monotonic()
                assert not (await limiter.hit("outage", limit=3, window=10)).allowed
                assert time.monotonic() - started < 0.8
            finally:
                redis_server.start()
            await asyncio.sleep(0.25)
            assert (await limiter.hit("after", limit=3, window=10)).allowed
        assert await redis_client.exists("proveo:rl:after") == 1
        events = [entry["event"] for entry in logs]
        assert events.count("redis_unavailable_using_in_process_rate_limits") == 1
        assert events.count("redis_recovered_for_rate_limits") == 1


class TestLocalSlidingWindow:
    def test_memory_stays_bounded(self) -> None:
        window = LocalSlidingWindow(max_keys=10)
        for n in range(50):
            window.hit(f"k{n}", limit=5, window=60)
        assert len(window) <= 10

    def test_expired_keys_go_before_live_ones(self) -> None:
        window = LocalSlidingWindow(max_keys=10)
        window.hit("live", limit=1, window=60)
        for n in range(9):
            window.hit(f"short{n}", limit=1, window=0.01)
        time.sleep(0.02)
        window.hit("trigger", limit=1, window=60)  # the 11th key: sweeps the expired ones
        assert len(window) == 2
        assert not window.hit("live", limit=1, window=60).allowed


class TestEnforce:
    async def test_raises_429_with_retry_after(self) -> None:
        limiter = RateLimiter(None)
        await enforce(limiter, "login", limit=1, window=30)
        with pytest.raises(TooManyRequests) as caught:
            await enforce(limiter, "login", limit=1, window=30)
        assert caught.value.status_code == 429
        assert caught.value.code == "rate_limited"
        assert caught.value.headers == {"Retry-After": "30"}


async def _ok(_: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def _limited_app(limiter: RateLimiter, *, per_ip_limit: int, global_limit: int) -> Starlette:
    app = Starlette(routes=[Route("/api/v1/things", _ok), Route("/api/v1/health/", _ok)])
    app.add_middleware(
        RateLimitMiddleware,
        limiter=limiter,
        per_ip_limit=per_ip_limit,
        global_limit=global_limit,
    )
    return app


async def _get(app: Starlette, ip: str, path: str = "/api/v1/things") -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(ip, 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://proveo.test") as http:
        return await http.get(path)


class TestRateLimitMiddleware:
    async def test_per_ip_limit_refuses_only_that_ip(self, redis_client: Redis) -> None:
        app = _limited_app(RateLimiter(redis_client), per_ip_limit=3, global_limit=100)
        statuses = [(await _get(app, "127.0.0.2")).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        refused = await _get(app, "127.0.0.2")
        assert refused.status_code == 429
        assert refused.json() == {"detail": "Too many requests, slow down", "code": "rate_limited"}
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert (await _get(app, "127.0.0.3")).status_code == 200

    async def test_global_limit_applies_across_ips(self, redis_client: Redis) -> None:
        app = _limited_app(RateLimiter(redis_client), per_ip_limit=100, global_limit=4)
        for ip in ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]:
            assert (await _get(app, ip)).status_code == 200
        refused = await _get(app, "10.0.0.5")
        assert refused.status_code == 429
        assert refused.json()["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1

    async def test_exempt_prefix_is_never_limited(self, redis_client: Redis) -> None:
        app = _limited_app(RateLimiter(redis_client), per_ip_limit=1, global_limit=1)
        assert (await _get(app, "127.0.0.2")).status_code == 200
        assert (await _get(app, "127.0.0.2")).status_code == 429
        for _ in range(5):
            assert (await _get(app, "127.0.0.2", "/api/v1/health/")).status_code == 200
