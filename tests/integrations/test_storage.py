from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from botocore.exceptions import ClientError

from proveo.cli import CommandFailed, check_s3_bucket
from proveo.config import Settings
from proveo.integrations.storage import (
    CHUNK_SIZE,
    BucketMissing,
    ImageStorage,
    LocalImageStorage,
    S3ImageStorage,
    StorageUnavailable,
    build_storage,
    held_object_names,
    image_object_names,
    is_public_object_name,
    is_valid_object_name,
    new_image_key,
)
from tests.conftest import build_s3_storage
from tests.fixtures.servers import SeaweedServer, free_port


def _name(thumb: bool = False) -> str:
    return f"{new_image_key()}{'_thumb' if thumb else ''}.webp"


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> ImageStorage:
    if request.param == "local":
        return LocalImageStorage(tmp_path / "images")
    s3: S3ImageStorage = request.getfixturevalue("s3_storage")
    return s3


class TestObjectNames:
    def test_keys_are_random_and_valid(self) -> None:
        keys = {new_image_key() for _ in range(100)}
        assert len(keys) == 100
        assert all(is_valid_object_name(f"{key}.webp") for key in keys)
        assert all(is_valid_object_name(f"{key}_thumb.webp") for key in keys)

    @pytest.mark.parametrize(
        "name",
        [
            "../x.webp",
            "a/b.webp",
            "short.webp",
            "x" * 20 + ".png",
            "held/../" + "x" * 20 + ".webp",
            # Found by a review: `re.match` with `$` let a final newline through.
            "x" * 20 + ".webp\n",
            "x" * 20 + "_thumb.webp\n",
        ],
    )
    def test_rejects_anything_else(self, name: str) -> None:
        assert not is_valid_object_name(name)

    def test_held_names_are_valid_but_never_public(self) -> None:
        key = new_image_key()
        for name in held_object_names(key):
            assert is_valid_object_name(name)
            assert not is_public_object_name(name)
        assert all(is_public_object_name(name) for name in image_object_names(key))


class TestBothBackends:
    async def test_put_get_delete_list_round_trip(self, storage: ImageStorage) -> None:
        full, thumb = _name(), _name(thumb=True)
        await storage.put(full, b"full-bytes", "image/webp")
        await storage.put(thumb, b"thumb", "image/webp")
        assert await storage.get(full) == b"full-bytes"
        assert await storage.list_names() == sorted([full, thumb])
        await storage.delete(full)
        assert await storage.get(full) is None
        assert await storage.list_names() == [thumb]
        await storage.delete(full)  # deleting twice is fine

    async def test_stat_and_listing_give_size_and_a_recent_modification_time(
        self, storage: ImageStorage
    ) -> None:
        name = _name()
        before = datetime.now(UTC) - timedelta(seconds=5)
        await storage.put(name, b"12345", "image/webp")
        stored = await storage.stat(name)
        assert stored is not None
        assert (stored.name, stored.size) == (name, 5)
        assert before <= stored.modified_at <= datetime.now(UTC) + timedelta(seconds=5)
        assert [obj async for obj in storage.list_objects()] == [stored]

    async def test_opened_object_streams_in_bounded_chunks(self, storage: ImageStorage) -> None:
        name = _name()
        data = os.urandom(3 * CHUNK_SIZE + 17)
        await storage.put(name, data, "image/webp")
        opened = await storage.open(name)
        assert opened is not None
        try:
            chunks = [chunk async for chunk in opened.chunks]
        finally:
            await opened.close()
        assert opened.info.size == len(data)
        assert b"".join(chunks) == data
        assert max(len(chunk) for chunk in chunks) <= CHUNK_SIZE

    @pytest.mark.parametrize("name", ["missing-but-valid-key-0000.webp", "../etc/passwd", "x"])
    async def test_unknown_or_invalid_names_read_as_missing(
        self, storage: ImageStorage, name: str
    ) -> None:
        assert await storage.get(name) is None
        assert await storage.stat(name) is None
        assert await storage.open(name) is None

    async def test_refuses_to_write_an_invalid_name(self, storage: ImageStorage) -> None:
        with pytest.raises(ValueError, match="invalid object name"):
            await storage.put("../escape.webp", b"x", "image/webp")
        with pytest.raises(ValueError, match="invalid object name"):
            await storage.delete("../escape.webp")

    async def test_held_objects_are_stored_listed_and_copied_to_public_names(
        self, storage: ImageStorage
    ) -> None:
        key, public = new_image_key(), new_image_key()
        held_full, held_thumb = held_object_names(key)
        await storage.put(held_full, b"held-bytes", "image/webp")
        await storage.put(held_thumb, b"held-thumb", "image/webp")
        assert await storage.list_names() == sorted([held_full, held_thumb])
        full, thumb = image_object_names(public)
        assert await storage.copy(held_full, full)
        assert await storage.copy(held_thumb, thumb)
        assert await storage.get(full) == b"held-bytes"
        stat = await storage.stat(thumb)
        assert stat is not None
        assert stat.size == len(b"held-thumb")
        await storage.delete(held_full)
        await storage.delete(held_thumb)
        assert await storage.list_names() == sorted([full, thumb])
        assert await storage.get(full) == b"held-bytes"  # the copy does not share the original

    async def test_copying_a_missing_object_says_so(self, storage: ImageStorage) -> None:
        missing, _ = held_object_names(new_image_key())
        assert not await storage.copy(missing, _name())
        assert await storage.list_names() == []

    async def test_listing_ignores_objects_that_are_not_images(self, storage: ImageStorage) -> None:
        if isinstance(storage, LocalImageStorage):
            (storage.root / "notes.txt").write_text("not an image")
        else:
            assert isinstance(storage, S3ImageStorage)
            client = await storage._s3()
            await client.put_object(Bucket=storage.bucket, Key="other/notes.txt", Body=b"x")
        assert await storage.list_names() == []


class TestLocalFailures:
    async def test_a_broken_directory_is_storage_unavailable_not_a_crash(
        self, tmp_path: Path
    ) -> None:
        storage = LocalImageStorage(tmp_path / "images")
        name = _name()
        await storage.put(name, b"x", "image/webp")
        # Root ignores permissions; a file where the directory was fails every call the way a
        # lost mount or a full disk does: with an OSError.
        shutil.rmtree(storage.root)
        storage.root.write_text("not a directory")
        with pytest.raises(StorageUnavailable):
            await storage.put(_name(), b"x", "image/webp")
        with pytest.raises(StorageUnavailable):
            await storage.stat(name)
        with pytest.raises(StorageUnavailable):
            await storage.open(name)
        with pytest.raises(StorageUnavailable):
            await storage.delete(name)
        with pytest.raises(StorageUnavailable):
            await storage.list_names()


@contextmanager
def _s3_down(seaweed: SeaweedServer) -> Iterator[None]:
    seaweed.stop()
    try:
        yield
    finally:
        seaweed.start()


async def _fails_fast(call: Callable[[], Awaitable[object]], limit: float) -> None:
    started = time.monotonic()
    with pytest.raises(StorageUnavailable):
        await call()
    assert time.monotonic() - started < limit


class TestS3Outage:
    async def test_stopped_s3_fails_every_call_quickly_and_recovers_without_restart(
        self, s3_storage: S3ImageStorage, seaweed: SeaweedServer
    ) -> None:
        kept = _name()
        await s3_storage.put(kept, b"kept", "image/webp")  # the client's pool holds connections
        with _s3_down(seaweed):
            await _fails_fast(lambda: s3_storage.put(_name(), b"x", "image/webp"), 2.0)
            await _fails_fast(lambda: s3_storage.get(kept), 2.0)
            await _fails_fast(lambda: s3_storage.stat(kept), 2.0)
            await _fails_fast(lambda: s3_storage.delete(kept), 2.0)
            await _fails_fast(s3_storage.list_names, 2.0)
        assert await s3_storage.get(kept) == b"kept"
        again = _name()
        await s3_storage.put(again, b"again", "image/webp")
        assert await s3_storage.list_names() == sorted([kept, again])

    async def test_frozen_s3_times_out_instead_of_hanging(
        self, seaweed: SeaweedServer, s3_storage: S3ImageStorage
    ) -> None:
        storage = build_s3_storage(seaweed, timeout=0.3)
        name = _name()
        await storage.put(name, b"x", "image/webp")
        assert seaweed.process is not None
        seaweed.process.send_signal(signal.SIGSTOP)  # accepts connections, never answers
        try:
            # Two attempts of 0.3 s each plus the retry's short backoff.
            await _fails_fast(lambda: storage.get(name), 2.0)
            await _fails_fast(lambda: storage.put(_name(), b"x", "image/webp"), 2.0)
        finally:
            seaweed.process.send_signal(signal.SIGCONT)
            await storage.close()
        assert await s3_storage.get(name) == b"x"


class TestBuildStorage:
    def test_picks_the_backend_named_by_proveo_storage(self, tmp_path: Path) -> None:
        local = build_storage(Settings(_env_file=None, data_dir=tmp_path))  # type: ignore[call-arg]
        assert isinstance(local, LocalImageStorage)
        assert local.root == tmp_path.resolve() / "images"
        s3 = build_storage(
            Settings(  # type: ignore[call-arg]
                _env_file=None, storage="s3", s3_endpoint_url="http://127.0.0.1:1",
                s3_bucket="logos",
            )
        )  # fmt: skip
        assert isinstance(s3, S3ImageStorage)
        assert s3.bucket == "logos"


def _s3_settings(seaweed: SeaweedServer, bucket: str, **overrides: object) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        storage="s3",
        s3_endpoint_url=seaweed.endpoint_url,
        s3_bucket=bucket,
        s3_access_key=seaweed.ACCESS_KEY,
        s3_secret_key=seaweed.SECRET_KEY,
        **overrides,
    )


@pytest.fixture
async def missing_bucket(seaweed: SeaweedServer) -> AsyncIterator[str]:
    """A bucket name that does not exist yet; removed again if a test creates it."""
    bucket = f"proveo-new-{uuid4().hex[:12]}"
    yield bucket
    storage = S3ImageStorage(
        endpoint_url=seaweed.endpoint_url, bucket=bucket, access_key=seaweed.ACCESS_KEY,
        secret_key=seaweed.SECRET_KEY, region="us-east-1", timeout=2.0,
    )  # fmt: skip
    try:
        client = await storage._s3()
        with contextlib.suppress(StorageUnavailable, ClientError):  # never created
            for name in await storage.list_names():
                await storage.delete(name)
            await client.delete_bucket(Bucket=bucket)
    finally:
        await storage.close()


class TestBucketAtStartUp:
    """PROVEO_S3_CREATE_BUCKET: a missing bucket is created in development and refused in
    production (found in review: the first upload failed with a 503 instead)."""

    def test_created_in_development_and_not_in_production_by_default(self) -> None:
        assert Settings(_env_file=None).creates_s3_bucket  # type: ignore[call-arg]
        production = Settings.model_construct(env="production", s3_create_bucket=None)
        assert not production.creates_s3_bucket
        explicit = Settings.model_construct(env="production", s3_create_bucket=True)
        assert explicit.creates_s3_bucket

    async def test_an_existing_bucket_is_left_alone(self, s3_storage: S3ImageStorage) -> None:
        assert await s3_storage.ensure_bucket(create=True) is False
        assert await s3_storage.ensure_bucket(create=False) is False

    async def test_a_missing_bucket_is_created_when_allowed_and_then_works(
        self, seaweed: SeaweedServer, missing_bucket: str
    ) -> None:
        await check_s3_bucket(_s3_settings(seaweed, missing_bucket))
        storage = build_storage(_s3_settings(seaweed, missing_bucket))
        assert isinstance(storage, S3ImageStorage)
        try:
            assert await storage.ensure_bucket(create=False) is False
            await storage.put(_name(), b"x", "image/webp")
        finally:
            await storage.close()

    async def test_a_missing_bucket_stops_start_up_when_not_allowed(
        self, seaweed: SeaweedServer, missing_bucket: str
    ) -> None:
        settings = _s3_settings(seaweed, missing_bucket, s3_create_bucket=False)
        with pytest.raises(CommandFailed) as refused:
            await check_s3_bucket(settings)
        [line] = refused.value.lines
        assert line.startswith(f"PROVEO_S3_BUCKET: the bucket '{missing_bucket}' does not exist")
        assert "PROVEO_S3_CREATE_BUCKET=true" in line
        storage = build_storage(settings)
        assert isinstance(storage, S3ImageStorage)
        try:
            with pytest.raises(BucketMissing):
                await storage.ensure_bucket(create=False)  # still missing: nothing created
        finally:
            await storage.close()

    async def test_a_store_that_does_not_answer_does_not_stop_start_up(self) -> None:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, storage="s3", s3_endpoint_url=f"http://127.0.0.1:{free_port()}",
            s3_create_bucket=False, s3_timeout=0.5,
        )  # fmt: skip
        await check_s3_bucket(settings)  # logged; uploads answer 503 until the store is back
