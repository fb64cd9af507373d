"""What the metrics add to a request: the middleware alone, around an app that answers at once.

    .venv/bin/python bench/metrics.py

A request goes through `MetricsMiddleware` (route lookup, a counter, a histogram) into a bare
ASGI app, called directly with no server and no network, so only the middleware's cost differs
between the rows. The same runs again with prometheus-client's multiprocess mode (what
`proveo serve` uses with PROVEO_WORKERS above 1: values in memory-mapped files), in a child
process of its own, since that mode is chosen before any metric exists. The figures are CPU
time per request (process time), which other load on the machine hardly changes; the best of
several rounds is printed.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = 20_000
ROUNDS = 5


async def _answer(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _measure() -> tuple[float, float]:
    """CPU microseconds per request: bare, and through the metrics middleware."""
    from starlette.routing import Route

    from proveo.core.metrics import MetricsMiddleware

    route = Route("/api/v1/communes/", _answer)
    routes = [route]

    async def routed(scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = route  # as the router leaves it
        await _answer(scope, receive, send)

    async def run(app: ASGIApp) -> float:
        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(_: Message) -> None:
            return None

        best = float("inf")
        for _ in range(ROUNDS):
            started = time.process_time()
            for _ in range(REQUESTS):
                scope = {"type": "http", "method": "GET", "path": "/api/v1/communes/"}
                await app(scope, receive, send)
            best = min(best, (time.process_time() - started) / REQUESTS * 1e6)
        return best

    async def both() -> tuple[float, float]:
        bare = await run(routed)
        measured = await run(MetricsMiddleware(routed, routes=lambda: routes))
        return bare, measured

    return asyncio.run(both())


def main() -> None:
    if sys.argv[1:] == ["--multiprocess"]:
        from proveo.core import metrics

        with tempfile.TemporaryDirectory(prefix="proveo-bench-metrics-") as directory:
            metrics.use_multiprocess(Path(directory))
            bare, measured = _measure()
        print(f"{bare:.2f} {measured:.2f}")
        return
    rows = [("in memory (one worker)", *_measure())]
    child = subprocess.run(
        [sys.executable, __file__, "--multiprocess"], capture_output=True, text=True, check=True
    )
    bare, measured = (float(value) for value in child.stdout.split())
    rows.append(("multiprocess files (workers > 1)", bare, measured))
    print(f"{'metrics storage':<34} {'bare us/req':>12} {'with metrics':>13} {'added us/req':>13}")
    for name, bare, measured in rows:
        print(f"{name:<34} {bare:>12.2f} {measured:>13.2f} {measured - bare:>13.2f}")


if __name__ == "__main__":
    main()
