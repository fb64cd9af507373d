"""A small bytes cache: Redis when it answers, an in-process TTL map when it does not.

Losing Redis must never fail a request: every Redis error, and every call slower than
`call_timeout`, degrades to the local map and is logged once per outage.

The client's own timeouts tell a dead Redis from a slow one. A stopped server refuses at once
and an unreachable host fails to connect within `CONNECT_TIMEOUT`; a connected server that is
merely slow is given up to `REPLY_TIMEOUT`. Each user of the shared client bounds its calls by
what a late answer costs it: the cache gives up after half a second (a miss costs a database
read), the rate limiter waits longer (a count it gives up on is a count lost).
"""

from __future__ import annotations

import asyncio
import time

import structlog
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from proveo.core import metrics

log = structlog.get_logger(__name__)

KEY_PREFIX = "proveo:"
CONNECT_TIMEOUT = 0.5
# A backstop above every caller's own deadline, which is what actually bounds each call.
REPLY_TIMEOUT = 5.0


class Cache:
    def __init__(
        self,
        redis: Redis | None,
        *,
        default_ttl: float = 300.0,
        retry_after: float = 2.0,
        call_timeout: float = 0.5,
    ) -> None:
        self._redis = redis
        self.default_ttl = default_ttl
        self.retry_after = retry_after
        self.call_timeout = call_timeout
        self._local: dict[str, tuple[float, bytes]] = {}
        self._redis_healthy = True
        self._skip_redis_until = 0.0

    @property
    def client(self) -> Redis | None:
        """The Redis client itself, for other Redis users (the rate limiter) to share its pool."""
        return self._redis

    @property
    def redis(self) -> Redis | None:
        """The client, unless Redis failed moments ago (no request should wait on a dead socket)."""
        if self._redis is None or time.monotonic() < self._skip_redis_until:
            return None
        return self._redis

    @classmethod
    def from_url(cls, url: str) -> Cache:
        if not url:
            log.warning("redis_not_configured_using_in_process_cache")
            return cls(None)
        # One quick retry at most: a request must never wait seconds on an unreachable Redis.
        client = Redis.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=REPLY_TIMEOUT,
            health_check_interval=30,
            retry=Retry(NoBackoff(), 1),
        )
        return cls(client)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()

    def _degraded(self, error: Exception) -> None:
        if self._redis_healthy:
            log.warning(
                "redis_unavailable_using_in_process_cache",
                error=str(error) or type(error).__name__,
            )
        self._redis_healthy = False
        self._skip_redis_until = time.monotonic() + self.retry_after

    def _recovered(self) -> None:
        if not self._redis_healthy:
            log.info("redis_recovered")
            # Invalidations may have been missed while Redis was away: start the local map clean.
            self._local.clear()
        self._redis_healthy = True

    async def get_bytes(self, key: str) -> bytes | None:
        if self.redis is not None:
            try:
                async with asyncio.timeout(self.call_timeout):
                    raw = await self.redis.get(KEY_PREFIX + key)
                self._recovered()
                metrics.cache_lookup(hit=raw is not None)
                return raw.encode() if isinstance(raw, str) else raw
            except (RedisError, TimeoutError) as exc:
                self._degraded(exc)
        entry = self._local.get(key)
        if entry is None or entry[0] < time.monotonic():
            self._local.pop(key, None)
            metrics.cache_lookup(hit=False)
            return None
        metrics.cache_lookup(hit=True)
        return entry[1]

    async def set_bytes(self, key: str, value: bytes, ttl: float | None = None) -> None:
        ttl = ttl or self.default_ttl
        if self.redis is not None:
            try:
                async with asyncio.timeout(self.call_timeout):
                    await self.redis.set(KEY_PREFIX + key, value, px=int(ttl * 1000))
                self._recovered()
                return
            except (RedisError, TimeoutError) as exc:
                self._degraded(exc)
        self._local[key] = (time.monotonic() + ttl, value)

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._local.pop(key, None)
        if self.redis is not None:
            try:
                async with asyncio.timeout(self.call_timeout):
                    await self.redis.delete(*(KEY_PREFIX + key for key in keys))
                self._recovered()
            except (RedisError, TimeoutError) as exc:
                self._degraded(exc)

    async def ping(self) -> bool | None:
        if self._redis is None:
            return None
        try:
            async with asyncio.timeout(self.call_timeout):
                await self._redis.ping()
        except (RedisError, TimeoutError):
            return False
        return True
