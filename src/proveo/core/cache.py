"""A small bytes cache: Redis when it answers, an in-process TTL map when it does not.

Losing Redis must never fail a request: every Redis error degrades to the local map and is
logged once per outage.
"""

from __future__ import annotations

import time

import structlog
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)

KEY_PREFIX = "proveo:"


class Cache:
    def __init__(
        self, redis: Redis | None, *, default_ttl: float = 300.0, retry_after: float = 2.0
    ) -> None:
        self._redis = redis
        self.default_ttl = default_ttl
        self.retry_after = retry_after
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
            socket_connect_timeout=0.5,
            socket_timeout=0.5,
            health_check_interval=30,
            retry=Retry(NoBackoff(), 1),
        )
        return cls(client)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()

    def _degraded(self, error: RedisError) -> None:
        if self._redis_healthy:
            log.warning("redis_unavailable_using_in_process_cache", error=str(error))
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
                raw = await self.redis.get(KEY_PREFIX + key)
                self._recovered()
                return raw.encode() if isinstance(raw, str) else raw
            except RedisError as exc:
                self._degraded(exc)
        entry = self._local.get(key)
        if entry is None or entry[0] < time.monotonic():
            self._local.pop(key, None)
            return None
        return entry[1]

    async def set_bytes(self, key: str, value: bytes, ttl: float | None = None) -> None:
        ttl = ttl or self.default_ttl
        if self.redis is not None:
            try:
                await self.redis.set(KEY_PREFIX + key, value, px=int(ttl * 1000))
                self._recovered()
                return
            except RedisError as exc:
                self._degraded(exc)
        self._local[key] = (time.monotonic() + ttl, value)

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._local.pop(key, None)
        if self.redis is not None:
            try:
                await self.redis.delete(*(KEY_PREFIX + key for key in keys))
                self._recovered()
            except RedisError as exc:
                self._degraded(exc)

    async def ping(self) -> bool | None:
        if self._redis is None:
            return None
        try:
            await self._redis.ping()
        except RedisError:
            return False
        return True
