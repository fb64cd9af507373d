"""The fault scenarios: each takes one part of the running topology away under a light mixed load,
gives it back, and returns what happened (`ScenarioResult`). tests/faults/test_faults.py asserts
on the results; bench/faults.py prints them as a matrix.

Every scenario has the same shape: load for a moment (the baseline), the fault, a few seconds of
load through it, the part back, then requests until the affected kind answers 2xx again (the
recovery time counts from the moment the part is back: its process answers again), then a moment
of load after. Waits are for events, with deadlines; the only fixed durations are the fault
windows, which set how long the load runs into a fault.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis
from redis.exceptions import RedisError

from proveo.catalog.service import COMMUNES_CACHE_KEY, PRODUCTS_CACHE_KEY
from proveo.core.cache import KEY_PREFIX
from proveo.demo.seed import DEMO_ADMIN_EMAIL
from proveo.demo.seed import demo_user_email as owner_email
from tests.faults.load import UPLOAD_MIX, Load, Sample, Writes, client_for, fresh_address
from tests.faults.topology import (
    S3_TIMEOUT_SECONDS,
    UPLOADING_OWNERS,
    Topology,
    frozen,
    refuses_connections,
    waiting_requests,
)

# Load before the fault, and after recovery: long enough for every kind to show up.
STEADY_SECONDS = 1.5
STEADY_REQUESTS = 15
# How long the load runs into each fault, at least.
FAULT_SECONDS = 3.0
# S3 calls give up within 2 x (connect + read timeout) (integrations/storage.py).
S3_CALL_DEADLINE = 2 * (min(S3_TIMEOUT_SECONDS, 1.0) + S3_TIMEOUT_SECONDS)
RECOVERY_TIMEOUT = 60.0
FALLBACKS = "proveo_db_replica_fallbacks_total"


@dataclass
class ScenarioResult:
    name: str
    fault: str
    samples: list[Sample]
    fault_at: float
    back_at: float
    recovered_at: float
    # The kinds whose 5xx the scenario allows (the ones the fault takes away).
    allowed_5xx: tuple[str, ...]
    missing_writes: dict[str, list[str]]
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return len(self.samples)

    @property
    def server_errors(self) -> list[Sample]:
        return [s for s in self.samples if s.server_error]

    @property
    def worst_latency(self) -> float:
        return max(s.latency for s in self.samples)

    @property
    def recovery_seconds(self) -> float:
        return self.recovered_at - self.back_at

    @property
    def fault_seconds(self) -> float:
        return self.back_at - self.fault_at

    def of_kind(self, *kinds: str) -> list[Sample]:
        return [s for s in self.samples if s.kind in kinds]

    def unaffected(self) -> list[Sample]:
        """The requests of the kinds the fault must not touch."""
        return [s for s in self.samples if s.kind not in self.allowed_5xx]

    def not_ok(self, samples: list[Sample]) -> list[Sample]:
        return [s for s in samples if not s.ok]

    def errors_by_kind(self) -> dict[str, Counter[str]]:
        """{kind: {"503 storage_unavailable": n}} for every answer that was not 2xx."""
        table: dict[str, Counter[str]] = {}
        for s in self.samples:
            if not s.ok:
                table.setdefault(s.kind, Counter())[f"{s.status} {s.code}"] += 1
        return table

    def row(self) -> tuple[str, str, str, str, str]:
        return (
            self.name,
            str(self.requests),
            str(len(self.server_errors)),
            f"{self.worst_latency:.2f} s",
            f"{self.recovery_seconds:.2f} s",
        )


# --- shared steps -------------------------------------------------------------------------------


async def _steady(load: Load, since: float | None = None) -> None:
    """Load for STEADY_SECONDS, and until STEADY_REQUESTS have been answered."""
    start = time.monotonic() if since is None else since
    await load.wait_for_samples(STEADY_REQUESTS, start)
    remaining = STEADY_SECONDS - (time.monotonic() - start)
    if remaining > 0:
        await asyncio.sleep(remaining)


async def _through_fault(
    load: Load, fault_at: float, *, kinds: tuple[str, ...] = (), count: int = 0
) -> None:
    """Keep the load on the fault for FAULT_SECONDS, and until `count` requests of `kinds` that
    started after it have been answered."""
    deadline = time.monotonic() + 60
    while True:
        answered = [s for s in load.between(fault_at) if s.kind in kinds]
        if time.monotonic() - fault_at >= FAULT_SECONDS and len(answered) >= count:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"fewer than {count} {kinds} answered during the fault")
        await asyncio.sleep(0.05)


async def _timed_start(start: Callable[[], object]) -> float:
    """Run a blocking start in a thread (the load goes on); how long it took."""
    started = time.monotonic()
    await asyncio.to_thread(start)
    return round(time.monotonic() - started, 2)


def _within(samples: list[Sample], start: float, end: float) -> list[Sample]:
    """The requests that began and ended in [start, end]: wholly inside a fault."""
    return [s for s in samples if s.started >= start and s.ended <= end]


async def _missing_writes(topology: Topology, writes: Writes) -> dict[str, list[str]]:
    """Each write answered 2xx that the primary does not hold (empty lists: none is lost)."""
    conn = await _retry_connect(topology.primary_connection)
    try:
        sessions = {
            row["id"]
            for row in await conn.fetch(
                "SELECT id FROM user_session WHERE id = ANY($1::uuid[])", list(writes.sessions)
            )
        }
        edits = {
            row["request_id"]
            for row in await conn.fetch(
                "SELECT request_id FROM admin_audit_log "
                "WHERE action = 'company.update' AND request_id = ANY($1::text[])",
                list(writes.edits),
            )
        }
        logos = {
            row["email"]: row["image_key"]
            for row in await conn.fetch(
                "SELECT u.email, c.image_key FROM company c JOIN user_account u "
                "ON u.id = c.user_id WHERE c.deleted_at IS NULL AND u.email = ANY($1::text[])",
                list(writes.last_upload),
            )
        }
    finally:
        await conn.close()
    return {
        "sessions": sorted(str(s) for s in writes.sessions - sessions),
        "edits": sorted(writes.edits - edits),
        "uploads": sorted(
            f"{email}: {key}"
            for email, key in writes.last_upload.items()
            if email not in writes.unanswered_after_upload and logos.get(email) != key
        ),
    }


async def _retry_connect(
    connect: Callable[[], Awaitable[asyncpg.Connection]], within: float = 30.0
) -> asyncpg.Connection:
    deadline = time.monotonic() + within
    while True:
        try:
            return await connect()
        except (OSError, asyncpg.PostgresError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


def _log_events(topology: Topology, offset: int, *events: str) -> dict[str, int]:
    """How many of `proveo serve`'s log lines since `offset` name each event."""
    text = topology.serve.log_since(offset)
    return {event: text.count(f'"event": "{event}"') for event in events}


async def _database_details(topology: Topology) -> dict[str, Any]:
    """The admin's /health/database/details (from whichever worker answers)."""
    admin = topology.sessions[DEMO_ADMIN_EMAIL]
    async with client_for(topology.url, fresh_address()) as client:
        response = await client.get("/api/v1/health/database/details", headers=admin.headers)
    response.raise_for_status()
    details: dict[str, Any] = response.json()
    return details


async def _upload_load_ready(load: Load) -> None:
    """Two uploads succeeded: the baseline shows uploads work."""
    deadline = time.monotonic() + 60
    while len([s for s in load.samples if s.kind == "upload" and s.ok]) < 2:
        if time.monotonic() > deadline:
            raise TimeoutError("the baseline load had no successful upload in 60 s")
        await asyncio.sleep(0.05)


def _result(
    name: str,
    fault: str,
    load: Load,
    marks: tuple[float, float, float],
    allowed_5xx: tuple[str, ...],
    missing: dict[str, list[str]],
    **evidence: Any,
) -> ScenarioResult:
    fault_at, back_at, recovered_at = marks
    return ScenarioResult(
        name, fault, list(load.samples), fault_at, back_at, recovered_at, allowed_5xx, missing,
        evidence,
    )  # fmt: skip


# --- the replica --------------------------------------------------------------------------------


async def _first_replica_read(topology: Topology, within: float = RECOVERY_TIMEOUT) -> float:
    """When the app first ran a transaction on the restarted replica's `proveo` database."""
    conn = await _retry_connect(topology.replica_connection)
    try:
        deadline = time.monotonic() + within
        while True:
            used = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = 'proveo' "
                "AND application_name = 'proveo' AND state_change >= pg_postmaster_start_time()"
            )
            if used:
                return time.monotonic()
            if time.monotonic() > deadline:
                raise TimeoutError(f"the app did not read from the replica within {within} s")
            await asyncio.sleep(0.05)
    finally:
        await conn.close()


async def _replica_fallbacks(topology: Topology) -> float:
    """proveo_db_replica_fallbacks_total{reason="unavailable"}, summed over the workers."""
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(topology.metrics_url)).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == FALLBACKS and sample.labels.get("reason") == "unavailable":
                return float(sample.value)
    raise AssertionError(f"no {FALLBACKS} in the metrics")


async def _fallbacks_stopped(
    topology: Topology, load: Load, *, quiet: float = 1.5, within: float = RECOVERY_TIMEOUT
) -> tuple[float, float]:
    """Once the fallback count has stayed put for `quiet` s of reads: when it last grew (the
    last read that went to the primary instead, as each worker's backoff ends), and its value."""
    deadline = time.monotonic() + within
    value, changed_at = await _replica_fallbacks(topology), time.monotonic()
    while True:
        await asyncio.sleep(0.25)
        latest = await _replica_fallbacks(topology)
        if latest != value:
            value, changed_at = latest, time.monotonic()
        reads = [s for s in load.between(changed_at) if s.kind in ("company", "search")]
        if time.monotonic() - changed_at >= quiet and len(reads) >= 5:
            return changed_at, value
        if time.monotonic() > deadline:
            raise TimeoutError(f"reads still fell back to the primary after {within} s")


async def replica_stopped(topology: Topology) -> ScenarioResult:
    offset = topology.serve.log_size()
    async with Load(topology) as load:
        await _steady(load)
        before = await _database_details(topology)
        fallbacks_before = await _replica_fallbacks(topology)
        fault_at = time.monotonic()
        await asyncio.to_thread(topology.replica.stop, "fast")
        down_at = time.monotonic()
        await _through_fault(load, fault_at, kinds=("company", "search"), count=10)
        during = await _database_details(topology)
        fallbacks_during = await _replica_fallbacks(topology)
        restoring_at = time.monotonic()
        started_in = await _timed_start(topology.replica.start)
        back_at = time.monotonic()
        recovered_at = await _first_replica_read(topology)
        last_fallback_at, fallbacks_after = await _fallbacks_stopped(topology, load)
        await _steady(load, recovered_at)
        after = await _database_details(topology)
    return _result(
        "replica stopped", "the streaming replica stopped (pg_ctl stop -m fast), then started",
        load, (fault_at, back_at, recovered_at), (), await _missing_writes(topology, load.writes),
        replica_reads_during_fault=_statuses(
            [s for s in _within(load.samples, down_at, restoring_at)
             if s.kind in ("company", "search")]
        ),
        details_before=before["replica"], details_during=during["replica"],
        details_after=after["replica"], started_in=started_in,
        fallbacks=(fallbacks_before, fallbacks_during, fallbacks_after),
        last_fallback_after=round(last_fallback_at - back_at, 2),
        log=_log_events(topology, offset, "replica_unavailable_falling_back"),
    )  # fmt: skip


# --- Redis --------------------------------------------------------------------------------------


async def _redis_counts_again(
    topology: Topology, load: Load, within: float = RECOVERY_TIMEOUT, in_a_row: int = 4
) -> float:
    """When requests are counted in Redis again: a request from an address never seen before
    leaves its rate-limit key there (`proveo:rl:ip:ADDRESS`). Returns the time of the first one
    of `in_a_row` consecutive requests that all did."""
    redis = Redis(port=topology.redis.port, socket_timeout=1, socket_connect_timeout=1)
    try:
        deadline = time.monotonic() + within
        first: float | None = None
        streak = 0
        while streak < in_a_row:
            if time.monotonic() > deadline:
                raise TimeoutError(f"requests were not counted in Redis within {within} s")
            address = fresh_address()
            sample = await load.request_from(address)
            try:
                counted = bool(await redis.exists(f"proveo:rl:ip:{address}"))
            except (OSError, RedisError):  # not answering yet
                counted = False
            if counted:
                first = sample.started if streak == 0 else first
                streak += 1
            else:
                streak = 0
                await asyncio.sleep(0.1)
        assert first is not None
        return first
    finally:
        await redis.aclose()


async def _login_burst(topology: Topology, attempts: int = 25) -> Counter[int]:
    """Wrong passwords from one new address: the login limit (10 a minute per address) must
    still refuse some, counted in process. Two workers count apart: 25 attempts put at least 13
    on one of them."""
    statuses: Counter[int] = Counter()
    async with client_for(topology.url, fresh_address()) as client:
        for number in range(attempts):
            response = await client.post(
                "/api/v1/users/login",
                json={"email": f"nobody-{number}@example.com", "password": "Wrong-pass-123"},
            )
            statuses[response.status_code] += 1
    return statuses


REDIS_EVENTS = (
    "redis_unavailable_using_in_process_cache",
    "redis_unavailable_using_in_process_rate_limits",
    "redis_recovered",
    "redis_recovered_for_rate_limits",
)


async def redis_stopped(topology: Topology) -> ScenarioResult:
    offset = topology.serve.log_size()
    async with Load(topology) as load:
        await _steady(load)
        fault_at = time.monotonic()
        await asyncio.to_thread(topology.redis.stop)
        down_at = time.monotonic()
        await _through_fault(load, fault_at, kinds=("catalog", "search"), count=5)
        burst = await _login_burst(topology)
        restoring_at = time.monotonic()
        started_in = await _timed_start(topology.redis.start)
        back_at = time.monotonic()
        recovered_at = await _redis_counts_again(topology, load)
        await _steady(load, recovered_at)
    return _result(
        "Redis stopped", "redis-server stopped (SIGTERM), then started (empty)",
        load, (fault_at, back_at, recovered_at), (), await _missing_writes(topology, load.writes),
        reads_during_fault=_statuses(_within(load.samples, down_at, restoring_at)),
        login_burst=dict(burst), started_in=started_in,
        log=_log_events(topology, offset, *REDIS_EVENTS),
    )  # fmt: skip


async def redis_frozen(topology: Topology) -> ScenarioResult:
    offset = topology.serve.log_size()
    async with Load(topology) as load:
        await _steady(load)
        fault_at = time.monotonic()
        with frozen(topology.redis_pid):
            await _through_fault(load, fault_at, kinds=("catalog", "search"), count=5)
        back_at = time.monotonic()
        recovered_at = await _redis_counts_again(topology, load)
        await _steady(load, recovered_at)
    return _result(
        "Redis frozen", "redis-server frozen (SIGSTOP), then continued (SIGCONT)",
        load, (fault_at, back_at, recovered_at), (), await _missing_writes(topology, load.writes),
        requests_during_fault=_statuses(_within(load.samples, fault_at, back_at)),
        log=_log_events(topology, offset, *REDIS_EVENTS),
    )  # fmt: skip


# --- S3 -----------------------------------------------------------------------------------------


async def _s3_scenario(topology: Topology, *, freeze: bool) -> ScenarioResult:
    async with Load(topology, mix=UPLOAD_MIX) as load:
        await _upload_load_ready(load)
        await load.view_every_logo()
        await _steady(load)
        fault_at = time.monotonic()
        started_in = 0.0
        if freeze:
            with frozen(topology.s3_pid):
                down_at = time.monotonic()
                # Each upload now waits for the S3 call's deadline: fewer of them finish.
                await _through_fault(load, fault_at, kinds=("upload",), count=2)
                restoring_at = time.monotonic()
        else:
            await asyncio.to_thread(topology.s3.stop)
            down_at = time.monotonic()
            await _through_fault(load, fault_at, kinds=("upload",), count=2)
            restoring_at = time.monotonic()
            started_in = await _timed_start(topology.s3.start)
        back_at = time.monotonic()
        recovered = await load.probe_until_ok("upload", within=RECOVERY_TIMEOUT)
        await _steady(load, recovered.ended)
    name, fault = (
        ("S3 frozen", "SeaweedFS frozen (SIGSTOP), then continued (SIGCONT)")
        if freeze
        else ("S3 stopped", "SeaweedFS killed (SIGTERM, SIGKILL after 0.5 s), then started")
    )
    during = _within(load.samples, down_at, restoring_at)
    before = [s for s in load.samples if s.ended <= fault_at and s.kind == "upload" and s.ok]
    return _result(
        name, fault, load, (fault_at, back_at, recovered.ended), ("upload",),
        await _missing_writes(topology, load.writes),
        uploads_during_fault=_statuses([s for s in during if s.kind == "upload"]),
        logos_during_fault=_statuses([s for s in during if s.kind == "logo"]),
        slowest_upload_before=round(max(s.latency for s in before), 2), started_in=started_in,
    )  # fmt: skip


def _statuses(samples: list[Sample]) -> dict[str, Any]:
    return {
        "answers": dict(Counter(f"{s.status} {s.code}" for s in samples)),
        "slowest": round(max((s.latency for s in samples), default=0.0), 2),
    }


async def s3_stopped(topology: Topology) -> ScenarioResult:
    return await _s3_scenario(topology, freeze=False)


async def s3_frozen(topology: Topology) -> ScenarioResult:
    return await _s3_scenario(topology, freeze=True)


# --- the image service --------------------------------------------------------------------------


async def image_service_killed(topology: Topology) -> ScenarioResult:
    async with Load(topology, mix=UPLOAD_MIX) as load:
        await _upload_load_ready(load)
        await _steady(load)
        fault_at = time.monotonic()
        await asyncio.to_thread(topology.kill_image_service)
        down_at = time.monotonic()
        await _through_fault(load, fault_at, kinds=("upload",), count=2)
        restoring_at = time.monotonic()
        started_in = await _timed_start(topology.start_image_service)
        back_at = time.monotonic()
        recovered = await load.probe_until_ok("upload", within=RECOVERY_TIMEOUT)
        await _steady(load, recovered.ended)
    during = _within(load.samples, down_at, restoring_at)
    before = [s for s in load.samples if s.ended <= fault_at and s.kind == "upload" and s.ok]
    return _result(
        "image service killed", "proveo image-service killed (SIGKILL), then started",
        load, (fault_at, back_at, recovered.ended), ("upload",),
        await _missing_writes(topology, load.writes),
        uploads_during_fault=_statuses([s for s in during if s.kind == "upload"]),
        slowest_upload_before=round(max(s.latency for s in before), 2), started_in=started_in,
    )  # fmt: skip


# --- the primary --------------------------------------------------------------------------------


async def _refill_catalogue_cache(topology: Topology) -> None:
    """Drop the cached catalogue lists: the load refills them from the primary before the fault,
    so that their 5 minutes cannot run out during it (a list whose cache expires while the
    primary is down is a 503, like any read of the primary)."""
    redis = Redis(port=topology.redis.port, socket_timeout=2, socket_connect_timeout=2)
    try:
        await redis.delete(*(KEY_PREFIX + key for key in (COMMUNES_CACHE_KEY, PRODUCTS_CACHE_KEY)))
    finally:
        await redis.aclose()


async def primary_restarted(topology: Topology) -> ScenarioResult:
    await _refill_catalogue_cache(topology)
    async with Load(topology) as load:
        await _steady(load)
        fault_at = time.monotonic()
        await asyncio.to_thread(topology.primary.stop, "immediate")
        down_at = time.monotonic()
        await _through_fault(load, fault_at, kinds=("login", "edit"), count=3)
        restoring_at = time.monotonic()
        started_in = await _timed_start(topology.primary.start)
        back_at = time.monotonic()
        recovered = await load.probe_until_ok("login", within=RECOVERY_TIMEOUT)
        edit_back = await load.probe_until_ok("edit", within=RECOVERY_TIMEOUT)
        await _steady(load, edit_back.ended)
    during = _within(load.samples, down_at, restoring_at)
    return _result(
        "primary restarted",
        "the primary stopped at once (pg_ctl stop -m immediate: a crash), then started",
        load, (fault_at, back_at, recovered.ended), ("login", "edit"),
        await _missing_writes(topology, load.writes),
        writes_during_fault=_statuses([s for s in during if s.kind in ("login", "edit")]),
        reads_during_fault=_statuses([s for s in during if s.kind not in ("login", "edit")]),
        writes_answered_2xx=len(load.writes.sessions) + len(load.writes.edits),
        edit_recovered_after=round(edit_back.ended - back_at, 2), started_in=started_in,
    )  # fmt: skip


# --- stopping proveo serve ----------------------------------------------------------------------

HELD_UPLOADS = 3


async def serve_sigterm(topology: Topology) -> ScenarioResult:
    """Uploads held in the app (the image service frozen while they wait for it), then SIGTERM
    to `proveo serve`: they must finish, new connections must be refused, and it exits 0."""
    serve = topology.serve
    # Fresh workers first. A worker whose circuit breaker opened in the scenario that killed the
    # image service, and that has not had an upload since, lets one trial call through and
    # answers 503 at once to the others while it waits: with the service frozen, the trial
    # never ends (the likeliest reading of a CI run in which one held upload never got there).
    await asyncio.to_thread(serve.stop)
    await asyncio.to_thread(serve.start)
    async with Load(topology) as load:
        await _steady(load)
        uploaders = [owner_email(n) for n in UPLOADING_OWNERS[:HELD_UPLOADS]]
        deadline = time.monotonic() + 90
        while not (await load.upload_as(uploaders[0])).ok:
            if time.monotonic() > deadline:
                raise TimeoutError("no upload went through before the SIGTERM scenario")
            await asyncio.sleep(0.5)
        with frozen(topology.images_pid):
            held = [asyncio.create_task(load.upload_as(email)) for email in uploaders]
            await _until(
                lambda: waiting_requests(topology.images.port) >= HELD_UPLOADS,
                "the held uploads to reach the image service",
                answered_meanwhile=lambda: [
                    f"{t.result().status} {t.result().code}" for t in held if t.done()
                ],
            )
            fault_at = time.monotonic()
            await asyncio.to_thread(serve.terminate)
            await _until(lambda: refuses_connections(serve.port), "serve to refuse connections")
            refused_after = time.monotonic() - fault_at
            through_nginx = await load.request("search", probe=True)
        held_samples = await asyncio.gather(*held)
        exit_code = await asyncio.to_thread(serve.wait, 60)
        exited_after = time.monotonic() - fault_at
        restart_at = time.monotonic()
        started_in = await _timed_start(serve.start)
        recovered = await load.probe_until_ok("search", within=RECOVERY_TIMEOUT)
        await _steady(load, recovered.ended)
    errors = [s for s in load.samples if s.server_error]
    return _result(
        "serve SIGTERM",
        f"SIGTERM to `proveo serve` (2 workers) with {HELD_UPLOADS} uploads in progress, "
        "then started again",
        load, (fault_at, restart_at, recovered.ended), tuple(sorted({s.kind for s in errors})),
        await _missing_writes(topology, load.writes),
        held_uploads=[f"{s.status} {s.code}" for s in held_samples],
        held_upload_latency=round(max(s.latency for s in held_samples), 2),
        refused_after=round(refused_after, 3),
        new_request_through_nginx=f"{through_nginx.status} {through_nginx.code}",
        server_errors=dict(Counter(f"{s.status} {s.code}" for s in errors)),
        first_error_after_sigterm=round(min((s.started for s in errors), default=fault_at)
                                        - fault_at, 3),
        exit_code=exit_code, exited_after=round(exited_after, 2), started_in=started_in,
    )  # fmt: skip


async def _until(
    condition: Callable[[], bool],
    what: str,
    within: float = 30.0,
    answered_meanwhile: Callable[[], list[str]] | None = None,
) -> None:
    deadline = time.monotonic() + within
    while not await asyncio.to_thread(condition):
        if time.monotonic() > deadline:
            answered = answered_meanwhile() if answered_meanwhile else []
            answered_note = f" (answered meanwhile: {answered})" if answered else ""
            raise TimeoutError(f"waited {within} s for {what}{answered_note}")
        await asyncio.sleep(0.05)


# In the order the matrix lists them; SIGTERM last (it restarts the API).
SCENARIOS: dict[str, Callable[[Topology], Awaitable[ScenarioResult]]] = {
    "replica_stopped": replica_stopped,
    "redis_stopped": redis_stopped,
    "redis_frozen": redis_frozen,
    "s3_stopped": s3_stopped,
    "s3_frozen": s3_frozen,
    "image_service_killed": image_service_killed,
    "primary_restarted": primary_restarted,
    "serve_sigterm": serve_sigterm,
}


def matrix(results: list[ScenarioResult]) -> str:
    """The results as a Markdown table: scenario | requests | 5xx | worst latency | recovery."""
    header = ("scenario", "requests", "5xx", "worst latency", "recovery time")
    rows = [header, *(result.row() for result in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)
