"""Prometheus metrics: what each part of the product records, and `proveo serve` with two workers
answering one scrape for both on an address of its own (never the public port)."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import structlog
import yaml
from fastapi import APIRouter, FastAPI
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from proveo.companies.service import ImageRefused, store_image
from proveo.config import Settings
from proveo.core import metrics
from proveo.core.cache import Cache
from proveo.core.db import Database
from proveo.core.metrics import DatabaseSampler, MetricsMiddleware
from proveo.core.overload import ClientConcurrencyMiddleware, LoadSheddingMiddleware
from proveo.core.ratelimit import LimitKind, RateLimiter
from proveo.core.workers import STOP_GRACE_SECONDS
from proveo.imaging.errors import ImagesBusy, UnsupportedImage
from proveo.imaging.pool import Pipeline
from proveo.integrations.storage import LocalImageStorage
from proveo.integrations.translation import NoTranslator
from proveo.jobs.registry import JobContext, JobRegistry, PythonJob
from proveo.jobs.scheduler import JobScheduler
from tests.companies.support import ScoredAnalyser
from tests.fixtures.servers import (
    free_port,
    output_tail,
    proveo_command,
    proveo_env,
    running_image_service,
    serve_log_path,
)
from tests.imaging.images import drawing, encode
from tests.test_cli import _holds_socket, _listening_socket_inode, _workers_of

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
LOGO = encode(drawing((320, 240)), "PNG")


@pytest.fixture(autouse=True)
def _loggers_left_uncached() -> Iterator[None]:
    """These tests make jobs, shedding and images log. structlog caches a module's logger on its
    first use, with the processors configured then; the next app's `configure_logging` replaces
    them, and a later test's `capture_logs` would no longer see that module's lines."""
    cached = structlog.get_config()["cache_logger_on_first_use"]
    structlog.configure(cache_logger_on_first_use=False)
    yield
    structlog.configure(cache_logger_on_first_use=cached)


def _value(sample: str, /, **labels: str) -> float:
    """A sample of this process's metrics (0 when the series does not exist yet)."""
    return REGISTRY.get_sample_value(sample, labels) or 0.0


def _requests(method: str, route: str, status: str) -> float:
    return _value("proveo_http_requests_total", method=method, route=route, status=status)


def _exposition() -> str:
    return generate_latest(REGISTRY).decode()


async def _eventually(check: Callable[[], bool], what: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


def _wait_until(check: Callable[[], bool], what: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


class TestRequestLabels:
    """The real app in process: the route label is the matched route's template."""

    async def test_a_route_is_labelled_by_its_template_never_its_path(
        self, client: httpx.AsyncClient
    ) -> None:
        company = uuid4()
        template = "/api/v1/companies/{company_uuid}"
        before = _requests("GET", template, "4xx")
        assert (await client.get(f"/api/v1/companies/{company}")).status_code == 404
        assert _requests("GET", template, "4xx") == before + 1
        assert str(company) not in _exposition()

    async def test_head_counts_under_the_get_route_it_runs(self, client: httpx.AsyncClient) -> None:
        before = _requests("HEAD", "/api/v1/health/", "2xx")
        assert (await client.head("/api/v1/health/")).status_code == 200
        assert _requests("HEAD", "/api/v1/health/", "2xx") == before + 1

    @pytest.mark.parametrize(
        ("path", "route", "status"),
        [
            ("/api/v1/no-such-thing", "unmatched", "4xx"),
            ("/api/v1/health", "unmatched", "3xx"),  # the slash redirect
            ("/", "/{path}", "2xx"),  # the front end's files: one label for them all
            ("/metrics", "/{path}", "4xx"),  # the public app has no metrics
        ],
    )
    async def test_other_requests_share_fixed_labels(
        self, client: httpx.AsyncClient, path: str, route: str, status: str
    ) -> None:
        before = _requests("GET", route, status)
        response = await client.get(path)
        assert f"{response.status_code // 100}xx" == status
        assert _requests("GET", route, status) == before + 1

    async def test_methods_outside_http_share_one_label(self, client: httpx.AsyncClient) -> None:
        before = _requests("other", "/api/v1/health/", "4xx")
        assert (await client.request("BREW", "/api/v1/health/")).status_code == 405
        assert _requests("other", "/api/v1/health/", "4xx") == before + 1


def _status_app() -> FastAPI:
    """Routes answering each status class, in an included router with a prefix."""
    router = APIRouter(prefix="/probe")

    @router.get("/ok/{item}")
    async def ok(item: int) -> Response:
        return PlainTextResponse(str(item))

    @router.get("/moved")
    async def moved() -> Response:
        return RedirectResponse("/probe/ok/1")

    @router.get("/busy")
    async def busy() -> Response:
        return PlainTextResponse("busy", status_code=503)

    @router.get("/boom")
    async def boom() -> Response:
        raise RuntimeError("boom")

    app = FastAPI()
    app.include_router(router, prefix="/metrics-test")
    app.add_middleware(MetricsMiddleware, routes=lambda: app.routes)
    return app


class TestStatusClasses:
    @pytest.mark.parametrize(
        ("path", "route", "status"),
        [
            ("/ok/7", "/ok/{item}", "2xx"),
            ("/moved", "/moved", "3xx"),
            ("/ok/seven", "/ok/{item}", "4xx"),
            ("/busy", "/busy", "5xx"),
            ("/boom", "/boom", "5xx"),  # raised: the server's 500
        ],
    )
    async def test_each_answer_counts_once_in_its_class_and_is_timed(
        self, path: str, route: str, status: str
    ) -> None:
        route = "/metrics-test/probe" + route
        duration = "proveo_http_request_duration_seconds_count"
        before = _requests("GET", route, status)
        timed = _value(duration, method="GET", route=route, status=status)
        transport = httpx.ASGITransport(app=_status_app(), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/metrics-test/probe" + path)
        assert f"{response.status_code // 100}xx" == status
        assert _requests("GET", route, status) == before + 1
        assert _value(duration, method="GET", route=route, status=status) == timed + 1


class TestRecording:
    async def test_cache_hits_and_misses(self) -> None:
        cache = Cache(None)
        hits, misses = (
            _value("proveo_cache_lookups_total", result="hit"),
            _value("proveo_cache_lookups_total", result="miss"),
        )
        assert await cache.get_bytes("metrics-test") is None
        await cache.set_bytes("metrics-test", b"x")
        assert await cache.get_bytes("metrics-test") == b"x"
        assert _value("proveo_cache_lookups_total", result="hit") == hits + 1
        assert _value("proveo_cache_lookups_total", result="miss") == misses + 1

    async def test_rate_limit_refusals_by_kind(self) -> None:
        limiter = RateLimiter(None)
        before = _value("proveo_rate_limit_refusals_total", kind="emails")
        for allowed in (True, False, False):
            result = await limiter.hit("metrics-test", limit=1, window=60, kind=LimitKind.EMAILS)
            assert result.allowed is allowed
        assert _value("proveo_rate_limit_refusals_total", kind="emails") == before + 2

    @pytest.mark.parametrize("cap", ["shedding", "per_client"])
    async def test_shedding_and_the_per_client_cap(self, cap: str) -> None:
        release = asyncio.Event()

        async def slow(scope: Any, receive: Any, send: Any) -> None:
            await release.wait()
            await PlainTextResponse("done")(scope, receive, send)

        middleware: LoadSheddingMiddleware | ClientConcurrencyMiddleware
        if cap == "shedding":
            middleware = LoadSheddingMiddleware(slow, max_in_flight=1, max_queue_wait=0)
            sample, labels, refused_with = "proveo_load_shed_total", {}, 503
        else:
            middleware = ClientConcurrencyMiddleware(slow, max_per_client=1)
            sample, labels = "proveo_rate_limit_refusals_total", {"kind": "client_in_flight"}
            refused_with = 429
        before = _value(sample, **labels)
        transport = httpx.ASGITransport(app=middleware)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            first = asyncio.create_task(client.get("/work"))
            await _eventually(lambda: bool(middleware.in_flight), "the first never started")
            assert (await client.get("/work")).status_code == refused_with
            release.set()
            assert (await first).status_code == 200
        assert _value(sample, **labels) == before + 1

    async def test_reads_that_leave_the_replica_are_counted(self, database_dsn: str) -> None:
        nowhere = f"postgresql://proveo@127.0.0.1:{free_port()}/nothing"
        database = Database(database_dsn, nowhere, min_size=0, max_size=2, connect_timeout=1)
        await database.open()
        try:
            before = _value("proveo_db_replica_fallbacks_total", reason="unavailable")
            for _ in range(2):  # the replica fails, then is skipped during its backoff
                async with database.read_transaction() as conn:
                    assert await conn.fetchval("SELECT 1") == 1
            assert _value("proveo_db_replica_fallbacks_total", reason="unavailable") == before + 2
            assert await database.replica_lag_seconds() is None  # no replica pool to ask
        finally:
            await database.close()

    async def test_the_pools_are_sampled(self, database: Database) -> None:
        async with database.transaction():
            DatabaseSampler(database).sample_pools()
            primary = database.stats()["primary"]
            assert _value("proveo_db_pool_in_use", pool="primary") >= 1
            assert _value("proveo_db_pool_size", pool="primary") == primary["size"]
            assert _value("proveo_db_pool_max_size", pool="primary") == primary["max_size"]

    async def test_searches_and_suggestions_are_timed(self, client: httpx.AsyncClient) -> None:
        counts = {
            kind: _value("proveo_search_duration_seconds_count", kind=kind)
            for kind in ("search", "suggest")
        }
        assert (await client.get("/api/v1/companies/search", params={"q": "gasfiter"})).is_success
        suggested = await client.get("/api/v1/companies/search/suggest", params={"q": "gas"})
        assert suggested.is_success
        for kind, count in counts.items():
            assert _value("proveo_search_duration_seconds_count", kind=kind) == count + 1

    async def test_image_decisions_refusals_and_pipeline_time(self, tmp_path: Path) -> None:
        storage = LocalImageStorage(tmp_path)
        decisions = {
            d: _value("proveo_image_decisions_total", decision=d)
            for d in ("accepted", "held", "rejected")
        }
        analysed = _value("proveo_image_pipeline_seconds_count")
        refused = _value("proveo_image_refusals_total", code="unsupported_image")
        for score in (0.05, 0.5):  # accepted, held
            await store_image(ScoredAnalyser(score), storage, LOGO)
        with pytest.raises(ImageRefused):
            await store_image(ScoredAnalyser(0.95), storage, LOGO)
        with pytest.raises(UnsupportedImage):
            await store_image(ScoredAnalyser(), storage, b"GIF89a not a logo")
        for decision, count in decisions.items():
            assert _value("proveo_image_decisions_total", decision=decision) == count + 1
        assert _value("proveo_image_refusals_total", code="unsupported_image") == refused + 1
        assert _value("proveo_image_pipeline_seconds_count") == analysed + 4

    async def test_an_image_over_its_wall_budget_is_counted(self) -> None:
        pipeline = Pipeline(1, wall_seconds=0.001)
        before = _value("proveo_image_over_budget_total", budget="wall")
        try:
            with pytest.raises(ImagesBusy):  # the machine, not the file, was too slow
                await pipeline.analyse(LOGO)
        finally:
            await pipeline.close()
        assert _value("proveo_image_over_budget_total", budget="wall") == before + 1

    async def test_job_runs_and_failures_by_name(
        self, database: Database, settings: Settings
    ) -> None:
        async def fine(_: JobContext) -> str:
            return "ok"

        async def broken(_: JobContext) -> None:
            raise RuntimeError("boom")

        def runs(name: str, outcome: str) -> float:
            return _value("proveo_job_runs_total", name=name, outcome=outcome)

        context = JobContext(
            database=database,
            storage=LocalImageStorage(settings.images_dir),
            translator=NoTranslator(),
            settings=settings,
        )
        jobs = [PythonJob("metrics-fine", 0.05, fine), PythonJob("metrics-broken", 0.05, broken)]
        scheduler = JobScheduler(JobRegistry(jobs), context)
        before = runs("metrics-fine", "ran"), runs("metrics-broken", "failed")
        scheduler.start()
        try:
            assert runs("metrics-broken", "ran") == 0  # every outcome exists from the start
            await _eventually(
                lambda: (
                    runs("metrics-fine", "ran") > before[0]
                    and runs("metrics-broken", "failed") > before[1]
                ),
                "the jobs did not run",
            )
        finally:
            await scheduler.stop()

    def test_a_backup_success_moves_the_gauge_forward_only(self) -> None:
        gauge = "proveo_backup_last_success_timestamp_seconds"
        try:
            metrics.record_backup_success(1_800_000_000.0)
            metrics.record_backup_success(1_700_000_000.0)  # an older run, recorded late
            assert _value(gauge) == 1_800_000_000.0
            metrics.set_backup_last_success(1_600_000_000.0)  # as read from the database
            assert _value(gauge) == 1_600_000_000.0
        finally:
            metrics.set_backup_last_success(0.0)


# --- `proveo serve` with two workers --------------------------------------------------------


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    metrics_port: int
    log_path: Path
    tmp_dir: Path

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def scrape(self) -> dict[str, list[Any]]:
        response = httpx.get(self.metrics_url, timeout=10)
        response.raise_for_status()
        return {
            family.name: family.samples for family in text_string_to_metric_families(response.text)
        }

    def logged_requests(self) -> dict[str, int]:
        """Request id -> the worker that answered it, from the access log."""
        workers = {}
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{") and '"event": "request"' in line:
                entry = json.loads(line)
                workers[entry["request_id"]] = entry["worker"]
        return workers


def _sum(families: dict[str, list[Any]], sample_name: str, **labels: str) -> float:
    """The sum of a scrape's samples of that name with those labels (and any others)."""
    return float(
        sum(
            sample.value
            for samples in families.values()
            for sample in samples
            if sample.name == sample_name and labels.items() <= sample.labels.items()
        )
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data_dir = tmp_path_factory.mktemp("metrics-serve")
    tmp_dir = tmp_path_factory.mktemp("metrics-tmp")  # where the workers' files go
    port, metrics_port = free_port(), free_port()
    env = proveo_env(
        data_dir, port,
        PROVEO_WORKERS="2", PROVEO_METRICS_PORT=str(metrics_port), PROVEO_SEED_DEMO="false",
        PROVEO_LOG_FORMAT="json", PROVEO_LOG_LEVEL="INFO", TMPDIR=str(tmp_dir),
    )  # fmt: skip
    log_path = serve_log_path(data_dir, port)
    with open(log_path, "wb") as output:
        process = subprocess.Popen(
            proveo_command("serve"), env=env, stdin=subprocess.DEVNULL, stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    served = Served(process, f"http://127.0.0.1:{port}", metrics_port, log_path, tmp_dir)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{served.url}/api/v1/health/database", timeout=2).is_success:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, output_tail(log_path)
            assert time.monotonic() < deadline, output_tail(log_path)
            time.sleep(0.1)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_GRACE_SECONDS + 30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _get_each_on_a_new_connection(url: str, request_ids: list[str]) -> None:
    """At once, each on a connection of its own (the kernel gives each to one worker)."""

    def one(request_id: str) -> int:
        return httpx.get(url, headers={"X-Request-ID": request_id}, timeout=30).status_code

    with ThreadPoolExecutor(len(request_ids)) as pool:
        assert set(pool.map(one, request_ids)) == {200}


class TestTwoWorkers:
    def test_one_scrape_counts_the_requests_of_both_workers(self, served: Served) -> None:
        route = "/api/v1/communes/"
        sent: list[str] = []
        # The kernel hands each new connection to one worker: send until both have answered.
        deadline = time.monotonic() + 120
        while True:
            batch = [f"metrics-{uuid4().hex}" for _ in range(8)]
            _get_each_on_a_new_connection(served.url + route, batch)
            sent += batch
            answered = served.logged_requests()
            if {answered.get(request_id) for request_id in sent} == {0, 1}:
                break
            assert time.monotonic() < deadline, f"one worker answered all {len(sent)}"
        per_worker = [
            sum(1 for request_id in sent if answered[request_id] == worker) for worker in (0, 1)
        ]
        assert all(0 < count < len(sent) for count in per_worker)

        def total() -> float:
            return _sum(served.scrape(), "proveo_http_requests_total", method="GET", route=route)

        # Counted as each answer ends, so a scrape right after may run a moment ahead.
        _wait_until(lambda: total() >= len(sent), "the scrape missed requests")
        assert total() == len(sent)  # so both workers' counts, summed
        timed = _sum(served.scrape(), "proveo_http_request_duration_seconds_count", route=route)
        assert timed == len(sent)

    def test_routes_are_templates_and_answers_come_by_status_class(self, served: Served) -> None:
        company = uuid4()
        with httpx.Client(base_url=served.url, timeout=30) as client:
            assert client.get(f"/api/v1/companies/{company}").status_code == 404
            assert client.get("/api/v1/health").status_code == 307
            assert client.get("/api/v1/products/").status_code == 200
        expected = [
            ("/api/v1/companies/{company_uuid}", "4xx"),
            ("unmatched", "3xx"),
            ("/api/v1/products/", "2xx"),
        ]

        def counted() -> bool:
            families = served.scrape()
            return all(
                _sum(families, "proveo_http_requests_total", route=route, status=status) >= 1
                for route, status in expected
            )

        _wait_until(counted, "a request was not counted under its template and class")
        assert str(company) not in httpx.get(served.metrics_url, timeout=10).text

    def test_the_public_port_does_not_serve_metrics(self, served: Served) -> None:
        response = httpx.get(f"{served.url}/metrics", timeout=10)
        assert response.status_code == 404
        assert "proveo_http_requests_total" not in response.text

    def test_only_the_parent_holds_the_metrics_port(self, served: Served) -> None:
        listening = _listening_socket_inode(served.metrics_port)
        workers = _workers_of(served.process.pid)
        assert len(workers) == 2
        assert _holds_socket(served.process.pid, listening)
        assert not any(_holds_socket(pid, listening) for pid in workers)

    def test_the_workers_write_to_one_private_directory(self, served: Served) -> None:
        [directory] = served.tmp_dir.glob("proveo-metrics-*")
        assert directory.stat().st_mode & 0o777 == 0o700
        pids = {int(p.stem.rsplit("_", 1)[1]) for p in directory.glob("counter_*.db")}
        assert set(_workers_of(served.process.pid)) <= pids

    def test_every_metric_of_the_alerts_and_the_dashboard_is_exported(self, served: Served) -> None:
        used = _metric_names(_alert_expressions() + _dashboard_expressions())
        assert len(used) >= 15  # the extraction found them
        families = served.scrape()
        exported = {sample.name for samples in families.values() for sample in samples}
        assert used - exported == set()

    def test_stopping_removes_the_workers_files(self, served: Served) -> None:
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(timeout=STOP_GRACE_SECONDS + 30) == 0
        assert list(served.tmp_dir.glob("proveo-metrics-*")) == []


_METRIC_NAME = re.compile(r"\bproveo_[a-z0-9_]+")


def _metric_names(expressions: list[str]) -> set[str]:
    return {name for expression in expressions for name in _METRIC_NAME.findall(expression)}


def _alert_expressions() -> list[str]:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def _dashboard_expressions() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "proveo-dashboard.json").read_text())

    def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for panel in items:
            yield panel
            yield from panels(panel.get("panels", []))

    return [
        target["expr"]
        for panel in panels(dashboard["panels"])
        for target in panel.get("targets", [])
    ]


class TestDeployFiles:
    def test_every_alert_has_a_severity_and_a_summary(self) -> None:
        rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
        names = []
        for rule in rules["groups"][0]["rules"]:
            names.append(rule["alert"])
            assert rule["labels"]["severity"] in {"warning", "critical"}
            assert rule["annotations"]["summary"]
        assert {
            "ProveoHigh5xxRatio", "ProveoSlowReads", "ProveoReplicaFallbacks",
            "ProveoReplicaLagging", "ProveoBackupTooOld", "ProveoLoadShedding",
        } <= set(names)  # fmt: skip

    def test_the_scrape_config_loads_the_alerts_and_scrapes_both_metrics_ports(self) -> None:
        config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
        assert config["rule_files"] == ["alerts.yml"]
        targets = {
            target
            for job in config["scrape_configs"]
            for static in job.get("static_configs", [])
            for target in static["targets"]
        }
        assert targets == {"api:9100", "image-service:9101"}

    def test_the_dashboard_panels_use_the_chosen_datasource(self) -> None:
        dashboard = json.loads((DEPLOY / "grafana" / "proveo-dashboard.json").read_text())
        assert dashboard["uid"] == "proveo-overview"
        for panel in dashboard["panels"]:
            if panel["type"] != "row":
                assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
                assert panel["targets"], panel["title"]


class TestImageService:
    async def test_serves_its_own_metrics_on_its_own_port(self, tmp_path: Path) -> None:
        metrics_port = free_port()
        with running_image_service(
            tmp_path / "service.log",
            PROVEO_IMAGE_WORKERS="1",
            PROVEO_IMAGE_SERVICE_METRICS_PORT=str(metrics_port),
        ) as service:
            async with httpx.AsyncClient(base_url=service.url, timeout=60) as client:
                analysed = await client.post("/v1/analyse", content=LOGO)
                assert analysed.status_code == 200
                assert (await client.get("/metrics")).status_code == 404

                async def scraped() -> dict[str, list[Any]]:
                    response = await client.get(f"http://127.0.0.1:{metrics_port}/metrics")
                    return {
                        f.name: f.samples for f in text_string_to_metric_families(response.text)
                    }

                deadline = time.monotonic() + 30
                while True:
                    families = await scraped()
                    counted = _sum(families, "proveo_http_requests_total", route="/v1/analyse")
                    if counted == 1:
                        break
                    assert time.monotonic() < deadline, "the analysis was not counted"
                    await asyncio.sleep(0.05)
        assert _sum(families, "proveo_image_pipeline_seconds_count") == 1
