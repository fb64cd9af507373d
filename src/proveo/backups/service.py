"""The rules of backups and restores.

A backup holds the `proveo` schema and the extensions it uses (pg_dump's custom format, read
from one exported snapshot), every image object of the configured storage (public and held for
moderation), and `manifest.json` with each file's size and SHA-256. pg_cron's schema and
anything else in the database are not Proveo's and are left out.

A restore refuses a target that holds accounts, companies or image objects unless forced,
verifies every file against the manifest before it changes anything, uploads the objects, loads
the dump in one transaction, then migrates the schema forward to this code's head and refreshes
the materialized views.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import structlog
from pydantic import ValidationError

from proveo import __version__
from proveo.backups import pgtools, repository
from proveo.backups.errors import (
    BackupCorrupt,
    BackupIncompatible,
    BackupNotFound,
    NothingToBackUp,
    RestoreRefused,
)
from proveo.backups.locations import (
    BackupLocation,
    BackupWriter,
    backup_name,
    open_location,
    parent_and_name,
)
from proveo.backups.schemas import (
    DUMP_NAME,
    FORMAT_VERSION,
    MANIFEST_NAME,
    OBJECTS_DIR,
    BackupCounts,
    BackupFile,
    BackupResult,
    Manifest,
    PostgresInfo,
    RestoredMigration,
    RestoreResult,
    held_count,
)
from proveo.config import Settings
from proveo.core import metrics, migrations
from proveo.integrations.storage import ImageStorage

log = structlog.get_logger(__name__)

APP_SCHEMA = repository.APP_SCHEMA
# The extensions Proveo's migrations create (in `public`): a restore into a new database needs
# them before the schema's functions. tests/backups checks that a migrated database has no
# others besides plpgsql and pg_cron.
APP_EXTENSIONS = ("pg_trgm", "unaccent")
# Image objects read or written at once.
OBJECT_CONCURRENCY = 16
HASH_CHUNK = 1024 * 1024


# --- The metrics hook --------------------------------------------------------------------------


def record_backup_success(created_at: datetime) -> None:
    """The one call site of the metrics hook: `proveo_backup_last_success_timestamp_seconds` is
    the newest backup's time (it never moves back)."""
    metrics.record_backup_success(created_at.timestamp())


# --- Backup -------------------------------------------------------------------------------------


def _file_entry(path: Path, relative: str) -> BackupFile:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return BackupFile(path=relative, size=size, sha256=digest.hexdigest())


async def _copy_objects(storage: ImageStorage, writer: BackupWriter) -> list[BackupFile]:
    """Every object the storage lists, read and written with its checksum. One deleted between
    the listing and the read (a logo replaced, a moderation decision) is left out."""
    names = [stored.name async for stored in storage.list_objects()]
    semaphore = asyncio.Semaphore(OBJECT_CONCURRENCY)

    async def copy(name: str) -> BackupFile | None:
        async with semaphore:
            data = await storage.get(name)
            if data is None:
                log.info("backup_object_vanished", name=name)
                return None
            entry = BackupFile(
                path=OBJECTS_DIR + name, size=len(data), sha256=hashlib.sha256(data).hexdigest()
            )
            await writer.put(entry.path, data)
            return entry

    copied = await asyncio.gather(*(copy(name) for name in names))
    return sorted((entry for entry in copied if entry is not None), key=lambda e: e.path)


async def create_backup(
    dsn: str,
    storage: ImageStorage,
    location: BackupLocation,
    *,
    storage_backend: str,
    now: datetime | None = None,
) -> BackupResult:
    """A complete backup in `location`, or none at all (a failure removes what it wrote).

    The snapshot is taken first and the objects copied after it, so every object a row of the
    dump points at was stored before the copy began (an upload stores its objects before its row
    commits); only an object deleted in the meantime can be missing.
    """
    started = time.monotonic()
    created_at = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    name = backup_name(created_at)
    conn = await asyncpg.connect(dsn)
    writer: BackupWriter | None = None
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            if not await repository.select_has_schema(conn):
                raise NothingToBackUp(
                    "the database has no Proveo schema yet: there is nothing to back up"
                )
            snapshot = await repository.export_snapshot(conn)
            server = await repository.select_server_version(conn)
            revisions = await repository.select_schema_revisions(conn)
            rows = await repository.select_row_counts(conn)
            tools = await asyncio.to_thread(pgtools.find_tools, server.major)
            writer = await location.begin(name)
            await pgtools.dump(
                tools,
                dsn,
                snapshot=snapshot,
                schema=APP_SCHEMA,
                extensions=APP_EXTENSIONS,
                output=writer.dump_path,
            )
        await conn.close()  # the snapshot is no longer needed
        objects = await _copy_objects(storage, writer)
        database = await asyncio.to_thread(_file_entry, writer.dump_path, DUMP_NAME)
        manifest = Manifest(
            name=name,
            created_at=created_at,
            proveo_version=__version__,
            schema_revision=",".join(revisions),
            postgres=PostgresInfo(
                server_version=server.version,
                server_version_num=server.version_num,
                pg_dump_version=tools.version,
            ),
            storage=storage_backend,
            database=database,
            objects=objects,
            counts=BackupCounts(
                objects=len(objects),
                held_objects=held_count([entry.object_name for entry in objects]),
                object_bytes=sum(entry.size for entry in objects),
                database_bytes=database.size,
                rows=rows,
            ),
        )
        await writer.commit(manifest.model_dump_json(indent=2).encode() + b"\n")
    except BaseException:
        if writer is not None:
            await asyncio.shield(writer.abort())
        raise
    finally:
        if not conn.is_closed():
            await conn.close()
    return BackupResult(
        manifest=manifest,
        location=location.describe(name),
        seconds=time.monotonic() - started,
    )


async def back_up_to(
    target: str, settings: Settings, storage: ImageStorage, *, keep: int | None = None
) -> tuple[BackupResult, list[str]]:
    """`proveo backup --to TARGET [--keep N]`: a backup, then the older ones past N removed."""
    location = open_location(target, settings)
    try:
        result = await create_backup(
            settings.database_url, storage, location, storage_backend=settings.storage
        )
        removed = await prune_backups(location, keep=keep) if keep is not None else []
    finally:
        await location.close()
    return result, removed


async def prune_backups(
    location: BackupLocation, *, keep: int, not_after: str | None = None
) -> list[str]:
    """Keep the newest `keep` complete backups; remove the older ones, and what interrupted
    backups (or removals) left behind older than the newest complete one. Returns the names
    of the backups removed. `not_after`: backups named later are left alone and not counted
    (dated in the future: see `back_up_when_due`)."""
    names = [
        name for name in await location.list_backups() if not_after is None or name <= not_after
    ]
    doomed = names[:-keep] if keep > 0 else names
    for name in doomed:
        await location.delete(name)
        log.info("backup_removed", location=location.describe(name))
    if names:
        for name in await location.list_unfinished():
            if name < names[-1]:
                await location.delete_unfinished(name)
    return doomed


# --- Reading a backup ---------------------------------------------------------------------------


def _parse_manifest(data: bytes, where: str) -> Manifest:
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise BackupCorrupt(
            f"the backup at {where} is damaged: {MANIFEST_NAME} is not JSON"
        ) from exc
    version = raw.get("format_version") if isinstance(raw, dict) else None
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise BackupIncompatible(
            f"the backup at {where} has format version {version}, newer than this version of "
            f"Proveo reads ({FORMAT_VERSION}): restore it with a newer Proveo"
        )
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in problem["loc"]) or "manifest"
        raise BackupCorrupt(
            f"the backup at {where} is damaged: {MANIFEST_NAME}: {field}: {problem['msg']}"
        ) from exc


async def read_manifest(location: BackupLocation, name: str) -> Manifest:
    where = location.describe(name)
    data = await location.read(name, MANIFEST_NAME)
    if data is None:
        raise BackupNotFound(f"there is no backup at {where} (it has no {MANIFEST_NAME})")
    return _parse_manifest(data, where)


def _verify_files(root: Path, manifest: Manifest, where: str) -> None:
    """Every file of the manifest, byte for byte; blocking (a thread's work)."""
    for entry in manifest.files:
        path = root / entry.path
        try:
            found = _file_entry(path, entry.path)
        except FileNotFoundError:
            raise BackupCorrupt(
                f"the backup at {where} is damaged: {entry.path} is missing; nothing was changed"
            ) from None
        if found.size != entry.size or found.sha256 != entry.sha256:
            raise BackupCorrupt(
                f"the backup at {where} is damaged: {entry.path} has {found.size} bytes with "
                f"SHA-256 {found.sha256[:12]}…, the manifest says {entry.size} bytes with "
                f"{entry.sha256[:12]}…; nothing was changed"
            )


def _check_restorable(manifest: Manifest, where: str) -> None:
    known = migrations.known_revisions()
    for revision in manifest.schema_revision.split(","):
        if revision not in known:
            raise BackupIncompatible(
                f"the backup at {where} is at schema revision {revision}, which this version "
                "of Proveo does not know (it comes from a newer one): restore it with that "
                "version or a later one"
            )


# --- Restore ------------------------------------------------------------------------------------


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {plural or word + 's'}"


async def _refusals(dsn: str, storage: ImageStorage) -> tuple[list[str], set[str], int]:
    """What the target holds that a restore would replace (as sentences), the objects it holds,
    and its server's version number."""
    conn = await asyncpg.connect(dsn)
    try:
        occupancy = await repository.select_occupancy(conn)
        server = await repository.select_server_version(conn)
    finally:
        await conn.close()
    problems = []
    if not occupancy.empty:
        problems.append(
            f"the database holds {_plural(occupancy.accounts, 'account')} and "
            f"{_plural(occupancy.companies, 'company', 'companies')}"
        )
    stored = await storage.list_names()
    if stored:
        problems.append(f"the image storage holds objects (such as {stored[0]})")
    return problems, set(stored), server.version_num


async def _upload_objects(
    storage: ImageStorage, root: Path, objects: list[BackupFile]
) -> list[str]:
    semaphore = asyncio.Semaphore(OBJECT_CONCURRENCY)

    async def upload(entry: BackupFile) -> str:
        async with semaphore:
            data = await asyncio.to_thread((root / entry.path).read_bytes)
            await storage.put(entry.object_name, data, "image/webp")
            return entry.object_name

    return list(await asyncio.gather(*(upload(entry) for entry in objects)))


async def _delete_objects(storage: ImageStorage, names: list[str]) -> None:
    semaphore = asyncio.Semaphore(OBJECT_CONCURRENCY)

    async def delete(name: str) -> None:
        async with semaphore:
            await storage.delete(name)

    await asyncio.gather(*(delete(name) for name in names), return_exceptions=True)


async def _check_rows(dsn: str, manifest: Manifest, where: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await repository.select_row_counts(conn)
    finally:
        await conn.close()
    if rows != manifest.counts.rows:
        differ = sorted(
            table
            for table in rows.keys() | manifest.counts.rows.keys()
            if rows.get(table) != manifest.counts.rows.get(table)
        )
        raise BackupCorrupt(
            f"the backup at {where} was restored, but its tables {', '.join(differ)} do not "
            "hold the rows its manifest counts"
        )


async def _refresh(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        views = await repository.refresh_materialized_views(conn)
        await repository.analyze_schema(conn)
    finally:
        await conn.close()
    return views


async def restore_backup(
    dsn: str,
    storage: ImageStorage,
    location: BackupLocation,
    name: str,
    *,
    force: bool = False,
) -> RestoreResult:
    started = time.monotonic()
    where = location.describe(name)
    manifest = await read_manifest(location, name)
    _check_restorable(manifest, where)
    problems, stored, server_version_num = await _refusals(dsn, storage)
    if problems and not force:
        raise RestoreRefused(
            f"the target is not empty: {'; '.join(problems)}. Restoring would replace them: "
            "add --force to do so"
        )
    with tempfile.TemporaryDirectory(prefix="proveo-restore-") as staging:
        root = await location.stage(name, [entry.path for entry in manifest.files], Path(staging))
        await asyncio.to_thread(_verify_files, root, manifest, where)
        tools = await asyncio.to_thread(pgtools.find_tools, manifest.postgres.pg_dump_major)
        # Objects first: should the database refuse the dump, the new objects are removed and
        # nothing points at them meanwhile.
        uploaded = await _upload_objects(storage, root, manifest.objects)
        try:
            await pgtools.restore(
                tools,
                dsn,
                root / DUMP_NAME,
                schema=APP_SCHEMA,
                server_version_num=server_version_num,
            )
        except BaseException:
            await asyncio.shield(
                _delete_objects(storage, [new for new in uploaded if new not in stored])
            )
            raise
    await _check_rows(dsn, manifest, where)
    applied = await asyncio.to_thread(migrations.upgrade, dsn)
    views = await _refresh(dsn)
    return RestoreResult(
        manifest=manifest,
        location=where,
        migrations=[RestoredMigration(revision=s.revision, title=s.title) for s in applied],
        refreshed_views=views,
        replaced_data=bool(problems),
        seconds=time.monotonic() - started,
    )


async def restore_from(
    source: str, settings: Settings, storage: ImageStorage, *, force: bool
) -> RestoreResult:
    """`proveo restore --from SOURCE`: SOURCE is one backup (a directory or an S3 prefix)."""
    parent, name = parent_and_name(source)
    location = open_location(parent, settings)
    try:
        try:
            return await restore_backup(settings.database_url, storage, location, name, force=force)
        except BackupNotFound:
            await _hint_at_backups_inside(source, settings)
            raise
    finally:
        await location.close()


async def _hint_at_backups_inside(source: str, settings: Settings) -> None:
    """SOURCE may be where backups are kept rather than one of them: say which to name."""
    inside = open_location(source, settings)
    try:
        names = await inside.list_backups()
    finally:
        await inside.close()
    if names:
        raise BackupNotFound(
            f"{source} holds {_plural(len(names), 'backup')}, not one backup: name one, such as "
            f"{inside.describe(names[-1])} (the newest)"
        )


# --- Scheduled backups --------------------------------------------------------------------------

CLOCK_SLACK = timedelta(minutes=5)


def is_due(newest: Manifest | None, now: datetime, interval: timedelta, slack: timedelta) -> bool:
    """Due when the newest backup is older than the interval, less the slack of one check (so
    that backups do not drift later by one check period each time)."""
    return newest is None or now - newest.created_at >= interval - slack


async def back_up_when_due(
    settings: Settings,
    storage: ImageStorage,
    *,
    check_seconds: float,
    now: datetime | None = None,
) -> str:
    """The scheduled job: the newest backup at PROVEO_BACKUP_TO says when the last one was taken
    (after a restart too); a new one is taken when it is PROVEO_BACKUP_INTERVAL_HOURS old, then
    only the newest PROVEO_BACKUP_KEEP are kept. The metrics hook learns the newest's time."""
    moment = now or datetime.now(UTC)
    location = open_location(settings.backup_to, settings)
    # A backup dated ahead of this clock (written while a clock ran fast, or planted) neither
    # counts as the newest nor takes a place in the retention: it would stop the backups and
    # silence the backup-age alert (found by an adversary).
    latest_name = backup_name(moment + CLOCK_SLACK)
    try:
        names = await location.list_backups()
        if ahead := [name for name in names if name > latest_name]:
            log.warning("backups_dated_in_the_future", names=ahead, location=settings.backup_to)
        current = [name for name in names if name <= latest_name]
        newest = await read_manifest(location, current[-1]) if current else None
        interval = timedelta(hours=settings.backup_interval_hours)
        if not is_due(newest, moment, interval, timedelta(seconds=check_seconds)):
            assert newest is not None
            record_backup_success(newest.created_at)
            age = (moment - newest.created_at).total_seconds() / 3600
            return f"not due: the newest backup, {newest.name}, is {age:.1f} hours old"
        result = await create_backup(
            settings.database_url,
            storage,
            location,
            storage_backend=settings.storage,
            now=moment,
        )
        record_backup_success(result.manifest.created_at)
        removed = await prune_backups(location, keep=settings.backup_keep, not_after=latest_name)
    finally:
        await location.close()
    return (
        f"backed up to {result.location} ({result.manifest.counts.objects} objects) in "
        f"{result.seconds:.1f} s; removed {len(removed)} older"
    )
