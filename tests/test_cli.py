"""The `proveo` command as people run it: real processes, embedded or session PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import asyncpg
import httpx
import pytest

from proveo.cli import build_parser
from proveo.core import migrations
from proveo.core.embedded_pg import EmbeddedPostgres
from proveo.core.security import hash_password_sync
from tests.factories import outbox_messages, verification_link
from tests.fixtures.database import create_database
from tests.fixtures.servers import (
    free_port,
    output_tail,
    proveo_command,
    proveo_env,
    running_proveo,
    serve_log_path,
)


def _env(data_dir: Path, port: int) -> dict[str, str]:
    return proveo_env(data_dir, port, PROVEO_LOG_FORMAT="json")


_proveo = proveo_command


def _wait_healthy(
    base_url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"proveo serve exited with {process.returncode}:\n{output_tail(log_path)}"
            )
        try:
            if httpx.get(f"{base_url}/api/v1/health/database", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"proveo serve did not become healthy:\n{output_tail(log_path)}")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("proveo-data")
    yield path
    EmbeddedPostgres(path / "pg").stop("immediate")


async def _query(data_dir: Path, sql: str) -> list[asyncpg.Record]:
    server = EmbeddedPostgres(data_dir / "pg")
    server.start()
    try:
        conn = await asyncpg.connect(server.dsn("proveo"))
        try:
            return list(await conn.fetch(sql))
        finally:
            await conn.close()
    finally:
        server.stop()


def _read_until_banner(process: subprocess.Popen[bytes]) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    while "Proveo is running" not in (line := process.stdout.readline().decode()):
        assert line, f"proveo serve exited before its banner:\n{''.join(lines)}"
        lines.append(line)
    return [*lines, line]


class TestServe:
    def _run_once(self, data_dir: Path) -> dict[str, object]:
        """Start, and send the first requests the moment the banner shows: no retries."""
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        with subprocess.Popen(
            _proveo("serve"),
            env=_env(data_dir, port),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        ) as process:
            assert process.stdout is not None
            try:
                before_banner = _read_until_banner(process)
                seen: dict[str, object] = {
                    "health": httpx.get(f"{base_url}/api/v1/health/database").status_code,
                    "communes": len(httpx.get(f"{base_url}/api/v1/communes/").json()),
                    "products": len(httpx.get(f"{base_url}/api/v1/products/").json()),
                    "front": httpx.get(f"{base_url}/").status_code,
                }
            finally:
                process.send_signal(signal.SIGINT)
                # The few KB written after the banner fit in the pipe; read them along with
                # what the banner's reader buffered (communicate() would skip that buffer).
                process.wait(timeout=30)
                after_banner = process.stdout.read().decode()
        seen["returncode"] = process.returncode
        seen["output"] = "".join(before_banner) + after_banner
        return seen

    def test_first_and_second_start_answer_once_the_banner_shows(self, data_dir: Path) -> None:
        first = self._run_once(data_dir)
        assert first["returncode"] == 0, first["output"]
        assert first["health"] == 200
        assert first["communes"] == 346
        assert first["products"] >= 30
        assert first["front"] == 200
        assert "admin_test@mail.com" in str(first["output"])
        assert "embedded_postgres_stopped" in str(first["output"])
        assert not EmbeddedPostgres(data_dir / "pg").is_running()

        second = self._run_once(data_dir)
        assert second["returncode"] == 0, second["output"]
        assert second["health"] == 200
        assert "demo_data_seeded" not in str(second["output"])

    def test_a_busy_port_fails_before_the_database_starts(self, tmp_path: Path) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            result = subprocess.run(
                _proveo("serve"), env=_env(tmp_path / "data", port),
                capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
        assert result.returncode == 2
        assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
        assert "set PROVEO_PORT to a free port (or PROVEO_HOST" in result.stderr
        assert "Proveo is running" not in result.stdout
        assert not (tmp_path / "data" / "pg").exists()

    def test_account_flow_over_http_with_console_email(self, data_dir: Path) -> None:
        with running_proveo(data_dir) as base_url, httpx.Client(base_url=base_url) as http:
            signup = http.post(
                "/api/v1/users/signup",
                json={"name": "Flujo", "email": "flow@proveo.cl", "password": "Flujo-123"},
            )
            assert signup.status_code == 201
            deadline = time.monotonic() + 10
            while not (messages := outbox_messages(data_dir / "outbox")):
                assert time.monotonic() < deadline, "no verification email in the outbox"
                time.sleep(0.05)
            link = verification_link(messages[0])
            assert link.startswith(base_url)
            assert http.get(link).status_code == 200
            login = http.post(
                "/api/v1/users/login", json={"email": "flow@proveo.cl", "password": "Flujo-123"}
            )
            assert login.status_code == 200
            assert http.get("/api/v1/users/me").json()["email_verified"] is True

    def test_demo_data_is_seeded_once(self, data_dir: Path) -> None:
        rows = asyncio.run(
            _query(
                data_dir,
                """
                SELECT u.email, u.role, u.email_verified, c.name AS company, c.image_key
                FROM proveo.user_account u LEFT JOIN proveo.company c ON c.user_id = u.id
                ORDER BY u.email
                """,
            )
        )
        demo_rows = [row for row in rows if row["email"] != "flow@proveo.cl"]
        assert len(demo_rows) == 17
        admin = next(row for row in rows if row["email"] == "admin_test@mail.com")
        assert admin["role"] == "admin"
        users = [row for row in rows if row["email"].startswith("testuser")]
        assert users[0]["email"] == "testuser01@proveo.com"
        assert users[-1]["email"] == "testuser16@proveo.com"
        assert all(row["email_verified"] and row["company"] for row in users)
        for row in users:
            assert (data_dir / "images" / f"{row['image_key']}.webp").is_file()
            assert (data_dir / "images" / f"{row['image_key']}_thumb.webp").is_file()

    def test_create_admin_takes_a_password(self, data_dir: Path) -> None:
        result = subprocess.run(
            _proveo("create-admin", "--email", "ops@proveo.cl", "--password", "Str0ng-enough!"),
            env=_env(data_dir, free_port()),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert {"event": "admin_account_ready", "outcome": "created"}.items() <= next(
            entry for entry in _json_lines(result.stderr) if entry["event"] == "admin_account_ready"
        ).items()
        rows = asyncio.run(
            _query(data_dir, "SELECT role FROM proveo.user_account WHERE email = 'ops@proveo.cl'")
        )
        assert [row["role"] for row in rows] == ["admin"]

    def test_create_admin_without_password_and_no_tty_refuses(self, data_dir: Path) -> None:
        result = subprocess.run(
            _proveo("create-admin", "--email", "nopass@proveo.cl"),
            env=_env(data_dir, free_port()),
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        assert result.returncode == 2
        assert "password" in result.stderr

    def test_a_second_serve_on_the_same_data_is_refused(self, data_dir: Path) -> None:
        """Found in review: the second server's exit stopped the first one's database."""
        with running_proveo(data_dir) as base_url:
            second = subprocess.run(
                _proveo("serve"),
                env=_env(data_dir, free_port()),
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert second.returncode == 2
            assert "another `proveo serve`" in second.stderr
            assert httpx.get(f"{base_url}/api/v1/health/database").status_code == 200

    def test_serve_adopts_and_stops_a_database_left_by_a_crash(self, data_dir: Path) -> None:
        port = free_port()
        log_path = serve_log_path(data_dir, port)
        with open(log_path, "wb") as output:
            crashed = subprocess.Popen(
                _proveo("serve"), env=_env(data_dir, port),
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            _wait_healthy(f"http://127.0.0.1:{port}", crashed, log_path)
        finally:
            crashed.kill()
            crashed.wait()
        assert EmbeddedPostgres(data_dir / "pg").is_running()  # orphaned by the crash
        seen = self._run_once(data_dir)
        assert seen["returncode"] == 0, seen["output"]
        assert not EmbeddedPostgres(data_dir / "pg").is_running()

    def test_production_refuses_demo_data(self, data_dir: Path) -> None:
        env = _env(data_dir, free_port()) | {"PROVEO_ENV": "production"}
        result = subprocess.run(
            _proveo("serve"), env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 2
        assert "error: PROVEO_SEED_DEMO: is refused in production" in result.stderr

    def test_production_settings_problems_are_one_readable_line_each(self, tmp_path: Path) -> None:
        env = _env(tmp_path, free_port()) | {
            "PROVEO_ENV": "production",
            "PROVEO_SECRET_KEY": "short",
            "PROVEO_SEED_DEMO": "false",
        }
        result = subprocess.run(
            _proveo("migrate"), env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 2
        lines = result.stderr.splitlines()
        assert (
            "error: PROVEO_SECRET_KEY: must be a random value of 32+ characters in production"
            in lines
        )
        assert (
            "error: PROVEO_DATABASE_URL: is required in production (no embedded database)" in lines
        )
        assert len(lines) == 5, result.stderr  # + EMAIL_BACKEND, BCRYPT_ROUNDS, PUBLIC_BASE_URL
        assert all(re.fullmatch(r"error: PROVEO_[A-Z_]+: .+", line) for line in lines)
        assert "short" not in result.stderr  # values are never echoed: they may be secrets


def _json_lines(output: str) -> list[dict[str, object]]:
    """Every line must be a JSON object: a log collector reads them."""
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def _run_on_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run with stderr on a pseudo-terminal, as from a shell; returns the code and its text."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=terminal
        )
    finally:
        os.close(terminal)
    output = bytearray()
    try:
        while select.select([controller], [], [], 60)[0]:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(controller)
    return process.wait(timeout=60), output.decode().replace("\r\n", "\n")


@pytest.fixture
async def database_url(pg_server: EmbeddedPostgres) -> str:
    """An empty database of the session's server: the commands migrate it themselves."""
    name = f"proveo_cli_{uuid4().hex[:8]}"
    await create_database(pg_server.dsn("postgres"), name)
    return pg_server.dsn(name)


async def _fetch(dsn: str, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


def _url_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return _env(tmp_path / "data", free_port()) | {"PROVEO_DATABASE_URL": database_url}


class TestCommandOutput:
    """Sentences for a person at a terminal; JSON log lines for pipes and log collectors."""

    def test_migrate_at_a_terminal_says_what_it_applied(
        self, tmp_path: Path, database_url: str
    ) -> None:
        env = _url_env(tmp_path, database_url)
        code, output = _run_on_terminal(_proveo("migrate"), env)
        assert code == 0, output
        assert output.startswith("Applied migration 20261125_1200: Initial schema"), output
        assert "{" not in output
        code, output = _run_on_terminal(_proveo("migrate"), env)
        assert output == "The database schema is up to date; no migration to apply.\n"

    def test_seed_at_a_terminal_says_what_it_added(self, tmp_path: Path, database_url: str) -> None:
        env = _url_env(tmp_path, database_url)
        code, output = _run_on_terminal(_proveo("seed"), env)
        assert code == 0, output
        assert re.search(r"^Seeded the catalogue: \d+ products and 346 communes\.$", output, re.M)
        assert "{" not in output

    def test_commands_in_a_pipe_write_json_log_lines(
        self, tmp_path: Path, database_url: str
    ) -> None:
        result = subprocess.run(
            _proveo("seed"), env=_url_env(tmp_path, database_url),
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        events = [entry["event"] for entry in _json_lines(result.stderr)]
        assert {"migration_applied", "catalog_seeded"} <= set(events)
        assert result.stdout == ""


class TestCreateAdmin:
    def test_at_a_terminal_creates_then_never_replaces_a_password_silently(
        self, tmp_path: Path, database_url: str
    ) -> None:
        env = _url_env(tmp_path, database_url)
        create = _proveo("create-admin", "--email", "ops@proveo.cl", "--password", "First-pass1")
        code, output = _run_on_terminal(create, env)
        assert code == 0, output
        assert re.search(r"^Created the admin account ops@proveo\.cl \(", output, re.M), output
        [before] = asyncio.run(
            _fetch(database_url, "SELECT password_hash FROM proveo.user_account")
        )

        again = _proveo("create-admin", "--email", "ops@proveo.cl", "--password", "Other-pass2")
        code, output = _run_on_terminal(again, env)
        assert code == 0, output
        assert "note: the password given is not used" in output
        assert "ops@proveo.cl is already an admin; nothing changed." in output
        [kept] = asyncio.run(_fetch(database_url, "SELECT password_hash FROM proveo.user_account"))
        assert kept == before

        code, output = _run_on_terminal([*again, "--reset-password"], env)
        assert code == 0, output
        assert "Replaced the password of the admin ops@proveo.cl" in output
        [replaced] = asyncio.run(
            _fetch(database_url, "SELECT password_hash FROM proveo.user_account")
        )
        assert replaced != before

        audit = asyncio.run(
            _fetch(
                database_url,
                "SELECT actor_uuid, action, changes FROM proveo.admin_audit_log ORDER BY id",
            )
        )
        assert [row["action"] for row in audit] == ["user.create", "user.update"]
        assert {str(row["actor_uuid"]) for row in audit} == {"00000000-0000-0000-0000-000000000000"}
        assert all(json.loads(row["changes"])["actor"] == "cli" for row in audit)

    def test_promotes_a_verified_user_without_asking_for_a_password(
        self, tmp_path: Path, database_url: str
    ) -> None:
        env = _url_env(tmp_path, database_url)
        migrations.upgrade(database_url)
        password_hash = hash_password_sync("User-pass1", 4)
        asyncio.run(
            _fetch(
                database_url,
                "WITH u AS (INSERT INTO proveo.user_account (name, email, password_hash, "
                "email_verified) VALUES ('Ana', 'ana@proveo.cl', $1, true) RETURNING id) "
                "INSERT INTO proveo.user_session (user_id, expires_at) "
                "SELECT id, now() + interval '1 hour' FROM u",
                password_hash,
            )
        )
        result = subprocess.run(
            _proveo("create-admin", "--email", "ana@proveo.cl"), env=env, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        ready = next(e for e in _json_lines(result.stderr) if e["event"] == "admin_account_ready")
        assert (ready["outcome"], ready["rekeyed"]) == ("promoted", False)
        [row] = asyncio.run(
            _fetch(
                database_url,
                "SELECT u.role, u.password_hash, bool_and(s.revoked_at IS NOT NULL) AS revoked "
                "FROM proveo.user_account u JOIN proveo.user_session s ON s.user_id = u.id "
                "GROUP BY u.id",
            )
        )
        assert (row["role"], row["password_hash"], row["revoked"]) == ("admin", password_hash, True)

    def test_refuses_a_password_the_signup_would_refuse(
        self, tmp_path: Path, database_url: str
    ) -> None:
        result = subprocess.run(
            _proveo("create-admin", "--email", "ops@proveo.cl", "--password", "lowercaseonly"),
            env=_url_env(tmp_path, database_url),
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 2
        assert result.stderr.startswith("error: password: Password must mix"), result.stderr
        assert "Traceback" not in result.stderr


class TestHelp:
    def test_help_texts_are_plain_and_every_option_is_explained(self) -> None:
        parser = build_parser()
        [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        for name, subparser in {"proveo": parser, **commands.choices}.items():
            assert "`" not in subparser.format_help(), name
            for action in subparser._actions:
                assert action.help, f"{name} {action.dest} has no help text"
