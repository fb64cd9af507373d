"""Where backups live: a directory, or a prefix of an S3 bucket. Each backup is a directory (or
prefix) of its own, named by its UTC time (`20261206T031500Z`), holding `database.dump`,
`objects/...` and `manifest.json`.

A backup is complete once its manifest is there, and it is written last: in a directory, the
backup is assembled in `.NAME.partial` and renamed; on S3 the manifest is the last upload (and
the first key deleted when a backup is removed). Listings, retention and restores only ever see
complete backups.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from proveo.backups.errors import BackupError, BackupLocationUnavailable
from proveo.backups.schemas import DUMP_NAME, MANIFEST_NAME
from proveo.config import Settings

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.type_defs import CompletedPartTypeDef

T = TypeVar("T")

BACKUP_NAME = re.compile(r"\d{8}T\d{6}Z")
_PARTIAL = re.compile(r"\.(\d{8}T\d{6}Z)\.(partial|deleting)")
# Transfers in flight at once, against S3 (objects are small: latency is what they wait on).
S3_CONCURRENCY = 16
# A dump above this size goes up in parts of this size (S3 takes at most 5 GB in one request).
MULTIPART_PART_SIZE = 64 * 1024 * 1024
S3_SCHEME = "s3://"


def backup_name(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


class BackupWriter(Protocol):
    """One backup being written: pg_dump writes `dump_path`, objects come through `put`, and
    `commit` makes it complete with its manifest."""

    dump_path: Path

    async def put(self, path: str, data: bytes) -> None: ...
    async def commit(self, manifest: bytes) -> None: ...
    async def abort(self) -> None: ...


class BackupLocation(Protocol):
    def describe(self, name: str | None = None) -> str: ...
    async def list_backups(self) -> list[str]: ...  # complete ones, oldest first
    async def list_unfinished(self) -> list[str]: ...  # interrupted writes and removals
    async def read(self, name: str, path: str) -> bytes | None: ...
    async def stage(self, name: str, paths: list[str], staging: Path) -> Path: ...
    async def begin(self, name: str) -> BackupWriter: ...
    async def delete(self, name: str) -> None: ...
    async def delete_unfinished(self, name: str) -> None: ...
    async def close(self) -> None: ...


def is_s3_url(text: str) -> bool:
    return text.startswith(S3_SCHEME)


def split_s3_url(text: str) -> tuple[str, str]:
    """s3://bucket/some/prefix -> (bucket, "some/prefix")."""
    bucket, _, prefix = text.removeprefix(S3_SCHEME).partition("/")
    return bucket, prefix.strip("/")


def open_location(text: str, settings: Settings) -> BackupLocation:
    """A directory path, or s3://BUCKET[/PREFIX] on the configured S3 endpoint and keys."""
    if is_s3_url(text):
        bucket, prefix = split_s3_url(text)
        if not bucket:
            raise BackupLocationUnavailable(f"{text}: name a bucket, as in s3://BUCKET/PREFIX")
        return S3Location(bucket, prefix, settings)
    return DirectoryLocation(Path(text))


def parent_and_name(text: str) -> tuple[str, str]:
    """A backup's location and name, from its full path or URL (`/backups/20261206T031500Z`)."""
    if is_s3_url(text):
        bucket, prefix = split_s3_url(text)
        parent, _, name = prefix.rpartition("/")
        return f"{S3_SCHEME}{bucket}/{parent}" if parent else f"{S3_SCHEME}{bucket}", name
    path = Path(text)
    return str(path.parent), path.name


def _unavailable(where: str, error: BaseException) -> BackupLocationUnavailable:
    reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return BackupLocationUnavailable(f"the backup location {where} cannot be used: {reason}")


class DirectoryLocation:
    def __init__(self, root: Path) -> None:
        self.root = root.absolute()

    def describe(self, name: str | None = None) -> str:
        return str(self.root / name) if name else str(self.root)

    async def _io(self, work: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(work)
        except BackupError:
            raise
        except OSError as exc:
            raise _unavailable(self.describe(), exc) from exc

    async def list_backups(self) -> list[str]:
        def scan() -> list[str]:
            if not self.root.is_dir():
                return []
            return sorted(
                entry.name
                for entry in os.scandir(self.root)
                if BACKUP_NAME.fullmatch(entry.name)
                and (self.root / entry.name / MANIFEST_NAME).is_file()
            )

        return await self._io(scan)

    async def list_unfinished(self) -> list[str]:
        def scan() -> list[str]:
            if not self.root.is_dir():
                return []
            return sorted(
                match[1]
                for entry in os.scandir(self.root)
                if (match := _PARTIAL.fullmatch(entry.name))
            )

        return await self._io(scan)

    async def read(self, name: str, path: str) -> bytes | None:
        def read() -> bytes | None:
            try:
                return (self.root / name / path).read_bytes()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                return None

        return await self._io(read)

    async def stage(self, name: str, paths: list[str], staging: Path) -> Path:
        """Read in place: nothing to copy."""
        return self.root / name

    async def begin(self, name: str) -> BackupWriter:
        final = self.root / name
        partial = self.root / f".{name}.partial"

        def prepare() -> None:
            self.root.mkdir(parents=True, exist_ok=True)
            if final.exists():
                raise BackupLocationUnavailable(
                    f"{final} already exists: a backup was taken this very second"
                )
            shutil.rmtree(partial, ignore_errors=True)
            # Password hashes and personal data inside: for the owner's eyes only.
            partial.mkdir(mode=0o700)

        await self._io(prepare)
        return DirectoryWriter(self, partial, final)

    async def delete(self, name: str) -> None:
        """Renamed out of the listing first, then removed: never seen half-deleted."""
        doomed = self.root / f".{name}.deleting"

        def remove() -> None:
            os.rename(self.root / name, doomed)
            _fsync_dir(self.root)
            shutil.rmtree(doomed)

        await self._io(remove)

    async def delete_unfinished(self, name: str) -> None:
        def remove() -> None:
            for suffix in ("partial", "deleting"):
                shutil.rmtree(self.root / f".{name}.{suffix}", ignore_errors=True)

        await self._io(remove)

    async def close(self) -> None:
        """Nothing held open."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_synced(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


class DirectoryWriter:
    def __init__(self, location: DirectoryLocation, partial: Path, final: Path) -> None:
        self.location = location
        self.partial = partial
        self.final = final
        self.dump_path = partial / DUMP_NAME

    async def put(self, path: str, data: bytes) -> None:
        await self.location._io(lambda: _write_synced(self.partial / path, data))

    async def commit(self, manifest: bytes) -> None:
        def finish() -> None:
            with open(self.dump_path, "rb+") as handle:
                os.fsync(handle.fileno())
            _write_synced(self.partial / MANIFEST_NAME, manifest)
            for directory, _, _ in os.walk(self.partial):
                _fsync_dir(Path(directory))
            if self.final.exists():
                raise BackupLocationUnavailable(f"{self.final} already exists")
            os.rename(self.partial, self.final)
            _fsync_dir(self.location.root)

        await self.location._io(finish)

    async def abort(self) -> None:
        await asyncio.to_thread(shutil.rmtree, self.partial, True)


# What an unreachable, refusing or missing S3 bucket looks like from the client.
_S3_ERRORS: tuple[type[BaseException], ...] = (
    BotoCoreError,
    ClientError,
    aiohttp.ClientError,
    OSError,
    TimeoutError,
)


def _is_not_found(error: BaseException) -> bool:
    if not isinstance(error, ClientError):
        return False
    code = error.response.get("Error", {}).get("Code")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in {"NoSuchKey", "404", "NotFound"} or status == 404


async def _bounded(work: Iterable[Awaitable[T]], limit: int = S3_CONCURRENCY) -> list[T]:
    semaphore = asyncio.Semaphore(limit)

    async def one(item: Awaitable[T]) -> T:
        async with semaphore:
            return await item

    return await asyncio.gather(*(one(item) for item in work))


class S3Location:
    """Backups under `s3://bucket/prefix/`, with the image storage's endpoint and keys
    (`PROVEO_S3_ENDPOINT_URL`, `_ACCESS_KEY`, `_SECRET_KEY`, `_REGION`) and longer timeouts:
    a dump is large."""

    def __init__(
        self,
        bucket: str,
        prefix: str,
        settings: Settings,
        *,
        part_size: int = MULTIPART_PART_SIZE,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.part_size = part_size
        self._settings = settings
        self._stack = AsyncExitStack()
        self._client: S3Client | None = None

    def describe(self, name: str | None = None) -> str:
        path = "/".join(part for part in (self.prefix, name) if part)
        return f"{S3_SCHEME}{self.bucket}/{path}" if path else f"{S3_SCHEME}{self.bucket}"

    def key(self, name: str, path: str = "") -> str:
        return "/".join(part for part in (self.prefix, name, path) if part)

    async def _s3(self) -> S3Client:
        if self._client is None:
            settings = self._settings
            self._client = await self._stack.enter_async_context(
                get_session().create_client(
                    "s3",
                    endpoint_url=settings.s3_endpoint_url or None,
                    aws_access_key_id=settings.s3_access_key.get_secret_value() or None,
                    aws_secret_access_key=settings.s3_secret_key.get_secret_value() or None,
                    region_name=settings.s3_region,
                    config=AioConfig(
                        connect_timeout=5,
                        read_timeout=60,
                        retries={"total_max_attempts": 3, "mode": "standard"},
                        s3={"addressing_style": "path"},
                    ),
                )
            )
        return self._client

    async def close(self) -> None:
        self._client = None
        await self._stack.aclose()

    async def _call(self, work: Callable[[S3Client], Awaitable[T]]) -> T:
        try:
            return await work(await self._s3())
        except _S3_ERRORS as exc:
            raise _unavailable(self.describe(), exc) from exc

    async def _exists(self, key: str) -> bool:
        async def head(s3: S3Client) -> bool:
            try:
                await s3.head_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if _is_not_found(exc):
                    return False
                raise
            return True

        return await self._call(head)

    async def _names(self) -> list[str]:
        """The backup names under the prefix, complete or not."""
        base = f"{self.prefix}/" if self.prefix else ""

        async def names(s3: S3Client) -> list[str]:
            found: list[str] = []
            pages = s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=base, Delimiter="/"
            )
            async for page in pages:
                for common in page.get("CommonPrefixes", []):
                    name = common.get("Prefix", "")[len(base) :].rstrip("/")
                    if BACKUP_NAME.fullmatch(name):
                        found.append(name)
            return sorted(found)

        return await self._call(names)

    async def _keys(self, name: str) -> list[str]:
        async def keys(s3: S3Client) -> list[str]:
            found: list[str] = []
            pages = s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.key(name) + "/"
            )
            async for page in pages:
                found += [item["Key"] for item in page.get("Contents", []) if "Key" in item]
            return found

        return await self._call(keys)

    async def list_backups(self) -> list[str]:
        names = await self._names()
        complete = await _bounded(self._exists(self.key(name, MANIFEST_NAME)) for name in names)
        return [name for name, done in zip(names, complete, strict=True) if done]

    async def _holds_keys(self, name: str) -> bool:
        """Some stores (SeaweedFS) keep listing a prefix once its keys are all deleted."""

        async def any_key(s3: S3Client) -> bool:
            page = await s3.list_objects_v2(
                Bucket=self.bucket, Prefix=self.key(name) + "/", MaxKeys=1
            )
            return bool(page.get("Contents"))

        return await self._call(any_key)

    async def list_unfinished(self) -> list[str]:
        names = await self._names()
        complete = await _bounded(self._exists(self.key(name, MANIFEST_NAME)) for name in names)
        unfinished = [name for name, done in zip(names, complete, strict=True) if not done]
        holding = await _bounded(self._holds_keys(name) for name in unfinished)
        return [name for name, holds in zip(unfinished, holding, strict=True) if holds]

    async def read(self, name: str, path: str) -> bytes | None:
        async def get(s3: S3Client) -> bytes | None:
            try:
                response = await s3.get_object(Bucket=self.bucket, Key=self.key(name, path))
            except ClientError as exc:
                if _is_not_found(exc):
                    return None
                raise
            async with response["Body"] as body:
                data: bytes = await body.read()
                return data

        return await self._call(get)

    async def _download(self, key: str, target: Path) -> None:
        async def download(s3: S3Client) -> None:
            response = await s3.get_object(Bucket=self.bucket, Key=key)
            await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
            handle = await asyncio.to_thread(open, target, "wb")
            try:
                async with response["Body"] as body:
                    async for chunk in body.iter_chunks(1024 * 1024):
                        await asyncio.to_thread(handle.write, chunk)
            finally:
                await asyncio.to_thread(handle.close)

        await self._call(download)

    async def stage(self, name: str, paths: list[str], staging: Path) -> Path:
        """Downloaded into `staging`, where the restore verifies and reads them."""

        async def fetch(path: str) -> None:
            try:
                await self._download(self.key(name, path), staging / path)
            except BackupLocationUnavailable as exc:
                if isinstance(exc.__cause__, ClientError) and _is_not_found(exc.__cause__):
                    return  # missing: the checksum pass names it
                raise

        await _bounded(fetch(path) for path in paths)
        return staging

    async def begin(self, name: str) -> BackupWriter:
        if await self._exists(self.key(name, MANIFEST_NAME)):
            raise BackupLocationUnavailable(
                f"{self.describe(name)} already exists: a backup was taken this very second"
            )
        return S3Writer(self, name)

    async def _delete_keys(self, keys: list[str]) -> None:
        async def delete(key: str) -> None:
            await self._call(lambda s3: s3.delete_object(Bucket=self.bucket, Key=key))

        await _bounded(delete(key) for key in keys)

    async def delete(self, name: str) -> None:
        """The manifest first: from then on the backup is unfinished, never half complete."""
        await self._delete_keys([self.key(name, MANIFEST_NAME)])
        await self._delete_keys(await self._keys(name))

    async def delete_unfinished(self, name: str) -> None:
        await self._delete_keys(await self._keys(name))

    async def upload_file(self, key: str, path: Path) -> None:
        """One request for a small file, parts of `part_size` for a large one."""
        size = await asyncio.to_thread(os.path.getsize, path)
        if size <= self.part_size:
            data = await asyncio.to_thread(path.read_bytes)
            await self._call(lambda s3: s3.put_object(Bucket=self.bucket, Key=key, Body=data))
            return
        upload = await self._call(
            lambda s3: s3.create_multipart_upload(Bucket=self.bucket, Key=key)
        )
        upload_id = upload["UploadId"]
        handle = await asyncio.to_thread(open, path, "rb")
        try:
            parts: list[CompletedPartTypeDef] = []
            while chunk := await asyncio.to_thread(handle.read, self.part_size):
                number = len(parts) + 1

                async def send(s3: S3Client, chunk: bytes = chunk, number: int = number) -> str:
                    part = await s3.upload_part(
                        Bucket=self.bucket, Key=key, UploadId=upload_id,
                        PartNumber=number, Body=chunk,
                    )  # fmt: skip
                    return part["ETag"]

                parts.append({"ETag": await self._call(send), "PartNumber": number})
            await self._call(
                lambda s3: s3.complete_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
            )  # fmt: skip
        except BaseException:
            with contextlib.suppress(BackupLocationUnavailable):
                await self._call(
                    lambda s3: s3.abort_multipart_upload(
                        Bucket=self.bucket, Key=key, UploadId=upload_id
                    )
                )
            raise
        finally:
            await asyncio.to_thread(handle.close)


class S3Writer:
    """The dump is written to a local temporary file, uploaded at commit, before the manifest."""

    def __init__(self, location: S3Location, name: str) -> None:
        self.location = location
        self.name = name
        self._workdir = Path(tempfile.mkdtemp(prefix="proveo-backup-"))
        self.dump_path = self._workdir / DUMP_NAME
        self._written: list[str] = []

    async def put(self, path: str, data: bytes) -> None:
        key = self.location.key(self.name, path)
        self._written.append(key)
        await self.location._call(
            lambda s3: s3.put_object(Bucket=self.location.bucket, Key=key, Body=data)
        )

    async def commit(self, manifest: bytes) -> None:
        try:
            dump_key = self.location.key(self.name, DUMP_NAME)
            self._written.append(dump_key)
            await self.location.upload_file(dump_key, self.dump_path)
            await self.put(MANIFEST_NAME, manifest)
        finally:
            await asyncio.to_thread(shutil.rmtree, self._workdir, True)

    async def abort(self) -> None:
        await asyncio.to_thread(shutil.rmtree, self._workdir, True)
        # What cannot be deleted now has no manifest: the next retention pass removes it.
        with contextlib.suppress(BackupLocationUnavailable):
            await self.location._delete_keys(self._written)
