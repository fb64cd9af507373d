"""The read/write split against a real primary + streaming replica built from the embedded binaries.

Reads go to the replica while it answers, fall back to the primary when it does not, and return
to it once `replica_retry_seconds` have passed; writes always go to the primary.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from proveo.core.db import (
    PLANNED_APPLICATION_NAME,
    Connection,
    Database,
    DatabaseUnavailable,
    read_block,
)
from proveo.core.embedded_pg import EmbeddedPostgres
from tests.fixtures.replica import ReplicaPair, running_replica_pair
from tests.fixtures.servers import free_port

pytestmark = pytest.mark.slow

DB_NAME = "proveo_replica_test"
# Long enough that a loaded CI machine still sees the backoff the fallback just started.
RETRY_SECONDS = 2.0


async def _create_schema(primary: EmbeddedPostgres) -> None:
    admin = await asyncpg.connect(primary.dsn("postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(primary.dsn(DB_NAME))
    try:
        await conn.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)")
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def replica_pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ReplicaPair]:
    base = tmp_path_factory.mktemp("replica-pair")
    async with running_replica_pair(base, DB_NAME, _create_schema) as pair:
        yield pair


@pytest.fixture
async def db(replica_pair: ReplicaPair) -> AsyncIterator[Database]:
    database = Database(
        replica_pair.primary_dsn,
        replica_pair.replica_dsn,
        min_size=1,
        max_size=4,
        connect_timeout=2.0,
        replica_retry_seconds=RETRY_SECONDS,
    )
    await database.open()
    try:
        yield database
    finally:
        await database.close()


async def _server(conn: Connection) -> tuple[bool, int]:
    row = await conn.fetchrow("SELECT pg_is_in_recovery() AS standby, inet_server_port() AS port")
    assert row is not None
    return bool(row["standby"]), int(row["port"])


async def _read_server(db: Database) -> tuple[bool, int]:
    async with db.read_transaction() as conn:
        return await _server(conn)


async def _wait_for_replica_reads(db: Database, port: int, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while True:
        served_by = await _read_server(db)
        if served_by == (True, port):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"reads did not return to the replica; last served by {served_by}")
        await asyncio.sleep(0.1)


async def test_reads_are_served_by_the_replica_and_writes_by_the_primary(
    db: Database, replica_pair: ReplicaPair
) -> None:
    assert await _read_server(db) == (True, replica_pair.replica.port)
    async with db.transaction() as conn:
        assert await _server(conn) == (False, replica_pair.primary.port)


async def test_writes_reach_the_replica_shortly_after(db: Database) -> None:
    async with db.transaction() as conn:
        note_id = await conn.fetchval(
            "INSERT INTO notes (body) VALUES ($1) RETURNING id", "replicated"
        )
    deadline = time.monotonic() + 5.0
    while True:
        async with db.read_transaction() as conn:
            standby, _ = await _server(conn)
            body = await conn.fetchval("SELECT body FROM notes WHERE id = $1", note_id)
        assert standby, "the read must be served by the replica to prove replication"
        if body == "replicated":
            break
        assert time.monotonic() < deadline, "the write did not reach the replica within 5 s"
        await asyncio.sleep(0.05)


async def test_read_transaction_is_read_only(db: Database) -> None:
    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
        async with db.read_transaction() as conn:
            await conn.execute("INSERT INTO notes (body) VALUES ('not allowed')")
    # The pool is still usable after the failed transaction.
    assert (await _read_server(db))[0] is True


async def test_reads_fall_back_to_the_primary_and_return_to_the_replica(
    db: Database, replica_pair: ReplicaPair
) -> None:
    primary, replica = replica_pair.primary, replica_pair.replica
    # Warm the replica pool so the stop breaks a live connection, not just a future connect.
    assert await _read_server(db) == (True, replica.port)
    assert await db.ping_replica() is True
    fallbacks_before = db.stats()["replica"]["fallbacks"]

    await asyncio.to_thread(replica.stop, "immediate")
    try:
        assert await _read_server(db) == (False, primary.port)
        stats = db.stats()["replica"]
        assert stats["fallbacks"] > fallbacks_before
        assert stats["in_backoff"] is True
        assert stats["last_error"]
        assert await db.ping_replica() is False

        # The fallback is read-only too.
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            async with db.read_transaction() as conn:
                await conn.execute("INSERT INTO notes (body) VALUES ('not allowed')")

        # Past the backoff the replica is tried again, fails again, and reads still succeed.
        await asyncio.sleep(RETRY_SECONDS + 0.1)
        fallbacks = db.stats()["replica"]["fallbacks"]
        assert await _read_server(db) == (False, primary.port)
        assert db.stats()["replica"]["fallbacks"] > fallbacks

        await asyncio.to_thread(replica.start)
        await asyncio.sleep(RETRY_SECONDS + 0.1)
        await _wait_for_replica_reads(db, replica.port)
        assert await db.ping_replica() is True
        assert db.stats()["replica"]["in_backoff"] is False
    finally:
        if not await asyncio.to_thread(replica.is_running):
            await asyncio.to_thread(replica.start)


async def _end_own_session_on_the_replica(conn: Connection) -> tuple[bool, int]:
    """A read that loses its replica half way: the replica's backend ends under it."""
    standby, port = await _server(conn)
    if standby:
        await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    return standby, port


@pytest.mark.parametrize("read", ["read", "read_planned"])
async def test_a_replica_lost_in_the_middle_of_a_read_costs_a_second_try_on_the_primary(
    db: Database, replica_pair: ReplicaPair, read: str
) -> None:
    await _wait_for_replica_reads(db, replica_pair.replica.port)
    fallbacks_before = db.stats()["replica"]["fallbacks"]

    served_by = await getattr(db, read)(_end_own_session_on_the_replica)

    assert served_by == (False, replica_pair.primary.port)
    assert db.stats()["replica"]["fallbacks"] == fallbacks_before + 1
    await _wait_for_replica_reads(db, replica_pair.replica.port)


@pytest.mark.parametrize("pause", [0, 0.001, 0.01, 0.05])
async def test_a_read_whose_replica_connection_is_ended_from_outside_goes_to_the_primary(
    db: Database, replica_pair: ReplicaPair, pause: float
) -> None:
    """Seen once in CI (the replica-stopped fault scenario): the replica's stop, met by the
    read's next statement as another operation in progress, answered 503."""
    await _wait_for_replica_reads(db, replica_pair.replica.port)

    async def ended_on_the_replica(conn: Connection) -> tuple[bool, int]:
        standby, _ = await _server(conn)
        if standby:
            admin = await asyncpg.connect(replica_pair.replica_dsn)
            try:
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = 'proveo' AND pid <> pg_backend_pid()"
                )
            finally:
                await admin.close()
            await asyncio.sleep(pause)
        return await _server(conn)

    assert await db.read(ended_on_the_replica) == (False, replica_pair.primary.port)
    await _wait_for_replica_reads(db, replica_pair.replica.port)


async def test_an_error_of_the_read_itself_is_not_retried_on_the_primary(
    db: Database, replica_pair: ReplicaPair
) -> None:
    await _wait_for_replica_reads(db, replica_pair.replica.port)
    fallbacks_before = db.stats()["replica"]["fallbacks"]
    servers: list[tuple[bool, int]] = []

    async def write(conn: Connection) -> None:
        servers.append(await _server(conn))
        await conn.execute("INSERT INTO notes (body) VALUES ('not allowed')")

    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
        await db.read(write)
    assert servers == [(True, replica_pair.replica.port)]
    assert db.stats()["replica"]["fallbacks"] == fallbacks_before


async def _plan_cache_mode(conn: Connection) -> tuple[str, bool]:
    mode = await conn.fetchval("SHOW plan_cache_mode")
    read_only = await conn.fetchval("SHOW transaction_read_only")
    return str(mode), read_only == "on"


async def _work_mem(conn: Connection) -> str:
    return str(await conn.fetchval("SHOW work_mem"))


async def test_search_reads_are_planned_for_their_parameters_and_other_reads_keep_cached_plans(
    db: Database, replica_pair: ReplicaPair
) -> None:
    # Every read once planned for its parameters: a company's profile cost the database three
    # times what a cached plan costs.
    await _wait_for_replica_reads(db, replica_pair.replica.port)
    assert await db.read_planned(_plan_cache_mode) == ("force_custom_plan", True)
    assert await db.read(_plan_cache_mode) == ("auto", True)
    # The settings are the transaction's: the connection goes back to the pool without them.
    for _ in range(4):
        assert await db.read(_plan_cache_mode) == ("auto", True)


async def test_search_reads_have_room_for_exact_bitmaps_and_other_reads_the_default(
    db: Database,
) -> None:
    # With 4 MB, a commune and a category at 1,000,000 companies went lossy: 169,000 rows
    # rechecked to count 10,001.
    assert await db.read_planned(_work_mem) == "16MB"
    for _ in range(4):
        assert await db.read(_work_mem) == "4MB"


async def _synchronize_seqscans(conn: Connection) -> str:
    return str(await conn.fetchval("SHOW synchronize_seqscans"))


async def test_search_reads_scan_from_the_tables_first_block(db: Database) -> None:
    # Search estimates how common a word is from where its first matches end in the table; a
    # scan synchronised with another started mid-table, and `servicios` at 1,000,000
    # companies was estimated at 59,000 matches instead of 400,000 and ranked by a sort.
    assert await db.read_planned(_synchronize_seqscans) == "off"
    assert await db.read(_synchronize_seqscans) == "on"


async def test_a_planned_read_that_fails_rolls_back_and_leaves_the_pool_usable(
    db: Database,
) -> None:
    async def write(conn: Connection) -> None:
        await conn.execute("INSERT INTO notes (body) VALUES ('not allowed')")

    for _ in range(5):  # more than the pool's connections
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await db.read_planned(write)
    assert await db.read(_plan_cache_mode) == ("auto", True)


async def _in_block(conn: Connection) -> tuple[bool, bool, int]:
    read_only = await conn.fetchval("SHOW transaction_read_only")
    _, port = await _server(conn)
    return conn.is_in_transaction(), read_only == "on", port


async def test_planned_reads_run_in_no_transaction_block_read_only_on_the_replica(
    db: Database, replica_pair: ReplicaPair
) -> None:
    # Two round trips of three for a one-statement suggestion were the BEGIN and the COMMIT.
    await _wait_for_replica_reads(db, replica_pair.replica.port)
    assert await db.read_planned(_in_block) == (False, True, replica_pair.replica.port)
    assert db.stats()["replica"]["search_pool"]["size"] >= 1


async def _end_planned_sessions(replica_pair: ReplicaPair) -> int:
    admin = await asyncpg.connect(replica_pair.primary_dsn)
    try:
        ended = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = $1",
            PLANNED_APPLICATION_NAME,
        )
    finally:
        await admin.close()
    return int(ended)


async def test_a_planned_read_on_a_connection_that_died_idle_is_run_again_on_a_new_one(
    replica_pair: ReplicaPair,
) -> None:
    # No BEGIN meets the dead connection first: the read's own first statement does.
    primary_only = Database(replica_pair.primary_dsn, min_size=1, max_size=1, connect_timeout=2)
    await primary_only.open()
    try:
        assert (await primary_only.read_planned(_in_block))[:2] == (False, True)
        assert await _end_planned_sessions(replica_pair) >= 1
        assert (await primary_only.read_planned(_in_block))[:2] == (False, True)
    finally:
        await primary_only.close()


@pytest.mark.parametrize("pause", [0, 0.001, 0.01, 0.05])
async def test_a_planned_read_whose_connection_is_ended_under_it_is_run_again(
    replica_pair: ReplicaPair, pause: float
) -> None:
    # Found in review: the retry asked the connection whether it was closed after its pool had
    # taken it back, and the caller got InterfaceError (503) or InternalClientError (500).
    runs = 0

    async def ended_on_first_run(conn: Connection) -> int:
        nonlocal runs
        runs += 1
        if runs == 1:
            await _end_planned_sessions(replica_pair)
            await asyncio.sleep(pause)
        return int(await conn.fetchval("SELECT 2"))

    async def ended_in_a_block(conn: Connection) -> int:
        # As search's reads by the word index: a block with a setting, then its statements.
        nonlocal runs
        runs += 1
        async with read_block(conn, "SET LOCAL enable_seqscan = off"):
            if runs == 1:
                await _end_planned_sessions(replica_pair)
                await asyncio.sleep(pause)
            return int(await conn.fetchval("SELECT 2"))

    primary_only = Database(replica_pair.primary_dsn, min_size=1, max_size=2, connect_timeout=2)
    await primary_only.open()
    try:
        assert await primary_only.read_planned(ended_on_first_run) == 2
        assert runs == 2
        runs = 0
        assert await primary_only.read_planned(ended_in_a_block) == 2
        assert runs == 2
    finally:
        await primary_only.close()


async def test_a_planned_read_that_times_out_is_not_run_again(replica_pair: ReplicaPair) -> None:
    runs = 0

    async def slow(conn: Connection) -> None:
        nonlocal runs
        runs += 1
        await conn.execute("SELECT pg_sleep(5)")

    primary_only = Database(replica_pair.primary_dsn, min_size=1, max_size=1, command_timeout=0.2)
    await primary_only.open()
    try:
        with pytest.raises(asyncio.TimeoutError):
            await primary_only.read_planned(slow)
        assert runs == 1
        assert (await primary_only.read_planned(_in_block))[:2] == (False, True)
    finally:
        await primary_only.close()


async def test_a_planned_read_that_times_out_on_the_replica_is_not_run_again_on_the_primary(
    replica_pair: ReplicaPair,
) -> None:
    servers: list[tuple[bool, int]] = []

    async def slow(conn: Connection) -> None:
        servers.append(await _server(conn))
        await conn.execute("SELECT pg_sleep(5)")

    both = Database(
        replica_pair.primary_dsn, replica_pair.replica_dsn, min_size=1, max_size=1,
        command_timeout=0.5,
    )  # fmt: skip
    await both.open()
    try:
        with pytest.raises(asyncio.TimeoutError):
            await both.read_planned(slow)
        assert servers == [(True, replica_pair.replica.port)]
        assert both.stats()["replica"]["fallbacks"] == 0
    finally:
        await both.close()


async def test_ping_primary_and_unreachable_primary(db: Database) -> None:
    assert await db.ping_primary() is True

    closed = Database(
        f"postgresql://postgres@127.0.0.1:{free_port()}/postgres",
        min_size=1,
        max_size=1,
        connect_timeout=0.5,
        retry_attempts=1,
    )
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable) as excinfo:
        await closed.open()
    assert time.monotonic() - started < 5.0
    assert isinstance(excinfo.value.__cause__, OSError)
    assert await closed.ping_primary() is False
    await closed.close()
