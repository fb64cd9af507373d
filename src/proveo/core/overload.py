"""Load shedding: a bound on requests in progress, and a short wait for a free slot past it.

Saturation is measured, not guessed from request counts: a request that cannot start within
`max_queue_wait` seconds because `max_in_flight` requests are still running gets an immediate
503 `overloaded` with `Retry-After`, instead of joining a queue that only makes every answer
late. Below the bound a request costs one counter increment and one decrement; waiting
requests are served first come, first served as slots free up.

The liveness path is never shed: it does no work, and an orchestrator that saw it fail under
load would restart a busy but healthy instance, sending its load to the others.

No single client may take the slots: `ClientConcurrencyMiddleware` answers an immediate 429
past a few requests in progress per client address, and requests reach the shedder only once
their body has arrived (`RequestBodyMiddleware`), so slow or silent uploads hold no slot.
"""

from __future__ import annotations

import asyncio
from collections import deque

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from proveo.core import metrics
from proveo.core.clients import limit_subject
from proveo.core.errors import error_response

log = structlog.get_logger(__name__)

OVERLOADED_BODY = b'{"detail":"The server is overloaded, try again shortly","code":"overloaded"}'
LIVENESS_PATHS = ("/api/v1/health", "/api/v1/health/")


class LoadSheddingMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_in_flight: int,
        max_queue_wait: float,
        retry_after: int = 1,
        exempt_paths: tuple[str, ...] = LIVENESS_PATHS,
    ) -> None:
        if max_in_flight < 1 or max_queue_wait < 0:
            raise ValueError("load shedding needs max_in_flight >= 1 and max_queue_wait >= 0")
        self.app = app
        self.max_in_flight = max_in_flight
        self.max_queue_wait = max_queue_wait
        self.exempt_paths = frozenset(exempt_paths)
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._shedding = False
        self._headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(OVERLOADED_BODY)).encode()),
            (b"retry-after", str(retry_after).encode()),
            (b"cache-control", b"no-store"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        # While requests wait, every slot is taken: a slot that frees goes straight to a waiter.
        if self.in_flight < self.max_in_flight:
            self.in_flight += 1
        elif not await self._wait_for_slot():
            await self._shed(send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._release()

    async def _wait_for_slot(self) -> bool:
        if self.max_queue_wait == 0:
            return False
        waiters = self._waiters
        # Waiters give up in arrival order, so the ones that left sit at the front.
        while waiters and waiters[0].done():
            waiters.popleft()
        waiter = asyncio.get_running_loop().create_future()
        waiters.append(waiter)
        try:
            async with asyncio.timeout(self.max_queue_wait):
                await waiter
        except TimeoutError:
            # A slot handed over just as the timer fired is ours all the same.
            waiter.cancel()
            return not waiter.cancelled()
        except asyncio.CancelledError:
            waiter.cancel()
            if not waiter.cancelled():
                self._release()
            raise
        return True

    def _release(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.in_flight -= 1
        self._shedding = False

    async def _shed(self, send: Send) -> None:
        metrics.load_shed()
        if not self._shedding:
            self._shedding = True
            log.warning(
                "overloaded_shedding_requests",
                max_in_flight=self.max_in_flight,
                max_queue_ms=round(self.max_queue_wait * 1000),
            )
        await send({"type": "http.response.start", "status": 503, "headers": list(self._headers)})
        await send({"type": "http.response.body", "body": OVERLOADED_BODY})


TOO_MANY_IN_FLIGHT = "Too many requests in progress from your address; wait for them to finish"


class ClientConcurrencyMiddleware:
    """At most `max_per_client` requests in progress per client address (IPv6: per /64).

    The next one gets an immediate 429 `rate_limited` with `Retry-After: 1`, so one address can
    never hold the server's capacity, however slowly it sends or reads. Only addresses with a
    request in progress take memory. Exempt paths (health checks) are not counted.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_per_client: int,
        exempt_prefixes: tuple[str, ...] = ("/api/v1/health",),
    ) -> None:
        if max_per_client < 1:
            raise ValueError("max_per_client must be >= 1")
        self.app = app
        self.max_per_client = max_per_client
        self.exempt_prefixes = tuple(prefix.rstrip("/") for prefix in exempt_prefixes)
        self.in_flight: dict[str, int] = {}

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
        count = self.in_flight.get(subject, 0)
        if count >= self.max_per_client:
            metrics.rate_limit_refused("client_in_flight")
            response = error_response(429, TOO_MANY_IN_FLIGHT, "rate_limited", {"Retry-After": "1"})
            await response(scope, receive, send)
            return
        self.in_flight[subject] = count + 1
        try:
            await self.app(scope, receive, send)
        finally:
            remaining = self.in_flight[subject] - 1
            if remaining:
                self.in_flight[subject] = remaining
            else:
                del self.in_flight[subject]
