from __future__ import annotations

import pytest
from pydantic import ValidationError

from proveo.config import (
    DEVELOPMENT_SECRET_KEY,
    ImageServiceSettings,
    Settings,
    settings_problems,
)

PRODUCTION = {
    "env": "production",
    "secret_key": "Vq3xN8-pL2zR7wKd_T5mYc9Hs4Bf6Gj1Ea0UoIiZ",
    "database_url": "postgresql://proveo@db/proveo",
    "public_base_url": "https://proveo.cl",
    "email_backend": "resend",
    "resend_api_key": "re_Zk3mQ9xT2vB7",
}


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


class TestDevelopmentDefaults:
    def test_serves_on_loopback_8000_with_local_data(self) -> None:
        settings = _settings()
        assert (settings.host, settings.port) == ("127.0.0.1", 8000)
        assert settings.data_dir.name == ".proveo"
        assert settings.secure_cookies is False

    def test_reads_prefixed_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PROVEO_PORT", "9123")
        monkeypatch.setenv("PROVEO_CORS_ORIGINS", "https://a.cl, https://b.cl")
        settings = _settings()
        assert settings.port == 9123
        assert settings.cors_origins == ["https://a.cl", "https://b.cl"]


class TestProductionRefusesInsecureDefaults:
    def test_accepts_a_complete_production_configuration(self) -> None:
        settings = _settings(**PRODUCTION)
        assert settings.is_production
        assert settings.secure_cookies is True

    @pytest.mark.parametrize(
        ("override", "complaint"),
        [
            ({"secret_key": DEVELOPMENT_SECRET_KEY}, "SECRET_KEY"),
            ({"secret_key": "short"}, "SECRET_KEY"),
            ({"seed_demo": True}, "SEED_DEMO"),
            ({"database_url": ""}, "DATABASE_URL"),
            ({"public_base_url": "http://proveo.cl"}, "PUBLIC_BASE_URL"),
            ({"bcrypt_rounds": 4}, "BCRYPT_ROUNDS"),
            ({"cors_origins": "*"}, "CORS_ORIGINS"),
            ({"email_backend": "console"}, "EMAIL_BACKEND"),
            ({"trusted_proxies": "10.0.0.1,*"}, "TRUSTED_PROXIES"),
            ({"email_backend": "smtp", "smtp_user": "u", "smtp_tls": False}, "SMTP_TLS"),
            ({"secret_key": "k" * 48}, "SECRET_KEY: has fewer than 16 distinct"),
            ({"secret_key": "abcdefgh" * 6}, "SECRET_KEY: has fewer than 16 distinct"),
            ({"cors_origins": "null"}, "CORS_ORIGINS: 'null' is never"),
            ({"cors_origins": "https://a.cl,http://evil.example"}, "CORS_ORIGINS: each origin"),
            ({"cors_origins": "https://a.cl/path"}, "CORS_ORIGINS: each origin"),
            ({"public_base_url": "https://"}, "PUBLIC_BASE_URL: must name a host"),
            # Found by an adversary: a /0 network trusts every sender's X-Forwarded-For.
            ({"trusted_proxies": "0.0.0.0/0"}, "TRUSTED_PROXIES: must list proxies; a /0"),
            ({"trusted_proxies": "10.0.0.0/8,::/0"}, "TRUSTED_PROXIES: must list proxies; a /0"),
            # ... and so did two halves of everything, host names (which never match, so every
            # client shared nginx's limits) and addresses that are none.
            ({"trusted_proxies": "0.0.0.0/1,128.0.0.0/1"}, "is a network of public addresses"),
            ({"trusted_proxies": "8.8.0.0/16"}, "8.8.0.0/16 is a network of public addresses"),
            ({"trusted_proxies": "::ffff:0:0/96"}, "is a network of public addresses"),
            ({"trusted_proxies": "::ffff:10.0.0.0/104"}, "is a network of public addresses"),
            ({"trusted_proxies": "2001::/23"}, "is a network of public addresses"),
            ({"trusted_proxies": "nginx"}, "nginx is not an IP address or network"),
            ({"trusted_proxies": "10.0.0.300"}, "10.0.0.300 is not an IP address"),
            ({"secret_key": DEVELOPMENT_SECRET_KEY + " "}, "SECRET_KEY: must be a random"),
            ({"secret_key": " " + DEVELOPMENT_SECRET_KEY.upper()}, "SECRET_KEY: must be a random"),
            ({"secret_key": "Zq8#vX2!mN5@pL9$kR3%tY7^wB1&change-me"}, "SECRET_KEY: must be"),
            # ... and .env.example's placeholders were accepted as secrets.
            (
                {"database_url": "postgresql://proveo:change-me@db/proveo"},
                "DATABASE_URL: still holds the placeholder",
            ),
            ({"redis_url": "redis://:CHANGE-ME@redis:6379/0"}, "REDIS_URL: still holds"),
            ({"s3_secret_key": "change-me"}, "S3_SECRET_KEY: still holds"),
            ({"smtp_password": "change-me"}, "SMTP_PASSWORD: still holds"),
            # Found by a newcomer: resend without its key was only found when sending.
            ({"resend_api_key": ""}, "RESEND_API_KEY: is required"),
        ],
    )
    def test_refuses(self, override: dict[str, object], complaint: str) -> None:
        with pytest.raises(ValidationError, match=complaint):
            _settings(**{**PRODUCTION, **override})

    def test_a_proxy_network_narrower_than_everything_is_accepted(self) -> None:
        proxies = "10.42.0.0/16,fd00::/8,100.64.0.0/16,203.0.113.7,2001:db8::1"
        settings = _settings(**{**PRODUCTION, "trusted_proxies": proxies})
        assert settings.trusted_proxies == proxies.split(",")


# What the image service's container sets (deploy/compose.yaml, deploy/k8s/01-configmap.yaml),
# its addresses left out: all of it is the service's own, none of the API's.
IMAGE_SERVICE_PRODUCTION = {
    "PROVEO_ENV": "production",
    "PROVEO_IMAGE_SERVICE_PORT": "8001",
    "PROVEO_IMAGE_SERVICE_METRICS_PORT": "9101",
    "PROVEO_IMAGE_WORKERS": "2",
}


def _image_service_settings() -> ImageServiceSettings:
    return ImageServiceSettings(_env_file=None)


class TestEachComponentChecksWhatItUses:
    @pytest.fixture(autouse=True)
    def _image_service_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name, value in IMAGE_SERVICE_PRODUCTION.items():
            monkeypatch.setenv(name, value)

    def test_the_image_service_starts_in_production_with_only_its_own_settings(self) -> None:
        settings = _image_service_settings()
        assert settings.is_production
        assert (settings.image_service_port, settings.image_workers) == (8001, 2)

    def test_the_api_is_refused_in_that_environment_for_each_secret_it_lacks(self) -> None:
        with pytest.raises(ValidationError) as refused:
            _settings()
        assert settings_problems(refused.value) == [
            "PROVEO_SECRET_KEY: must be a random value of 32+ characters in production",
            "PROVEO_DATABASE_URL: is required in production (no embedded database)",
            "PROVEO_EMAIL_BACKEND: must be smtp or resend in production (console sends nothing)",
            "PROVEO_PUBLIC_BASE_URL: must be an https:// URL in production",
        ]

    def test_the_image_service_ignores_the_api_s_settings_even_when_they_are_wrong(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for name, value in {
            "PROVEO_SECRET_KEY": "short",
            "PROVEO_SEED_DEMO": "true",
            "PROVEO_DATABASE_URL": "mysql://db/proveo",
            "PROVEO_STORAGE": "s3",
            "PROVEO_CORS_ORIGINS": "*",
            "PROVEO_BCRYPT_ROUNDS": "4",
            "PROVEO_WORKERS": "4",
        }.items():
            monkeypatch.setenv(name, value)
        assert _image_service_settings().is_production

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("PROVEO_IMAGE_SERVICE_PORT", "0"),
            ("PROVEO_IMAGE_SERVICE_METRICS_PORT", "70000"),
            ("PROVEO_IMAGE_WORKERS", "-1"),
            ("PROVEO_IMAGE_WALL_SECONDS", "0"),
            ("PROVEO_LOG_LEVEL", "LOUD"),
        ],
    )
    def test_the_image_service_refuses_a_wrong_value_of_its_own_in_one_line(
        self, monkeypatch: pytest.MonkeyPatch, name: str, value: str
    ) -> None:
        monkeypatch.setenv(name, value)
        with pytest.raises(ValidationError) as refused:
            _image_service_settings()
        [line] = settings_problems(refused.value)
        assert line.startswith(f"{name}: ")


S3 = {
    "storage": "s3",
    "s3_endpoint_url": "https://s3.example.cl",
    "s3_bucket": "proveo-images",
    "s3_access_key": "access",
    "s3_secret_key": "secret-value",
}


class TestProductionS3Storage:
    def test_accepts_a_complete_s3_configuration(self) -> None:
        assert _settings(**PRODUCTION, **S3).storage == "s3"

    def test_names_every_missing_s3_setting_and_no_value(self) -> None:
        with pytest.raises(ValidationError) as refused:
            _settings(**PRODUCTION, storage="s3", s3_bucket="", s3_secret_key="")
        lines = settings_problems(refused.value)
        assert [line.split(":")[0] for line in lines] == [
            "PROVEO_S3_ENDPOINT_URL",
            "PROVEO_S3_BUCKET",
            "PROVEO_S3_ACCESS_KEY",
            "PROVEO_S3_SECRET_KEY",
        ]

    def test_local_storage_needs_no_s3_settings(self) -> None:
        assert _settings(**PRODUCTION, storage="local").storage == "local"


class TestProblemsInAnyEnvironment:
    @pytest.mark.parametrize(
        ("override", "complaint"),
        [
            ({"cors_origins": "null"}, "PROVEO_CORS_ORIGINS: 'null' is never an allowed origin"),
            ({"cors_origins": "https://a.cl, null"}, "PROVEO_CORS_ORIGINS: 'null' is never"),
            ({"cors_origins": "ftp://a.cl"}, "PROVEO_CORS_ORIGINS: each origin must be http(s)"),
            ({"db_pool_min": 5, "db_pool_max": 2}, "PROVEO_DB_POOL_MIN: must not exceed"),
            ({"public_base_url": "http://"}, "PROVEO_PUBLIC_BASE_URL: must name a host"),
            # Found in review: each worker crashed on these with a traceback.
            ({"redis_url": "notaurl"}, "PROVEO_REDIS_URL: must be a redis://, rediss://"),
            ({"redis_url": "redis:"}, "PROVEO_REDIS_URL: must be a redis://, rediss://"),
            ({"redis_url": "http://cache:6379"}, "PROVEO_REDIS_URL: must be a redis://"),
        ],
    )
    def test_development_refuses_too(self, override: dict[str, object], complaint: str) -> None:
        with pytest.raises(ValidationError) as refused:
            _settings(**override)
        assert [line for line in settings_problems(refused.value) if complaint in line]

    def test_redis_urls_of_every_kind_are_accepted_and_blank_is_none(self) -> None:
        for url in ("redis://127.0.0.1:6379/0", "rediss://cache:6380", "unix:///run/redis.sock"):
            assert _settings(redis_url=url).redis_url == url
        assert _settings(redis_url="  ").redis_url == ""

    def test_development_accepts_plain_http_origins(self) -> None:
        origins = ["http://localhost:5173", "https://a.cl"]
        assert _settings(cors_origins=",".join(origins)).cors_origins == origins

    def test_production_accepts_https_origins(self) -> None:
        settings = _settings(**PRODUCTION, cors_origins="https://a.cl,https://b.cl:8443")
        assert settings.cors_origins == ["https://a.cl", "https://b.cl:8443"]


class TestSettingsProblems:
    def test_one_line_per_problem_named_by_its_variable(self) -> None:
        with pytest.raises(ValidationError) as refused:
            _settings(**{**PRODUCTION, "secret_key": "short", "seed_demo": True})
        assert settings_problems(refused.value) == [
            "PROVEO_SECRET_KEY: must be a random value of 32+ characters in production",
            "PROVEO_SEED_DEMO: is refused in production (the demo passwords are public)",
        ]

    def test_an_invalid_value_names_its_variable_not_its_value(self) -> None:
        with pytest.raises(ValidationError) as refused:
            _settings(port="not-a-port", bcrypt_rounds=99)
        lines = settings_problems(refused.value)
        assert [line.split(":")[0] for line in lines] == ["PROVEO_PORT", "PROVEO_BCRYPT_ROUNDS"]
        assert not any("not-a-port" in line for line in lines)


BACKENDS_THAT_CANNOT_WORK = [
    (
        {"image_service_url": "127.0.0.1:8001"},
        "PROVEO_IMAGE_SERVICE_URL: must be an http:// or https:// URL such as "
        "http://127.0.0.1:8001 (empty analyses images in process)",
    ),
    (
        {"image_service_url": "ftp://images.internal"},
        "PROVEO_IMAGE_SERVICE_URL: must be an http:// or https:// URL such as "
        "http://127.0.0.1:8001 (empty analyses images in process)",
    ),
    (
        {"translator": "google"},
        "PROVEO_GOOGLE_TRANSLATE_API_KEY: is required when TRANSLATOR=google",
    ),
    (
        {"translator": "libretranslate"},
        "PROVEO_LIBRETRANSLATE_URL: is required when TRANSLATOR=libretranslate",
    ),
    (
        {"workers": 2},
        "PROVEO_REDIS_URL: is required when PROVEO_WORKERS is above 1 (without Redis "
        "each worker counts rate limits and lockouts on its own, multiplying them)",
    ),
]


class TestBackendsThatCannotWork:
    @pytest.mark.parametrize(("override", "line"), BACKENDS_THAT_CANNOT_WORK)
    def test_production_refuses_them_in_one_line(
        self, override: dict[str, object], line: str
    ) -> None:
        with pytest.raises(ValidationError) as refused:
            _settings(**PRODUCTION, **override)
        assert settings_problems(refused.value) == [line]

    @pytest.mark.parametrize(("override", "line"), BACKENDS_THAT_CANNOT_WORK)
    def test_development_starts_with_a_warning(
        self, override: dict[str, object], line: str
    ) -> None:
        assert _settings(**override).warnings == [line]

    def test_working_backends_give_no_warning(self) -> None:
        settings = _settings(
            image_service_url="https://images.internal:8443",
            translator="libretranslate",
            libretranslate_url="http://127.0.0.1:5000",
            workers=2,
            redis_url="redis://127.0.0.1:6379/0",
        )
        assert settings.warnings == []


class TestBackendsLogLine:
    def test_names_each_backend_of_a_default_development_start(self) -> None:
        settings = _settings(data_dir="/srv/proveo")
        assert settings.backends() == {
            "storage": "local",
            "images_dir": "/srv/proveo/images",
            "image_service": "in-process",
            "translator": "none",
            "email": "console",
            "cache": "in-process",
            "replica": False,
        }

    def test_names_bucket_endpoint_and_service_but_never_credentials(self) -> None:
        settings = _settings(
            **PRODUCTION,
            **S3,
            image_service_url="http://user:pw@images.internal:8001/",
            translator="google",
            google_translate_api_key="g-key",
            redis_url="redis://:redis-pw@cache:6379/0",
            database_replica_url="postgresql://proveo:pw@replica/proveo",
        )
        backends = settings.backends()
        assert backends == {
            "storage": "s3",
            "s3_bucket": "proveo-images",
            "s3_endpoint": "https://s3.example.cl",
            "image_service": "http://images.internal:8001",
            "translator": "google",
            "email": "resend",
            "cache": "redis",
            "replica": True,
        }
        assert not any(word in str(backends) for word in ("pw", "g-key", "secret"))

    def test_an_empty_s3_endpoint_means_aws(self) -> None:
        assert _settings(storage="s3").backends()["s3_endpoint"] == "AWS"


class TestPublicBaseUrl:
    def test_follows_host_and_port_by_default(self) -> None:
        assert _settings(port=8013).public_base_url == "http://127.0.0.1:8013"

    def test_explicit_value_wins(self) -> None:
        assert _settings(public_base_url="https://x.cl").public_base_url == "https://x.cl"


class TestApiDocs:
    def test_served_in_development_only_by_default(self) -> None:
        assert _settings().serves_docs is True
        assert _settings(**PRODUCTION).serves_docs is False

    def test_setting_decides_in_either_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PROVEO_DOCS_ENABLED", "true")
        assert _settings(**PRODUCTION).serves_docs is True
        monkeypatch.setenv("PROVEO_DOCS_ENABLED", "false")
        assert _settings().serves_docs is False
