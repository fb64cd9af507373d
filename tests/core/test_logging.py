from __future__ import annotations

import json

import httpx
import pytest
import structlog
from fastapi import FastAPI
from starlette.routing import Mount

from proveo.app import create_app
from proveo.config import Settings
from proveo.core.cache import Cache
from proveo.core.db import Connection
from tests.fixtures.database import PinnedDatabase


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.fixture
def json_app(settings: Settings, conn: Connection, cache: Cache) -> FastAPI:
    """The app logging JSON lines at INFO, as in production."""
    return create_app(
        settings.model_copy(update={"log_format": "json", "log_level": "INFO"}),
        database=PinnedDatabase(conn),
        cache=cache,
    )


class TestStructuredLogging:
    async def test_every_line_of_a_request_carries_its_correlation_id(
        self, json_app: FastAPI, capsys: pytest.CaptureFixture[str]
    ) -> None:
        app = json_app

        @app.get("/api/v1/log-probe")
        async def probe() -> dict[str, str]:
            structlog.get_logger("probe").info("inside_handler", password="hunter2")
            return {}

        app.router.routes.sort(key=lambda route: isinstance(route, Mount))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            await http.get("/api/v1/log-probe", headers={"X-Request-ID": "corr-42"})

        lines = _json_lines(capsys.readouterr().err)
        handler_line = next(line for line in lines if line["event"] == "inside_handler")
        access_line = next(line for line in lines if line["event"] == "request")
        assert handler_line["request_id"] == "corr-42"
        assert access_line["request_id"] == "corr-42"
        assert access_line["status"] == 200
        assert handler_line["password"] == "[redacted]"
        assert "hunter2" not in json.dumps(lines)


class TestSecretsStayOutOfLogs:
    async def test_verification_tokens_are_redacted_from_access_log(
        self, json_app: FastAPI, capsys: pytest.CaptureFixture[str]
    ) -> None:
        transport = httpx.ASGITransport(app=json_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            await http.get("/api/v1/users/verify-email/SECRET-TOKEN-VALUE-1234")
        # Only the server's lines: the test's own HTTP client logs the URL it called.
        server_lines = [
            line for line in _json_lines(capsys.readouterr().err) if line["logger"] != "httpx"
        ]
        assert "SECRET-TOKEN-VALUE-1234" not in json.dumps(server_lines)
        access = next(line for line in server_lines if line["event"] == "request")
        assert access["path"] == "/api/v1/users/verify-email/[redacted]"


class TestAccessLog:
    async def test_json_access_line_has_the_fields_of_every_other_line(
        self, json_app: FastAPI, capsys: pytest.CaptureFixture[str]
    ) -> None:
        transport = httpx.ASGITransport(app=json_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            await http.get(json_app.url_path_for("health:live"), headers={"X-Request-ID": "r-1"})
        access = next(
            line for line in _json_lines(capsys.readouterr().err) if line["event"] == "request"
        )
        assert access["logger"] == "proveo.access"
        assert access["level"] == "info"
        assert access["request_id"] == "r-1"
        assert (access["method"], access["path"], access["status"]) == (
            "GET",
            "/api/v1/health/",
            200,
        )
        assert isinstance(access["duration_ms"], float)
        assert str(access["timestamp"]).endswith("Z")

    async def test_console_access_line_names_the_request(
        self, settings: Settings, conn: Connection, cache: Cache, capsys: pytest.CaptureFixture[str]
    ) -> None:
        app = create_app(
            settings.model_copy(update={"log_format": "console", "log_level": "INFO"}),
            database=PinnedDatabase(conn),
            cache=cache,
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            await http.get("/api/v1/missing", headers={"X-Request-ID": "r-2"})
        line = next(
            line for line in capsys.readouterr().err.splitlines() if "request_id=r-2" in line
        )
        assert "[info     ] request" in line
        assert "[proveo.access]" in line
        assert "method=GET path=/api/v1/missing" in line
        assert "status=404" in line

    async def test_no_access_line_below_its_level(
        self, settings: Settings, conn: Connection, cache: Cache, capsys: pytest.CaptureFixture[str]
    ) -> None:
        app = create_app(
            settings.model_copy(update={"log_format": "json", "log_level": "WARNING"}),
            database=PinnedDatabase(conn),
            cache=cache,
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            await http.get(app.url_path_for("health:live"))
        assert not [
            line for line in _json_lines(capsys.readouterr().err) if line["event"] == "request"
        ]


class TestStartUpLine:
    async def test_start_up_names_the_backends_and_warns_of_settings_that_cannot_work(
        self, settings: Settings, conn: Connection, cache: Cache, capsys: pytest.CaptureFixture[str]
    ) -> None:
        app = create_app(
            settings.model_copy(
                update={
                    "log_format": "json",
                    "log_level": "INFO",
                    "translator": "libretranslate",
                    "image_service_url": "localhost:8001",
                }
            ),
            database=PinnedDatabase(conn),
            cache=cache,
        )
        async with app.router.lifespan_context(app):
            pass
        lines = _json_lines(capsys.readouterr().err)
        [backends] = [line for line in lines if line["event"] == "proveo_backends"]
        assert (backends["storage"], backends["translator"], backends["email"]) == (
            "local",
            "libretranslate",
            "console",
        )
        assert backends["image_service"] == "localhost:8001"
        warnings = [line for line in lines if line["event"] == "setting_will_not_work"]
        assert [line["level"] for line in warnings] == ["warning", "warning"]
        assert [str(line["problem"]).split(":")[0] for line in warnings] == [
            "PROVEO_IMAGE_SERVICE_URL",
            "PROVEO_LIBRETRANSLATE_URL",
        ]
