"""Settings: one pydantic-settings object, read from `PROVEO_*` variables and `.env`."""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEVELOPMENT_SECRET_KEY = "dev-insecure-secret-key-change-me"  # noqa: S105 - refused in production
# What deploy/.env.example puts in every secret: production refuses a setting still holding it.
PLACEHOLDER_SECRET = "change-me"  # noqa: S105 - refused in production
INSECURE_PRODUCTION = "insecure_production"
# A random key of 32+ characters has far more distinct characters than this; fewer means a
# pattern ("k" * 48, "abcabc...") that a guesser tries first.
SECRET_KEY_MIN_DISTINCT = 16
ENV_PREFIX = "PROVEO_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
REDIS_SCHEMES = ("redis", "rediss", "unix")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class ImageServiceSettings(BaseSettings):
    """Everything `proveo image-service` reads: its address, its metrics, its analysis slots
    and budgets, and the log's. None is a secret, and the service sets no cookie and has no
    database, storage or email: production has nothing more to refuse here than development
    (a value out of range, an unknown log level), and the two addresses are checked by binding
    them at start (cli.py). It never reads the API's settings, so it needs none of them.

    The API runs the same pipeline in process when PROVEO_IMAGE_SERVICE_URL is empty, so
    Settings extends these.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Environment = Environment.DEVELOPMENT
    # Prometheus metrics, on an address of their own (never the public port): loopback unless
    # the deployment's network is private. Port 0 turns the endpoint off.
    metrics_host: str = "127.0.0.1"
    image_service_host: str = "127.0.0.1"
    image_service_port: int = Field(default=8001, ge=1, le=65535)
    # The image service's own metrics, on PROVEO_METRICS_HOST (0: off).
    image_service_metrics_port: int = Field(default=9101, ge=0, le=65535)
    # Images analysed at once per process (0: one per CPU); each may hold ~200-600 MB.
    image_workers: int = Field(default=0, ge=0, le=64)
    # Each image's budget in its worker process: CPU seconds (the kernel ends the worker past
    # it) and wall-clock seconds; either refuses the image as `image_too_complex`.
    image_cpu_seconds: float = Field(default=5.0, gt=0, le=300)
    image_wall_seconds: float = Field(default=10.0, gt=0, le=600)
    # Images waiting for a slot per process (0: four per slot); more are refused at once (503).
    image_queue: int = Field(default=0, ge=0, le=10_000)
    log_format: Literal["json", "console"] = "json"
    log_level: str = "INFO"

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise PydanticCustomError(
                "unknown_log_level", "must be one of {levels}", {"levels": ", ".join(LOG_LEVELS)}
            )
        return level

    @property
    def is_production(self) -> bool:
        return self.env == Environment.PRODUCTION


class Settings(ImageServiceSettings):
    """The API's settings: what `proveo serve` reads, and every command that uses its database
    or storage (migrate, seed, create-admin, cleanup-images, run-job, backup, restore).
    Production refuses each one that is unsafe or cannot work (_production_problems)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # The API's metrics, on PROVEO_METRICS_HOST (0: off).
    metrics_port: int = Field(default=9100, ge=0, le=65535)
    # API processes sharing the port (each one uses one core); see the README's Operations.
    workers: int = Field(default=1, ge=1, le=32)
    data_dir: Path = Path(".proveo")
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET_KEY)
    # Empty: derived from HOST and PORT (development); production must set an https URL.
    public_base_url: str = ""

    # PostgreSQL. Empty DATABASE_URL means: start the embedded server under DATA_DIR/pg.
    database_url: str = ""
    database_replica_url: str = ""
    db_pool_min: int = Field(default=2, ge=0)
    db_pool_max: int = Field(default=10, ge=1)
    db_command_timeout: float = Field(default=10.0, gt=0)
    db_connect_timeout: float = Field(default=5.0, gt=0)
    replica_retry_seconds: float = Field(default=5.0, gt=0)

    redis_url: str = ""

    storage: Literal["local", "s3"] = "local"
    s3_endpoint_url: str = ""
    s3_bucket: str = "proveo-images"
    s3_access_key: SecretStr = SecretStr("")
    s3_secret_key: SecretStr = SecretStr("")
    s3_region: str = "us-east-1"
    # Seconds per read (and per connection attempt, at most 1), one retry: a store that stops
    # answering fails a call within 2 x (1 + this), 6 s by default; a stopped one in about 1 s.
    s3_timeout: float = Field(default=2.0, gt=0, le=60)
    # Create a missing bucket when `proveo serve` starts: None means yes in development and no
    # in production, where a missing bucket is more likely a typo than a first start.
    s3_create_bucket: bool | None = None
    # Empty: images are analysed in this process. Set: by `proveo image-service` at that URL.
    image_service_url: str = ""
    # Longer than the service's own bounds (a slot within 8 s, then the image's 10 s budget),
    # so that it answers `images_busy` or `image_too_complex` itself rather than time out.
    image_service_timeout: float = Field(default=20.0, gt=0)
    image_service_failures_to_open: int = Field(default=3, ge=1)
    image_service_open_seconds: float = Field(default=5.0, gt=0)
    # Each account's uploads (publish, edit, admin edit): in progress at once, and per hour.
    uploads_at_once: int = Field(default=1, ge=1, le=10)
    uploads_per_hour: int = Field(default=30, ge=1, le=10_000)

    email_backend: Literal["console", "smtp", "resend"] = "console"
    email_from: str = "Proveo <no-reply@proveo.cl>"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_tls: bool = False
    resend_api_key: SecretStr = SecretStr("")
    resend_api_url: str = "https://api.resend.com"

    translator: Literal["none", "google", "libretranslate"] = "none"
    google_translate_api_key: SecretStr = SecretStr("")
    google_translate_url: str = "https://translation.googleapis.com/language/translate/v2"
    libretranslate_url: str = ""
    libretranslate_api_key: SecretStr = SecretStr("")
    # The whole request (connect, send, answer): a slow provider must not hold up a publish.
    translate_timeout_seconds: float = Field(default=3.0, gt=0, le=60)

    # The in-process job scheduler (proveo.jobs); off in tests that build apps.
    scheduler_enabled: bool = True
    # Provider insights (proveo.insights): count profile views, search appearances and contact
    # clicks (off: nothing is counted; the figures already stored are still shown).
    insights_enabled: bool = True
    contact_clicks_per_ip_per_minute: int = Field(default=30, ge=1)
    # One client moves a counter of a company once per this many seconds (0: every time).
    insights_dedupe_seconds: int = Field(default=1800, ge=0, le=86_400)
    # Scheduled backups (proveo.backups): a directory or s3://BUCKET/PREFIX (empty: none), taken
    # every INTERVAL hours; the newest KEEP there are kept.
    backup_to: str = ""
    backup_interval_hours: float = Field(default=24.0, gt=0, le=24 * 366)
    backup_keep: int = Field(default=7, ge=1, le=10_000)

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Proxies whose X-Forwarded-For is believed (uvicorn's forwarded_allow_ips).
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["127.0.0.1"])
    seed_demo: bool = False
    # Empty: the API docs (/docs, /redoc, /openapi.json) are served in development only.
    docs_enabled: bool | None = None
    max_body_bytes: int = Field(default=6 * 1024 * 1024, ge=1024)
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    password_hash_threads: int = Field(default=0, ge=0, le=64)
    session_ttl_minutes: int = Field(default=30, ge=1, le=60 * 24 * 30)
    verification_ttl_hours: int = Field(default=24, ge=1, le=24 * 7)

    rate_limit_enabled: bool = True
    rate_limit_per_ip_per_minute: int = Field(default=300, ge=1)
    # Load shedding (core/overload.py). The retired RATE_LIMIT_GLOBAL_PER_MINUTE is ignored
    # like any unknown PROVEO_ variable (extra="ignore").
    max_in_flight: int = Field(default=256, ge=1)
    max_queue_ms: int = Field(default=500, ge=0)
    # One client address's requests in progress (waiting for their body included).
    max_in_flight_per_client: int = Field(default=16, ge=1)
    body_timeout_seconds: float = Field(default=30.0, gt=0)
    login_attempts_per_ip_per_minute: int = Field(default=10, ge=1)
    login_failures_per_account_and_ip: int = Field(default=5, ge=1)
    login_failures_per_account: int = Field(default=50, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    signup_per_ip_per_hour: int = Field(default=10, ge=1)
    resend_per_email_per_hour: int = Field(default=3, ge=1)
    password_reset_per_email_and_ip_per_hour: int = Field(default=3, ge=1)
    password_reset_per_email_per_hour: int = Field(default=20, ge=1)

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        url = value.strip()
        scheme, _, rest = url.partition("://")
        if url and (scheme.lower() not in REDIS_SCHEMES or not rest):
            raise PydanticCustomError(
                "invalid_redis_url",
                "must be a redis://, rediss:// or unix:// URL such as redis://127.0.0.1:6379/0 "
                "(empty keeps the cache and the rate limits in process)",
            )
        return url

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @model_validator(mode="after")
    def _derive_public_base_url(self) -> Settings:
        if not self.public_base_url:
            self.public_base_url = f"http://{self.host}:{self.port}"
        return self

    def _origin_problems(self) -> list[str]:
        problems: list[str] = []
        if "null" in self.cors_origins:
            # Sandboxed frames, file:// pages and some redirects all send "Origin: null":
            # allowing it would allow every one of them, with cookies.
            problems.append("PROVEO_CORS_ORIGINS: 'null' is never an allowed origin")
        listed = [origin for origin in self.cors_origins if origin not in ("*", "null")]
        schemes = ("https",) if self.is_production else ("https", "http")
        if any(not _is_origin(origin, schemes) for origin in listed):
            problems.append(
                "PROVEO_CORS_ORIGINS: each origin must be https://host[:port] in production"
                if self.is_production
                else "PROVEO_CORS_ORIGINS: each origin must be http(s)://host[:port]"
            )
        return problems

    def _problems_in_any_environment(self) -> list[str]:
        problems = self._origin_problems()
        # A host name never matches a peer's address (uvicorn compares addresses), so a proxy
        # named so would be no proxy: every client would share its address and its limits.
        unreadable = [proxy for proxy in self.trusted_proxies if not _is_address(proxy)]
        if unreadable:
            problems.append(
                f"PROVEO_TRUSTED_PROXIES: {', '.join(unreadable)} is not an IP address or "
                "network; list addresses such as 10.0.0.5 or 10.0.0.0/24 (host names never match)"
            )
        if self.db_pool_min > self.db_pool_max:
            problems.append("PROVEO_DB_POOL_MIN: must not exceed PROVEO_DB_POOL_MAX")
        for variable, dsn in (
            ("PROVEO_DATABASE_URL", self.database_url),
            ("PROVEO_DATABASE_REPLICA_URL", self.database_replica_url),
        ):
            if dsn and not _is_postgres_url(dsn):
                problems.append(
                    f"{variable}: must be a postgresql://user:password@host:port/database URL"
                )
        if "://" in self.backup_to and not re.match(r"s3://[^/]+", self.backup_to):
            problems.append("PROVEO_BACKUP_TO: must be a directory or s3://BUCKET/PREFIX")
        if not urlsplit(self.public_base_url).hostname:
            problems.append("PROVEO_PUBLIC_BASE_URL: must name a host, such as https://proveo.cl")
        return problems

    def _production_problems(self) -> list[str]:
        problems: list[str] = []
        secret = self.secret_key.get_secret_value()
        # Found by an adversary: the development key with a space or in capitals passed.
        if PLACEHOLDER_SECRET in secret.casefold() or len(secret.strip()) < 32:
            problems.append(
                "PROVEO_SECRET_KEY: must be a random value of 32+ characters in production"
            )
        elif len(set(secret)) < SECRET_KEY_MIN_DISTINCT:
            problems.append(
                f"PROVEO_SECRET_KEY: has fewer than {SECRET_KEY_MIN_DISTINCT} distinct characters, "
                "so it is not random; generate one (for example 48 random bytes in base64)"
            )
        if self.seed_demo:
            problems.append(
                "PROVEO_SEED_DEMO: is refused in production (the demo passwords are public)"
            )
        if not self.database_url:
            problems.append("PROVEO_DATABASE_URL: is required in production (no embedded database)")
        if "*" in self.cors_origins:
            problems.append("PROVEO_CORS_ORIGINS: must list origins; '*' with cookies is refused")
        if "*" in self.trusted_proxies:
            problems.append("PROVEO_TRUSTED_PROXIES: must list proxies; '*' lets clients forge IPs")
        elif any(_trusts_everyone(proxy) for proxy in self.trusted_proxies):
            problems.append(
                "PROVEO_TRUSTED_PROXIES: must list proxies; a /0 network trusts every address "
                "and lets clients forge IPs"
            )
        elif public := [proxy for proxy in self.trusted_proxies if _public_network(proxy)]:
            problems.append(
                f"PROVEO_TRUSTED_PROXIES: {', '.join(public)} is a network of public addresses (or "
                "of IPv6 ones that carry IPv4), whose every host could forge client IPs; list the "
                "proxies' own addresses, or a private network"
            )
        problems += [
            f"{name}: still holds the placeholder {PLACEHOLDER_SECRET!r} from .env.example; "
            "generate a secret"
            for name, value in (
                ("PROVEO_DATABASE_URL", self.database_url),
                ("PROVEO_DATABASE_REPLICA_URL", self.database_replica_url),
                ("PROVEO_REDIS_URL", self.redis_url),
                ("PROVEO_S3_ACCESS_KEY", self.s3_access_key.get_secret_value()),
                ("PROVEO_S3_SECRET_KEY", self.s3_secret_key.get_secret_value()),
                ("PROVEO_SMTP_PASSWORD", self.smtp_password.get_secret_value()),
                ("PROVEO_RESEND_API_KEY", self.resend_api_key.get_secret_value()),
            )
            if PLACEHOLDER_SECRET in value.lower()
        ]
        if self.email_backend == "console":
            problems.append(
                "PROVEO_EMAIL_BACKEND: must be smtp or resend in production (console sends nothing)"
            )
        if self.email_backend == "resend" and not self.resend_api_key.get_secret_value():
            problems.append("PROVEO_RESEND_API_KEY: is required when EMAIL_BACKEND=resend")
        if self.email_backend == "smtp" and self.smtp_user and not self.smtp_tls:
            problems.append("PROVEO_SMTP_TLS: must be true when SMTP credentials are set")
        if self.storage == "s3":
            problems += [
                f"{ENV_PREFIX}{field.upper()}: is required in production when PROVEO_STORAGE is s3"
                for field, value in (
                    ("s3_endpoint_url", self.s3_endpoint_url),
                    ("s3_bucket", self.s3_bucket),
                    ("s3_access_key", self.s3_access_key.get_secret_value()),
                    ("s3_secret_key", self.s3_secret_key.get_secret_value()),
                )
                if not value
            ]
        if self.bcrypt_rounds < 12:
            problems.append("PROVEO_BCRYPT_ROUNDS: must be 12 or more in production")
        if not self.public_base_url.startswith("https://"):
            problems.append("PROVEO_PUBLIC_BASE_URL: must be an https:// URL in production")
        return problems

    def _backend_problems(self) -> list[str]:
        """Backends that cannot work as set: refused in production, warned about otherwise."""
        problems: list[str] = []
        if self.image_service_url and not _is_http_url(self.image_service_url):
            problems.append(
                "PROVEO_IMAGE_SERVICE_URL: must be an http:// or https:// URL such as "
                "http://127.0.0.1:8001 (empty analyses images in process)"
            )
        if self.translator == "google" and not self.google_translate_api_key.get_secret_value():
            problems.append("PROVEO_GOOGLE_TRANSLATE_API_KEY: is required when TRANSLATOR=google")
        if self.translator == "libretranslate" and not self.libretranslate_url:
            problems.append("PROVEO_LIBRETRANSLATE_URL: is required when TRANSLATOR=libretranslate")
        if self.workers > 1 and not self.redis_url:
            problems.append(
                "PROVEO_REDIS_URL: is required when PROVEO_WORKERS is above 1 (without Redis "
                "each worker counts rate limits and lockouts on its own, multiplying them)"
            )
        return problems

    @property
    def warnings(self) -> list[str]:
        """What development tolerates but will not work (production refuses these)."""
        return [] if self.is_production else self._backend_problems()

    def backends(self) -> dict[str, object]:
        """Which backend serves each role, for the start-up log line; never a secret."""
        described: dict[str, object] = {"storage": self.storage}
        if self.storage == "s3":
            described["s3_bucket"] = self.s3_bucket
            described["s3_endpoint"] = _without_credentials(self.s3_endpoint_url) or "AWS"
        else:
            described["images_dir"] = str(self.images_dir)
        described.update(
            image_service=_without_credentials(self.image_service_url) or "in-process",
            translator=self.translator,
            email=self.email_backend,
            cache="redis" if self.redis_url else "in-process",
            replica=bool(self.database_replica_url),
        )
        return described

    @model_validator(mode="after")
    def _refuse_invalid_combinations(self) -> Settings:
        problems = self._problems_in_any_environment()
        if self.is_production:
            problems += self._production_problems() + self._backend_problems()
        if problems:
            # One error carrying the list: settings_problems() prints one line per problem.
            raise PydanticCustomError(
                INSECURE_PRODUCTION,
                "invalid settings: {summary}",
                {"summary": "; ".join(problems), "problems": problems},
            )
        return self

    @property
    def serves_docs(self) -> bool:
        return self.docs_enabled if self.docs_enabled is not None else not self.is_production

    @property
    def creates_s3_bucket(self) -> bool:
        if self.s3_create_bucket is not None:
            return self.s3_create_bucket
        return not self.is_production

    @property
    def secure_cookies(self) -> bool:
        return self.is_production

    @cached_property
    def pg_dir(self) -> Path:
        return self.data_dir.resolve() / "pg"

    @cached_property
    def images_dir(self) -> Path:
        return self.data_dir.resolve() / "images"

    @cached_property
    def outbox_dir(self) -> Path:
        return self.data_dir.resolve() / "outbox"


def _is_origin(origin: str, schemes: tuple[str, ...]) -> bool:
    """scheme://host[:port], nothing more: what browsers send in `Origin`."""
    try:
        parts = urlsplit(origin)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return (
        parts.scheme in schemes
        and bool(parts.hostname)
        and not parts.path
        and not (parts.query or parts.fragment or parts.username or parts.password)
    )


def _trusts_everyone(proxy: str) -> bool:
    """A network with a /0 prefix (0.0.0.0/0, ::/0): every address is a trusted proxy."""
    try:
        return ipaddress.ip_network(proxy.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


def _is_address(proxy: str) -> bool:
    if proxy == "*":
        return True
    try:
        ipaddress.ip_network(proxy, strict=False)
    except ValueError:
        return False
    return True


_SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT, some clusters
# IPv6 ranges that stand for IPv4 addresses or tunnel them (IPv4-mapped, NAT64, Teredo, 6to4):
# Python calls some of them private, but through them any IPv4 client could be "a proxy".
_IPV6_CARRYING_IPV4 = tuple(
    ipaddress.IPv6Network(network)
    for network in ("::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "2001::/32", "2002::/16")
)


def _public_network(proxy: str) -> bool:
    """A network of more than one address that is not private: `0.0.0.0/1` trusts half of the
    internet (found by an adversary: with `128.0.0.0/1` beside it, every address; then, in the
    re-attack, `::ffff:0:0/96`, every IPv4 client on an IPv6 socket). One public address is
    fine: a load balancer's."""
    try:
        network = ipaddress.ip_network(proxy, strict=False)
    except ValueError:
        return False
    if network.num_addresses == 1:
        return False
    if isinstance(network, ipaddress.IPv6Network) and any(
        network.overlaps(carrier) for carrier in _IPV6_CARRYING_IPV4
    ):
        return True
    shared = isinstance(network, ipaddress.IPv4Network) and network.subnet_of(_SHARED_ADDRESS_SPACE)
    return not (network.is_private or shared)


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _without_credentials(url: str) -> str:
    """scheme://host[:port]: enough to tell where a backend is, and nothing to leak."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return url.split("@")[-1]
    if not parts.hostname:
        return url.split("@")[-1]
    return f"{parts.scheme}://{parts.hostname}{port}"


def _is_postgres_url(dsn: str) -> bool:
    try:
        parts = urlsplit(dsn)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("postgres", "postgresql")


def settings_problems(error: ValidationError) -> list[str]:
    """One line per problem, named by its environment variable; never the value (secrets)."""
    lines: list[str] = []
    for problem in error.errors(include_input=False, include_url=False):
        if problem["type"] == INSECURE_PRODUCTION:
            lines += problem["ctx"]["problems"]
            continue
        field = str(problem["loc"][0]) if problem["loc"] else ""
        variable = f"{ENV_PREFIX}{field.upper()}" if field else "settings"
        lines.append(f"{variable}: {problem['msg']}")
    return lines
