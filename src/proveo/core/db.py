"""PostgreSQL access: a primary pool, an optional replica pool, one transaction per request.

Reads that may be slightly stale go to the replica while it answers; when it does not, they fall
back to the primary and the replica is retried after `replica_retry_seconds`. Transient
connection errors are retried with exponential backoff before the request gives up with a 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeAlias, TypeVar

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from proveo.core import metrics
from proveo.core.errors import ServiceUnavailable

log = structlog.get_logger(__name__)

Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.CannotConnectNowError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
)


SERVER_SETTINGS = {"application_name": "proveo"}
# Search statements are planned for their parameters (`Database.read_planned`): their best
# plans depend on them (how common a word is, how selective a commune) and a generic plan would
# guess. Only they: every other statement keeps the plan PostgreSQL caches for it. Planned on
# every run, a company's profile cost the database 0.76 ms a read instead of 0.23 ms, and the
# whole request a third of its throughput. Their bitmaps get room to stay exact: with the
# default 4 MB, a commune and a category at 1,000,000 companies went lossy and rechecked
# 169,000 rows to count 10,001. Their scans start at the table's first block: search estimates
# how many companies a word matches from where in the table its first matches end, and a scan
# synchronised with another one (PostgreSQL's default for tables larger than a quarter of its
# buffers) starts wherever that one is.
PLANNER_SETTINGS = {
    "plan_cache_mode": "force_custom_plan",
    "work_mem": "16MB",
    "synchronize_seqscans": "off",
}
# The sessions of the pools that serve planned reads: the planner's settings for the whole
# session, so that a read needs no transaction block to carry them (a BEGIN and a COMMIT, two
# round trips of three for a one-statement suggestion), and read-only. Named apart in
# pg_stat_activity.
PLANNED_APPLICATION_NAME = "proveo-search"
PLANNED_SESSION = {
    **SERVER_SETTINGS,
    "application_name": PLANNED_APPLICATION_NAME,
    **PLANNER_SETTINGS,
    "default_transaction_read_only": "on",
}
# Each server gets two pools of up to `max_size` connections: planned reads' and the rest's.
POOLS_PER_SERVER = 2
# The same settings for one transaction, on any connection (a transaction its caller opened).
PLANNED_READ = "; ".join(
    f"SET LOCAL {name} = '{value}'" for name, value in PLANNER_SETTINGS.items()
)
# A transient failure to begin is retried after this, then after twice as long, and so on.
FIRST_RETRY_DELAY_SECONDS = 0.05


class DatabaseUnavailable(ServiceUnavailable):
    code = "database_unavailable"
    default_detail = "The database is temporarily unavailable"


class PoolExhausted(DatabaseUnavailable):
    code = "database_busy"
    default_detail = "The database is busy, try again in a moment"


_PING_ERRORS: tuple[type[BaseException], ...] = (*TRANSIENT_ERRORS, ServiceUnavailable)
# A replica that refuses us for any reason (down, wrong database, bad credentials, recovery
# conflict) is skipped: the primary can always serve the read. So is a replica connection that
# its server's stop left mid-operation (seen in a CI run: BEGIN raised InternalClientError,
# "another operation is in progress", and the read answered 500).
REPLICA_FALLBACK_ERRORS: tuple[type[BaseException], ...] = (
    *TRANSIENT_ERRORS,
    asyncpg.PostgresError,
    asyncpg.InternalClientError,
)
_CONNECTION_GONE: tuple[type[BaseException], ...] = (*TRANSIENT_ERRORS, asyncpg.InterfaceError)
# A replica that goes away in the middle of a read (stopped, restarted, or cancelling the
# statement for a conflict with the WAL it replays): the read is worth a second try on the
# primary. Not every PostgresError: a statement that times out would only time out again there.
REPLICA_LOST_MID_READ: tuple[type[BaseException], ...] = (
    *_CONNECTION_GONE,
    asyncpg.SerializationError,
)
# A planned read has no BEGIN: its first statement meets what a BEGIN would have met, the
# replica's stop leaving the connection mid-operation included.
REPLICA_LOST_MID_PLANNED_READ: tuple[type[BaseException], ...] = (
    *REPLICA_LOST_MID_READ,
    asyncpg.InternalClientError,
)
# How long a read waits for the replica before going to the primary instead.
REPLICA_TIMEOUT_SECONDS = 1.0
# The replica's replay delay: 0 while it has replayed all it received (an idle primary sends
# nothing, and the last replayed transaction only gets older), else the age of that transaction.
REPLICA_LAG = """
SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END
"""


async def _init_connection(conn: Connection) -> None:
    await conn.execute("SET search_path TO proveo, public")


async def _keep_session(conn: Connection) -> None:
    """A connection returned to its pool keeps its session: asyncpg's own reset (RESET ALL,
    UNLISTEN, CLOSE ALL, advisory unlocks) would cost every request a round trip, a quarter of
    a company read's database time, for state Proveo never leaves behind: settings are
    `SET LOCAL`, and the one session-level lock (a job's) is released by its holder, whose
    connection is closed if it cannot. An open transaction is still rolled back by asyncpg."""


def plans_for_parameters(conn: Connection) -> bool:
    """Whether `conn` is a planned read's (`Database.read_planned`), by its session's name."""
    return bool(conn.get_settings().application_name == PLANNED_APPLICATION_NAME)


# What a planned read may meet on a connection that its server ended (stopped, restarted,
# terminated): asyncpg's protocol can notice only at the next statement, as another operation in
# progress (InternalClientError).
_PLANNED_READ_LOST: tuple[type[BaseException], ...] = (
    *TRANSIENT_ERRORS,
    asyncpg.InternalClientError,
)


def _lost(conn: Connection, error: BaseException) -> bool:
    """Whether `error` left `conn` unusable; one whose protocol is out of step is closed, for
    its pool to replace it."""
    if isinstance(error, asyncpg.InternalClientError):
        with contextlib.suppress(asyncpg.InterfaceError):
            conn.terminate()
        return True
    try:
        return conn.is_closed()
    except asyncpg.InterfaceError:  # its pool took back the connection when it closed
        return True


@asynccontextmanager
async def read_block(conn: Connection, settings: str) -> AsyncIterator[None]:
    """A read-only transaction block on `conn` whose `SET LOCAL` `settings` travel in the
    BEGIN's round trip, and end with it."""
    await conn.execute(f"BEGIN READ ONLY; {settings}")
    try:
        yield
    except BaseException:
        # A connection that is gone took the block with it; one still busy with a cancelled
        # statement is rolled back by its pool.
        with contextlib.suppress(*_CONNECTION_GONE, asyncpg.InternalClientError):
            await conn.execute("ROLLBACK")
        raise
    await conn.execute("COMMIT")


P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class _ReplicaState:
    pool: Pool | None = None
    planned_pool: Pool | None = None
    down_until: float = 0.0
    last_error: str | None = None
    fallbacks: int = 0


class Database:
    """Owns the pools. `transaction()` is the one way application code gets a connection."""

    def __init__(
        self,
        primary_dsn: str,
        replica_dsn: str | None = None,
        *,
        min_size: int = 2,
        max_size: int = 10,
        command_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        replica_retry_seconds: float = 5.0,
        retry_attempts: int = 3,
    ) -> None:
        self.primary_dsn = primary_dsn
        self.replica_dsn = replica_dsn or None
        self._min_size = min_size
        self._max_size = max_size
        self._command_timeout = command_timeout
        self._connect_timeout = connect_timeout
        self._replica_retry_seconds = replica_retry_seconds
        self._replica_timeout = min(connect_timeout, REPLICA_TIMEOUT_SECONDS)
        self._retry_attempts = retry_attempts
        self._primary: Pool | None = None
        self._primary_planned: Pool | None = None
        self._replica = _ReplicaState()
        self._replica_lock = asyncio.Lock()

    async def _create_pool(
        self, dsn: str, min_size: int, *, connect_timeout: float, planned: bool = False
    ) -> Pool:
        pool = await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=self._max_size,
            command_timeout=self._command_timeout,
            timeout=connect_timeout,
            init=_init_connection,
            reset=_keep_session,
            server_settings=PLANNED_SESSION if planned else SERVER_SETTINGS,
        )
        assert pool is not None
        return pool

    async def open(self) -> None:
        """Open the primary (retried: it may still be starting) and, best effort, the replica."""
        try:
            async for attempt in self._retrying(attempts=max(self._retry_attempts, 5)):
                with attempt:
                    if self._primary is None:
                        self._primary = await self._create_pool(
                            self.primary_dsn, self._min_size, connect_timeout=self._connect_timeout
                        )
                    self._primary_planned = await self._create_pool(
                        self.primary_dsn,
                        self._min_size,
                        connect_timeout=self._connect_timeout,
                        planned=True,
                    )
        except RetryError as exc:
            raise DatabaseUnavailable() from exc.last_attempt.exception()
        if self.replica_dsn:
            await self._ensure_replica_pool()

    async def close(self) -> None:
        pools = [
            self._primary,
            self._primary_planned,
            self._replica.pool,
            self._replica.planned_pool,
        ]
        self._primary = self._primary_planned = None
        self._replica.pool = self._replica.planned_pool = None
        for pool in pools:
            if pool is not None:
                await pool.close()

    @property
    def primary(self) -> Pool:
        if self._primary is None:
            raise DatabaseUnavailable("The database pool is not open")
        return self._primary

    @property
    def primary_planned(self) -> Pool:
        if self._primary_planned is None:
            raise DatabaseUnavailable("The database pool is not open")
        return self._primary_planned

    @property
    def replica_configured(self) -> bool:
        return self.replica_dsn is not None

    def _retrying(self, attempts: int | None = None) -> AsyncRetrying:
        return AsyncRetrying(
            retry=retry_if_exception_type(TRANSIENT_ERRORS),
            stop=stop_after_attempt(attempts or self._retry_attempts),
            wait=wait_exponential(multiplier=FIRST_RETRY_DELAY_SECONDS, max=1.0),
            reraise=False,
        )

    def _mark_replica_down(self, error: BaseException) -> None:
        self._replica.down_until = time.monotonic() + self._replica_retry_seconds
        self._replica.last_error = f"{type(error).__name__}: {error}"
        self._replica.fallbacks += 1
        log.warning("replica_unavailable_falling_back", error=self._replica.last_error)

    async def _ensure_replica_pool(self, *, planned: bool = False) -> Pool | None:
        if self.replica_dsn is None or time.monotonic() < self._replica.down_until:
            return None
        pool = self._replica.planned_pool if planned else self._replica.pool
        if pool is not None:
            return pool
        async with self._replica_lock:
            pool = self._replica.planned_pool if planned else self._replica.pool
            if pool is None:
                try:
                    pool = await self._create_pool(
                        self.replica_dsn, 0, connect_timeout=self._replica_timeout, planned=planned
                    )
                except REPLICA_FALLBACK_ERRORS as exc:
                    self._mark_replica_down(exc)
                    return None
                if planned:
                    self._replica.planned_pool = pool
                else:
                    self._replica.pool = pool
        return pool

    @asynccontextmanager
    async def _lent(self, pool: Pool, acquire_timeout: float) -> AsyncIterator[Connection]:
        try:
            conn = await pool.acquire(timeout=acquire_timeout)
        except TimeoutError as exc:
            # Every connection is busy: answer 503 now rather than queue (and not retried).
            raise PoolExhausted(headers={"Retry-After": "1"}) from exc
        try:
            yield conn
        finally:
            await pool.release(conn)

    @asynccontextmanager
    async def _begin(
        self, pool: Pool, *, readonly: bool, acquire_timeout: float
    ) -> AsyncIterator[Connection]:
        """Acquire and BEGIN; everything before the caller's first statement can be retried."""
        async with self._lent(pool, acquire_timeout) as conn:
            tx = conn.transaction(readonly=readonly)
            await tx.start()
            try:
                yield conn
            except BaseException:
                # If the connection is gone, the server rolled the transaction back with it.
                with contextlib.suppress(*_CONNECTION_GONE):
                    await tx.rollback()
                raise
            else:
                await tx.commit()

    async def _enter_primary(self, stack: AsyncExitStack, *, readonly: bool) -> Connection:
        def begin() -> AbstractAsyncContextManager[Connection]:
            return self._begin(
                self.primary, readonly=readonly, acquire_timeout=self._connect_timeout
            )

        try:
            # The first attempt without the retry machinery: it is nearly every request's only
            # one, and building a retrying loop costs more than the transaction's BEGIN.
            return await stack.enter_async_context(begin())
        except TRANSIENT_ERRORS as exc:
            if self._retry_attempts <= 1:
                raise DatabaseUnavailable() from exc
        await asyncio.sleep(FIRST_RETRY_DELAY_SECONDS)
        try:
            async for attempt in self._retrying(self._retry_attempts - 1):
                with attempt:
                    return await stack.enter_async_context(begin())
        except RetryError as exc:
            raise DatabaseUnavailable() from exc.last_attempt.exception()
        raise AssertionError("unreachable: tenacity either returns or raises")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A read-write transaction on the primary, committed when the block ends cleanly."""
        async with AsyncExitStack() as stack:
            yield await self._enter_primary(stack, readonly=False)

    @asynccontextmanager
    async def read_transaction(self) -> AsyncIterator[Connection]:
        """A read-only transaction on the replica when it answers, else on the primary."""
        async with AsyncExitStack() as stack:
            conn: Connection | None = None
            fallback = "unavailable"
            pool = await self._ensure_replica_pool()
            if pool is not None:
                try:
                    conn = await stack.enter_async_context(
                        self._begin(pool, readonly=True, acquire_timeout=self._replica_timeout)
                    )
                except PoolExhausted:
                    fallback = "busy"  # a busy replica is not a dead one: the primary reads
                except REPLICA_FALLBACK_ERRORS as exc:
                    self._mark_replica_down(exc)
            if conn is None:
                if self.replica_dsn is not None:
                    metrics.replica_fallback(fallback)
                conn = await self._enter_primary(stack, readonly=True)
            yield conn

    async def read(
        self,
        fn: Callable[Concatenate[Connection, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """`fn(conn, ...)` in a read-only transaction on the replica when it answers, else on
        the primary. Unlike `read_transaction`, a replica lost in the middle of the read costs
        a second run of `fn` on the primary rather than an error, so `fn` must only read."""
        return await self._read(lambda conn: fn(conn, *args, **kwargs))

    async def read_planned(
        self,
        fn: Callable[Concatenate[Connection, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """As `read`, on a connection whose session plans every statement for its parameters
        (`PLANNED_SESSION`), and outside a transaction block: each statement is a read-only
        transaction of its own, as in a READ COMMITTED block each had its own snapshot, without
        the BEGIN and COMMIT round trips. `fn` opens a block itself for settings of its own.
        A connection lost under `fn` (the replica's, or the primary's after a restart) costs
        a second run of `fn`, so `fn` must only read."""
        return await self._read_planned(lambda conn: fn(conn, *args, **kwargs))

    async def _read(self, fn: Callable[[Connection], Awaitable[T]]) -> T:
        pool = await self._ensure_replica_pool()
        fallback = "unavailable"
        if pool is not None:
            began = lost = False
            try:
                async with self._begin(
                    pool, readonly=True, acquire_timeout=self._replica_timeout
                ) as conn:
                    began = True
                    try:
                        return await fn(conn)
                    except asyncpg.InternalClientError as exc:
                        # The replica stopped under the read, noticed at its next statement
                        # (seen once in CI: a company page answered 503): as for planned reads.
                        lost = _lost(conn, exc)
                        raise
            except PoolExhausted:
                if began:
                    raise
                fallback = "busy"
            except REPLICA_FALLBACK_ERRORS as exc:
                if began and not (lost or isinstance(exc, REPLICA_LOST_MID_READ)):
                    raise
                self._mark_replica_down(exc)
        if self.replica_dsn is not None:
            metrics.replica_fallback(fallback)
        async with AsyncExitStack() as stack:
            conn = await self._enter_primary(stack, readonly=True)
            return await fn(conn)

    async def _read_planned(self, fn: Callable[[Connection], Awaitable[T]]) -> T:
        pool = await self._ensure_replica_pool(planned=True)
        fallback = "unavailable"
        if pool is not None:
            lent = lost = False
            try:
                async with self._lent(pool, self._replica_timeout) as conn:
                    lent = True
                    try:
                        return await fn(conn)
                    except REPLICA_LOST_MID_PLANNED_READ as exc:
                        # Not a statement that timed out on a connection still open: it would
                        # only time out again on the primary.
                        lost = _lost(conn, exc) or not isinstance(exc, TRANSIENT_ERRORS)
                        raise
            except PoolExhausted:
                if lent:
                    raise
                fallback = "busy"
            except REPLICA_FALLBACK_ERRORS as exc:
                if lent and not lost:
                    raise
                self._mark_replica_down(exc)
        if self.replica_dsn is not None:
            metrics.replica_fallback(fallback)
        return await self._read_planned_on_primary(fn)

    async def _read_planned_on_primary(self, fn: Callable[[Connection], Awaitable[T]]) -> T:
        """`fn` on the primary, again on another connection when it could not get one or lost
        the one it had: no BEGIN comes first to meet a connection that died idle in the pool."""
        error: BaseException | None = None
        for attempt in range(max(self._retry_attempts, 1)):
            if attempt:
                await asyncio.sleep(FIRST_RETRY_DELAY_SECONDS * 2 ** (attempt - 1))
            reading = lost = False
            try:
                async with self._lent(self.primary_planned, self._connect_timeout) as conn:
                    reading = True
                    try:
                        return await fn(conn)
                    except _PLANNED_READ_LOST as exc:
                        lost = _lost(conn, exc)
                        raise
            except _PLANNED_READ_LOST as exc:
                if reading and not lost:
                    raise  # the read's own failure, as a statement that timed out: not retried
                error = exc
        raise DatabaseUnavailable() from error

    async def ping_primary(self) -> bool:
        try:
            async with self.primary.acquire(timeout=self._connect_timeout) as conn:
                await conn.fetchval("SELECT 1")
        except _PING_ERRORS:
            return False
        return True

    async def ping_replica(self) -> bool | None:
        """Probe the replica for /health; a probe is not a fallback and does not extend backoff."""
        if self.replica_dsn is None:
            return None
        pool = self._replica.pool or await self._ensure_replica_pool()
        if pool is None:
            return False
        try:
            async with pool.acquire(timeout=self._connect_timeout) as conn:
                await conn.fetchval("SELECT 1")
        except TRANSIENT_ERRORS as exc:
            self._replica.last_error = f"{type(exc).__name__}: {exc}"
            return False
        self._replica.down_until = 0.0
        return True

    async def replica_lag_seconds(self) -> float | None:
        """How far the replica's replay is behind, from an open pool; None without one (or
        when it does not answer). A probe: it opens nothing and marks nothing down."""
        pool = self._replica.pool or self._replica.planned_pool
        if pool is None:
            return None
        try:
            async with pool.acquire(timeout=self._replica_timeout) as conn:
                lag = await conn.fetchval(REPLICA_LAG)
        except REPLICA_FALLBACK_ERRORS:
            return None
        return None if lag is None else float(lag)

    def stats(self) -> dict[str, Any]:
        def pool_stats(pool: Pool | None) -> dict[str, Any] | None:
            if pool is None:
                return None
            return {
                "size": pool.get_size(),
                "idle": pool.get_idle_size(),
                "min_size": pool.get_min_size(),
                "max_size": pool.get_max_size(),
            }

        replica: dict[str, Any] = {"configured": self.replica_configured}
        if self.replica_configured:
            replica.update(
                pool=pool_stats(self._replica.pool),
                search_pool=pool_stats(self._replica.planned_pool),
                in_backoff=time.monotonic() < self._replica.down_until,
                fallbacks=self._replica.fallbacks,
                last_error=self._replica.last_error,
            )
        return {
            "primary": pool_stats(self._primary),
            "primary_search": pool_stats(self._primary_planned),
            "replica": replica,
        }
