from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable

import httpx
import pytest
import structlog
from fastapi import FastAPI
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from proveo.app import create_app
from proveo.config import Settings
from proveo.core import ratelimit
from proveo.core.cache import Cache
from proveo.core.db import Connection
from proveo.core.errors import TooManyRequests
from proveo.core.ratelimit import (
    LimitKind,
    LocalSlidingWindow,
    RateLimiter,
    RateLimitMiddleware,
    RateLimitResult,
    RateLimitsFull,
    enforce,
)
from proveo.integrations.storage import LocalImageStorage
from tests.factories import DEFAULT_PASSWORD, create_user
from tests.fixtures.database import PinnedDatabase
from tests.fixtures.servers import RedisServer


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[Redis]:
    """The client the app's limiter gets: the cache's, with its timeouts and retries."""
    cache = Cache.from_url(redis_server.url)
    assert cache.client is not None
    await cache.client.flushdb()
    yield cache.client
    await cache.close()


@pytest.fixture(params=["redis", "in_process"])
def limiter(request: pytest.FixtureRequest) -> RateLimiter:
    if request.param == "redis":
        client: Redis = request.getfixturevalue("redis_client")
        return RateLimiter(client)
    return RateLimiter(None)


class TestSlidingWindow:
    async def test_allows_up_to_the_limit_then_refuses(self, limiter: RateLimiter) -> None:
        results = [
            await limiter.hit("k", limit=3, window=10, kind=LimitKind.ACCOUNTS) for _ in range(4)
        ]
        assert [r.allowed for r in results] == [True, True, True, False]
        assert [r.remaining for r in results] == [2, 1, 0, 0]
        assert [r.retry_after for r in results[:3]] == [0, 0, 0]
        assert results[3] == RateLimitResult(allowed=False, limit=3, remaining=0, retry_after=10)

    async def test_retry_after_is_at_least_one_second(self, limiter: RateLimiter) -> None:
        await limiter.hit("k", limit=1, window=0.2, kind=LimitKind.ACCOUNTS)
        refused = await limiter.hit("k", limit=1, window=0.2, kind=LimitKind.ACCOUNTS)
        assert not refused.allowed
        assert refused.retry_after == 1

    async def test_only_expired_hits_free_capacity(self, limiter: RateLimiter) -> None:
        # t=0 and t=1.25 are counted; at t=2.5 the first has aged out of the 2 s window, the
        # second has not: exactly one hit is free (a fixed window would free both or none). The
        # margins (0.75 s each way) hold on a loaded machine, where a 0.25 s sleep can take 0.5.
        def hit() -> Awaitable[RateLimitResult]:
            return limiter.hit("k", limit=2, window=2.0, kind=LimitKind.ACCOUNTS)

        assert (await hit()).allowed
        await asyncio.sleep(1.25)
        assert (await hit()).allowed
        assert not (await hit()).allowed
        await asyncio.sleep(1.25)
        freed = await hit()
        assert freed.allowed
        assert freed.remaining == 0
        assert not (await hit()).allowed

    async def test_keys_are_independent(self, limiter: RateLimiter) -> None:
        assert (await limiter.hit("a", limit=1, window=10, kind=LimitKind.ACCOUNTS)).allowed
        assert not (await limiter.hit("a", limit=1, window=10, kind=LimitKind.ACCOUNTS)).allowed
        assert (await limiter.hit("b", limit=1, window=10, kind=LimitKind.ACCOUNTS)).allowed

    async def test_reset_clears_the_key(self, limiter: RateLimiter) -> None:
        for _ in range(2):
            await limiter.hit("k", limit=2, window=10, kind=LimitKind.ACCOUNTS)
        assert not (await limiter.hit("k", limit=2, window=10, kind=LimitKind.ACCOUNTS)).allowed
        await limiter.reset("k")
        assert (await limiter.hit("k", limit=2, window=10, kind=LimitKind.ACCOUNTS)).remaining == 1

    async def test_rejects_meaningless_limits(self, limiter: RateLimiter) -> None:
        with pytest.raises(ValueError, match="limit"):
            await limiter.hit("k", limit=0, window=10, kind=LimitKind.ACCOUNTS)


class TestRedisBackend:
    async def test_hits_live_in_redis_with_an_expiry(self, redis_client: Redis) -> None:
        limiter = RateLimiter(redis_client)
        await limiter.hit("k", limit=5, window=30, kind=LimitKind.ACCOUNTS)
        await limiter.hit("k", limit=5, window=30, kind=LimitKind.ACCOUNTS)
        assert await redis_client.zcard("proveo:rl:k") == 2
        assert 0 < await redis_client.pttl("proveo:rl:k") <= 30_000
        await limiter.reset("k")
        assert await redis_client.exists("proveo:rl:k") == 0

    async def test_instances_share_one_window(self, redis_client: Redis) -> None:
        first, second = RateLimiter(redis_client), RateLimiter(redis_client)
        results = await asyncio.gather(
            *(
                limiter.hit("k", limit=5, window=10, kind=LimitKind.ACCOUNTS)
                for limiter in [first, second] * 5
            )
        )
        assert sum(r.allowed for r in results) == 5

    async def test_falls_back_during_an_outage_and_recovers(
        self,
        redis_client: Redis,
        redis_server: RedisServer,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        limiter = RateLimiter(redis_client, skip_after_error=0.2)
        assert (await limiter.hit("k", limit=3, window=10, kind=LimitKind.ACCOUNTS)).allowed
        assert await redis_client.exists("proveo:rl:k") == 1
        with structlog.testing.capture_logs() as logs:
            monkeypatch.setattr(ratelimit, "log", structlog.get_logger("ratelimit-test"))
            redis_server.stop()
            try:
                results = []
                for _ in range(4):
                    started = time.monotonic()
                    results.append(
                        await limiter.hit("outage", limit=3, window=10, kind=LimitKind.ACCOUNTS)
                    )
                    assert time.monotonic() - started < 0.8
                assert [r.allowed for r in results] == [True, True, True, False]
                assert results[3].retry_after >= 1
                await asyncio.sleep(0.25)  # past the skip period, Redis still down
                started = time.monotonic()
                assert not (
                    await limiter.hit("outage", limit=3, window=10, kind=LimitKind.ACCOUNTS)
                ).allowed
                assert time.monotonic() - started < 0.8
            finally:
                redis_server.start()
            await asyncio.sleep(0.25)
            assert (await limiter.hit("after", limit=3, window=10, kind=LimitKind.ACCOUNTS)).allowed
        assert await redis_client.exists("proveo:rl:after") == 1
        events = [entry["event"] for entry in logs]
        assert events.count("redis_unavailable_using_in_process_rate_limits") == 1
        assert events.count("redis_recovered_for_rate_limits") == 1

    async def test_a_slow_redis_is_waited_for_and_keeps_every_hit(
        self, redis_client: Redis, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Found under load: a late answer meant a fallback that counted from zero."""
        monkeypatch.setattr(ratelimit, "log", structlog.get_logger("ratelimit-test"))
        limiter = RateLimiter(redis_client)
        assert (await limiter.hit("k", limit=3, window=60, kind=LimitKind.ACCOUNTS)).allowed
        async with Redis.from_url(redis_server.url) as operator:
            # Redis holds every other client's commands for 0.6 s: slow, not gone. The limiter
            # used to give up after 0.5 s and count the next hits in an empty local window.
            await operator.client_pause(600)
        with structlog.testing.capture_logs() as logs:
            assert (await limiter.hit("k", limit=3, window=60, kind=LimitKind.ACCOUNTS)).allowed
            assert (await limiter.hit("k", limit=3, window=60, kind=LimitKind.ACCOUNTS)).allowed
            assert not (await limiter.hit("k", limit=3, window=60, kind=LimitKind.ACCOUNTS)).allowed
        assert await redis_client.zcard("proveo:rl:k") == 3
        assert "redis_unavailable_using_in_process_rate_limits" not in [
            entry["event"] for entry in logs
        ]


class TestLocalSlidingWindow:
    @pytest.mark.parametrize("fail_closed", [True, False])
    def test_memory_stays_bounded(self, fail_closed: bool) -> None:
        window = LocalSlidingWindow(max_keys=10, fail_closed=fail_closed)
        for n in range(50):
            window.hit(f"k{n}", limit=5, window=60)
        assert len(window) == 10

    def test_expired_keys_go_before_live_ones(self) -> None:
        window = LocalSlidingWindow(max_keys=10)
        window.hit("live", limit=1, window=60)
        for n in range(9):
            window.hit(f"short{n}", limit=1, window=0.01)
        time.sleep(0.02)
        window.hit("trigger", limit=1, window=60)  # the 11th key: sweeps the expired ones
        assert len(window) == 2
        assert not window.hit("live", limit=1, window=60).allowed

    @pytest.mark.parametrize("fail_closed", [True, False])
    def test_a_full_table_never_forgets_a_live_key(self, fail_closed: bool) -> None:
        window = LocalSlidingWindow(max_keys=10, fail_closed=fail_closed)
        for _ in range(3):
            window.hit("lockout", limit=3, window=900)
        for n in range(9):
            window.hit(f"budget{n}", limit=5, window=60)
        for n in range(1_000):
            window.hit(f"flood{n}", limit=5, window=60)
        assert not window.hit("lockout", limit=3, window=900).allowed
        assert window.hit("budget0", limit=5, window=60).remaining == 3

    def test_fail_closed_refuses_new_keys_while_full_with_retry_after(self) -> None:
        window = LocalSlidingWindow(max_keys=2, fail_closed=True)
        window.hit("a", limit=5, window=30)
        window.hit("b", limit=5, window=60)
        refused = window.hit("c", limit=5, window=60)
        assert refused == RateLimitResult(
            allowed=False, limit=5, remaining=0, retry_after=30, full=True
        )
        assert window.hit("a", limit=5, window=30).allowed  # known keys keep their budget

    def test_fail_open_lets_new_keys_through_uncounted_while_full(self) -> None:
        window = LocalSlidingWindow(max_keys=2, fail_closed=False)
        window.hit("a", limit=1, window=60)
        window.hit("b", limit=1, window=60)
        assert all(window.hit("c", limit=1, window=60).allowed for _ in range(3))
        assert len(window) == 2
        assert not window.hit("a", limit=1, window=60).allowed

    def test_a_full_table_takes_new_keys_once_a_key_expires(self) -> None:
        window = LocalSlidingWindow(max_keys=2, sweep_interval=0.01)
        window.hit("short", limit=1, window=0.05)
        window.hit("long", limit=1, window=60)
        assert not window.hit("new", limit=1, window=60).allowed
        time.sleep(0.06)
        assert window.hit("new", limit=1, window=60).allowed
        assert not window.hit("long", limit=1, window=60).allowed

    def test_a_flood_on_a_full_table_costs_no_sweep_per_hit(self) -> None:
        # A pass over 10,000 keys per new key would take minutes here; refusals are O(1).
        window = LocalSlidingWindow(max_keys=10_000)
        for n in range(10_000):
            window.hit(f"live{n}", limit=1, window=60)
        started = time.perf_counter()
        for n in range(10_000):
            assert not window.hit(f"flood{n}", limit=1, window=60).allowed
        assert time.perf_counter() - started < 1.0

    def test_logs_once_when_the_table_fills(self) -> None:
        window = LocalSlidingWindow(max_keys=1)
        with structlog.testing.capture_logs() as logs:
            window.hit("a", limit=1, window=60)
            for n in range(5):
                window.hit(f"new{n}", limit=1, window=60)
        assert [entry["event"] for entry in logs] == ["rate_limit_table_full"]


class TestFloodKeepsLockouts:
    """Issue 6.5: 10,500 addresses must not unlock an account in the in-process limiter."""

    async def test_a_flood_of_new_addresses_keeps_a_lockout(self) -> None:
        limiter = RateLimiter(None, table_keys={LimitKind.ACCOUNTS: 10_000})
        lockout = "login:5f0c7a54-0000-4000-8000-000000000001:203.0.113.9"
        for _ in range(5):
            await limiter.hit(lockout, limit=5, window=900, kind=LimitKind.ACCOUNTS)
        for n in range(10_500):
            address = f"10.{n // 65_536}.{n // 256 % 256}.{n % 256}"
            await limiter.hit(f"ip:{address}", limit=300, window=60, kind=LimitKind.REQUESTS)
            guess = f"login:guess{n}@example.com:-:{address}"
            await limiter.hit(guess, limit=5, window=60, kind=LimitKind.ACCOUNTS)
        still_locked = await limiter.hit(lockout, limit=5, window=900, kind=LimitKind.ACCOUNTS)
        assert not still_locked.allowed
        assert still_locked.retry_after > 800
        # The table is full of live keys: a new account key is refused, not counted anew...
        refused = await limiter.hit(
            "login:new@example.com:-:198.51.100.7", limit=5, window=60, kind=LimitKind.ACCOUNTS
        )
        assert (refused.allowed, refused.full) == (False, True)
        assert 1 <= refused.retry_after <= 60
        # ...while the general per-IP limit lets a new visitor in.
        newcomer = await limiter.hit(
            "ip:198.51.100.7", limit=300, window=60, kind=LimitKind.REQUESTS
        )
        assert newcomer.allowed

    async def test_general_traffic_never_fills_the_auth_table(self) -> None:
        limiter = RateLimiter(None, table_keys={LimitKind.REQUESTS: 100, LimitKind.CLIENTS: 100})
        for n in range(1_000):
            address = f"10.0.{n // 256}.{n % 256}"
            await limiter.hit(f"ip:{address}", limit=300, window=60, kind=LimitKind.REQUESTS)
        await enforce(
            limiter, "signup-ip:198.51.100.7", limit=1, window=3600, kind=LimitKind.CLIENTS
        )
        with pytest.raises(TooManyRequests):
            await enforce(
                limiter, "signup-ip:198.51.100.7", limit=1, window=3600, kind=LimitKind.CLIENTS
            )


class TestTablesPerKind:
    """Issue 6, adversary round: password-reset floods filled the one auth table, and every
    login and signup got 429 for an hour."""

    async def test_a_full_table_of_one_kind_leaves_the_others_open(self) -> None:
        limiter = RateLimiter(None, table_keys={LimitKind.EMAILS: 100})
        for n in range(100):
            await limiter.hit(
                f"reset:n{n}@example.com", limit=3, window=3600, kind=LimitKind.EMAILS
            )
        refused = await limiter.hit(
            "reset:x@example.com", limit=3, window=3600, kind=LimitKind.EMAILS
        )
        assert (refused.allowed, refused.full) == (False, True)
        for kind in set(LimitKind) - {LimitKind.EMAILS}:
            assert (await limiter.hit("new", limit=3, window=60, kind=kind)).allowed

    async def test_a_budget_refusal_is_not_a_full_table(self) -> None:
        limiter = RateLimiter(None)
        await limiter.hit("k", limit=1, window=60, kind=LimitKind.ACCOUNTS)
        assert not (await limiter.hit("k", limit=1, window=60, kind=LimitKind.ACCOUNTS)).full

    def test_a_key_costs_under_400_bytes_whatever_the_address_length(self) -> None:
        # DEFAULT_TABLE_KEYS is sized on this figure: 100,000 keys stay near 30 MB.
        tracemalloc.start()
        try:
            table = LocalSlidingWindow(max_keys=10_000)
            for n in range(10_000):
                key = f"reset:{'x' * 240}{n}@example.com:2001:db8:{n:x}::/64"
                for _ in range(3):
                    table.hit(key, limit=3, window=3600)
            used, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert len(table) == 10_000
        assert used / 10_000 < 400


class TestEmailFloodOverHttp:
    @staticmethod
    def _app(settings: Settings, conn: Connection, limiter: RateLimiter) -> FastAPI:
        # No Redis: the in-process tables are the only ones (the default `make run` setup).
        app = create_app(
            settings,
            database=PinnedDatabase(conn),
            cache=Cache(None),
            storage=LocalImageStorage(settings.images_dir),
        )
        app.state.limiter = limiter
        return app

    @staticmethod
    def _visitor(app: FastAPI, ip: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(ip, 4000))
        return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000")

    async def _flood(self, app: FastAPI, ip: str, requests: int) -> None:
        reset = app.url_path_for("users:password_reset_request")
        resend = app.url_path_for("users:resend_verification")
        async with self._visitor(app, ip) as http:
            for n in range(requests):
                for path in (reset, resend):
                    await http.post(path, json={"email": f"{path[-7:]}{n}.{ip}@example.com"})

    async def test_one_address_creates_at_most_30_email_keys_an_hour(
        self, settings: Settings, conn: Connection
    ) -> None:
        # The client's own budgets are spent before any per-address key is made: filling the
        # default 100,000-key table takes over 3,300 client addresses.
        limiter = RateLimiter(None)
        await self._flood(self._app(settings, conn, limiter), "203.0.113.7", requests=40)
        assert len(limiter.local_table(LimitKind.EMAILS)) == 30
        assert len(limiter.local_table(LimitKind.CLIENTS)) == 2

    async def test_an_email_flood_from_many_addresses_leaves_logins_and_signups_working(
        self, settings: Settings, conn: Connection
    ) -> None:
        # The adversary's flood, at a tenth of the table: every address spends its reset and
        # resend budgets on unknown addresses until the email table is full.
        limiter = RateLimiter(None, table_keys={LimitKind.EMAILS: 300})
        app = self._app(settings, conn, limiter)
        user = await create_user(conn)
        for n in range(10):
            await self._flood(app, f"10.9.0.{n}", requests=10)
        assert len(limiter.local_table(LimitKind.EMAILS)) == 300
        async with self._visitor(app, "198.51.100.7") as owner:
            login = await owner.post(
                app.url_path_for("users:login"),
                json={"email": user.email, "password": DEFAULT_PASSWORD},
            )
            assert login.status_code == 200
        async with self._visitor(app, "198.51.100.8") as visitor:
            signup = await visitor.post(
                app.url_path_for("users:signup"),
                json={"name": "Ana", "email": "ana@example.com", "password": DEFAULT_PASSWORD},
            )
            assert signup.status_code == 201
            refused = await visitor.post(
                app.url_path_for("users:password_reset_request"), json={"email": user.email}
            )
        assert refused.status_code == 429
        assert refused.json() == {"detail": RateLimitsFull.default_detail, "code": "rate_limited"}
        # The table's first key expires an hour after the flood began.
        assert 3000 < int(refused.headers["retry-after"]) <= 3600


class TestFloodOverHttp:
    async def test_a_login_lockout_survives_a_flood_and_new_account_keys_fail_closed(
        self, settings: Settings, conn: Connection
    ) -> None:
        # No Redis: the in-process tables are the only ones, as during an outage.
        app = create_app(
            settings,
            database=PinnedDatabase(conn),
            cache=Cache(None),
            storage=LocalImageStorage(settings.images_dir),
        )
        limiter = RateLimiter(None, table_keys={LimitKind.ACCOUNTS: 10_000})
        app.state.limiter = limiter
        login, products = app.url_path_for("users:login"), app.url_path_for("products:list")
        user = await create_user(conn)
        right = {"email": user.email, "password": DEFAULT_PASSWORD}
        wrong = {"email": user.email, "password": "Wrong-pass1"}

        def visitor(ip: str) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app, client=(ip, 4000))
            return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000")

        async with visitor("198.51.100.50") as owner:
            response = await owner.post(login, json=right)  # this browser is now known
            await owner.post(
                app.url_path_for("users:logout"),
                headers={"X-CSRF-Token": response.json()["csrf_token"]},
            )
        async with visitor("203.0.113.9") as attacker:
            for _ in range(settings.login_failures_per_account_and_ip):
                assert (await attacker.post(login, json=wrong)).status_code == 401
            assert (await attacker.post(login, json=right)).status_code == 429
            for n in range(10_500):  # guesses at made-up accounts from 10,500 addresses
                address = f"10.{n // 65_536}.{n // 256 % 256}.{n % 256}"
                await limiter.hit(f"ip:{address}", limit=300, window=60, kind=LimitKind.REQUESTS)
                await limiter.hit(
                    f"login:guess{n}@example.com:-:{address}",
                    limit=5, window=900, kind=LimitKind.ACCOUNTS,
                )  # fmt: skip
            assert (await attacker.post(login, json=right)).status_code == 429
        async with visitor("198.51.100.7") as newcomer:
            refused = await newcomer.post(login, json=right)
            assert refused.status_code == 429
            # Nothing of this account is locked for this address: the table is full.
            assert refused.json() == {
                "detail": RateLimitsFull.default_detail,
                "code": "rate_limited",
            }
            assert 800 < int(refused.headers["retry-after"]) <= 900
            assert (await newcomer.get(products)).status_code == 200
        async with visitor("198.51.100.50") as owner_again:
            owner_again.cookies = owner.cookies
            assert (await owner_again.post(login, json=right)).status_code == 200


class TestEnforce:
    async def test_a_full_table_is_refused_without_blaming_a_budget(self) -> None:
        limiter = RateLimiter(None, table_keys={LimitKind.CLIENTS: 1})
        await enforce(limiter, "signup-ip:a", limit=5, window=60, kind=LimitKind.CLIENTS)
        with pytest.raises(RateLimitsFull) as caught:
            await enforce(limiter, "signup-ip:b", limit=5, window=60, kind=LimitKind.CLIENTS)
        assert caught.value.code == "rate_limited"
        assert caught.value.headers == {"Retry-After": "60"}

    async def test_raises_429_with_retry_after(self) -> None:
        limiter = RateLimiter(None)
        await enforce(limiter, "login", limit=1, window=30, kind=LimitKind.ACCOUNTS)
        with pytest.raises(TooManyRequests) as caught:
            await enforce(limiter, "login", limit=1, window=30, kind=LimitKind.ACCOUNTS)
        assert caught.value.status_code == 429
        assert caught.value.code == "rate_limited"
        assert caught.value.headers == {"Retry-After": "30"}


async def _ok(_: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def _limited_app(limiter: RateLimiter, *, per_ip_limit: int) -> Starlette:
    app = Starlette(routes=[Route("/api/v1/things", _ok), Route("/api/v1/health/", _ok)])
    app.add_middleware(RateLimitMiddleware, limiter=limiter, per_ip_limit=per_ip_limit)
    return app


async def _get(app: Starlette, ip: str, path: str = "/api/v1/things") -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(ip, 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://proveo.test") as http:
        return await http.get(path)


class TestRateLimitMiddleware:
    async def test_per_ip_limit_refuses_only_that_ip(self, redis_client: Redis) -> None:
        app = _limited_app(RateLimiter(redis_client), per_ip_limit=3)
        statuses = [(await _get(app, "127.0.0.2")).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        refused = await _get(app, "127.0.0.2")
        assert refused.status_code == 429
        assert refused.json() == {"detail": "Too many requests, slow down", "code": "rate_limited"}
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert (await _get(app, "127.0.0.3")).status_code == 200

    async def test_many_addresses_within_their_limits_are_never_refused(
        self, redis_client: Redis
    ) -> None:
        # 70 addresses each at their limit once summed to a service-wide 429 (issue 6.4).
        app = _limited_app(RateLimiter(redis_client), per_ip_limit=20)
        transports = [httpx.ASGITransport(app=app, client=(f"10.0.1.{n}", 1234)) for n in range(70)]

        async def visitor(transport: httpx.ASGITransport) -> list[int]:
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                return [(await http.get("/api/v1/things")).status_code for _ in range(20)]

        statuses = await asyncio.gather(*(visitor(transport) for transport in transports))
        assert {status for visits in statuses for status in visits} == {200}

    async def test_exempt_prefix_is_never_limited(self, redis_client: Redis) -> None:
        app = _limited_app(RateLimiter(redis_client), per_ip_limit=1)
        assert (await _get(app, "127.0.0.2")).status_code == 200
        assert (await _get(app, "127.0.0.2")).status_code == 429
        for _ in range(5):
            assert (await _get(app, "127.0.0.2", "/api/v1/health/")).status_code == 200


class TestWhatTheLimitCounts:
    async def test_static_files_and_images_are_never_limited_while_the_api_still_is(
        self, settings: Settings, conn: Connection
    ) -> None:
        # A page view fetches 15 to 30 static files: 400 of them from one address must never
        # meet the per-IP limit, which is for API calls.
        limited = settings.model_copy(update={"rate_limit_per_ip_per_minute": 5})
        app = create_app(
            limited,
            database=PinnedDatabase(conn),
            cache=Cache(None),
            storage=LocalImageStorage(limited.images_dir),
        )
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
            paths = ["/", "/js/forms.js", "/css/app.css", "/login/", "/images/missing.webp"]
            statuses = [(await http.get(paths[n % len(paths)])).status_code for n in range(400)]
            assert 429 not in statuses
            assert 200 in statuses
            api = [(await http.get("/api/v1/products/")).status_code for _ in range(6)]
        assert api == [200] * 5 + [429]
