"""How many of one subject's requests are in progress at once, across every API process.

A count per key in Redis (INCR on entry, DECR on exit, an expiry in case a process dies
holding one), or in this process while Redis is down: then the bound is per process, as for
the rate limits (`core/ratelimit.py`), and no request ever fails for want of Redis.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)


class InFlight:
    def __init__(
        self,
        redis: Redis | None,
        *,
        prefix: str = "proveo:inflight:",
        expire_seconds: int = 120,
        call_timeout: float = 1.0,
    ) -> None:
        self._redis = redis
        self.prefix = prefix
        self.expire_seconds = expire_seconds
        self.call_timeout = call_timeout
        self._local: Counter[str] = Counter()

    @asynccontextmanager
    async def hold(self, key: str, limit: int) -> AsyncIterator[bool]:
        """Yields True, counted while the block runs, when fewer than `limit` were in
        progress for `key`; else yields False and counts nothing."""
        counted_in_redis = await self._enter_redis(key, limit)
        if counted_in_redis is None:
            if self._local[key] >= limit:
                yield False
                return
            self._local[key] += 1
            try:
                yield True
            finally:
                self._local[key] -= 1
                if self._local[key] <= 0:
                    del self._local[key]
            return
        if not counted_in_redis:
            yield False
            return
        try:
            yield True
        finally:
            await self._leave_redis(key)

    async def _enter_redis(self, key: str, limit: int) -> bool | None:
        """True: counted; False: over the limit; None: Redis is not there."""
        if self._redis is None:
            return None
        name = self.prefix + key
        try:
            async with asyncio.timeout(self.call_timeout):
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.incr(name)
                    pipe.expire(name, self.expire_seconds)
                    count, _ = await pipe.execute()
                if int(count) <= limit:
                    return True
                await self._redis.decr(name)
                return False
        except (RedisError, TimeoutError, OSError) as exc:
            log.warning("redis_unavailable_counting_in_process", error=type(exc).__name__)
            return None

    async def _leave_redis(self, key: str) -> None:
        try:
            async with asyncio.timeout(self.call_timeout):
                await self._redis.decr(self.prefix + key)  # type: ignore[union-attr]
        except (RedisError, TimeoutError, OSError) as exc:
            # The key expires on its own.
            log.warning("redis_unavailable_releasing_count", error=type(exc).__name__)
