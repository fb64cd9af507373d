"""Image object storage: a local directory (embedded default) or any S3-compatible service.

Both backends answer the same protocol and fail the same way: a store that cannot be reached,
is full or refuses us raises `StorageUnavailable` (503 `storage_unavailable`), so an upload
fails fast while every request that does not touch images keeps working.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol, cast

import aiohttp
import structlog
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from proveo.config import Settings
from proveo.core.errors import ServiceUnavailable

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.literals import BucketLocationConstraintType

log = structlog.get_logger(__name__)

# Images held for moderation live under their own prefix, which /images never serves: only an
# admin route reads them, and approving one copies it to a public name.
HELD_PREFIX = "held/"
_KEY = re.compile(r"(held/)?[A-Za-z0-9_-]{16,64}(_thumb)?\.webp")
# Logos are at most a few hundred kilobytes: a handful of reads per object, bounded memory.
CHUNK_SIZE = 64 * 1024


def new_image_key() -> str:
    """Random, unguessable object names: no user input ever reaches a storage path."""
    return secrets.token_urlsafe(24)


def is_valid_object_name(name: str) -> bool:
    """A name the stores accept: a public image or a held one."""
    # fullmatch: `$` would also match before a final newline (`<key>.webp\n`).
    return _KEY.fullmatch(name) is not None


def is_public_object_name(name: str) -> bool:
    """A name /images may serve: never a held image."""
    return is_valid_object_name(name) and not name.startswith(HELD_PREFIX)


def image_object_names(key: str) -> tuple[str, str]:
    """A published image and its thumbnail, as stored and served at /images."""
    return f"{key}.webp", f"{key}_thumb.webp"


def held_object_names(key: str) -> tuple[str, str]:
    """An image held for moderation and its thumbnail: not public."""
    full, thumb = image_object_names(key)
    return HELD_PREFIX + full, HELD_PREFIX + thumb


class BucketMissing(Exception):
    """The configured S3 bucket does not exist (and was not to be created)."""


class StorageUnavailable(ServiceUnavailable):
    """The object store did not answer; uploads wait, everything else keeps working."""

    code = "storage_unavailable"
    default_detail = "Image storage is unavailable, try again shortly"


@dataclass(frozen=True, slots=True)
class StoredObject:
    name: str
    size: int
    modified_at: datetime  # timezone-aware


@dataclass(frozen=True, slots=True)
class OpenedObject:
    """An object being read: its metadata, its bytes in chunks, and how to let go of it.

    `close` must be called even when the chunks are not read to the end.
    """

    info: StoredObject
    chunks: AsyncIterator[bytes]
    close: Callable[[], Awaitable[None]]


class ImageStorage(Protocol):
    async def put(self, name: str, data: bytes, content_type: str) -> None: ...
    async def get(self, name: str) -> bytes | None: ...
    async def stat(self, name: str) -> StoredObject | None: ...
    async def open(self, name: str) -> OpenedObject | None: ...
    async def delete(self, name: str) -> None: ...
    async def copy(self, source: str, target: str) -> bool: ...
    async def list_names(self) -> list[str]: ...
    def list_objects(self) -> AsyncIterator[StoredObject]: ...
    async def close(self) -> None: ...


def _unavailable(backend: str, action: str, error: BaseException) -> StorageUnavailable:
    log.warning(
        "storage_unavailable",
        backend=backend,
        action=action,
        error_type=type(error).__name__,
        error=str(error),
    )
    return StorageUnavailable()


async def _read_all(opened: OpenedObject | None) -> bytes | None:
    """The whole object an `open` returned (None when there was none), closing it after."""
    if opened is None:
        return None
    try:
        return b"".join([chunk async for chunk in opened.chunks])
    finally:
        await opened.close()


class LocalImageStorage:
    def __init__(self, root: Path) -> None:
        self.root = root
        (self.root / HELD_PREFIX).mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        if not is_valid_object_name(name):
            raise ValueError(f"invalid object name {name!r}")
        return self.root / name

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        path = self._path(name)

        def write() -> None:
            # Written aside then renamed: a reader never sees half an image.
            tmp = path.with_suffix(".tmp")
            try:
                tmp.write_bytes(data)
                os.replace(tmp, path)
            except OSError:
                tmp.unlink(missing_ok=True)
                raise

        try:
            await asyncio.to_thread(write)
        except OSError as exc:  # disk full, read-only file system, permissions
            raise _unavailable("local", "put", exc) from exc

    async def get(self, name: str) -> bytes | None:
        return await _read_all(await self.open(name))

    async def stat(self, name: str) -> StoredObject | None:
        if not is_valid_object_name(name):
            return None
        try:
            result = await asyncio.to_thread(os.stat, self.root / name)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise _unavailable("local", "stat", exc) from exc
        return _local_object(name, result)

    async def open(self, name: str) -> OpenedObject | None:
        if not is_valid_object_name(name):
            return None
        path = self.root / name

        def open_file() -> tuple[IO[bytes], os.stat_result]:
            handle = path.open("rb")
            return handle, os.fstat(handle.fileno())

        try:
            handle, result = await asyncio.to_thread(open_file)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise _unavailable("local", "open", exc) from exc

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while chunk := await asyncio.to_thread(handle.read, CHUNK_SIZE):
                    yield chunk
            except OSError as exc:
                raise _unavailable("local", "read", exc) from exc

        async def close() -> None:
            handle.close()

        return OpenedObject(_local_object(name, result), chunks(), close)

    async def delete(self, name: str) -> None:
        path = self._path(name)
        try:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        except OSError as exc:
            raise _unavailable("local", "delete", exc) from exc

    async def copy(self, source: str, target: str) -> bool:
        """Copy an object to a new name; False when there is no `source`."""
        source_path, target_path = self._path(source), self._path(target)

        def copy_file() -> None:
            tmp = target_path.with_suffix(".tmp")
            try:
                shutil.copyfile(source_path, tmp)
                os.replace(tmp, target_path)
            except OSError:
                tmp.unlink(missing_ok=True)
                raise

        try:
            await asyncio.to_thread(copy_file)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise _unavailable("local", "copy", exc) from exc
        return True

    async def list_names(self) -> list[str]:
        return sorted([stored.name async for stored in self.list_objects()])

    async def list_objects(self) -> AsyncIterator[StoredObject]:
        def scan() -> list[StoredObject]:
            found: list[StoredObject] = []
            for prefix in ("", HELD_PREFIX):
                with os.scandir(self.root / prefix) as entries:
                    for entry in entries:
                        name = prefix + entry.name
                        if not is_valid_object_name(name):
                            continue
                        try:
                            found.append(_local_object(name, entry.stat()))
                        except FileNotFoundError:
                            continue  # deleted while we looked
            return found

        try:
            found = await asyncio.to_thread(scan)
        except OSError as exc:
            raise _unavailable("local", "list", exc) from exc
        for stored in found:
            yield stored

    async def close(self) -> None:
        """Nothing held open between calls."""


def _local_object(name: str, result: os.stat_result) -> StoredObject:
    return StoredObject(name, result.st_size, datetime.fromtimestamp(result.st_mtime, UTC))


# What a dead, frozen or refusing S3 looks like from the client.
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


class S3ImageStorage:
    """Any S3-compatible store (AWS, SeaweedFS, MinIO, R2), path-style addressing.

    Short timeouts and a single retry: a dead store costs an upload well under two seconds,
    never a worker stuck for the default minute. Each call also has a deadline of its own, since
    botocore's timeouts do not cover every wait (an upload waiting for `100 Continue` from a
    frozen store waits forever). The client is created on first use and kept for the process
    (its connection pool); `close()` releases it.
    """

    def __init__(
        self,
        *,
        endpoint_url: str | None,
        bucket: str,
        access_key: str,
        secret_key: str,
        region: str,
        timeout: float,
    ) -> None:
        self.bucket = bucket
        self._endpoint_url = endpoint_url
        self._access_key = access_key
        self._secret_key = secret_key
        self._region = region
        connect_timeout = min(timeout, 1.0)
        self._deadline = 2 * (connect_timeout + timeout)
        self._config = AioConfig(
            connect_timeout=connect_timeout,
            read_timeout=timeout,
            retries={"total_max_attempts": 2, "mode": "standard"},
            s3={"addressing_style": "path"},
        )
        self._stack = AsyncExitStack()
        self._client: S3Client | None = None
        self._lock = asyncio.Lock()

    async def _s3(self) -> S3Client:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    self._client = await self._stack.enter_async_context(
                        get_session().create_client(
                            "s3",
                            endpoint_url=self._endpoint_url,
                            aws_access_key_id=self._access_key,
                            aws_secret_access_key=self._secret_key,
                            region_name=self._region,
                            config=self._config,
                        )
                    )
        return self._client

    async def close(self) -> None:
        self._client = None
        await self._stack.aclose()

    async def ensure_bucket(self, *, create: bool) -> bool:
        """Check that the bucket exists; create it when missing if `create`.

        Returns whether it was created. Raises BucketMissing when it is missing and `create` is
        false, and StorageUnavailable when the store cannot tell (down, or refusing us).
        """
        try:
            s3 = await self._s3()
            async with asyncio.timeout(self._deadline):
                await s3.head_bucket(Bucket=self.bucket)
            return False
        except _S3_ERRORS as exc:
            if not _is_not_found(exc):
                raise _unavailable("s3", "head_bucket", exc) from exc
        if not create:
            raise BucketMissing(self.bucket)
        try:
            async with asyncio.timeout(self._deadline):
                if self._region == "us-east-1":
                    await s3.create_bucket(Bucket=self.bucket)
                else:  # elsewhere AWS wants the region named again
                    region = cast("BucketLocationConstraintType", self._region)
                    await s3.create_bucket(
                        Bucket=self.bucket,
                        CreateBucketConfiguration={"LocationConstraint": region},
                    )
        except _S3_ERRORS as exc:
            raise _unavailable("s3", "create_bucket", exc) from exc
        log.info("s3_bucket_created", bucket=self.bucket)
        return True

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        if not is_valid_object_name(name):
            raise ValueError(f"invalid object name {name!r}")
        try:
            s3 = await self._s3()
            async with asyncio.timeout(self._deadline):
                await s3.put_object(
                    Bucket=self.bucket, Key=name, Body=data, ContentType=content_type
                )
        except _S3_ERRORS as exc:
            raise _unavailable("s3", "put", exc) from exc

    async def get(self, name: str) -> bytes | None:
        return await _read_all(await self.open(name))

    async def stat(self, name: str) -> StoredObject | None:
        if not is_valid_object_name(name):
            return None
        try:
            s3 = await self._s3()
            async with asyncio.timeout(self._deadline):
                head = await s3.head_object(Bucket=self.bucket, Key=name)
        except _S3_ERRORS as exc:
            if _is_not_found(exc):
                return None
            raise _unavailable("s3", "stat", exc) from exc
        return StoredObject(name, head["ContentLength"], head["LastModified"])

    async def open(self, name: str) -> OpenedObject | None:
        if not is_valid_object_name(name):
            return None
        try:
            s3 = await self._s3()
            async with asyncio.timeout(self._deadline):
                response = await s3.get_object(Bucket=self.bucket, Key=name)
        except _S3_ERRORS as exc:
            if _is_not_found(exc):
                return None
            raise _unavailable("s3", "open", exc) from exc
        releases = AsyncExitStack()
        body = await releases.enter_async_context(response["Body"])

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for chunk in body.iter_chunks(CHUNK_SIZE):
                    yield chunk
            except _S3_ERRORS as exc:
                raise _unavailable("s3", "read", exc) from exc

        info = StoredObject(name, response["ContentLength"], response["LastModified"])
        return OpenedObject(info, chunks(), releases.aclose)

    async def delete(self, name: str) -> None:
        if not is_valid_object_name(name):
            raise ValueError(f"invalid object name {name!r}")
        try:
            s3 = await self._s3()
            async with asyncio.timeout(self._deadline):
                await s3.delete_object(Bucket=self.bucket, Key=name)
        except _S3_ERRORS as exc:
            raise _unavailable("s3", "delete", exc) from exc

    async def copy(self, source: str, target: str) -> bool:
        """Copy an object to a new name, inside the store; False when there is no `source`."""
        if not (is_valid_object_name(source) and is_valid_object_name(target)):
            raise ValueError(f"invalid object name {source!r} or {target!r}")
        try:
            s3 = await self._s3()
            async with asyncio.timeout(self._deadline):
                await s3.copy_object(
                    Bucket=self.bucket,
                    Key=target,
                    CopySource={"Bucket": self.bucket, "Key": source},
                )
        except _S3_ERRORS as exc:
            if _is_not_found(exc):
                return False
            raise _unavailable("s3", "copy", exc) from exc
        return True

    async def list_names(self) -> list[str]:
        return sorted([stored.name async for stored in self.list_objects()])

    async def list_objects(self) -> AsyncIterator[StoredObject]:
        """Page by page (1,000 keys each): a large bucket is never held in memory at once."""
        try:
            s3 = await self._s3()
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket).__aiter__()
            while True:
                async with asyncio.timeout(self._deadline):
                    page = await anext(pages, None)
                if page is None:
                    return
                for item in page.get("Contents", []):
                    name = item.get("Key", "")
                    if is_valid_object_name(name):
                        yield StoredObject(name, item.get("Size", 0), item["LastModified"])
        except _S3_ERRORS as exc:
            raise _unavailable("s3", "list", exc) from exc


def build_storage(settings: Settings) -> ImageStorage:
    if settings.storage == "s3":
        return S3ImageStorage(
            endpoint_url=settings.s3_endpoint_url or None,
            bucket=settings.s3_bucket,
            access_key=settings.s3_access_key.get_secret_value(),
            secret_key=settings.s3_secret_key.get_secret_value(),
            region=settings.s3_region,
            timeout=settings.s3_timeout,
        )
    return LocalImageStorage(settings.images_dir)
