"""The `proveo` command as people run it: real processes, embedded or session PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

import asyncpg
import httpx
import pytest

from proveo.cli import _banner as banner
from proveo.cli import build_parser
from proveo.config import Settings
from proveo.core import migrations
from proveo.core.embedded_pg import EmbeddedPostgres
from proveo.core.security import hash_password_sync
from proveo.integrations.storage import ImageStorage, LocalImageStorage, new_image_key
from proveo.jobs.registry import build_registry
from tests.conftest import build_s3_storage
from tests.factories import outbox_messages, verification_link
from tests.fixtures.database import create_database
from tests.fixtures.servers import (
    SeaweedServer,
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
    base_url: str,
    process: subprocess.Popen[bytes],
    log_path: Path | None = None,
    timeout: float = 120,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = output_tail(log_path) if log_path else ""
            raise AssertionError(f"proveo serve exited with {process.returncode}:\n{tail}")
        try:
            if httpx.get(f"{base_url}/api/v1/health/database", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    tail = output_tail(log_path) if log_path else ""
    raise AssertionError(f"proveo serve did not become healthy:\n{tail}")


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


def _workers_of(parent: int) -> list[int]:
    """The `proveo` processes forked by `parent` (not its PostgreSQL)."""
    workers = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == parent and b"proveo.cli" in cmdline:
            workers.append(int(stat.parent.name))
    return sorted(workers)


def _forked_workers(process: subprocess.Popen[bytes], count: int) -> list[int]:
    """The workers' pids the moment `serve` has forked them (before they serve)."""
    deadline = time.monotonic() + 120
    while len(workers := _workers_of(process.pid)) < count:
        assert process.poll() is None, "serve exited before forking its workers"
        assert time.monotonic() < deadline, "serve did not fork its workers"
        time.sleep(0.01)
    return workers


def _wait_gone(pids: list[int], message: str) -> None:
    deadline = time.monotonic() + 30
    while any(_is_alive(pid) for pid in pids):
        assert time.monotonic() < deadline, message
        time.sleep(0.1)


def _serve_two_workers(
    data_dir: Path, port: int, *, stdout: int = subprocess.PIPE, stderr: int = subprocess.STDOUT
) -> subprocess.Popen[bytes]:
    env = _env(data_dir, port) | {"PROVEO_WORKERS": "2"}
    return subprocess.Popen(_proveo("serve"), env=env, stdout=stdout, stderr=stderr)


def _listening_socket_inode(port: int) -> str:
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == "0A":  # LISTEN
            return fields[9]
    raise AssertionError(f"nothing listens on {port}")


def _holds_socket(pid: int, inode: str) -> bool:
    target = f"socket:[{inode}]"
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            if os.readlink(fd) == target:
                return True
    return False


def _is_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


class TestServe:
    def _run_once(self, data_dir: Path, stop: signal.Signals = signal.SIGINT) -> dict[str, object]:
        """Start, send the first requests the moment the banner shows (no retries), then stop."""
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
                process.send_signal(stop)
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
            # The link signed this client in (it signed up); a fresh one logs in.
            assert http.get("/api/v1/users/me").json()["email_verified"] is True
            http.cookies.clear()
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
            assert "set PROVEO_DATA_DIR to another directory" in second.stderr
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

    def test_sighup_stops_the_server_then_the_database(self, data_dir: Path) -> None:
        """SIGHUP (terminal closed, SSH dropped) used to kill serve and orphan PostgreSQL."""
        seen = self._run_once(data_dir, stop=signal.SIGHUP)
        assert seen["returncode"] == 0, seen["output"]
        assert seen["health"] == 200
        assert "proveo_stopped" in str(seen["output"])  # the app's lifespan shut down
        assert "embedded_postgres_stopped" in str(seen["output"])
        assert not EmbeddedPostgres(data_dir / "pg").is_running()

    def test_ctrl_c_passed_on_again_and_again_still_stops_the_database(
        self, data_dir: Path
    ) -> None:
        """Found by the newcomer: Ctrl-C on `make run` reaches `proveo serve` from the terminal
        and again from `uv run`; the second one cut `pg_ctl stop` short (a signal mask holds for
        one thread only) and left the database running."""
        port = free_port()
        with subprocess.Popen(
            _proveo("serve"), env=_env(data_dir, port), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        ) as process:  # fmt: skip
            assert process.stdout is not None
            before = _read_until_banner(process)
            while process.poll() is None:
                process.send_signal(signal.SIGINT)
                time.sleep(0.005)
            output = "".join(before) + process.stdout.read().decode()
        assert process.returncode == 0, output
        assert "embedded_postgres_stopped" in output
        assert not EmbeddedPostgres(data_dir / "pg").is_running()

    def test_closing_its_terminal_stops_the_database(self, data_dir: Path) -> None:
        port = free_port()
        with _session_on_terminal(_proveo("serve"), _env(data_dir, port)) as terminal:
            terminal.read_until("Proveo is running")
            assert EmbeddedPostgres(data_dir / "pg").is_running()
            terminal.close()  # the kernel sends SIGHUP to the session
            assert terminal.process.wait(timeout=60) == 0
        assert not EmbeddedPostgres(data_dir / "pg").is_running()

    def test_workers_share_the_port_and_stop_before_the_database(self, data_dir: Path) -> None:
        port = free_port()
        with _serve_two_workers(data_dir, port) as process:
            assert process.stdout is not None
            try:
                assert "(2 worker processes)" in _read_until_banner(process)[-1]
                workers = _workers_of(process.pid)
                assert len(workers) == 2
                answers = {
                    httpx.get(f"http://127.0.0.1:{port}/api/v1/health/database").status_code
                    for _ in range(20)
                }
                assert answers == {200}
            finally:
                process.send_signal(signal.SIGINT)  # to the parent alone: it passes it on
                process.wait(timeout=60)
                output = process.stdout.read().decode()
        assert process.returncode == 0, output
        assert output.count("Proveo is running") == 0  # announced once, before the read above
        logged = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        stopped = [line["worker"] for line in logged if line["event"] == "proveo_stopped"]
        assert sorted(stopped) == [0, 1]  # both apps shut down cleanly, each naming itself
        assert output.index('"proveo_stopped"') < output.index("embedded_postgres_stopped")
        assert not any(_is_alive(pid) for pid in workers)
        assert not EmbeddedPostgres(data_dir / "pg").is_running()

    def test_a_worker_that_dies_takes_serve_down_with_one_line(self, data_dir: Path) -> None:
        with _serve_two_workers(data_dir, free_port(), stderr=subprocess.PIPE) as process:
            assert process.stderr is not None
            _read_until_banner(process)
            first, second = _workers_of(process.pid)
            os.kill(first, signal.SIGKILL)
            process.wait(timeout=60)
            stderr = process.stderr.read().decode()
        assert process.returncode == 2
        assert f"worker {first} exited with -9; the other workers were stopped" in stderr
        assert not _is_alive(second)
        assert not EmbeddedPostgres(data_dir / "pg").is_running()

    @pytest.mark.parametrize("when", ["serving", "starting"])
    def test_workers_of_a_killed_serve_do_not_outlive_it(self, data_dir: Path, when: str) -> None:
        """Found in review: killed while its workers were still starting, serve left them
        serving (the kernel's SIGTERM to them was raised, and swallowed, in their code)."""
        port = free_port()
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        with _serve_two_workers(data_dir, port, **quiet) as process:
            workers = _forked_workers(process, 2)
            if when == "serving":
                _wait_healthy(f"http://127.0.0.1:{port}", process)
            process.kill()
            process.wait(timeout=10)
        _wait_gone(workers, "workers outlived their killed parent")
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/api/v1/health/", timeout=2)
        EmbeddedPostgres(data_dir / "pg").stop("immediate")  # orphaned, as after any crash

    def test_a_stop_while_the_workers_start_is_not_lost(self, data_dir: Path) -> None:
        """Found in review: SIGTERM right after the fork was lost until the 30 s grace ran out."""
        with _serve_two_workers(data_dir, free_port()) as process:
            workers = _forked_workers(process, 2)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=15) == 0
        _wait_gone(workers, "workers outlived a stopped serve")
        assert not EmbeddedPostgres(data_dir / "pg").is_running()

    def test_a_worker_stopped_alone_takes_serve_down_with_one_line(self, data_dir: Path) -> None:
        """Found in review: it ended serve with exit code 0, so `on-failure` did not restart it."""
        with _serve_two_workers(data_dir, free_port(), stderr=subprocess.PIPE) as process:
            _read_until_banner(process)
            first, _ = _workers_of(process.pid)
            os.kill(first, signal.SIGTERM)
            process.wait(timeout=60)
            assert process.stderr is not None
            stderr = process.stderr.read().decode()
        assert process.returncode == 2
        assert f"worker {first} stopped on its own (exit code 0)" in stderr

    def test_only_the_workers_hold_the_listening_socket(self, data_dir: Path) -> None:
        """Found in review: the parent's copy kept new connections queued through a stop."""
        port = free_port()
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        with _serve_two_workers(data_dir, port, **quiet) as process:
            try:
                _wait_healthy(f"http://127.0.0.1:{port}", process)
                listening = _listening_socket_inode(port)
                assert not _holds_socket(process.pid, listening)
                assert all(_holds_socket(pid, listening) for pid in _workers_of(process.pid))
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)

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


PRODUCTION_ENV = {
    "PROVEO_ENV": "production",
    "PROVEO_SECRET_KEY": "Vq3xN8-pL2zR7wKd_T5mYc9Hs4Bf6Gj1Ea0UoIiZ",
    "PROVEO_PUBLIC_BASE_URL": "https://proveo.cl",
    "PROVEO_EMAIL_BACKEND": "resend",
    "PROVEO_RESEND_API_KEY": "re_Zk3mQ9xT2vB7",
    "PROVEO_SEED_DEMO": "false",
    "PROVEO_BCRYPT_ROUNDS": "12",
}


class TestProductionStartErrors:
    """Found by an adversary: start-up failures printed tracebacks, and the banner a dead link."""

    def test_unreachable_database_is_one_line_without_its_password(self, tmp_path: Path) -> None:
        env = (
            _env(tmp_path, free_port())
            | PRODUCTION_ENV
            | {
                "PROVEO_DATABASE_URL": f"postgresql://proveo:Pw-s3cret@127.0.0.1:{free_port()}/prod",
            }
        )
        result = subprocess.run(
            _proveo("serve"), env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 2
        [line] = result.stderr.splitlines()
        assert re.fullmatch(
            r"error: PROVEO_DATABASE_URL: cannot use the database at 127\.0\.0\.1:\d+/prod .+", line
        )
        assert "Pw-s3cret" not in result.stderr + result.stdout
        assert "Proveo is running" not in result.stdout

    def test_a_missing_s3_bucket_is_one_line_and_not_created(
        self, tmp_path: Path, seaweed: SeaweedServer
    ) -> None:
        bucket = f"proveo-typo-{uuid4().hex[:8]}"
        env = (
            _env(tmp_path, free_port())
            | PRODUCTION_ENV
            | {
                "PROVEO_DATABASE_URL": f"postgresql://proveo@127.0.0.1:{free_port()}/prod",
                "PROVEO_STORAGE": "s3",
                "PROVEO_S3_ENDPOINT_URL": seaweed.endpoint_url,
                "PROVEO_S3_BUCKET": bucket,
                "PROVEO_S3_ACCESS_KEY": seaweed.ACCESS_KEY,
                "PROVEO_S3_SECRET_KEY": seaweed.SECRET_KEY,
            }
        )
        result = subprocess.run(
            _proveo("serve"), env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 2
        assert result.stderr.splitlines() == [
            f"error: PROVEO_S3_BUCKET: the bucket '{bucket}' does not exist at "
            f"{seaweed.endpoint_url}; create it, or set PROVEO_S3_CREATE_BUCKET=true for "
            "`proveo serve` to create it"
        ]
        assert seaweed.SECRET_KEY not in result.stderr + result.stdout
        assert "Proveo is running" not in result.stdout

    def test_the_image_service_in_production_names_only_its_own_problems(
        self, tmp_path: Path
    ) -> None:
        """It reads none of the API's settings: no secret, database or email is asked for."""
        env = _env(tmp_path, free_port()) | {
            "PROVEO_ENV": "production",
            "PROVEO_SECRET_KEY": "short",
            "PROVEO_IMAGE_SERVICE_PORT": "0",
        }
        result = subprocess.run(
            _proveo("image-service"), env=env, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
        assert result.returncode == 2
        assert result.stderr.splitlines() == [
            "error: PROVEO_IMAGE_SERVICE_PORT: Input should be greater than or equal to 1"
        ]

    def test_unknown_log_level_is_one_line(self, tmp_path: Path) -> None:
        env = _env(tmp_path, free_port()) | {"PROVEO_LOG_LEVEL": "LOUD"}
        result = subprocess.run(
            _proveo("migrate"), env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 2
        assert result.stderr.splitlines() == [
            "error: PROVEO_LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
        ]

    def test_banner_advertises_the_docs_only_when_they_are_served(self) -> None:
        development = Settings(_env_file=None)  # type: ignore[call-arg]
        production = Settings(  # type: ignore[call-arg]
            _env_file=None,
            **{key.removeprefix("PROVEO_").lower(): value for key, value in PRODUCTION_ENV.items()},
            database_url="postgresql://proveo@db/proveo",
        )
        assert "API docs: http://127.0.0.1:8000/docs" in banner(development)
        assert "docs" not in banner(production)


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


def _as_from_a_shell() -> None:
    """Signals as a shell leaves them to the programs it starts. A child inherits its parent's
    blocked signals and ignored ones: the test worker, after other tests in its process, may
    have SIGINT blocked, and then Ctrl-C at a prompt did nothing (a full-suite-only timeout)."""
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    for stop in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(stop, signal.SIG_DFL)


@contextmanager
def _session_on_terminal(args: list[str], env: dict[str, str]) -> Iterator[_Terminal]:
    """A process whose controlling terminal is a fresh pseudo-terminal, as in a shell.

    Its keys are real: Ctrl-C makes the terminal send SIGINT, and closing the terminal (the
    window, or a dropped SSH connection) sends SIGHUP. Never the terminal running the tests.
    """
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            ["setsid", "--ctty", *args], env=env,
            stdin=terminal, stdout=terminal, stderr=terminal,
            preexec_fn=_as_from_a_shell,
        )  # fmt: skip
    finally:
        os.close(terminal)
    session = _Terminal(process, controller)
    try:
        yield session
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        session.close()


class _Terminal:
    def __init__(self, process: subprocess.Popen[bytes], controller: int) -> None:
        self.process = process
        self.controller: int | None = controller
        self.output = ""

    def read_until(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert self.controller is not None
            left = deadline - time.monotonic()
            assert left > 0, f"no {text!r} on the terminal:\n{self.output}"
            if not select.select([self.controller], [], [], left)[0]:
                continue
            try:
                chunk = os.read(self.controller, 4096)
            except OSError:  # EIO: every process closed the terminal
                chunk = b""
            assert chunk, f"the terminal closed before {text!r}:\n{self.output}"
            self.output += chunk.decode(errors="replace").replace("\r\n", "\n")
        return self.output

    def type(self, keys: bytes) -> None:
        assert self.controller is not None
        os.write(self.controller, keys)

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        """Wait for the exit, reading the terminal meanwhile: a process whose output fills the
        terminal's buffer blocks until someone reads it, and would never exit otherwise."""
        deadline = time.monotonic() + timeout
        while (code := self.process.poll()) is None:
            assert time.monotonic() < deadline, (
                f"still running after {timeout} s (this process blocks "
                f"{sorted(signal.pthread_sigmask(signal.SIG_BLOCK, []))}):\n{self.output}"
            )
            self._read_available(0.1)
        self._read_available(0.2)
        return code, self.output

    def _read_available(self, wait: float) -> None:
        while self.controller is not None and select.select([self.controller], [], [], wait)[0]:
            try:
                chunk = os.read(self.controller, 4096)
            except OSError:  # EIO: every process closed the terminal
                return
            if not chunk:
                return
            self.output += chunk.decode(errors="replace").replace("\r\n", "\n")

    def close(self) -> None:
        if self.controller is not None:
            os.close(self.controller)
            self.controller = None


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


class TestCreateAdminPasswordSource:
    """Where the password comes from is settled before anything starts, or asked plainly."""

    @pytest.mark.parametrize(
        ("key", "message"),
        [
            (b"\x03", "error: interrupted"),
            (b"\x04", "error: no password given (end of input)"),
        ],
        ids=["ctrl-c", "ctrl-d"],
    )
    def test_leaving_the_prompt_is_one_line_without_a_traceback(
        self, tmp_path: Path, database_url: str, key: bytes, message: str
    ) -> None:
        env = _url_env(tmp_path, database_url)
        with _session_on_terminal(_proveo("create-admin", "--email", "ops@proveo.cl"), env) as tty:
            tty.read_until("Admin password: ")
            tty.type(key)
            code, output = tty.finish()
        assert code == (130 if key == b"\x03" else 2), output
        assert "Traceback" not in output
        assert output.split("Admin password: ", 1)[1] == f"\n{message}\n", output
        assert asyncio.run(_fetch(database_url, "SELECT 1 FROM proveo.user_account")) == []

    @pytest.mark.parametrize("reset", [False, True], ids=["new-database", "reset-password"])
    def test_a_pipe_without_password_is_refused_before_the_database_starts(
        self, tmp_path: Path, reset: bool
    ) -> None:
        args = ["create-admin", "--email", "ops@proveo.cl", *(["--reset-password"] * reset)]
        result = subprocess.run(
            _proveo(*args), env=_env(tmp_path / "data", free_port()), stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 2
        [line] = result.stderr.splitlines()  # no log line: nothing started
        assert line.startswith("error: ")
        assert line.endswith(
            "give --password or PROVEO_ADMIN_PASSWORD, or run it at a terminal to be asked"
        )
        assert not (tmp_path / "data" / "pg").exists()


class TestHelp:
    def test_help_texts_are_plain_and_every_option_is_explained(self) -> None:
        parser = build_parser()
        [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        for name, subparser in {"proveo": parser, **commands.choices}.items():
            assert "`" not in subparser.format_help(), name
            for action in subparser._actions:
                assert action.help, f"{name} {action.dest} has no help text"


class TestNumbers:
    @pytest.mark.parametrize(
        "value", ["-1", "abc", "1.5", "+5", "0x10", "²", "١", "100000001", "1" + "0" * 30]
    )
    def test_anything_but_a_plain_whole_number_up_to_the_maximum_is_refused(
        self, value: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        # Found in review: a huge count crashed `seed --synthetic` with an OverflowError.
        with pytest.raises(SystemExit) as exited:
            build_parser().parse_args(["seed", "--synthetic", value])
        assert exited.value.code == 2
        assert "--synthetic" in capsys.readouterr().err

    @pytest.mark.parametrize(("value", "taken"), [("100000000", 100_000_000), ("0000000001", 1)])
    def test_a_whole_number_up_to_the_maximum_is_taken(self, value: str, taken: int) -> None:
        # Found in review: leading zeros made a small number "more than 100,000,000".
        args = build_parser().parse_args(["seed", "--synthetic", value])
        assert args.synthetic == taken


async def _put_images(storage: ImageStorage, *names: str) -> None:
    try:
        for name in names:
            await storage.put(name, b"webp", "image/webp")
    finally:
        await storage.close()


class TestCleanupImages:
    def test_at_a_terminal_lists_what_it_would_remove_then_removes_it(
        self, tmp_path: Path, database_url: str
    ) -> None:
        env = _url_env(tmp_path, database_url)
        images = tmp_path / "data" / "images"
        old, young = f"{new_image_key()}.webp", f"{new_image_key()}.webp"
        asyncio.run(_put_images(LocalImageStorage(images), old, young))
        two_hours_ago = time.time() - 7200
        os.utime(images / old, (two_hours_ago, two_hours_ago))

        code, output = _run_on_terminal(_proveo("cleanup-images", "--dry-run"), env)
        assert code == 0, output
        assert f"would remove {old}\n" in output
        assert output.endswith(
            "Would remove 1 orphan image objects of 2 stored "
            "(0 in use; 1 younger than 60 minutes kept).\n"
        ), output
        assert (images / old).exists()

        code, output = _run_on_terminal(_proveo("cleanup-images"), env)
        assert code == 0, output
        assert output == f"removed {old}\nRemoved 1 orphan image objects of 2 stored " + (
            "(0 in use; 1 younger than 60 minutes kept).\n"
        )
        assert sorted(p.name for p in images.rglob("*") if p.is_file()) == [young]

    def test_on_s3_in_a_pipe_logs_json_and_fails_plainly_when_s3_is_down(
        self, tmp_path: Path, database_url: str, seaweed: SeaweedServer
    ) -> None:
        seaweed.empty_bucket()
        env = _url_env(tmp_path, database_url) | {
            "PROVEO_STORAGE": "s3",
            "PROVEO_S3_ENDPOINT_URL": seaweed.endpoint_url,
            "PROVEO_S3_BUCKET": seaweed.BUCKET,
            "PROVEO_S3_ACCESS_KEY": seaweed.ACCESS_KEY,
            "PROVEO_S3_SECRET_KEY": seaweed.SECRET_KEY,
        }
        orphan = f"{new_image_key()}_thumb.webp"
        asyncio.run(_put_images(build_s3_storage(seaweed), orphan))
        command = _proveo("cleanup-images", "--min-age-minutes", "0")

        result = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stderr
        events = {entry["event"]: entry for entry in _json_lines(result.stderr)}
        assert events["orphan_image_removed"]["name"] == orphan
        assert events["orphan_images_cleaned"]["removed"] == 1

        seaweed.stop()
        try:
            result = subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=60, check=False
            )
        finally:
            seaweed.start()
        assert result.returncode == 2
        assert result.stderr.splitlines()[-1] == (
            "error: the image storage (s3) does not answer; try again when it does"
        )
        assert "Traceback" not in result.stderr


async def _hold_job_lock(dsn: str, name: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn)
    assert await conn.fetchval(
        "SELECT pg_try_advisory_lock(hashtextextended('proveo.jobs:' || $1, 0))", name
    )
    return conn


class TestRunJob:
    def test_at_a_terminal_runs_the_job_once_and_says_what_it_did(
        self, tmp_path: Path, database_url: str
    ) -> None:
        env = _url_env(tmp_path, database_url)
        migrations.upgrade(database_url)
        asyncio.run(
            _fetch(
                database_url,
                "WITH u AS (INSERT INTO proveo.user_account (name, email, password_hash) "
                "VALUES ('Ana', 'ana@proveo.cl', 'x') RETURNING id) "
                "INSERT INTO proveo.user_session (user_id, expires_at) "
                "SELECT id, now() - interval '1 hour' FROM u",
            )
        )
        code, output = _run_on_terminal(_proveo("run-job", "purge-expired-sessions"), env)
        assert code == 0, output
        assert re.fullmatch(
            r"Ran the job purge-expired-sessions in \d+ ms: 1 row deleted\.\n", output
        ), output
        assert asyncio.run(_fetch(database_url, "SELECT 1 FROM proveo.user_session")) == []

    def test_a_python_job_in_a_pipe_writes_a_json_line(
        self, tmp_path: Path, database_url: str
    ) -> None:
        result = subprocess.run(
            _proveo("run-job", "clean-up-orphan-images"), env=_url_env(tmp_path, database_url),
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        [finished] = [e for e in _json_lines(result.stderr) if e["event"] == "job_finished"]
        assert finished["job"] == "clean-up-orphan-images"
        assert "OrphanReport(scanned=0" in str(finished["result"])

    def test_an_unknown_name_lists_every_job(self, tmp_path: Path) -> None:
        result = subprocess.run(
            _proveo("run-job", "purge-everything"), env=_env(tmp_path / "data", free_port()),
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 2
        every_job = ", ".join(job.name for job in build_registry().jobs)
        assert "purge-expired-sessions, purge-expired-tokens" in every_job
        assert result.stderr == (
            f"error: there is no job 'purge-everything'; the jobs are: {every_job}\n"
        )
        assert not (tmp_path / "data" / "pg").exists()

    def test_does_nothing_while_a_scheduler_holds_the_jobs_lock(
        self, tmp_path: Path, database_url: str
    ) -> None:
        migrations.upgrade(database_url)

        async def run_while_locked() -> subprocess.CompletedProcess[str]:
            holder = await _hold_job_lock(database_url, "purge-expired-tokens")
            try:
                return await asyncio.to_thread(
                    subprocess.run, _proveo("run-job", "purge-expired-tokens"),
                    env=_url_env(tmp_path, database_url),
                    capture_output=True, text=True, timeout=60, check=False,
                )  # fmt: skip
            finally:
                await holder.close()

        result = asyncio.run(run_while_locked())
        assert result.returncode == 2
        assert result.stderr.splitlines()[-1] == (
            "error: the job purge-expired-tokens is running elsewhere right now (a scheduler "
            "holds its lock); nothing was done, try again when it finishes"
        )


class TestProductionRefusesTheDemoAccounts:
    @pytest.mark.parametrize("email", ["Admin_Test@mail.com", "synthetic-0000007@example.com"])
    def test_a_database_with_a_demo_or_synthetic_account_is_not_served(
        self, tmp_path: Path, database_url: str, email: str
    ) -> None:
        """Found by an adversary: production served a copy of `make run`'s database, and its
        demo admin signed in with the public password; then the synthetic seed's accounts."""
        migrations.upgrade(database_url)
        asyncio.run(
            _fetch(
                database_url,
                "INSERT INTO proveo.user_account (name, email, password_hash, role, "
                "email_verified) VALUES ('Demo', $1, 'x', 'admin', true) RETURNING id",
                email,
            )
        )
        env = _url_env(tmp_path, database_url) | PRODUCTION_ENV | {"PROVEO_PORT": str(free_port())}
        result = subprocess.run(
            _proveo("serve"), env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 2, result.stderr
        assert result.stderr.splitlines()[-1] == (
            f"error: the database holds demo or synthetic accounts ({email}, ...), whose "
            "passwords are public: production does not serve them; use a database without the "
            "demo data"
        )


class TestProductionNeverMigratesBehindTheOperator:
    """seed, create-admin, cleanup-images and run-job check the schema in production."""

    @pytest.mark.parametrize(
        "args",
        [
            ["cleanup-images"],
            ["seed"],
            ["run-job", "purge-expired-sessions"],
            ["create-admin", "--email", "ops@proveo.cl", "--password", "First-pass1"],
        ],
        ids=lambda args: args[0],
    )
    def test_an_unmigrated_database_is_refused_in_one_line_and_left_alone(
        self, tmp_path: Path, database_url: str, args: list[str]
    ) -> None:
        env = _url_env(tmp_path, database_url) | PRODUCTION_ENV
        result = subprocess.run(
            _proveo(*args), env=env, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert result.stderr.splitlines() == [
            "error: the database is without Proveo's schema, and this version needs "
            f"{_head()}: run `proveo migrate` first"
        ], result.stderr
        assert (
            asyncio.run(_fetch(database_url, "SELECT 1 FROM pg_tables WHERE schemaname = 'proveo'"))
            == []
        )

    def test_a_database_behind_the_code_names_both_revisions(
        self, tmp_path: Path, database_url: str
    ) -> None:
        migrations.upgrade(database_url, "20261125_1200")
        env = _url_env(tmp_path, database_url) | PRODUCTION_ENV
        result = subprocess.run(
            _proveo("cleanup-images"), env=env,
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert result.stderr.splitlines() == [
            f"error: the database is at revision 20261125_1200, and this version needs {_head()}: "
            "run `proveo migrate` first"
        ]
        assert asyncio.run(
            _fetch(database_url, "SELECT version_num FROM proveo.alembic_version")
        ) == [("20261125_1200",)]

    def test_a_migrated_database_is_used_as_it_is(self, tmp_path: Path, database_url: str) -> None:
        migrations.upgrade(database_url)
        env = _url_env(tmp_path, database_url) | PRODUCTION_ENV
        result = subprocess.run(
            _proveo("cleanup-images"), env=env,
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        events = [entry["event"] for entry in _json_lines(result.stderr)]
        assert "orphan_images_cleaned" in events
        assert "migration_applied" not in events


def _head() -> str:
    return ", ".join(migrations.head_revisions())
