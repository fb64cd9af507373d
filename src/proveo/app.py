"""Application factory: `create_app(settings)` wires domains, middleware and shared resources."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from proveo import __version__
from proveo.accounts.deps import current_user, current_user_brief, session_claims
from proveo.accounts.router import pages_router as accounts_pages_router
from proveo.accounts.router import router as accounts_router
from proveo.admin.router import router as admin_router
from proveo.apidocs.router import docs_routes
from proveo.catalog.router import communes_router, products_router
from proveo.companies.router import router as companies_router
from proveo.config import DEVELOPMENT_SECRET_KEY, Settings
from proveo.core.cache import Cache
from proveo.core.csrf import CsrfMiddleware
from proveo.core.db import Database
from proveo.core.errors import install_error_handlers
from proveo.core.frontend import front_end
from proveo.core.inflight import InFlight
from proveo.core.logging import configure_logging
from proveo.core.metrics import DatabaseSampler, MetricsMiddleware
from proveo.core.middleware import (
    HeadAsGetMiddleware,
    RequestBodyMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
    SlashRedirectMiddleware,
)
from proveo.core.openapi import install_openapi, operation_id
from proveo.core.overload import (
    LIVENESS_PATHS,
    ClientConcurrencyMiddleware,
    LoadSheddingMiddleware,
)
from proveo.core.ratelimit import RateLimiter, RateLimitMiddleware
from proveo.core.security import configure_hashing_threads
from proveo.health.router import router as health_router
from proveo.images.router import router as images_router
from proveo.imaging.client import ImageAnalyser, build_image_analyser
from proveo.insights.recorder import InsightsRecorder
from proveo.insights.router import CONTACT_CLICK_CSRF_EXEMPT
from proveo.insights.router import admin_router as insights_admin_router
from proveo.insights.router import router as insights_router
from proveo.integrations.email import EmailSender, build_email_sender
from proveo.integrations.storage import ImageStorage, build_storage
from proveo.integrations.translation import Translator, build_translator
from proveo.jobs.registry import JobContext, JobRegistry, build_registry
from proveo.jobs.scheduler import JobScheduler
from proveo.moderation.router import router as moderation_router
from proveo.quotes.router import admin_router as quotes_admin_router
from proveo.quotes.router import provider_router as quotes_provider_router
from proveo.quotes.router import router as quotes_router
from proveo.search.analytics import SearchRecorder
from proveo.search.router import router as search_router
from proveo.search.service import SearchCaches
from proveo.site.router import install_not_found_page
from proveo.site.router import router as site_router
from proveo.site.service import SitemapListings, SitemapSettings

log = structlog.get_logger(__name__)

WEB_DIR = Path(__file__).resolve().parent / "web"
OPENAPI_URL = "/openapi.json"
# The paths RateLimitMiddleware leaves alone (its default), as the OpenAPI document states them.
RATE_LIMIT_EXEMPT = "/api/v1/health"
# Paths that never serve the front end: their errors stay JSON.
API_PATHS = ("/api", "/images")


def build_database(settings: Settings) -> Database:
    if not settings.database_url:
        raise RuntimeError(
            "PROVEO_DATABASE_URL is empty: `proveo serve` starts the embedded server"
        )
    return Database(
        settings.database_url,
        settings.database_replica_url or None,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        command_timeout=settings.db_command_timeout,
        connect_timeout=settings.db_connect_timeout,
        replica_retry_seconds=settings.replica_retry_seconds,
    )


def api_router() -> APIRouter:
    api = APIRouter(prefix="/api/v1")
    api.include_router(health_router)
    api.include_router(accounts_router)
    api.include_router(admin_router)
    api.include_router(moderation_router)
    api.include_router(products_router)
    api.include_router(communes_router)
    api.include_router(search_router)
    api.include_router(insights_router)
    api.include_router(insights_admin_router)
    api.include_router(quotes_router)
    api.include_router(quotes_provider_router)
    api.include_router(quotes_admin_router)
    # Last: `/companies/{company_uuid}` would take any `/companies/<word>` path included after
    # it (tests/core/test_routes.py fails on a route shadowed that way).
    api.include_router(companies_router)
    return api


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    cache: Cache | None = None,
    storage: ImageStorage | None = None,
    email_sender: EmailSender | None = None,
    image_analyser: ImageAnalyser | None = None,
    translator: Translator | None = None,
    job_registry: JobRegistry | None = None,
) -> FastAPI:
    """Build the app. Tests pass their own `database`/`cache`/`storage`; their lifecycle stays
    theirs."""
    settings = settings or Settings()
    configure_logging(settings.log_format, settings.log_level)
    configure_hashing_threads(settings.password_hash_threads, processes=settings.workers)
    owns_database = database is None
    owns_cache = cache is None
    owns_storage = storage is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if owns_database:
            await app.state.database.open()
        log.info("proveo_started", version=__version__, env=settings.env.value)
        log.info("proveo_backends", **settings.backends())
        for problem in settings.warnings:
            log.warning("setting_will_not_work", problem=problem)
        if settings.secret_key.get_secret_value() == DEVELOPMENT_SECRET_KEY:
            log.warning(
                "insecure_development_secret_key",
                hint="anyone can forge sessions; set PROVEO_SECRET_KEY (production refuses this)",
            )
        app.state.search_recorder.start()
        if app.state.insights_recorder is not None:
            app.state.insights_recorder.start()
        scheduler: JobScheduler | None = None
        if settings.scheduler_enabled:
            scheduler = JobScheduler(
                job_registry or build_registry(settings),
                JobContext(
                    database=app.state.database,
                    storage=app.state.storage,
                    translator=app.state.translator,
                    settings=settings,
                ),
            )
            scheduler.start()
        app.state.scheduler = scheduler
        database_sampler = DatabaseSampler(app.state.database)
        database_sampler.start()
        try:
            yield
        finally:
            # Jobs use the resources below: they stop first.
            if scheduler is not None:
                await scheduler.stop()
            # Its last flush needs the database: before the pools close.
            await app.state.search_recorder.stop()
            if app.state.insights_recorder is not None:
                await app.state.insights_recorder.stop()
            await database_sampler.stop()
            await app.state.image_analyser.close()
            await app.state.translator.close()
            if owns_storage:
                await app.state.storage.close()
            if owns_cache:
                await app.state.cache.close()
            if owns_database:
                await app.state.database.close()
            log.info("proveo_stopped")

    app = FastAPI(
        title="Proveo API",
        version=__version__,
        description="B2B provider marketplace for Chile.",
        lifespan=lifespan,
        # Our own pages replace FastAPI's, which load their scripts from a CDN.
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL if settings.serves_docs else None,
        generate_unique_id_function=operation_id,
    )
    install_openapi(
        app,
        rate_limited=lambda path: not path.startswith(RATE_LIMIT_EXEMPT),
        sheddable=lambda path: path not in LIVENESS_PATHS,
        requires_session=(current_user, current_user_brief),
        reads_session=session_claims,
    )
    app.state.settings = settings
    app.state.database = database or build_database(settings)
    app.state.cache = cache or Cache.from_url(settings.redis_url)
    app.state.storage = storage or build_storage(settings)
    app.state.email_sender = email_sender or build_email_sender(settings)
    app.state.image_analyser = image_analyser or build_image_analyser(settings)
    app.state.translator = translator or build_translator(settings)
    app.state.search_recorder = SearchRecorder(app.state.database)
    app.state.insights_recorder = (
        InsightsRecorder(app.state.database, dedupe_seconds=settings.insights_dedupe_seconds)
        if settings.insights_enabled
        else None
    )
    app.state.search_caches = SearchCaches.create()
    # The limiter shares the cache's Redis connection pool.
    app.state.limiter = RateLimiter(app.state.cache.client)
    app.state.uploads_in_flight = InFlight(app.state.cache.client)

    app.state.sitemap_listings = SitemapListings(
        app.state.database, app.state.cache, SitemapSettings()
    )

    install_error_handlers(app)
    install_not_found_page(app, api_prefixes=API_PATHS)
    app.include_router(api_router())
    app.include_router(images_router)
    app.include_router(accounts_pages_router)
    # Before the static front end: `/company/` is a redirect now, not its old page.
    app.include_router(site_router)
    if settings.serves_docs:
        app.router.routes.extend(docs_routes(title=app.title, openapi_url=OPENAPI_URL))
    if WEB_DIR.is_dir():
        app.router.routes.append(front_end(WEB_DIR, reserved=API_PATHS))

    # Added innermost first. Order seen by a request: metrics, request id, security headers,
    # the per-client cap on requests in progress, the body (read in full, with a size limit and
    # a deadline), CORS, load shedding, rate limits, CSRF, slash redirects, HEAD as GET, then
    # the routes. Shedding sits inside
    # the access log and the headers (a 503 is logged and carries them), after the body has
    # arrived (a slow client holds no slot) and before any Redis round trip.
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(SlashRedirectMiddleware)
    app.add_middleware(
        CsrfMiddleware,
        secret=settings.secret_key.get_secret_value(),
        trusted_origins=[settings.public_base_url, *settings.cors_origins],
        same_host_schemes=("https",) if settings.is_production else ("http", "https"),
        token_exempt=[CONTACT_CLICK_CSRF_EXEMPT],
    )
    if settings.rate_limit_enabled:
        app.add_middleware(
            RateLimitMiddleware,
            limiter=app.state.limiter,
            per_ip_limit=settings.rate_limit_per_ip_per_minute,
        )
    app.add_middleware(
        LoadSheddingMiddleware,
        max_in_flight=settings.max_in_flight,
        max_queue_wait=settings.max_queue_ms / 1000,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Content-Type", "X-CSRF-Token", "X-Request-ID"],
            expose_headers=[
                "X-Total-Count",
                "X-Total-Count-Exact",
                "X-Search-Match",
                "X-Search-Corrected",
                "X-Request-ID",
            ],
        )
    app.add_middleware(
        RequestBodyMiddleware,
        max_bytes=settings.max_body_bytes,
        timeout=settings.body_timeout_seconds,
    )
    app.add_middleware(
        ClientConcurrencyMiddleware,
        max_per_client=settings.max_in_flight_per_client,
        exempt_prefixes=(RATE_LIMIT_EXEMPT,),
    )
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.is_production)
    app.add_middleware(RequestContextMiddleware)
    # Outermost: it times and counts every answer, the other middleware's refusals included.
    app.add_middleware(MetricsMiddleware, routes=lambda: app.routes)
    return app
