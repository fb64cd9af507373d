"""Image object storage: a local directory (embedded default) or any S3-compatible service."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from pathlib import Path
from typing import Protocol

from proveo.config import Settings
from proveo.core.errors import ServiceUnavailable

_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}(_thumb)?\.webp$")


def new_image_key() -> str:
    """Random, unguessable object names: no user input ever reaches a storage path."""
    return secrets.token_urlsafe(24)


def is_valid_object_name(name: str) -> bool:
    return bool(_KEY.match(name))


class StorageUnavailable(ServiceUnavailable):
    """The object store did not answer; uploads wait, everything else keeps working."""

    code = "storage_unavailable"
    default_detail = "Image storage is unavailable, try again shortly"


class ImageStorage(Protocol):
    async def put(self, name: str, data: bytes, content_type: str) -> None: ...
    async def get(self, name: str) -> bytes | None: ...
    async def delete(self, name: str) -> None: ...
    async def list_names(self) -> list[str]: ...


class LocalImageStorage:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        if not is_valid_object_name(name):
            raise ValueError(f"invalid object name {name!r}")
        return self.root / name

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        path = self._path(name)

        def write() -> None:
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)

        await asyncio.to_thread(write)

    async def get(self, name: str) -> bytes | None:
        try:
            path = self._path(name)
        except ValueError:
            return None
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self._path(name).unlink, missing_ok=True)

    async def list_names(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if is_valid_object_name(p.name))


def build_storage(settings: Settings) -> ImageStorage:
    return LocalImageStorage(settings.images_dir)
