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
are then per instance until Redis answers again, and the in-process window starts empty.

A fallback therefore forgets counts, and must happen only when Redis is gone. A stopped Redis
refuses at once, and an unreachable one fails to connect within half a second (the client's
settings, in `core/cache.py`). A connected Redis that is merely slow, or an answer that a busy
event loop reads late, is waited for up to `call_timeout` (2 s, four times the cache's
deadline): giving up after half a second let a login lockout start over on a loaded host.

The in-process tables never forget a key that still counts (a lockout or a partly used
budget): forgetting one would unlock an account for whoever floods the table with new keys.
Each kind of limit (`LimitKind`) has its own table, so a flood of one kind never crowds out
another: password-reset requests cannot fill the table that logins need. When a table is full
of live keys, a new key is refused if its kind fails closed (every auth budget) or let through
uncounted if it fails open (the general per-IP limit, where refusing strangers would shut the
whole site). A refusal for a full table says so (`RateLimitResult.full`), with the time until
the table's first key expires as its `Retry-After`.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import math
import secrets
import time
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Receive, Scope, Send

from proveo.core import metrics
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


class LimitKind(StrEnum):
    """The in-process table a key lives in, by who can create its keys: a flood of one kind
    never crowds out another's keys."""

    REQUESTS = "requests"  # the per-IP limit on every request; fails open
    CLIENTS = "clients"  # an auth endpoint's budget per client address: one key per address
    ACCOUNTS = "accounts"  # login lockouts per account (and client), password changes
    DEVICES = "devices"  # login budgets of device cookies, which only a login can mint
    EMAILS = "emails"  # per-address budgets of the endpoints that email an address


# Keys per in-process table. Measured with tracemalloc: about 260 bytes a key plus 8 a counted
# hit, so a full auth table of 100,000 keys takes 26 to 30 MB with the 1 to 5 hits a key that a
# flood of new keys leaves, and the per-IP table (10,000 keys of up to 300 hits) about 27 MB.
DEFAULT_TABLE_KEYS: Mapping[LimitKind, int] = {
    LimitKind.REQUESTS: 10_000,
    LimitKind.CLIENTS: 100_000,
    LimitKind.ACCOUNTS: 100_000,
    LimitKind.DEVICES: 100_000,
    LimitKind.EMAILS: 100_000,
}


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # whole seconds, >= 1 when refused, 0 when allowed
    # Refused because the in-process table was full of live keys, not because this key's
    # budget is spent: nothing about this account or client is locked.
    full: bool = False


class RateLimitsFull(TooManyRequests):
    default_detail = (
        "Too many clients are being rate limited right now; try again after Retry-After seconds"
    )


def _retry_seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds))


@dataclass(slots=True)
class _Window:
    window: float
    # Sorted monotonic timestamps; an array of doubles costs 8 bytes a hit (a deque of floats
    # costs over 600 bytes for the first one).
    hits: array[float] = field(default_factory=lambda: array("d"))

    def prune(self, now: float) -> None:
        expired = bisect.bisect_right(self.hits, now - self.window)
        if expired:
            del self.hits[:expired]


def _table_key(key: str) -> bytes:
    """A fixed 16 bytes per key, however long the address inside it."""
    return hashlib.blake2b(key.encode(), digest_size=16).digest()


class LocalSlidingWindow:
    """The in-process sliding window log, on the monotonic clock.

    Memory stays bounded: a key holds at most `limit` timestamps and the table at most
    `max_keys` keys. A key is dropped only once all its hits have expired; a full table is
    swept for such keys at most once per `sweep_interval` seconds and only when one may have
    expired, so a flood of new keys costs one pass over the table per interval, not one per hit.
    A new key that finds the table full of live keys is refused with a `Retry-After` when
    `fail_closed`, or allowed without being counted otherwise.
    """

    def __init__(
        self,
        *,
        max_keys: int = 10_000,
        fail_closed: bool = True,
        sweep_interval: float = 1.0,
        name: str = "",
    ) -> None:
        self.max_keys = max_keys
        self.fail_closed = fail_closed
        self.sweep_interval = sweep_interval
        self.name = name
        self._windows: dict[bytes, _Window] = {}
        # No key can expire before this moment (a lower bound: hits since only move it later).
        self._earliest_expiry = math.inf
        self._next_sweep = 0.0
        self._full_logged = False

    def __len__(self) -> int:
        return len(self._windows)

    def hit(self, key: str, *, limit: int, window: float) -> RateLimitResult:
        now = time.monotonic()
        table_key = _table_key(key)
        entry = self._windows.get(table_key)
        if entry is None:
            if len(self._windows) >= self.max_keys and not self._make_room(now):
                return self._full(limit, now)
            entry = self._windows[table_key] = _Window(window)
        else:
            entry.window = window
        entry.prune(now)
        count = len(entry.hits)
        if count < limit:
            entry.hits.append(now)
            self._earliest_expiry = min(self._earliest_expiry, now + window)
            return RateLimitResult(True, limit, limit - count - 1, 0)
        freeing = entry.hits[count - limit]
        return RateLimitResult(False, limit, 0, _retry_seconds(freeing + window - now))

    def reset(self, key: str) -> None:
        self._windows.pop(_table_key(key), None)

    def clear(self) -> None:
        self._windows.clear()
        self._earliest_expiry = math.inf

    def _make_room(self, now: float) -> bool:
        if now < self._next_sweep or now < self._earliest_expiry:
            return False
        for key, entry in list(self._windows.items()):
            entry.prune(now)
            if not entry.hits:
                del self._windows[key]
        self._earliest_expiry = min(
            (entry.hits[-1] + entry.window for entry in self._windows.values()), default=math.inf
        )
        self._next_sweep = now + self.sweep_interval
        if len(self._windows) < self.max_keys:
            self._full_logged = False
            return True
        return False

    def _full(self, limit: int, now: float) -> RateLimitResult:
        if not self._full_logged:
            self._full_logged = True
            log.warning(
                "rate_limit_table_full",
                table=self.name,
                max_keys=self.max_keys,
                new_keys="refused" if self.fail_closed else "not_counted",
            )
        if not self.fail_closed:
            return RateLimitResult(True, limit, limit - 1, 0)
        room_at = max(self._next_sweep, self._earliest_expiry)
        return RateLimitResult(False, limit, 0, _retry_seconds(room_at - now), full=True)


class RateLimiter:
    def __init__(
        self,
        redis: Redis | None,
        *,
        prefix: str = "proveo:rl:",
        skip_after_error: float = 2.0,
        call_timeout: float = 2.0,
        table_keys: Mapping[LimitKind, int] | None = None,
    ) -> None:
        self._redis = redis
        self.prefix = prefix
        self.skip_after_error = skip_after_error
        self.call_timeout = call_timeout
        self._script = redis.register_script(_SLIDING_WINDOW_LUA) if redis is not None else None
        sizes = {**DEFAULT_TABLE_KEYS, **(table_keys or {})}
        self._local = {
            kind: LocalSlidingWindow(
                max_keys=sizes[kind], fail_closed=kind is not LimitKind.REQUESTS, name=kind.value
            )
            for kind in LimitKind
        }
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
            for table in self._local.values():
                table.clear()
        self._redis_healthy = True

    def local_table(self, kind: LimitKind) -> LocalSlidingWindow:
        return self._local[kind]

    async def hit(self, key: str, *, limit: int, window: float, kind: LimitKind) -> RateLimitResult:
        """Count a hit on `key` unless `limit` hits were already allowed in the last `window` s.

        `kind` picks the in-process fallback's table, and with it what happens to a new key
        when that table is full of live keys: every kind but `REQUESTS` refuses it; `REQUESTS`
        lets it through uncounted, since refusing strangers would shut out everyone. Use one
        kind per key.
        """
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
                metrics.rate_limit_refused(kind)
                return RateLimitResult(False, limit, 0, _retry_seconds(retry_us / 1_000_000))
        result = self._local[kind].hit(key, limit=limit, window=window)
        if not result.allowed:
            metrics.rate_limit_refused(kind)
        return result

    async def reset(self, key: str) -> None:
        """Forget every hit on `key` (a successful login clears the account's failure count)."""
        for table in self._local.values():
            table.reset(key)
        if self.redis is not None:
            try:
                async with asyncio.timeout(self.call_timeout):
                    await self.redis.delete(self.prefix + key)
            except (RedisError, TimeoutError) as exc:
                self._degraded(exc)
            else:
                self._recovered()


def refusal(result: RateLimitResult) -> TooManyRequests:
    """The 429 for a refused hit: `RateLimitsFull` when no budget of the caller's is spent."""
    error = RateLimitsFull if result.full else TooManyRequests
    return error(headers={"Retry-After": str(result.retry_after)})


async def enforce(
    limiter: RateLimiter, key: str, *, limit: int, window: float, kind: LimitKind
) -> None:
    """An endpoint's own limit: raises `TooManyRequests` (429 with `Retry-After`) when refused."""
    result = await limiter.hit(key, limit=limit, window=window, kind=kind)
    if not result.allowed:
        raise refusal(result)


class RateLimitMiddleware:
    """A per-client-IP limit on every HTTP request under `limited_prefixes` (the API), except
    the exempt paths.

    Static front-end files and `/images` are not counted: they are cheap, cacheable and
    revalidated, and one page view fetches 15 to 30 of them, so counting them let ordinary
    browsing reach the limit that is meant for API calls.

    There is deliberately no service-wide request budget: a few hundred addresses could spend
    it and shut everyone out while the server idles. Real saturation is the load shedder's job
    (`core/overload.py`). This limit fails open when the in-process table is full.
    The IP is the ASGI peer (`scope["client"]`); behind a proxy, the server must be started with
    the proxy's forwarded-address handling so that this is the real client.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        per_ip_limit: int,
        window: float = 60.0,
        limited_prefixes: tuple[str, ...] = ("/api",),
        exempt_prefixes: tuple[str, ...] = ("/api/v1/health",),
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.per_ip_limit = per_ip_limit
        self.window = window
        self.limited_prefixes = tuple(prefix.rstrip("/") for prefix in limited_prefixes)
        self.exempt_prefixes = tuple(prefix.rstrip("/") for prefix in exempt_prefixes)

    @staticmethod
    def _under(path: str, prefixes: tuple[str, ...]) -> bool:
        return any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes)

    def _is_exempt(self, path: str) -> bool:
        return not self._under(path, self.limited_prefixes) or self._under(
            path, self.exempt_prefixes
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._is_exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        subject = limit_subject(client[0] if client else None)
        result = await self.limiter.hit(
            f"ip:{subject}", limit=self.per_ip_limit, window=self.window, kind=LimitKind.REQUESTS
        )
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
