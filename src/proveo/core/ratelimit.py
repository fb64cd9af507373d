"""Sliding-window rate limits: Redis when it answers, an in-process window when it does not.

Every limit is a true sliding window log: a hit is allowed when fewer than `limit` hits were
allowed in the last `window` seconds. Refused hits are not recorded, so a client hammering a
closed door does not keep it closed; it opens as soon as its oldest counted hit ages out.

In Redis each key is a sorted set of hit timestamps, checked and updated by one Lua script, so
concurrent app instances never race. Timestamps come from the Redis server's clock (`TIME`
inside the script), never from the app hosts: every instance agrees on one clock however their
own clocks drift. (Needs Redis >= 5, where scripts replicate their effects.)

Losing Redis must never fail a request: a Redis error (or a call that takes longer than
`call_timeout`) falls back to an equivalent in-process window, is logged once per outage, and
Redis is skipped for `skip_after_error` seconds so no request waits on a dead socket. Limits
are then per instance until Redis answers again.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Receive, Scope, Send

from proveo.core.clients import limit_subject
from proveo.core.errors import TooManyRequests, error_response

log = structlog.get_logger(__name__)

# KEYS[1]: the key's sorted set. ARGV: window in microseconds, limit, a random suffix.
# Scores are the server's time in microseconds (about 1.7e15, exact in a double).
_SLIDING_WINDOW_LUA = """
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  local member = clock[1] .. string.format('%06d', tonumber(clock[2])) .. ':' .. ARGV[3]
  redis.call('ZADD', KEYS[1], now, member)
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
  return {1, limit - count - 1, 0}
end
local freeing = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
return {0, 0, tonumber(freeing[2]) + window - now}
"""


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # whole seconds, >= 1 when refused, 0 when allowed


def _retry_seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds))


@dataclass(slots=True)
class _Window:
    window: float
    hits: deque[float] = field(default_factory=deque)

    def prune(self, now: float) -> None:
        cutoff = now - self.window
        while self.hits and self.hits[0] <= cutoff:
            self.hits.popleft()


class LocalSlidingWindow:
    """The in-process sliding window log, on the monotonic clock.

    Memory stays bounded: a key holds at most `limit` timestamps, and past `max_keys` keys the
    expired ones are dropped, then the least recently hit ones (forgetting them errs on the
    side of letting requests through).
    """

    def __init__(self, *, max_keys: int = 10_000) -> None:
        self.max_keys = max_keys
        self._windows: OrderedDict[str, _Window] = OrderedDict()

    def __len__(self) -> int:
        return len(self._windows)

    def hit(self, key: str, *, limit: int, window: float) -> RateLimitResult:
        now = time.monotonic()
        entry = self._windows.get(key)
        if entry is None:
            entry = self._windows[key] = _Window(window)
        else:
            self._windows.move_to_end(key)
            entry.window = window
        entry.prune(now)
        count = len(entry.hits)
        if count < limit:
            entry.hits.append(now)
            if len(self._windows) > self.max_keys:
                self._sweep(now)
            return RateLimitResult(True, limit, limit - count - 1, 0)
        freeing = entry.hits[count - limit]
        return RateLimitResult(False, limit, 0, _retry_seconds(freeing + window - now))

    def reset(self, key: str) -> None:
        self._windows.pop(key, None)

    def clear(self) -> None:
        self._windows.clear()

    def _sweep(self, now: float) -> None:
        for key in list(self._windows):
            entry = self._windows[key]
            entry.prune(now)
            if not entry.hits:
                del self._windows[key]
        # Still full of live keys: evict the least recently hit, with headroom so the next
        # sweep is not on the very next new key.
        target = max(1, self.max_keys * 9 // 10)
        while len(self._windows) > target:
            self._windows.popitem(last=False)


class RateLimiter:
    def __init__(
        self,
        redis: Redis | None,
        *,
        prefix: str = "proveo:rl:",
        skip_after_error: float = 2.0,
        call_timeout: float = 0.5,
        max_local_keys: int = 10_000,
    ) -> None:
        self._redis = redis
        self.prefix = prefix
        self.skip_after_error = skip_after_error
        self.call_timeout = call_timeout
        self._script = redis.register_script(_SLIDING_WINDOW_LUA) if redis is not None else None
        self._local = LocalSlidingWindow(max_keys=max_local_keys)
        self._redis_healthy = True
        self._skip_redis_until = 0.0

    @property
    def redis(self) -> Redis | None:
        """The client, unless Redis failed moments ago (no request should wait on a dead socket)."""
        if self._redis is None or time.monotonic() < self._skip_redis_until:
            return None
        return self._redis

    def _degraded(self, error: Exception) -> None:
        if self._redis_healthy:
            log.warning(
                "redis_unavailable_using_in_process_rate_limits",
                error=str(error) or type(error).__name__,
            )
        self._redis_healthy = False
        self._skip_redis_until = time.monotonic() + self.skip_after_error

    def _recovered(self) -> None:
        if not self._redis_healthy:
            log.info("redis_recovered_for_rate_limits")
            # Redis counts again; the outage's local windows are no longer consulted.
            self._local.clear()
        self._redis_healthy = True

    async def hit(self, key: str, *, limit: int, window: float) -> RateLimitResult:
        """Count a hit on `key` unless `limit` hits were already allowed in the last `window` s."""
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window > 0")
        if self.redis is not None and self._script is not None:
            window_us = max(1, round(window * 1_000_000))
            try:
                async with asyncio.timeout(self.call_timeout):
                    reply = await self._script(
                        keys=[self.prefix + key], args=[window_us, limit, secrets.token_hex(6)]
                    )
            except (RedisError, TimeoutError) as exc:
                self._degraded(exc)
            else:
                self._recovered()
                allowed, remaining, retry_us = (int(value) for value in reply)
                if allowed:
                    return RateLimitResult(True, limit, remaining, 0)
                return RateLimitResult(False, limit, 0, _retry_seconds(retry_us / 1_000_000))
        return self._local.hit(key, limit=limit, window=window)

    async def reset(self, key: str) -> None:
        """Forget every hit on `key` (a successful login clears the account's failure count)."""
        self._local.reset(key)
        if self.redis is not None:
            try:
                async with asyncio.timeout(self.call_timeout):
                    await self.redis.delete(self.prefix + key)
            except (RedisError, TimeoutError) as exc:
                self._degraded(exc)
            else:
                self._recovered()


async def enforce(limiter: RateLimiter, key: str, *, limit: int, window: float) -> None:
    """An endpoint's own limit: raises `TooManyRequests` (429 with `Retry-After`) when refused."""
    result = await limiter.hit(key, limit=limit, window=window)
    if not result.allowed:
        raise TooManyRequests(headers={"Retry-After": str(result.retry_after)})


class RateLimitMiddleware:
    """A per-client-IP and a global limit on every HTTP request, except the exempt paths.

    The per-IP limit is checked first, so a refused client does not use up the global budget.
    The IP is the ASGI peer (`scope["client"]`); behind a proxy, the server must be started with
    the proxy's forwarded-address handling so that this is the real client.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        per_ip_limit: int,
        global_limit: int,
        window: float = 60.0,
        exempt_prefixes: tuple[str, ...] = ("/api/v1/health",),
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.per_ip_limit = per_ip_limit
        self.global_limit = global_limit
        self.window = window
        self.exempt_prefixes = tuple(prefix.rstrip("/") for prefix in exempt_prefixes)

    def _is_exempt(self, path: str) -> bool:
        return any(
            path == prefix or path.startswith(prefix + "/") for prefix in self.exempt_prefixes
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._is_exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        subject = limit_subject(client[0] if client else None)
        result = await self.limiter.hit(
            f"ip:{subject}", limit=self.per_ip_limit, window=self.window
        )
        if result.allowed:
            result = await self.limiter.hit("global", limit=self.global_limit, window=self.window)
        if not result.allowed:
            response = error_response(
                TooManyRequests.status_code,
                TooManyRequests.default_detail,
                TooManyRequests.code,
                {"Retry-After": str(result.retry_after)},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
