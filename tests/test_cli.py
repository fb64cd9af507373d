"""`proveo serve` as `make run` starts it: a real process, embedded PostgreSQL, demo data."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from proveo.core.embedded_pg import EmbeddedPostgres
from tests.factories import outbox_messages, verification_link
from tests.fixtures.servers import free_port, proveo_command, proveo_env, running_proveo


def _env(data_dir: Path, port: int) -> dict[str, str]:
    return proveo_env(data_dir, port, PROVEO_LOG_FORMAT="json")


_proveo = proveo_command


def _wait_healthy(base_url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise AssertionError(f"proveo serve exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/api/v1/health/database", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("proveo serve did not become healthy")


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


class TestServe:
    def _run_once(self, data_dir: Path) -> tuple[float, dict[str, object]]:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        process = subprocess.Popen(
            _proveo("serve"),
            env=_env(data_dir, port),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            elapsed = _wait_healthy(base_url, process)
            seen: dict[str, object] = {
                "communes": len(httpx.get(f"{base_url}/api/v1/communes/").json()),
                "products": len(httpx.get(f"{base_url}/api/v1/products/").json()),
                "front": httpx.get(f"{base_url}/").status_code,
            }
        finally:
            process.send_signal(signal.SIGINT)
            output, _ = process.communicate(timeout=30)
        seen["returncode"] = process.returncode
        seen["output"] = output.decode()
        return elapsed, seen

    def test_first_and_second_start(self, data_dir: Path) -> None:
        _, first = self._run_once(data_dir)
        assert first["returncode"] == 0, first["output"]
        assert first["communes"] == 346
        assert first["products"] >= 30
        assert first["front"] == 200
        assert "admin_test@mail.com" in str(first["output"])
        assert "embedded_postgres_stopped" in str(first["output"])
        assert not EmbeddedPostgres(data_dir / "pg").is_running()

        _, second = self._run_once(data_dir)
        assert second["returncode"] == 0, second["output"]
        assert "demo_data_seeded" not in str(second["output"])

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
        assert "admin created: ops@proveo.cl" in result.stdout
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
        crashed = subprocess.Popen(
            _proveo("serve"), env=_env(data_dir, port),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            _wait_healthy(f"http://127.0.0.1:{port}", crashed)
        finally:
            crashed.kill()
            crashed.wait()
        assert EmbeddedPostgres(data_dir / "pg").is_running()  # orphaned by the crash
        _, seen = self._run_once(data_dir)
        assert seen["returncode"] == 0, seen["output"]
        assert not EmbeddedPostgres(data_dir / "pg").is_running()

    def test_production_refuses_demo_data(self, data_dir: Path) -> None:
        env = _env(data_dir, free_port()) | {"PROVEO_ENV": "production"}
        result = subprocess.run(
            _proveo("serve"), env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 2
        assert "SEED_DEMO" in result.stderr
