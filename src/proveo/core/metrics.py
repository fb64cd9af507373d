"""Prometheus metrics: what is measured, the small calls that record it, and the endpoint.

Code records through the functions below (`cache_lookup(hit=True)`, `job_ran(name, outcome)`,
`record_backup_success(timestamp)`), never through prometheus_client itself. The metrics are
built on first use in each process, with the label sets known in advance already at zero, so
that a scrape lists every family from the start.

They are served on an address of their own (`PROVEO_METRICS_HOST`, `PROVEO_METRICS_PORT`;
`PROVEO_IMAGE_SERVICE_METRICS_PORT` for the image service), never on the public port. With
`PROVEO_WORKERS` above 1, `proveo serve` calls `use_multiprocess` before anything records:
each worker then writes its values to files of its own in a private directory, and the parent,
which serves nothing else, sums them for every scrape (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any, NamedTuple, Protocol
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

import structlog
from fastapi.routing import iter_route_contexts
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, values
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.exposition import make_wsgi_app
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class SampledDatabase(Protocol):
    """What the pool sampler reads of `proveo.core.db.Database` (which records its replica
    fallbacks here: a Protocol keeps the two modules out of an import cycle)."""

    @property
    def replica_configured(self) -> bool: ...

    def stats(self) -> dict[str, Any]: ...

    async def replica_lag_seconds(self) -> float | None: ...


log = structlog.get_logger(__name__)

# The route label of a request that no route matched (an unknown /api path, a slash redirect).
UNMATCHED = "unmatched"
# Client-chosen methods outside this set share one label value, so that none can add series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"
# `none`: the client left before any answer started (its body never arrived).
STATUS_CLASSES = {0: "none", 1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}

HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SEARCH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
IMAGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)

CACHE_RESULTS = ("hit", "miss")
# `unavailable`: the replica failed or is skipped for PROVEO_REPLICA_RETRY_SECONDS after a
# failure; `busy`: none of its connections freed up within a second.
FALLBACK_REASONS = ("unavailable", "busy")
# core.ratelimit.LimitKind's values, and the per-client cap on requests in progress.
RATE_LIMIT_KINDS = ("requests", "clients", "accounts", "devices", "emails", "client_in_flight")
IMAGE_DECISIONS = ("accepted", "held", "rejected")
IMAGE_REFUSALS = (
    "image_too_large",
    "unsupported_image",
    "image_too_complex",
    "images_busy",
    "image_service_unavailable",
)
IMAGE_BUDGETS = ("cpu", "wall")
SEARCH_KINDS = ("search", "facets", "suggest")
JOB_OUTCOMES = ("ran", "locked", "delegated", "failed")
POOLS = ("primary", "replica")


class _Metrics:
    """Every metric of the process. Gauges say how the parent combines the workers' values."""

    def __init__(self) -> None:
        self.http_requests = Counter(
            "proveo_http_requests_total",
            "HTTP requests answered, by method, route template and status class",
            ("method", "route", "status"),
        )
        self.http_duration = Histogram(
            "proveo_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer",
            ("method", "route", "status"),
            buckets=HTTP_BUCKETS,
        )
        self.pool_size = Gauge(
            "proveo_db_pool_size",
            "Open connections in the database pools",
            ("pool",),
            multiprocess_mode="livesum",
        )
        self.pool_in_use = Gauge(
            "proveo_db_pool_in_use",
            "Pooled database connections lent out",
            ("pool",),
            multiprocess_mode="livesum",
        )
        self.pool_max_size = Gauge(
            "proveo_db_pool_max_size",
            "The most connections the database pools may open",
            ("pool",),
            multiprocess_mode="livesum",
        )
        self.replica_lag = Gauge(
            "proveo_db_replica_lag_seconds",
            "How far the replica's replay is behind (0 when it has replayed all it received)",
            multiprocess_mode="livemax",
        )
        replica_fallbacks = Counter(
            "proveo_db_replica_fallbacks_total",
            "Reads meant for the replica that ran on the primary",
            ("reason",),
        )
        self.replica_fallbacks = {r: replica_fallbacks.labels(r) for r in FALLBACK_REASONS}
        cache = Counter("proveo_cache_lookups_total", "Cache lookups, by result", ("result",))
        self.cache_hit, self.cache_miss = (cache.labels(result) for result in CACHE_RESULTS)
        rate_limits = Counter(
            "proveo_rate_limit_refusals_total", "Requests refused by a rate limit", ("kind",)
        )
        self.rate_limit_refusals = {kind: rate_limits.labels(kind) for kind in RATE_LIMIT_KINDS}
        self.rate_limit_family = rate_limits
        self.load_shed = Counter(
            "proveo_load_shed_total", "Requests shed with 503 overloaded (no slot in time)"
        )
        self.image_pipeline = Histogram(
            "proveo_image_pipeline_seconds",
            "Image analyses (validate, re-encode, NSFW score) from arrival to answer, waiting "
            "for a slot included",
            buckets=IMAGE_BUCKETS,
        )
        decisions = Counter(
            "proveo_image_decisions_total", "Uploads by the NSFW score's decision", ("decision",)
        )
        self.image_decisions = {d: decisions.labels(d) for d in IMAGE_DECISIONS}
        self.image_refusals = Counter(
            "proveo_image_refusals_total", "Uploads refused before scoring, by code", ("code",)
        )
        for code in IMAGE_REFUSALS:
            self.image_refusals.labels(code)
        over_budget = Counter(
            "proveo_image_over_budget_total",
            "Image workers killed past an image's CPU or wall-clock budget",
            ("budget",),
        )
        self.image_over_budget = {b: over_budget.labels(b) for b in IMAGE_BUDGETS}
        search = Histogram(
            "proveo_search_duration_seconds",
            "Searches, facet counts and suggestions answered, cached ones included",
            ("kind",),
            buckets=SEARCH_BUCKETS,
        )
        self.search_duration = {kind: search.labels(kind) for kind in SEARCH_KINDS}
        # `name`, not `job`: Prometheus gives every series the scrape job's `job` label.
        self.job_runs = Counter(
            "proveo_job_runs_total",
            "Scheduled job runs, by job name and outcome",
            ("name", "outcome"),
        )
        self.backup_last_success = Gauge(
            "proveo_backup_last_success_timestamp_seconds",
            "When the last successful backup finished (Unix time; 0 before the first)",
            multiprocess_mode="max",
        )
        self.backup_timestamp = 0.0


_metrics: _Metrics | None = None
_multiprocess_dir: Path | None = None


def metrics() -> _Metrics:
    """This process's metrics, built on first use."""
    global _metrics
    if _metrics is None:
        _metrics = _Metrics()
    return _metrics


# --- The recording API ---------------------------------------------------------------------


def cache_lookup(*, hit: bool) -> None:
    m = metrics()
    (m.cache_hit if hit else m.cache_miss).inc()


def replica_fallback(reason: str) -> None:
    metrics().replica_fallbacks[reason].inc()


def rate_limit_refused(kind: str) -> None:
    m = metrics()
    child = m.rate_limit_refusals.get(kind)
    (child or m.rate_limit_family.labels(kind)).inc()


def load_shed() -> None:
    metrics().load_shed.inc()


def image_analysed(seconds: float) -> None:
    metrics().image_pipeline.observe(seconds)


def image_decided(decision: str) -> None:
    metrics().image_decisions[decision].inc()


def image_refused(code: str) -> None:
    metrics().image_refusals.labels(code).inc()


def image_over_budget(budget: str) -> None:
    metrics().image_over_budget[budget].inc()


def search_answered(kind: str, seconds: float) -> None:
    metrics().search_duration[kind].observe(seconds)


def jobs_known(names: Iterable[str]) -> None:
    """Every job's outcomes at zero, so that a failure is a rise from zero, not a new series."""
    runs = metrics().job_runs
    for name in names:
        for outcome in JOB_OUTCOMES:
            runs.labels(name, outcome)


def job_ran(name: str, outcome: str) -> None:
    metrics().job_runs.labels(name, outcome).inc()


def record_backup_success(timestamp: float) -> None:
    """A backup finished successfully at `timestamp` (Unix seconds). The gauge never moves back:
    an older run recorded late leaves it alone."""
    m = metrics()
    if timestamp > m.backup_timestamp:
        set_backup_last_success(timestamp)


def set_backup_last_success(timestamp: float) -> None:
    """Set the last successful backup's time as it is, e.g. read from the database at start."""
    m = metrics()
    m.backup_timestamp = timestamp
    m.backup_last_success.set(timestamp)


def pool_sampled(pool: str, *, size: int, in_use: int, max_size: int) -> None:
    m = metrics()
    m.pool_size.labels(pool).set(size)
    m.pool_in_use.labels(pool).set(in_use)
    m.pool_max_size.labels(pool).set(max_size)


def replica_lag_sampled(seconds: float) -> None:
    metrics().replica_lag.set(seconds)


# --- HTTP requests -------------------------------------------------------------------------


class _HttpSeries(NamedTuple):
    count: Any  # the children of the two families for one label set
    duration: Any


class MetricsMiddleware:
    """Counts and times every HTTP request by method, route template and status class.

    The route is the template of the route that answered (`/api/v1/companies/{company_uuid}`),
    never the raw path, so the series stay as few as the routes; a request no route matched is
    `unmatched`. Routing records the route in the scope, which this reads after the answer:
    included routers keep their routes' own paths, so the full template comes from the app's
    routes (`routes()`), looked up once per route object. A request costs two dictionary
    lookups and the three writes of a counter and a histogram.
    """

    def __init__(self, app: ASGIApp, *, routes: Callable[[], Sequence[BaseRoute]]) -> None:
        self.app = app
        self.routes = routes
        self._by_route: dict[int, str] = {}
        self._by_endpoint: dict[int, str] = {}
        self._series: dict[tuple[str, str, str], _HttpSeries] = {}
        metrics()  # every family exists from the first scrape

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        except BaseException:
            status = status or 500  # the server's error handler answers 500
            raise
        finally:
            method = scope["method"]
            key = (
                method if method in METHODS else OTHER_METHOD,
                self._template(scope),
                STATUS_CLASSES.get(status // 100, "other"),
            )
            series = self._series.get(key) or self._new_series(key)
            series.count.inc()
            series.duration.observe(time.perf_counter() - started)

    def _new_series(self, key: tuple[str, str, str]) -> _HttpSeries:
        m = metrics()
        series = _HttpSeries(m.http_requests.labels(*key), m.http_duration.labels(*key))
        self._series[key] = series
        return series

    def _template(self, scope: Scope) -> str:
        # API routes name themselves in the scope; other routes and mounts only their endpoint.
        route = scope.get("route")
        if route is not None:
            return self._by_route.get(id(route)) or self._learn(route, self._by_route)
        endpoint = scope.get("endpoint")
        if endpoint is not None:
            return self._by_endpoint.get(id(endpoint)) or self._learn(endpoint, self._by_endpoint)
        return UNMATCHED

    def _learn(self, found: object, known: dict[int, str]) -> str:
        """Map every route (and endpoint) to its full template; routers are included lazily,
        so this runs when a route is first seen. A route included twice keeps its first path."""
        for context in iter_route_contexts(self.routes()):
            path = context.path_format
            if path is None:
                continue
            original = context.original_route
            self._by_route.setdefault(id(original), path)
            endpoint = original.app if isinstance(original, Mount) else context.endpoint
            if endpoint is not None:
                self._by_endpoint.setdefault(id(endpoint), path)
        template = known.get(id(found)) or getattr(found, "path_format", None) or UNMATCHED
        known[id(found)] = template
        return template


# --- Database pools, sampled -----------------------------------------------------------------

POOL_SAMPLE_SECONDS = 1.0
REPLICA_LAG_SAMPLE_SECONDS = 15.0


class DatabaseSampler:
    """Copies the pools' use into the gauges every second, and the replica's lag every 15 s.

    Sampled rather than counted on every acquire: nothing is added to a request's path, and
    a scrape every 15 s reads a value at most a second old.
    """

    def __init__(
        self,
        database: SampledDatabase,
        *,
        every: float = POOL_SAMPLE_SECONDS,
        lag_every: float = REPLICA_LAG_SAMPLE_SECONDS,
    ) -> None:
        self.database = database
        self.every = every
        self.lag_every = lag_every
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="metrics:database")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def sample_pools(self) -> None:
        stats = self.database.stats()
        pools = {
            "primary": stats["primary"],
            "primary-search": stats["primary_search"],
            "replica": stats["replica"].get("pool"),
            "replica-search": stats["replica"].get("search_pool"),
        }
        for name, pool in pools.items():
            if pool is None:
                if name.startswith("primary") or self.database.replica_configured:
                    pool_sampled(name, size=0, in_use=0, max_size=0)
                continue
            pool_sampled(
                name,
                size=pool["size"],
                in_use=pool["size"] - pool["idle"],
                max_size=pool["max_size"],
            )

    async def _run(self) -> None:
        next_lag = time.monotonic()
        while True:
            try:
                self.sample_pools()
                if self.database.replica_configured and time.monotonic() >= next_lag:
                    next_lag = time.monotonic() + self.lag_every
                    lag = await self.database.replica_lag_seconds()
                    if lag is not None:
                        replica_lag_sampled(lag)
            except Exception:  # a sample must never end the sampling
                log.exception("metrics_sample_failed")
            await asyncio.sleep(self.every)


# --- Several processes, one scrape ----------------------------------------------------------


def use_multiprocess(directory: Path) -> None:
    """Keep every metric of this process, and of the processes it forks, in files under
    `directory`, one set per process. Call it before any metric exists in this process.

    prometheus_client picks its value store when it is imported, from PROMETHEUS_MULTIPROC_DIR;
    Proveo's modules import it before the directory exists, so the store is switched here,
    which is what that variable would have done.
    """
    global _multiprocess_dir
    if _metrics is not None:
        raise RuntimeError("metrics already exist in this process: switch before recording")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    _multiprocess_dir = directory


@contextlib.contextmanager
def multiprocess_registry() -> Iterator[CollectorRegistry]:
    """A fresh private directory (mode 0700, under TMPDIR) for the workers' files, and the
    registry that sums them; the directory is removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="proveo-metrics-"))
    try:
        use_multiprocess(directory)
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(  # type: ignore[no-untyped-call]
            registry, path=str(directory)
        )
        yield registry
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def process_exited(pid: int) -> None:
    """A worker ended: its `live` gauges (pool use, replica lag) leave the sums."""
    if _multiprocess_dir is not None:
        prometheus_multiprocess.mark_process_dead(  # type: ignore[no-untyped-call]
            pid, str(_multiprocess_dir)
        )


# --- The endpoint ---------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # a scrape every 15 s is not worth a log line


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily) -> None:
        self.address_family = family
        super().__init__(address, _QuietHandler)


class Endpoint:
    """The metrics over HTTP on their own address, from a thread of this process.

    The socket is bound when this is made (a busy port fails first, as the server's does);
    `start` serves it. A forked worker calls `forget` to close its copy: only the process that
    started it serves it.
    """

    def __init__(self, host: str, port: int, registry: CollectorRegistry | None = None) -> None:
        """`registry`: the one that sums the workers' files, else this process's own."""
        family, _, _, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        self._server = _Server((str(address[0]), int(address[1])), family)
        self._server.set_app(make_wsgi_app(registry or REGISTRY))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/metrics"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics", daemon=True
        )
        self._thread.start()
        log.info("metrics_serving", url=self.url)

    def forget(self) -> None:
        self._server.socket.close()

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread = None
        self._server.server_close()
